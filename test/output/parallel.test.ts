// Decoding over several threads writes byte for byte what one thread writes: stdout and stderr, on
// random captures with IP fragments, reliable-transport TCP split over segments, frames that are
// not LISP or cut short, and damage to the file itself, cut into chunks at every possible place.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeTcp, TcpFlag } from '../../src/dissect/tcp.js';
import { writePcap, writePcapng } from '../../src/capture/writer.js';
import { main } from '../../src/cli/main.js';
import { dataPacket, lispUdpPacket, mapRegister, mapRequest, mappingRecord } from '../../src/dissect/build.js';
import { decodeControl, encodeControl } from '../../src/dissect/control.js';
import { encodeIPv4, encodeUdp, IPPROTO_TCP } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import { encodeReliable } from '../../src/dissect/reliable.js';
import { ChunkDecoder, type ChunkJob, type ChunkResult } from '../../src/output/chunk-decode.js';
import { memoryIo } from '../../src/output/io.js';
import { defaultThreads, readParallel } from '../../src/output/parallel.js';
import type { PacketStreamSettings } from '../../src/output/packet-stream.js';
import { lispscope, ROOT } from '../cli/run.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-parallel-'));

const A = '192.0.2.1';
const B = '192.0.2.2';

/** Something that happens in the capture: one frame, or several (fragments, segments) in some order. */
type Event =
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

interface Case {
  events: Event[];
  pcapng: boolean;
  damage: Damage;
  /** Nanosecond timestamps far apart now and then: fragments wait, and expire. */
  gaps: boolean[];
}

function capture(c: Case, file: string): void {
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

const caseArb: fc.Arbitrary<Case> = fc.record({
  events: fc.array(event, { minLength: 1, maxLength: 60 }),
  pcapng: fc.boolean(),
  damage: fc.constantFrom<Damage>('none', 'none', 'truncated', 'corrupt'),
  gaps: fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
});

/**
 * In-process decoding threads that answer in any order. Their output buffers are small, so that
 * buffers are handed over, written and given back for reuse while other chunks are in flight.
 */
function pool(settings: PacketStreamSettings, lanes: number, delays: number[]): ((job: ChunkJob) => Promise<ChunkResult>)[] {
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

const MODES: { name: string; argv: string[]; settings: Partial<PacketStreamSettings> }[] = [
  { name: 'json', argv: ['--json'], settings: { json: true } },
  { name: 'lines -V -x --all -#', argv: ['-V', '-x', '--all', '-#'], settings: { verbose: true, hex: true, all: true, number: true } },
  // One line a packet: plain data packets take the line fast path (line-fast.ts).
  { name: 'lines -n -# -tt', argv: ['-n', '-#', '-tt'], settings: { numeric: true, number: true, time: 2 } },
];

function settingsFor(file: string, extra: Partial<PacketStreamSettings>): PacketStreamSettings {
  return {
    json: false,
    verbose: false,
    hex: false,
    number: false,
    time: 0,
    numeric: false,
    color: false,
    showKeys: false,
    all: false,
    decodeAs: { control: [], data: [], vxlan: [] },
    failOn: [],
    name: file,
    ...extra,
  };
}

describe('read over several threads', () => {
  for (const mode of MODES) {
    it(`writes what one thread writes, wherever the chunks are cut (${mode.name})`, async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(caseArb, fc.integer({ min: 40, max: 3000 }), fc.integer({ min: 0, max: 3 }), fc.array(fc.nat(4), { minLength: 1, maxLength: 4 }), async (c, chunkBytes, lanes, delays) => {
          const file = join(tmp, `case-${n++}.${c.pcapng ? 'pcapng' : 'pcap'}`);
          capture(c, file);
          const one = memoryIo({ env: { TZ: 'UTC', NO_COLOR: '1' } });
          const code = await main(['read', '--threads', '0', ...mode.argv, file], one);
          // Not even one whole record (a file header cut short): refused before any reading.
          if (code === 2) return;
          const settings = settingsFor(file, mode.settings);
          const many = memoryIo();
          await readParallel(file, settings, many, { threads: 0, pool: pool(settings, lanes, delays), chunkBytes });
          await many.idle();
          expect(many.stdoutText()).toBe(one.stdoutText());
          expect(many.stderrText()).toBe(one.stderrText());
        }),
        { numRuns: 60 },
      );
    }, 300_000);
  }
});

describe('the default number of decoding threads', () => {
  it('is one per other core that the load leaves free, at most 8', () => {
    expect(defaultThreads(2, 0)).toBe(1);
    expect(defaultThreads(2, 0.4)).toBe(1);
    expect(defaultThreads(2, 0.6)).toBe(0);
    expect(defaultThreads(2, 7.5)).toBe(0);
    expect(defaultThreads(1, 0)).toBe(0);
    expect(defaultThreads(8, 2)).toBe(5);
    expect(defaultThreads(32, 0)).toBe(8);
  });
});

describe('read --threads N (worker threads)', () => {
  it('writes what --threads 0 writes, and says the same', () => {
    // Several chunks of 2 MiB: fragments, TCP and damage among thousands of packets.
    const events: Event[] = [];
    for (let i = 0; i < 40_000; i++) {
      const k = i % 50;
      if (k === 7) events.push({ kind: 'fragments', n: i, size: 24, order: [2, 0, 1, 3, 4, 5, 6, 7, 8, 9] });
      else if (k === 19) events.push({ kind: 'tcp', n: i, cuts: [i % 97, (i * 7) % 150], drop: i % 400 === 19 ? 1 : -1 });
      else if (k === 31) events.push({ kind: 'cut', n: i, keep: 30 });
      else if (k % 3 === 0) events.push({ kind: 'control', n: i });
      else events.push({ kind: 'data', n: i });
    }
    const file = join(tmp, 'big.pcapng');
    capture({ events, pcapng: true, damage: 'truncated', gaps: [false, false, false, false, false, false, false, false, false, true] }, file);
    for (const argv of [['--json'], ['-n', '-V'], ['-#']]) {
      const one = lispscope(['read', '--threads', '0', ...argv, file]);
      const many = lispscope(['read', '--threads', '2', ...argv, file]);
      expect(one.stdout.length).toBeGreaterThan(1_000_000);
      expect(many.stdout).toBe(one.stdout);
      expect(many.stderr).toBe(one.stderr);
      expect(many.code).toBe(one.code);
    }
    expect(ROOT).toBeTruthy();
  }, 120_000);
});
