import { describe, expect, it } from 'vitest';
import { writePcap, type CapturePacket, type PcapWriteOptions } from '../../src/capture/writer.js';
import { collect, rng, randomBytes } from './helpers.js';

const r = rng(1);
const PACKETS: CapturePacket[] = [
  { tsSec: 1_700_000_000, tsNsec: 123_456_789, data: randomBytes(r, 60) },
  { tsSec: 1_700_000_001, tsNsec: 0, data: randomBytes(r, 1) },
  { tsSec: 0, tsNsec: 999_999_999, data: new Uint8Array(0) },
  { tsSec: 4_294_967_295, tsNsec: 5_000, data: randomBytes(r, 1514), len: 1514 },
  { tsSec: 1_700_000_002, tsNsec: 42, data: randomBytes(r, 100), len: 1500 },
];

describe('pcap round trips', () => {
  const variants: PcapWriteOptions[] = [];
  for (const endian of ['le', 'be'] as const) {
    variants.push({ endian }, { endian, precision: 'ns' }, { endian, modified: true });
  }
  for (const v of variants) {
    it(`reads back ${JSON.stringify(v)}`, () => {
      const file = writePcap(PACKETS, { ...v, linkType: 113 });
      const c = collect(file);
      expect(c.error).toBeUndefined();
      expect(c.warnings).toEqual([]);
      expect(c.format).toBe('pcap');
      expect(c.frames).toHaveLength(PACKETS.length);
      c.frames.forEach((f, i) => {
        const p = PACKETS[i]!;
        const ns = v.precision === 'ns' && !v.modified;
        expect(f.index).toBe(i + 1);
        expect(f.tsSec).toBe(p.tsSec);
        expect(f.tsNsec).toBe(ns ? p.tsNsec : Math.floor(p.tsNsec / 1000) * 1000);
        expect(f.linkType).toBe(113);
        expect(f.len).toBe(p.len ?? p.data.length);
        expect(f.interfaceId).toBe(0);
        expect(Array.from(f.data)).toEqual(Array.from(p.data));
        expect(f.notes).toBeUndefined();
      });
    });
  }

  it('has the byte layout of the spec (magic, header, record)', () => {
    const f = writePcap([{ tsSec: 1, tsNsec: 2000, data: Uint8Array.of(0xaa) }], { endian: 'be', snaplen: 65535 });
    expect(Array.from(f.subarray(0, 24))).toEqual([
      0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 1,
    ]);
    expect(Array.from(f.subarray(24))).toEqual([0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0xaa]);
    const le = writePcap([], { precision: 'ns' });
    expect(Array.from(le.subarray(0, 4))).toEqual([0x4d, 0x3c, 0xb2, 0xa1]);
    const mod = writePcap([], { modified: true });
    expect(Array.from(mod.subarray(0, 4))).toEqual([0x34, 0xcd, 0xb2, 0xa1]);
  });

  it('cuts packets to the snaplen and keeps the original length', () => {
    const c = collect(writePcap(PACKETS, { snaplen: 64 }));
    expect(c.frames.map((f) => f.data.length)).toEqual([60, 1, 0, 64, 64]);
    expect(c.frames.map((f) => f.len)).toEqual([60, 1, 0, 1514, 1500]);
    expect(Array.from(c.frames[3]!.data)).toEqual(Array.from(PACKETS[3]!.data.subarray(0, 64)));
  });

  it('masks the link type to 16 bits and strips a declared FCS', () => {
    const data = Uint8Array.of(1, 2, 3, 4, 5, 6, 0xf1, 0xf2, 0xf3, 0xf4);
    const c = collect(writePcap([{ tsSec: 1, tsNsec: 0, data }, { tsSec: 2, tsNsec: 0, data: data.subarray(0, 8), len: 10 }], { fcsLen: 4 }));
    expect(c.frames[0]!.linkType).toBe(1);
    expect(Array.from(c.frames[0]!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(c.frames[0]!.len).toBe(6);
    // Cut inside the FCS by the snaplen: only the part before the FCS remains.
    expect(Array.from(c.frames[1]!.data)).toEqual([1, 2, 3, 4, 5, 6]);
    // High bits without the FCS-present flag are not an FCS length.
    const odd = writePcap([{ tsSec: 1, tsNsec: 0, data }]);
    new DataView(odd.buffer).setUint32(20, 0x20000001, true);
    const c2 = collect(odd);
    expect(c2.frames[0]!.linkType).toBe(1);
    expect(c2.frames[0]!.data.length).toBe(10);
  });

  it('carries an out-of-range fraction into the seconds and notes it', () => {
    const f = writePcap([{ tsSec: 10, tsNsec: 0, data: Uint8Array.of(1) }]);
    new DataView(f.buffer).setUint32(24 + 4, 2_500_000, true);
    const c = collect(f);
    expect(c.frames[0]!.tsSec).toBe(12);
    expect(c.frames[0]!.tsNsec).toBe(500_000_000);
    expect(c.frames[0]!.notes?.[0]).toMatch(/fraction 2500000.*byte offset 24/);
  });

  it('notes an original length below the captured length', () => {
    const c = collect(writePcap([{ tsSec: 1, tsNsec: 0, data: Uint8Array.of(1, 2, 3), len: 2 }]));
    expect(c.frames[0]!.data.length).toBe(3);
    expect(c.frames[0]!.notes?.[0]).toMatch(/original length 2 is less than captured length 3/);
  });

  it('stops with a warning naming the offset when incl_len is absurd', () => {
    const f = writePcap(PACKETS.slice(0, 3), { snaplen: 65535 });
    const second = 24 + 16 + 60;
    new DataView(f.buffer).setUint32(second + 8, 300_000, true);
    const c = collect(f);
    expect(c.frames).toHaveLength(1);
    expect(c.warnings).toHaveLength(1);
    expect(c.warnings[0]).toMatch(new RegExp(`corrupt record at byte offset ${second}: captured length 300000`));
    // Above 256 MiB is absurd whatever the snaplen says.
    const g = writePcap(PACKETS.slice(0, 1), { snaplen: 0xffffffff });
    new DataView(g.buffer).setUint32(24 + 8, 0x10000001, true);
    expect(collect(g).warnings[0]).toMatch(/byte offset 24: captured length 268435457 exceeds the limit 268435456/);
    // Slightly above a small snaplen is tolerated (writers get the header wrong).
    const h = writePcap([{ tsSec: 1, tsNsec: 0, data: new Uint8Array(2000) }], { snaplen: 0 });
    new DataView(h.buffer).setUint32(16, 1500, true);
    expect(collect(h).frames[0]!.data.length).toBe(2000);
  });

  it('warns about an unusual version but keeps reading', () => {
    const c = collect(writePcap(PACKETS.slice(0, 1), { version: [1, 0] }));
    expect(c.frames).toHaveLength(1);
    expect(c.warnings[0]).toMatch(/unusual pcap version 1\.0/);
  });

  it('reads a file with a header and no records', () => {
    const c = collect(writePcap([]));
    expect(c).toEqual({ frames: [], warnings: [], format: 'pcap' });
  });
});
