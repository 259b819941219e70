// TCP header decoding and bounded stream reassembly (src/capture/tcp.ts), and the reliable-transport
// packets PacketDecoder makes of TCP port 4342.

import fc from 'fast-check';
import { concatBytes } from '../../src/dissect/addr.js';
import { describe, expect, it } from 'vitest';
import { PacketDecoder, type LispPacket, type PacketDecoderOptions } from '../../src/capture/packets.js';
import { TcpReassembler, type TcpDirection, type TcpEvent, type TcpReassemblyOptions } from '../../src/capture/tcp.js';
import { decodeTcp, encodeTcp, TcpFlag } from '../../src/dissect/tcp.js';
import { mapRegister, mappingRecord } from '../../src/dissect/build.js';
import { decodeControl } from '../../src/dissect/control.js';
import { decodeIp, encodeIPv4, encodeIPv6, IPPROTO_TCP, transportChecksum, type IpHeader } from '../../src/dissect/ip.js';
import { LINKTYPE_IPV4 } from '../../src/dissect/link.js';
import { encodeReliable, type ReliableMessage } from '../../src/dissect/reliable.js';
import type { MapRegister } from '../../src/dissect/types.js';

const ETR = '192.0.2.10';
const MS = '203.0.113.1';
const { SYN, ACK, FIN, RST, PSH } = TcpFlag;

interface Seg {
  /** Default: from the ETR (port 50000) to the MS (4342). */
  back?: boolean;
  seq: number;
  flags?: number;
  payload?: Uint8Array;
  /** Captured bytes of the IP packet (snaplen). */
  snap?: number;
  sport?: number;
}

function packet(s: Seg): Uint8Array {
  const [src, dst, sport, dport] = s.back ? [MS, ETR, 4342, s.sport ?? 50000] : [ETR, MS, s.sport ?? 50000, 4342];
  const tcp = encodeTcp({ sport, dport, seq: s.seq >>> 0, ack: 1, flags: s.flags ?? PSH | ACK, checksum: { src, dst } }, s.payload ?? new Uint8Array(0));
  const ip = encodeIPv4({ src, dst, proto: IPPROTO_TCP, id: 1 }, tcp);
  return s.snap === undefined ? ip : ip.subarray(0, s.snap);
}

function headers(b: Uint8Array) {
  const ip = decodeIp(b) as IpHeader;
  const tcp = decodeTcp(b, ip.payloadOffset, ip.payloadEnd, ip.headerOffset + ip.totalLength);
  if (!tcp.ok) throw new Error(tcp.notes.join('; '));
  return { ip, tcp };
}

interface Drop {
  name: string;
  cause: string;
  reason: string;
}

/** A reassembler fed segment by segment; events copied (their data are views). */
function harness(opts: TcpReassemblyOptions = {}) {
  const drops: Drop[] = [];
  const re = new TcpReassembler({ ...opts, onDrop: (d: TcpDirection, cause, reason) => drops.push({ name: d.name, cause, reason }) });
  let frame = 0;
  const add = (s: Seg, time = frame) => {
    const b = packet(s);
    const { ip, tcp } = headers(b);
    const r = re.add(++frame, time, b, ip, tcp);
    return r.events.map((e: TcpEvent) => (e.kind === 'data' ? { ...e, data: Array.from(e.data) } : e));
  };
  return { re, add, drops };
}

const bytesOf = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => (from + i) & 0xff);
const data = (offset: number, n: number, frame: number) => ({ kind: 'data', offset, data: Array.from(bytesOf(offset, n)), frame });

