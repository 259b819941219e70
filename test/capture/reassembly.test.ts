import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reassembler, type ReassemblyResult } from '../../src/capture/reassembly.js';
import {
  decodeIp,
  decodeUdp,
  encodeIPv4,
  encodeIPv6,
  encodeUdp,
  type IPv4Fields,
  type IPv6ExtensionSpec,
  type IpHeader,
} from '../../src/dissect/ip.js';
import { writePcap } from '../../src/capture/writer.js';
import { rng, randomBytes, run, toolsOrSkip } from './helpers.js';

const r = rng(7);

function header(b: Uint8Array): IpHeader {
  const d = decodeIp(b);
  if (!d.ok) throw new Error(d.notes.join('; '));
  return d;
}

const V4: IPv4Fields = { src: '192.0.2.10', dst: '198.51.100.20', proto: 17, id: 0x4242, ttl: 60, tos: 0x10 };

/** Splits `payload` into IPv4 fragments of `size` bytes (a multiple of 8) and returns them with the whole datagram. */
function fragment4(payload: Uint8Array, size: number, fields: IPv4Fields = V4): { whole: Uint8Array; frags: Uint8Array[] } {
  const frags: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const last = off + size >= payload.length;
    const f: IPv4Fields = { ...fields, mf: !last, fragmentOffset: off / 8 };
    if (off > 0) delete f.options; // options without the copy flag stay in the first fragment
    frags.push(encodeIPv4(f, payload.subarray(off, off + size)));
  }
  return { whole: encodeIPv4(fields, payload), frags };
}

function fragment6(payload: Uint8Array, size: number, unfrag: IPv6ExtensionSpec[] = [], id = 7): { whole: Uint8Array; frags: Uint8Array[] } {
  const base = { src: '2001:db8::a', dst: '2001:db8::b', nextHeader: 17, hopLimit: 33 };
  const frags: Uint8Array[] = [];
  for (let off = 0; off < payload.length; off += size) {
    const more = off + size < payload.length;
    frags.push(encodeIPv6({ ...base, extensionHeaders: [...unfrag, { type: 44, fragmentOffset: off / 8, more, id }] }, payload.subarray(off, off + size)));
  }
  return { whole: encodeIPv6({ ...base, extensionHeaders: unfrag }, payload), frags };
}

function feed(re: Reassembler, frags: Uint8Array[], order: number[], t0 = 100): ReassemblyResult[] {
  return order.map((i, k) => re.add(i + 1, t0 + k * 0.001, frags[i]!, header(frags[i]!)));
}

const udpPayload = (n: number): Uint8Array => encodeUdp(4341, 4341, randomBytes(r, n));

