// Random captures for the tests of decoding over several threads: data, control, IP fragments,
// reliable-transport TCP split over segments, frames that are not LISP or cut short, damage to the
// file itself; and in-process decoders that answer in any order.

import { writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { encodeTcp, TcpFlag } from '../../src/dissect/tcp.js';
import { writePcap, writePcapng } from '../../src/capture/writer.js';
import { dataPacket, lispUdpPacket, mapRegister, mapRequest, mappingRecord } from '../../src/dissect/build.js';
import { decodeControl, encodeControl } from '../../src/dissect/control.js';
import { encodeIPv4, encodeUdp, IPPROTO_TCP } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import { encodeReliable } from '../../src/dissect/reliable.js';
import { ChunkDecoder, type ChunkJob, type ChunkResult } from '../../src/output/chunk-decode.js';
import type { PacketStreamSettings } from '../../src/output/packet-stream.js';

const A = '192.0.2.1';
const B = '192.0.2.2';

/** Something that happens in the capture: one frame, or several (fragments, segments) in some order. */
export type Event =
  | { kind: 'data'; n: number }
  | { kind: 'control'; n: number }
  | { kind: 'fragments'; n: number; size: number; order: number[] }
  | { kind: 'tcp'; n: number; cuts: number[]; drop: number }
  | { kind: 'other'; n: number }
  | { kind: 'cut'; n: number; keep: number };

const register = (n: number) =>
  mapRegister({ nonce: BigInt(n + 1), records: [mappingRecord({ eid: `10.${n % 200}.0.0/16`, locators: [{ rloc: '198.51.100.7', priority: 1, weight: 50, local: true }] })], keyId: 1, key: 'k', wantMapNotify: true });

function controlIp(n: number): Uint8Array {
  const msg = n % 2 ? register(n) : encodeControl(mapRequest({ nonce: BigInt(n + 7), eids: [`10.9.${n % 250}.1/32`], itrRlocs: [A], sourceEid: '10.1.0.1' }));
  return lispUdpPacket({ src: A, dst: B, sport: 4342, dport: 4342, payload: msg });
}

const eth = (ip: Uint8Array) => encodeLink(1, ip);

/** Frames (Ethernet) of one event; `tcpSeq` carries each direction's stream on. */
function frames(e: Event, tcpSeq: { next: number }): Uint8Array[] {
  switch (e.kind) {
    case 'data':
      return [eth(dataPacket({ src: '198.51.100.1', dst: '198.51.100.2', sport: 50000 + e.n, nonce: e.n, lsb: 1, inner: { src: '10.1.0.1', dst: '10.2.0.2', proto: 'udp', payload: new Uint8Array(e.n % 90) } }))];
    case 'control':
      return [eth(controlIp(e.n))];
    case 'fragments': {
      const udp = encodeUdp(4342, 4342, register(e.n));
      const parts: Uint8Array[] = [];
      for (let off = 0; off < udp.length; off += e.size) {
        parts.push(eth(encodeIPv4({ src: A, dst: B, proto: 17, id: 1000 + e.n, mf: off + e.size < udp.length, fragmentOffset: off / 8 }, udp.subarray(off, off + e.size))));
      }
      return e.order.filter((i) => i < parts.length).map((i) => parts[i]!);
    }
    case 'tcp': {
      const payload = encodeReliable({ type: 17, messageId: e.n, mapRegister: decodeControl(register(e.n)).value } as Parameters<typeof encodeReliable>[0]);
      const cuts = [...new Set(e.cuts.map((c) => c % payload.length))].filter((c) => c > 0).sort((x, y) => x - y);
      const bounds = [0, ...cuts, payload.length];
      const out: Uint8Array[] = [];
      for (let k = 0; k + 1 < bounds.length; k++) {
        const seq = tcpSeq.next + bounds[k]!;
        if (k === e.drop) continue; // a lost segment: a hole in the stream
        const tcp = encodeTcp({ sport: 4342, dport: 61000, seq, ack: 1, flags: TcpFlag.PSH | TcpFlag.ACK, checksum: { src: A, dst: B } }, payload.subarray(bounds[k], bounds[k + 1]));
        out.push(eth(encodeIPv4({ src: A, dst: B, proto: IPPROTO_TCP }, tcp)));
      }
      tcpSeq.next += payload.length;
      return out;
    }
    case 'other':
      return [eth(lispUdpPacket({ src: A, dst: B, sport: 5353, dport: 53, payload: new Uint8Array(20 + (e.n % 30)) }))];
    case 'cut':
      return [eth(controlIp(e.n)).subarray(0, e.keep)];
  }
}

const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('data' as const), n: fc.nat(1000) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('control' as const), n: fc.nat(1000) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('fragments' as const), n: fc.nat(1000), size: fc.constantFrom(16, 24, 40, 64), order: fc.shuffledSubarray([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], { minLength: 1 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tcp' as const), n: fc.nat(1000), cuts: fc.array(fc.nat(200), { maxLength: 3 }), drop: fc.integer({ min: -1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('other' as const), n: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), n: fc.nat(1000), keep: fc.integer({ min: 1, max: 60 }) }) },
);

/** What is wrong with the file itself, at its end. */
type Damage = 'none' | 'truncated' | 'corrupt';

export interface Case {
  events: Event[];
  pcapng: boolean;
  damage: Damage;
  /** Nanosecond timestamps far apart now and then: fragments wait, and expire. */
  gaps: boolean[];
}

export function capture(c: Case, file: string): void {
  const tcpSeq = { next: 1000 };
  const recs: { tsSec: number; tsNsec: number; data: Uint8Array; len?: number }[] = [];
  let t = 1_700_000_000;
  c.events.forEach((e, i) => {
    for (const data of frames(e, tcpSeq)) {
      t += c.gaps[i % c.gaps.length] ? 40 : 0.001;
      const sec = Math.floor(t);
      recs.push({ tsSec: sec, tsNsec: Math.round((t - sec) * 1e9), data, len: e.kind === 'cut' ? data.length + 30 : data.length });
    }
  });
  let bytes = c.pcapng ? writePcapng(recs) : writePcap(recs);
  if (c.damage === 'truncated') bytes = bytes.subarray(0, bytes.length - 7);
  if (c.damage === 'corrupt') {
    // A record (or block) header claiming an impossible length, then more records.
    const bad = new Uint8Array(16);
    new DataView(bad.buffer).setUint32(c.pcapng ? 0 : 8, c.pcapng ? 6 : 0xfffffff0, true);
    if (c.pcapng) new DataView(bad.buffer).setUint32(4, 13, true);
    const tail = c.pcapng ? writePcapng(recs.slice(0, 2)) : writePcap(recs.slice(0, 2)).subarray(24);
    bytes = Buffer.concat([bytes, bad, tail]);
  }
  writeFileSync(file, bytes);
}

export const caseArb: fc.Arbitrary<Case> = fc.record({
  events: fc.array(event, { minLength: 1, maxLength: 60 }),
  pcapng: fc.boolean(),
  damage: fc.constantFrom<Damage>('none', 'none', 'truncated', 'corrupt'),
  gaps: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
});

/**
 * In-process decoding threads that answer in any order. Their output buffers are small, so that
 * buffers are handed over, written and given back for reuse while other chunks are in flight.
 */
export function pool(settings: PacketStreamSettings, lanes: number, delays: number[]): ((job: ChunkJob) => Promise<ChunkResult>)[] {
  let k = 0;
  return Array.from({ length: lanes }, () => {
    const d = new ChunkDecoder(settings, false, { out: 1024, copyBelow: 200 });
    return async (job) => {
      const r = d.decode(job);
      const wait = delays[k++ % delays.length]!;
      for (let i = 0; i < wait; i++) await new Promise((res) => setImmediate(res));
      return r;
    };
  });
}