describe('TCP header', () => {
  it('encodes and decodes every field, with a checksum that verifies', () => {
    const payload = bytesOf(0, 7);
    const seg = encodeTcp({ sport: 4342, dport: 61000, seq: 0xfffffff0, ack: 77, flags: SYN | ACK, window: 1000, options: Uint8Array.of(2, 4, 5, 0xb4), checksum: { src: ETR, dst: MS } }, payload);
    const h = decodeTcp(seg, 0, seg.length);
    expect(h).toMatchObject({ ok: true, srcPort: 4342, dstPort: 61000, seq: 0xfffffff0, ack: 77, headerLength: 24, flags: SYN | ACK, window: 1000, payloadOffset: 24, payloadEnd: 31, payloadLength: 7, truncated: false, notes: [] });
    expect(transportChecksum(Uint8Array.of(192, 0, 2, 10), Uint8Array.of(203, 0, 113, 1), IPPROTO_TCP, seg)).toBe(0);
    const v6 = encodeIPv6({ src: '2001:db8::1', dst: '2001:db8::2', nextHeader: IPPROTO_TCP }, encodeTcp({ sport: 1, dport: 4342, seq: 5, flags: ACK, checksum: { src: '2001:db8::1', dst: '2001:db8::2' } }, payload));
    const ip6 = decodeIp(v6) as IpHeader;
    expect(transportChecksum(v6.subarray(8, 24), v6.subarray(24, 40), IPPROTO_TCP, v6, ip6.payloadOffset)).toBe(0);
  });

  it('reports a header that is cut short, too short, or longer than the packet', () => {
    const seg = encodeTcp({ sport: 1, dport: 2, seq: 0, flags: ACK }, new Uint8Array(0));
    expect(decodeTcp(seg, 0, 19)).toEqual({ ok: false, notes: ['TCP header at byte offset 0 is cut short (19 of 20 bytes)'] });
    const bad = seg.slice();
    bad[12] = 0x40;
    expect(decodeTcp(bad, 0, 20)).toEqual({ ok: false, notes: ['TCP Data Offset 4 at byte offset 12 is below 5'] });
    bad[12] = 0x60;
    expect(decodeTcp(bad, 0, 20)).toMatchObject({ ok: false, notes: [expect.stringMatching(/exceeds the IP payload/)] });
    expect(decodeTcp(bad, 0, 20, 24)).toMatchObject({ ok: false, notes: [expect.stringMatching(/cut short \(20 of 24 bytes\)/)] });
    bad[12] = 0x51;
    expect(decodeTcp(bad, 0, 20)).toMatchObject({ ok: true, notes: [], warnings: ['TCP reserved bits set at byte offset 12'] });
    expect(decodeTcp(seg, 0, 20, 30)).toMatchObject({ ok: true, payloadLength: 10, truncated: true });
  });
});