describe('Reassembler', () => {
  it('leaves unfragmented packets alone', () => {
    const re = new Reassembler();
    const pkt = encodeIPv4(V4, udpPayload(20));
    expect(re.add(1, 0, pkt, header(pkt))).toEqual({ status: 'not-fragment' });
    expect(re.stats.fragments).toBe(0);
  });

  it('rebuilds an IPv4 datagram (with options) in any arrival order', () => {
    const payload = udpPayload(3000);
    const { whole, frags } = fragment4(payload, 1480, { ...V4, options: Uint8Array.of(0x94, 4, 0, 0), df: false });
    expect(frags).toHaveLength(3);
    for (const order of [
      [0, 1, 2],
      [2, 1, 0],
      [1, 2, 0],
    ]) {
      const re = new Reassembler();
      const res = feed(re, frags, order);
      expect(res.slice(0, 2)).toEqual([{ status: 'pending' }, { status: 'pending' }]);
      const done = res[2]!;
      if (done.status !== 'complete') throw new Error(JSON.stringify(done));
      expect(done.frames).toEqual(order.map((i) => i + 1));
      expect(Buffer.from(done.datagram).equals(Buffer.from(whole))).toBe(true);
      const h = header(done.datagram);
      expect([h.isFragment, h.checksumOk, h.totalLength]).toEqual([false, true, whole.length]);
      expect(re.stats).toMatchObject({ fragments: 3, completed: 1, inFlight: 0, bytesInFlight: 0 });
    }
  });

  it('rebuilds an IPv6 datagram with unfragmentable extension headers', () => {
    const payload = udpPayload(5000);
    const { whole, frags } = fragment6(payload, 1232, [{ type: 0, data: Uint8Array.of(5, 2, 0, 0) }, { type: 43, data: new Uint8Array(22) }]);
    const re = new Reassembler();
    const res = feed(re, frags, [3, 0, 4, 2, 1]);
    const done = res[4]!;
    if (done.status !== 'complete') throw new Error(JSON.stringify(done));
    expect(Buffer.from(done.datagram).equals(Buffer.from(whole))).toBe(true);
    const h = header(done.datagram);
    expect([h.proto, h.isFragment, h.payloadEnd]).toEqual([17, false, whole.length]);
    const u = decodeUdp(done.datagram, h.payloadOffset, h.payloadEnd);
    expect(u.ok && [u.srcPort, u.length]).toEqual([4341, payload.length]);
  });

  it('keeps concurrent datagrams apart by (src, dst, id, proto)', () => {
    const a = fragment4(udpPayload(100), 56, { ...V4, id: 1 });
    const b = fragment4(udpPayload(100), 56, { ...V4, id: 2 });
    const c = fragment4(udpPayload(100), 56, { ...V4, id: 1, proto: 6 });
    const d = fragment6(udpPayload(100), 56, [], 1);
    const re = new Reassembler();
    const all = [a.frags[0]!, b.frags[0]!, c.frags[0]!, d.frags[0]!, c.frags[1]!, d.frags[1]!, b.frags[1]!, a.frags[1]!];
    const res = all.map((f, i) => re.add(i + 1, 0, f, header(f)));
    const done = res.flatMap((x, i) => (x.status === 'complete' ? [[i + 1, x.datagram.length, x.frames]] : []));
    expect(done).toEqual([
      [5, c.whole.length, [3, 5]],
      [6, d.whole.length, [4, 6]],
      [7, b.whole.length, [2, 7]],
      [8, a.whole.length, [1, 8]],
    ]);
  });

  it('ignores exact duplicates', () => {
    const { whole, frags } = fragment4(udpPayload(200), 64);
    const re = new Reassembler();
    const res = feed(re, frags, [0, 1, 1, 0, 2, 3]);
    expect(res.map((x) => x.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'pending', 'complete']);
    const done = res[5]!;
    expect(done.status === 'complete' && [done.frames, done.datagram.length]).toEqual([[1, 2, 3, 4], whole.length]);
    expect(re.stats.duplicates).toBe(2);
  });

  describe('gives up, never mis-assembles', () => {
    const payload = udpPayload(200);
    const frag = (off: number, len: number, mf: boolean, fill?: number): Uint8Array => {
      const data = payload.slice(off, off + len);
      if (fill !== undefined) data.fill(fill);
      return encodeIPv4({ ...V4, mf, fragmentOffset: off / 8 }, data);
    };
    const expectFail = (pkts: Uint8Array[], reason: RegExp, at = pkts.length - 1): Reassembler => {
      const re = new Reassembler();
      const res = pkts.map((p, i) => re.add(i + 1, 0, p, header(p)));
      const f = res[at]!;
      if (f.status !== 'failed') throw new Error(`expected failure, got ${JSON.stringify(res.map((x) => x.status))}`);
      expect(f.reason).toMatch(reason);
      expect(f.frames).toEqual(Array.from({ length: at + 1 }, (_, i) => i + 1));
      expect(re.stats.failed).toBe(1);
      expect(re.stats.bytesInFlight).toBe(0);
      return re;
    };

    it('on overlap, and refuses the rest of that datagram', () => {
      const re = expectFail([frag(0, 64, true), frag(56, 64, true)], /frame 2 \(bytes 56–120\) overlaps bytes 0–64/);
      const later = frag(120, 80, false);
      expect(re.add(3, 0, later, header(later))).toEqual({ status: 'failed', reason: expect.stringMatching(/^datagram already abandoned: /), frames: [3] });
      expect(re.stats.inFlight).toBe(0);
    });

    it('on the same range with different bytes', () => {
      expectFail([frag(0, 64, true), frag(0, 64, true, 0xee)], /overlaps/);
    });

    it('on last fragments that disagree, or data beyond the end', () => {
      expectFail([frag(120, 80, false), frag(64, 64, false)], /last fragments disagree on the datagram length \(200 and 128/);
      expectFail([frag(64, 64, true), frag(8, 8, false)], /ends the datagram at 16 but data up to 128 was seen/);
      expectFail([frag(120, 80, false), frag(192, 64, true)], /reaches past the last fragment \(200\)/);
    });

    it('on a non-last fragment whose size is not a multiple of 8', () => {
      expectFail([frag(0, 60, true)], /not the last but carries 60 bytes/);
    });

    it('on a datagram beyond 65535 bytes', () => {
      const big = encodeIPv4({ ...V4, mf: false, fragmentOffset: 8190 }, new Uint8Array(100));
      expectFail([big], /beyond the largest IP datagram/);
    });

    it('on a fragment cut short by the snaplen', () => {
      const p = frag(0, 64, true);
      const re = new Reassembler();
      const cut = p.subarray(0, 50);
      const res = re.add(1, 0, cut, header(cut));
      expect(res).toMatchObject({ status: 'failed', reason: 'fragment in frame 1 is cut short by the capture' });
    });
  });

  describe('bounds', () => {
    it('expires datagrams after the timeout in capture time', () => {
      const evicted: [readonly number[], string][] = [];
      const re = new Reassembler({ timeoutSec: 30, onEvict: (frames, reason) => evicted.push([frames.slice(), reason]) });
      const a = fragment4(udpPayload(100), 56, { ...V4, id: 10 });
      const b = fragment4(udpPayload(100), 56, { ...V4, id: 11 });
      expect(re.add(1, 1000, a.frags[0]!, header(a.frags[0]!)).status).toBe('pending');
      expect(re.add(2, 1020, b.frags[0]!, header(b.frags[0]!)).status).toBe('pending');
      // 31 s after a's first fragment: a is gone, its second half starts a new datagram.
      expect(re.add(3, 1031, a.frags[1]!, header(a.frags[1]!)).status).toBe('pending');
      expect(evicted).toEqual([[[1], 'incomplete after 30 s']]);
      expect(re.add(4, 1040, b.frags[1]!, header(b.frags[1]!)).status).toBe('complete');
      re.expire(2000);
      expect(re.stats).toMatchObject({ evictedTimeout: 2, inFlight: 0, bytesInFlight: 0, completed: 1 });
      expect(evicted[1]).toEqual([[3], 'incomplete after 30 s']);
    });

    it('drops the oldest datagram beyond maxDatagrams', () => {
      const evicted: number[][] = [];
      const re = new Reassembler({ maxDatagrams: 3, onEvict: (f) => evicted.push([...f]) });
      const ds = [1, 2, 3, 4, 5].map((id) => fragment4(udpPayload(100), 56, { ...V4, id }));
      ds.forEach((d, i) => re.add(i + 1, 0, d.frags[0]!, header(d.frags[0]!)));
      expect(evicted).toEqual([[1], [2]]);
      expect(re.stats).toMatchObject({ evictedCount: 2, inFlight: 3 });
      expect(re.add(6, 0, ds[4]!.frags[1]!, header(ds[4]!.frags[1]!)).status).toBe('complete');
      expect(re.add(7, 0, ds[0]!.frags[1]!, header(ds[0]!.frags[1]!)).status).toBe('pending');
    });

    it('drops the oldest datagrams beyond maxBytes, and refuses one that alone exceeds it', () => {
      const re = new Reassembler({ maxBytes: 1000 });
      const ds = [1, 2, 3].map((id) => fragment4(udpPayload(1000), 400, { ...V4, id }));
      re.add(1, 0, ds[0]!.frags[0]!, header(ds[0]!.frags[0]!));
      re.add(2, 0, ds[1]!.frags[0]!, header(ds[1]!.frags[0]!));
      expect(re.stats).toMatchObject({ evictedMemory: 0, bytesInFlight: 840 });
      re.add(3, 0, ds[2]!.frags[0]!, header(ds[2]!.frags[0]!));
      expect(re.stats).toMatchObject({ evictedMemory: 1, bytesInFlight: 840, inFlight: 2 });
      re.add(4, 0, ds[2]!.frags[1]!, header(ds[2]!.frags[1]!));
      expect(re.stats.evictedMemory).toBe(2);
      const res = re.add(5, 0, ds[2]!.frags[2]!, header(ds[2]!.frags[2]!));
      expect(res).toMatchObject({ status: 'failed', reason: 'datagram exceeds the reassembly memory bound (1000 bytes)' });
      expect(re.stats.bytesInFlight).toBe(0);
    });

    it('reports what is left at the end of the capture', () => {
      const evicted: string[] = [];
      const re = new Reassembler({ onEvict: (_f, reason) => evicted.push(reason) });
      const d = fragment6(udpPayload(300), 128);
      re.add(1, 0, d.frags[0]!, header(d.frags[0]!));
      re.finish();
      expect(evicted).toEqual(['incomplete at the end of the capture']);
      expect(re.stats).toMatchObject({ incompleteAtEnd: 1, inFlight: 0 });
    });
  });

  it('random fragmentation, order and duplication always rebuild the exact datagram (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 9, max: 4000 }),
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.nat(),
        (n, units, v6, dups, seed) => {
          const payload = randomBytes(rng(seed), n);
          const { whole, frags } = v6 ? fragment6(payload, units * 8) : fragment4(payload, units * 8);
          const order = frags.map((_, i) => i);
          const shuffle = rng(seed + 1);
          for (let i = order.length - 1; i > 0; i--) {
            const j = Math.floor(shuffle() * (i + 1));
            [order[i], order[j]] = [order[j]!, order[i]!];
          }
          for (const d of dups) order.splice(d % (order.length + 1), 0, order[d % order.length]!);
          const re = new Reassembler();
          const res = feed(re, frags, order);
          const completes = res.filter((x) => x.status === 'complete');
          if (frags.length === 1) {
            expect(res.every((x) => x.status === 'not-fragment')).toBe(true);
            return;
          }
          // Duplicates arriving after completion may legitimately complete it again.
          expect(completes.length).toBeGreaterThanOrEqual(1);
          for (const c of completes) expect(c.status === 'complete' && Buffer.from(c.datagram).equals(Buffer.from(whole))).toBe(true);
          expect(res.some((x) => x.status === 'failed')).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

const ok = toolsOrSkip('tshark');

describe.runIf(ok)('tshark reassembles the same datagrams in the same frames', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'lispscope-reasm-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('IPv4 and IPv6, interleaved', () => {
    const a = fragment4(udpPayload(3000), 1480, { ...V4, id: 100 });
    const b = fragment6(udpPayload(2500), 1232, [], 200);
    const c = fragment4(udpPayload(900), 400, { ...V4, id: 101 });
    const frames = [a.frags[1]!, b.frags[0]!, c.frags[0]!, a.frags[0]!, b.frags[2]!, c.frags[2]!, c.frags[1]!, a.frags[2]!, b.frags[1]!];
    const file = join(dir, 'frag.pcap');
    writeFileSync(file, writePcap(frames.map((data, i) => ({ tsSec: 1, tsNsec: i * 1000, data })), { linkType: 101 }));
    const rows = run('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.number', '-e', 'ip.reassembled.length', '-e', 'ipv6.reassembled.length', '-e', 'udp.length'])
      .trim()
      .split('\n')
      .map((l) => l.split('\t'))
      .filter((cols) => cols[1] || cols[2]);
    const re = new Reassembler();
    const mine = frames.flatMap((f, i) => {
      const res = re.add(i + 1, 1, f, header(f));
      if (res.status !== 'complete') return [];
      const h = header(res.datagram);
      const u = decodeUdp(res.datagram, h.payloadOffset, h.payloadEnd);
      const plen = String(h.payloadEnd - h.payloadOffset);
      return [[String(i + 1), h.version === 4 ? plen : '', h.version === 6 ? plen : '', u.ok ? String(u.length) : '']];
    });
    expect(mine).toHaveLength(3);
    expect(mine).toEqual(rows);
  });
});