describe('TcpReassembler', () => {
  it('delivers in order from the byte after the SYN', () => {
    const h = harness();
    expect(h.add({ seq: 1000, flags: SYN })).toEqual([]);
    expect(h.add({ seq: 1001, payload: bytesOf(0, 10) })).toEqual([data(0, 10, 2)]);
    expect(h.add({ seq: 1011, payload: bytesOf(10, 5) })).toEqual([data(10, 5, 3)]);
    expect(h.re.stats).toMatchObject({ segments: 3, bytesDelivered: 15, retransmissions: 0, connections: 1 });
  });

  it('holds early segments and releases them, each with its own frame, when the hole fills', () => {
    const h = harness();
    h.add({ seq: 0, flags: SYN });
    expect(h.add({ seq: 1, payload: bytesOf(0, 100) })).toEqual([data(0, 100, 2)]);
    expect(h.add({ seq: 201, payload: bytesOf(200, 100) })).toEqual([]);
    expect(h.add({ seq: 301, payload: bytesOf(300, 50) })).toEqual([]);
    expect(h.re.stats).toMatchObject({ outOfOrder: 2, bytesHeld: 150 });
    expect(h.add({ seq: 101, payload: bytesOf(100, 100) })).toEqual([data(100, 100, 5), data(200, 100, 3), data(300, 50, 4)]);
    expect(h.re.stats.bytesHeld).toBe(0);
  });

  it('drops retransmissions and duplicates, and delivers only the new part of a partial one', () => {
    const h = harness();
    h.add({ seq: 0, flags: SYN });
    h.add({ seq: 1, payload: bytesOf(0, 100) });
    expect(h.add({ seq: 1, payload: bytesOf(0, 100) })).toEqual([]);
    expect(h.add({ seq: 51, payload: bytesOf(50, 100) })).toEqual([data(100, 50, 4)]);
    h.add({ seq: 301, payload: bytesOf(300, 10) });
    expect(h.add({ seq: 301, payload: bytesOf(300, 10) })).toEqual([]); // a duplicate of a held one
    expect(h.re.stats).toMatchObject({ retransmissions: 2, retransmittedBytes: 160, outOfOrder: 1 });
  });

  it('keeps the first copy of overlapping early bytes and counts the ones that differ', () => {
    const h = harness();
    h.add({ seq: 0, flags: SYN });
    h.add({ seq: 101, payload: bytesOf(100, 20) });
    const other = bytesOf(110, 20);
    other[0] ^= 0xff; // byte 110 differs from the held copy
    h.add({ seq: 111, payload: other });
    expect(h.re.stats.conflictingBytes).toBe(1);
    expect(h.add({ seq: 1, payload: bytesOf(0, 100) })).toEqual([data(0, 100, 4), data(100, 20, 2), data(120, 10, 3)]);
  });

  it('follows sequence numbers across 2^32', () => {
    const h = harness();
    h.add({ seq: 0xffffff00, flags: SYN });
    expect(h.add({ seq: 0xffffff01, payload: bytesOf(0, 0x200) })).toEqual([data(0, 0x200, 2)]);
    expect(h.add({ seq: 0x101, payload: bytesOf(0x200, 4) })).toEqual([data(0x200, 4, 3)]);
  });

  it('starts at the first byte seen when the capture begins mid-connection', () => {
    const h = harness();
    expect(h.add({ seq: 5000, payload: bytesOf(0, 10) })).toEqual([data(0, 10, 1)]);
    expect(h.add({ seq: 4990, payload: bytesOf(0, 10) })).toEqual([]); // before the start: old
  });

  it('gives up a hole when too much waits behind it, or a segment starts beyond the window', () => {
    const h = harness({ maxBytesPerDirection: 100, window: 1000 });
    h.add({ seq: 0, flags: SYN });
    expect(h.add({ seq: 51, payload: bytesOf(50, 60) })).toEqual([]);
    expect(h.add({ seq: 121, payload: bytesOf(120, 60) })).toEqual([
      { kind: 'gap', offset: 0, length: 50, reason: 'more than 100 bytes wait behind it' },
      data(50, 60, 2),
    ]);
    // Bytes 120..180 wait behind the hole at 110; a segment far ahead gives up both holes, and
    // what was held between them is delivered, not dropped.
    expect(h.re.stats.bytesHeld).toBe(60);
    const why = 'a segment starts 4889 bytes ahead, beyond the 1000-byte window';
    expect(h.add({ seq: 5000, payload: bytesOf(4999, 1) })).toEqual([
      { kind: 'gap', offset: 110, length: 10, reason: why },
      data(120, 60, 3),
      { kind: 'gap', offset: 180, length: 4819, reason: why },
      data(4999, 1, 4),
    ]);
    expect(h.re.stats).toMatchObject({ gaps: 3, gapBytes: 4879, bytesHeld: 0 });
  });

  it('turns the bytes a snaplen cut off into a gap', () => {
    const h = harness();
    h.add({ seq: 0, flags: SYN });
    expect(h.add({ seq: 1, payload: bytesOf(0, 100), snap: 20 + 20 + 30 })).toEqual([
      data(0, 30, 2),
      { kind: 'gap', offset: 30, length: 70, reason: 'cut by the capture snaplen' },
    ]);
    expect(h.add({ seq: 101, payload: bytesOf(100, 5) })).toEqual([data(100, 5, 3)]);
    expect(h.re.stats.truncatedSegments).toBe(1);
  });

  it('closes a direction at its FIN, and ignores what comes after', () => {
    const h = harness();
    h.add({ seq: 0, flags: SYN });
    h.add({ seq: 1, payload: bytesOf(0, 10), flags: FIN | ACK });
    expect(h.drops).toEqual([{ name: '192.0.2.10:50000 > 203.0.113.1:4342', cause: 'segment', reason: 'ended (FIN)' }]);
    expect(h.add({ seq: 1, payload: bytesOf(0, 10) })).toEqual([]);
    expect(h.re.stats.afterClose).toBe(1);
    // A FIN that arrives before the last bytes closes once they are in.
    const g = harness();
    g.add({ seq: 0, flags: SYN });
    g.add({ seq: 11, flags: FIN | ACK });
    expect(g.drops).toEqual([]);
    g.add({ seq: 1, payload: bytesOf(0, 10) });
    expect(g.drops.map((d) => d.reason)).toEqual(['ended (FIN)']);
  });

  it('ends both directions on RST, and a new SYN starts a new connection', () => {
    const h = harness();
    h.add({ seq: 0, flags: SYN });
    h.add({ back: true, seq: 500, flags: SYN | ACK });
    h.add({ back: true, seq: 501, flags: RST });
    expect(h.drops.map((d) => [d.name, d.reason])).toEqual([
      ['192.0.2.10:50000 > 203.0.113.1:4342', 'was reset (RST)'],
      ['203.0.113.1:4342 > 192.0.2.10:50000', 'was reset (RST)'],
    ]);
    h.add({ seq: 9000, flags: SYN });
    expect(h.add({ seq: 9001, payload: bytesOf(0, 3) })).toEqual([data(0, 3, 5)]);
    // A SYN with a new ISN on a live connection replaces it.
    h.add({ seq: 7000, flags: SYN });
    expect(h.drops.at(-1)).toMatchObject({ cause: 'segment', reason: 'was replaced by a new connection (SYN)' });
    expect(h.add({ seq: 7001, payload: bytesOf(0, 2) })).toEqual([data(0, 2, 7)]);
    // ... but a retransmitted SYN does not.
    const n = h.drops.length;
    h.add({ seq: 7000, flags: SYN });
    expect(h.drops.length).toBe(n);
  });

  it('caps the connections, drops idle ones, and reports the rest at the end', () => {
    const h = harness({ maxConnections: 2, idleTimeoutSec: 10 });
    for (const port of [1, 2, 3]) h.add({ seq: 0, flags: SYN, sport: port }, 0);
    expect(h.drops).toEqual([{ name: '192.0.2.10:1 > 203.0.113.1:4342', cause: 'bounds', reason: 'was dropped: more than 2 TCP connections at once' }]);
    expect(h.re.stats).toMatchObject({ connections: 2, droppedCount: 1 });
    h.add({ seq: 0, flags: SYN, sport: 4 }, 11);
    expect(h.drops.slice(1).map((d) => [d.name, d.cause])).toEqual([
      ['192.0.2.10:2 > 203.0.113.1:4342', 'timeout'],
      ['192.0.2.10:3 > 203.0.113.1:4342', 'timeout'],
    ]);
    expect(h.re.stats).toMatchObject({ connections: 1, droppedTimeout: 2 });
    h.re.finish();
    expect(h.drops.at(-1)).toEqual({ name: '192.0.2.10:4 > 203.0.113.1:4342', cause: 'end', reason: 'was cut off by the end of the capture' });
    expect(h.re.stats.connections).toBe(0);
  });

  it('bounds the bytes held over all connections', () => {
    const h = harness({ maxBytes: 150, maxBytesPerDirection: 1000 });
    h.add({ seq: 0, flags: SYN, sport: 1 });
    h.add({ seq: 101, payload: bytesOf(100, 120), sport: 1 });
    h.add({ seq: 0, flags: SYN, sport: 2 });
    // The other connection holds more: it is dropped.
    expect(h.add({ seq: 101, payload: bytesOf(100, 100), sport: 2 })).toEqual([]);
    expect(h.drops).toEqual([
      { name: '192.0.2.10:1 > 203.0.113.1:4342', cause: 'bounds', reason: 'was dropped: the 150-byte reassembly memory bound was reached' },
    ]);
    expect(h.re.stats).toMatchObject({ droppedMemory: 1, bytesHeld: 100 });
    // Over the bound again, this direction holds the most and gives up its first hole.
    expect(h.add({ seq: 301, payload: bytesOf(300, 100), sport: 2 })).toEqual([
      { kind: 'gap', offset: 0, length: 100, reason: 'reassembly memory bound (150 bytes) reached' },
      data(100, 100, 4),
    ]);
    expect(h.re.stats.bytesHeld).toBe(100);
    // The dropped direction starts over, unsynced, from its next segment.
    expect(h.add({ seq: 201, payload: bytesOf(200, 5), sport: 1 })).toEqual([{ kind: 'data', offset: 0, data: Array.from(bytesOf(200, 5)), frame: 6 }]);
  });

  it('never holds more than its bounds, whatever the segments (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ off: fc.integer({ min: 0, max: 4000 }), len: fc.integer({ min: 1, max: 300 }), sport: fc.integer({ min: 1, max: 3 }) }), { maxLength: 60 }),
        (segs) => {
          const h = harness({ maxBytes: 1500, maxBytesPerDirection: 800, window: 3000 });
          for (const sport of [1, 2, 3]) h.add({ seq: 999, flags: SYN, sport });
          const next = new Map<number, number>();
          // A direction given up for the bounds starts over from its next segment at offset 0 (the
          // unit test above): from then on its offsets no longer name the sender's bytes.
          const restarted = new Set<number>();
          for (const s of segs) {
            const events = h.add({ seq: 1000 + s.off, payload: bytesOf(s.off, s.len), sport: s.sport });
            expect(h.re.stats.bytesHeld).toBeLessThanOrEqual(1500);
            for (const d of h.drops) restarted.add(Number(/:(\d+) >/.exec(d.name)?.[1]));
            if (restarted.has(s.sport)) continue;
            for (const e of events) {
              // In order, gaps included, and every byte is the byte of its offset.
              expect(e.offset).toBe(next.get(s.sport) ?? e.offset);
              next.set(s.sport, e.offset + (e.kind === 'data' ? e.data.length : e.length));
              if (e.kind === 'data') expect(e.data).toEqual(Array.from(bytesOf(e.offset + 0, e.data.length)));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

// ---- PacketDecoder on TCP 4342 ---------------------------------------------------------------

const xtrId = new Uint8Array(16).fill(7);
const register = (messageId: number, eid: string): ReliableMessage => ({
  type: 17,
  messageId,
  mapRegister: decodeControl(mapRegister({ nonce: BigInt(messageId + 1), keyId: 1, key: 'k', records: [mappingRecord({ eid, locators: [{ rloc: ETR, local: true }] })], xtrId })).value as MapRegister,
});
const ack = (messageId: number, eid: string, maskLen: number): ReliableMessage => ({ type: 18, messageId, eidMaskLen: maskLen, eid: { kind: 'ipv4', afi: 1, addr: eid } });


function decoder(opts: PacketDecoderOptions = {}) {
  const warnings: string[] = [];
  const dec = new PacketDecoder({ ...opts, warning: (w) => warnings.push(w) });
  let index = 0;
  const feed = (s: Seg): LispPacket | undefined => {
    const b = packet(s);
    return dec.decode({ index: ++index, tsSec: index, tsNsec: 0, linkType: LINKTYPE_IPV4, len: b.length, data: b, interfaceId: 0 });
  };
  return { dec, feed, warnings };
}

describe('PacketDecoder: reliable transport over TCP 4342', () => {
  const regs = [register(0, '10.1.0.0/16'), register(1, '10.2.0.0/16'), register(2, '10.3.0.0/16')].map(encodeReliable);
  const stream = concatBytes(...regs);

  it('reports every message a segment completes, a segment carrying two giving one packet with both', () => {
    const d = decoder();
    expect(d.feed({ seq: 0, flags: SYN })).toBeUndefined();
    const p = d.feed({ seq: 1, payload: concatBytes(regs[0]!, regs[1]!) })!;
    expect(p.kind).toBe('reliable');
    expect(p.reliable!.map((e) => [e.message.type, e.message.messageId, e.length, e.frames, e.frameOffset, e.streamOffset])).toEqual([
      [17, 0, regs[0]!.length, [2], 40, 0],
      [17, 1, regs[1]!.length, [2], 40 + regs[0]!.length, regs[0]!.length],
    ]);
    expect(p.tcp).toMatchObject({ srcPort: 50000, dstPort: 4342 });
    expect(p.notes).toEqual([]);
    expect(p.frameNotes).toEqual([]);
  });

  it('gathers a message split over three segments at the frame of the last, naming all three', () => {
    const d = decoder();
    d.feed({ seq: 0, flags: SYN });
    const r = regs[0]!;
    expect(d.feed({ seq: 1, payload: r.subarray(0, 10) })).toBeUndefined();
    expect(d.feed({ seq: 11, payload: r.subarray(10, 50) })).toBeUndefined();
    const p = d.feed({ seq: 51, payload: r.subarray(50) })!;
    expect(p.reliable!.map((e) => [e.message.messageId, e.frames, e.frameOffset])).toEqual([[0, [2, 3, 4], undefined]]);
  });

  it('reassembles out-of-order segments and ignores a retransmission', () => {
    const d = decoder({ all: true });
    d.feed({ seq: 0, flags: SYN });
    const cut1 = regs[0]!.length + 20;
    const cut2 = cut1 + 30;
    expect(d.feed({ seq: 1, payload: stream.subarray(0, cut1) })!.reliable!.map((e) => e.message.messageId)).toEqual([0]);
    const early = d.feed({ seq: 1 + cut2, payload: stream.subarray(cut2) })!;
    expect(early.kind).toBeUndefined();
    expect(early.summary).toBe(`TCP [PSH, ACK] seq ${1 + cut2}, ${stream.length - cut2} bytes, early: held until the bytes before it arrive`);
    const p = d.feed({ seq: 1 + cut1, payload: stream.subarray(cut1, cut2) })!;
    expect(p.reliable!.map((e) => [e.message.messageId, e.frames])).toEqual([
      [1, [2, 4, 3]],
      [2, [3]],
    ]);
    expect(d.feed({ seq: 1 + cut1, payload: stream.subarray(cut1, cut2) })).toMatchObject({ summary: expect.stringMatching(/, retransmission$/) });
    expect(d.feed({ seq: 1, payload: stream.subarray(0, 10) })!.summary).toMatch(/, retransmission$/);
    expect(d.dec.tcp.stats).toMatchObject({ outOfOrder: 1, retransmissions: 2 });
    // A segment that delivers only the start of a message says so.
    const e = decoder({ all: true });
    e.feed({ seq: 0, flags: SYN });
    expect(e.feed({ seq: 1, payload: regs[0]!.subarray(0, 30) })!.summary).toBe(`TCP [PSH, ACK] seq 1, 30 bytes, part of a reliable-transport message (30 of ${regs[0]!.length} bytes so far)`);
  });

  it('reports a gap on the frame that gave up the hole, then goes on at the next message', () => {
    const d = decoder({ tcp: { maxBytesPerDirection: 100 } });
    d.feed({ seq: 0, flags: SYN });
    const r0 = regs[0]!.length;
    d.feed({ seq: 1, payload: stream.subarray(0, 10) });
    // Bytes 10..30 of the first Registration never come; more than 100 bytes wait behind them at once.
    const p = d.feed({ seq: 31, payload: stream.subarray(30, r0 + 40) })!;
    expect(p.kind).toBe('reliable');
    expect(p.reliable).toEqual([]);
    expect(p.frameNotes.map((n) => `${n.level}: ${n.message}`)).toEqual([
      `error: TCP 192.0.2.10:50000 > 203.0.113.1:4342: stream bytes 10-30 lost: more than 100 bytes wait behind it`,
      `error: TCP 192.0.2.10:50000 > 203.0.113.1:4342: stream bytes 0-${r0} skipped (frames 2, 3): message of ${r0} bytes broken by 20 stream bytes lost`,
    ]);
    // The end of the broken message is known: the next one is read from there.
    const q = d.feed({ seq: 1 + r0 + 40, payload: stream.subarray(r0 + 40) })!;
    expect(q.frameNotes).toEqual([]);
    expect(q.reliable!.map((e) => [e.message.messageId, e.frames])).toEqual([
      [1, [3, 4]],
      [2, [4]],
    ]);
  });

  it('joins a session already under way, and warns of what is unfinished at the end', () => {
    const d = decoder();
    const p = d.feed({ seq: 777, payload: stream.subarray(25) })!;
    expect(p.frameNotes.map((n) => `${n.level}: ${n.message}`)).toEqual([
      `error: TCP 192.0.2.10:50000 > 203.0.113.1:4342: stream bytes 0-${regs[0]!.length - 25} skipped (frames 1): not at a message boundary`,
    ]);
    expect(p.reliable!.map((e) => e.message.messageId)).toEqual([1, 2]);
    d.feed({ back: true, seq: 5, payload: encodeReliable(ack(1, '10.1.0.0', 16)).subarray(0, 9) });
    d.dec.finish();
    expect(d.warnings).toEqual([
      'TCP 203.0.113.1:4342 > 192.0.2.10:50000: stream bytes 0-9 skipped (frames 2): 9 of the 19 bytes of a message when the stream was cut off by the end of the capture',
    ]);
  });

  it('notes on the closing frame a message the FIN or RST cut short', () => {
    const d = decoder();
    d.feed({ seq: 0, flags: SYN });
    const p = d.feed({ seq: 1, payload: regs[0]!.subarray(0, 20), flags: FIN | ACK })!;
    expect(p.kind).toBe('reliable');
    expect(p.reliable).toEqual([]);
    expect(p.frameNotes.map((n) => `${n.level}: ${n.message}`)).toEqual([
      `error: TCP 192.0.2.10:50000 > 203.0.113.1:4342: stream bytes 0-20 skipped (frames 2): 20 of the ${regs[0]!.length} bytes of a message when the stream ended (FIN)`,
    ]);
  });

  it('verifies the Map-Register of each Registration with --keys', () => {
    const d = decoder({ keyFor: (_p, m) => ('records' in m && m.records[0]!.eidMaskLen === 16 && m.type === 3 ? 'k' : undefined) });
    d.feed({ seq: 0, flags: SYN });
    const p = d.feed({ seq: 1, payload: stream })!;
    expect(p.reliable!.map((e) => e.auth?.ok)).toEqual([true, true, true]);
    expect(p.auth?.ok).toBe(true);
    const bad = decoder({ keyFor: () => 'wrong' });
    bad.feed({ seq: 0, flags: SYN });
    expect(bad.feed({ seq: 1, payload: stream })!.auth).toMatchObject({ ok: false });
  });

  it('leaves other TCP alone, and flags a broken TCP header on port 4342', () => {
    const d = decoder({ all: true });
    const other = encodeIPv4({ src: ETR, dst: MS, proto: IPPROTO_TCP }, encodeTcp({ sport: 1, dport: 80, seq: 0, flags: SYN }, new Uint8Array(0)));
    const p = d.dec.decode({ index: 1, tsSec: 1, tsNsec: 0, linkType: LINKTYPE_IPV4, len: other.length, data: other, interfaceId: 0 })!;
    expect(p).toMatchObject({ summary: 'TCP 1 > 80 [SYN], length 0' });
    expect(p.kind).toBeUndefined();
    const broken = encodeIPv4({ src: ETR, dst: MS, proto: IPPROTO_TCP }, encodeTcp({ sport: 1, dport: 4342, seq: 0, flags: SYN }, new Uint8Array(0)).subarray(0, 12));
    const q = d.dec.decode({ index: 2, tsSec: 2, tsNsec: 0, linkType: LINKTYPE_IPV4, len: broken.length, data: broken, interfaceId: 0 })!;
    expect(q.frameNotes.map((n) => `${n.level}: ${n.message}`)).toEqual(['error: TCP header at byte offset 20 is cut short (12 of 20 bytes)']);
  });

  it('never throws on mutated segments', () => {
    const d = decoder({ all: true, tcp: { maxBytesPerDirection: 500, maxBytes: 2000 } });
    let index = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: stream.length }), fc.integer({ min: 1, max: 200 }), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (off, len, at, v, back) => {
        const payload = stream.slice(off, off + len);
        if (payload.length) payload[at % payload.length] = v;
        const b = packet({ seq: 1 + off, payload, back, flags: at % 17 === 0 ? SYN : at % 19 === 0 ? FIN | ACK : at % 23 === 0 ? RST : PSH | ACK });
        d.dec.decode({ index: ++index, tsSec: index, tsNsec: 0, linkType: LINKTYPE_IPV4, len: b.length, data: b, interfaceId: 0 });
      }),
      { numRuns: 2000 },
    );
    d.dec.finish();
    expect(d.dec.tcp.stats.bytesHeld).toBe(0);
  });
});
