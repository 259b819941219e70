import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  writePcapng,
  writePcapngSections,
  type CapturePacket,
  type PcapngBlock,
  type PcapngSection,
} from '../../src/capture/writer.js';
import { CaptureError } from '../../src/capture/types.js';
import { collect, rng, randomBytes } from './helpers.js';

const r = rng(2);
const pkt = (tsSec: number, tsNsec: number, n: number, extra: Partial<CapturePacket> = {}): CapturePacket => ({
  tsSec,
  tsNsec,
  data: randomBytes(r, n),
  ...extra,
});

describe('pcapng round trips', () => {
  for (const endian of ['le', 'be'] as const) {
    it(`reads EPBs in ${endian} with the default µs resolution`, () => {
      const packets = [pkt(1_700_000_000, 123_456_789, 61), pkt(1_700_000_001, 1_000, 3), pkt(5, 0, 0)];
      const c = collect(writePcapng(packets, { endian, linkType: 228 }));
      expect(c.error).toBeUndefined();
      expect(c.warnings).toEqual([]);
      expect(c.format).toBe('pcapng');
      expect(c.frames.map((f) => [f.index, f.tsSec, f.tsNsec, f.linkType, f.len, f.interfaceId])).toEqual([
        [1, 1_700_000_000, 123_456_000, 228, 61, 0],
        [2, 1_700_000_001, 1_000, 228, 3, 0],
        [3, 5, 0, 228, 0, 0],
      ]);
      c.frames.forEach((f, i) => expect(Array.from(f.data)).toEqual(Array.from(packets[i]!.data)));
    });
  }

  it('handles several sections: byte order changes and interface ids restart', () => {
    const sections: PcapngSection[] = [
      {
        endian: 'le',
        interfaces: [{ linkType: 1 }, { linkType: 113, tsresol: 9 }],
        blocks: [pkt(100, 5, 10, { interfaceId: 1 }), pkt(101, 7_000, 20, { interfaceId: 0 })],
      },
      {
        endian: 'be',
        interfaces: [{ linkType: 276, tsresol: 3 }],
        blocks: [pkt(200, 999_000_000, 30, { interfaceId: 0 }), { type: 'idb', iface: { linkType: 101 } }, pkt(201, 1_000, 5, { interfaceId: 1 })],
      },
      { endian: 'le', interfaces: [{ linkType: 0 }], blocks: [pkt(300, 0, 4)] },
    ];
    const c = collect(writePcapngSections(sections));
    expect(c.warnings).toEqual([]);
    expect(c.frames.map((f) => [f.index, f.interfaceId, f.linkType, f.tsSec, f.tsNsec, f.data.length])).toEqual([
      [1, 1, 113, 100, 5, 10],
      [2, 0, 1, 101, 7_000, 20],
      [3, 0, 276, 200, 999_000_000, 30],
      [4, 1, 101, 201, 1_000, 5],
      [5, 0, 0, 300, 0, 4],
    ]);
  });

  it('decimal if_tsresol 10^-v for v = 0..12 keeps floor(ns / 10^(9-v))', () => {
    for (let v = 0; v <= 12; v++) {
      // 64 bits of 10^-11 s units last only 5.8 years, 10^-12 s units 213 days.
      const sec = v >= 11 ? 1_000_000 : 1_712_345_678;
      const c = collect(writePcapng([pkt(sec, 987_654_321, 1)], { tsresol: v }));
      const step = v >= 9 ? 1 : 10 ** (9 - v);
      expect([v, c.frames[0]!.tsSec, c.frames[0]!.tsNsec]).toEqual([v, sec, Math.floor(987_654_321 / step) * step]);
    }
  });

  it('binary if_tsresol 2^-v converts exactly (floor to the ns)', () => {
    for (const v of [0, 1, 8, 9, 10, 20, 29, 30, 32, 33, 40, 48]) {
      const nsec = 987_654_321;
      const sec = v > 33 ? 1000 : 1_712_345_678;
      const c = collect(writePcapng([pkt(sec, nsec, 1)], { tsresol: 0x80 | v }));
      const f = c.frames[0]!;
      // What the writer stored, converted back by exact integer arithmetic.
      const units = 1n << BigInt(v);
      const frac = v >= 30 ? (BigInt(nsec) * units + 999_999_999n) / 1_000_000_000n : (BigInt(nsec) * units) / 1_000_000_000n;
      const expected = Number((frac * 1_000_000_000n) / units);
      expect([v, f.tsSec, f.tsNsec]).toEqual([v, sec, expected]);
      if (v >= 30) expect(f.tsNsec).toBe(nsec);
    }
  });

  it('converts raw 64-bit timestamps exactly at every resolution (property)', () => {
    const resolutions = [3, 6, 9, 10, 11, 13, 0x80 | 10, 0x80 | 30, 0x80 | 32, 0x80 | 40];
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(...resolutions), (t, res) => {
        const file = writePcapngSections([
          { interfaces: [{ linkType: 1, tsresol: res }], blocks: [{ type: 'raw', blockType: 6, body: new Uint8Array(20) }] },
        ]);
        // Patch interface 0's raw timestamp into the hand-made EPB body.
        const dv = new DataView(file.buffer);
        const epb = file.length - 32;
        dv.setUint32(epb + 12, Number(t >> 32n), true);
        dv.setUint32(epb + 16, Number(t & 0xffffffffn), true);
        const f = collect(file).frames[0]!;
        const units = res & 0x80 ? 1n << BigInt(res & 0x7f) : 10n ** BigInt(res);
        expect(f.tsSec).toBe(Number(t / units));
        expect(f.tsNsec).toBe(Number(((t % units) * 1_000_000_000n) / units));
      }),
      { numRuns: 400 },
    );
  });

  it('applies if_tsoffset (positive and negative)', () => {
    const c = collect(
      writePcapngSections([
        {
          interfaces: [{ linkType: 1, tsoffset: 1_000_000_000 }, { linkType: 1, tsoffset: -5, tsresol: 9 }],
          blocks: [pkt(1_700_000_000, 1_000, 1), pkt(1_700_000_000, 7, 1, { interfaceId: 1 })],
        },
      ]),
    );
    expect(c.frames.map((f) => [f.tsSec, f.tsNsec])).toEqual([
      [1_700_000_000, 1_000],
      [1_700_000_000, 7],
    ]);
    // The stored value is relative to the offset.
    const file = writePcapng([pkt(1_000_000_100, 0, 1)], { tsoffset: 1_000_000_000 });
    const epb = file.length - 36;
    expect(new DataView(file.buffer).getUint32(epb + 16, true)).toBe(100_000_000);
  });

  it('reads SPBs (interface 0, no timestamp, length = min(room, snaplen, orig))', () => {
    const blocks: PcapngBlock[] = [
      { type: 'spb', packet: pkt(9, 9, 5) },
      { type: 'spb', packet: pkt(9, 9, 100, { len: 1500 }) },
      { type: 'spb', packet: pkt(9, 9, 64) },
    ];
    const c = collect(writePcapngSections([{ interfaces: [{ linkType: 101, snaplen: 64 }], blocks }]));
    expect(c.frames.map((f) => [f.tsSec, f.tsNsec, f.data.length, f.len, f.linkType, f.interfaceId])).toEqual([
      [0, 0, 5, 5, 101, 0],
      [0, 0, 64, 1500, 101, 0],
      [0, 0, 64, 64, 101, 0],
    ]);
    expect(() => writePcapngSections([{ interfaces: [{ linkType: 1, snaplen: 0 }], blocks: [{ type: 'spb', packet: pkt(1, 1, 5, { len: 9 }) }] }])).toThrow(
      RangeError,
    );
  });

  it('reads obsolete Packet Blocks, says what an ISB counts as lost, and skips NRB, DSB, custom and unknown blocks', () => {
    // Custom blocks are not delivered but numbered, as tshark numbers them.
    const blocks: PcapngBlock[] = [
      { type: 'nrb', records: [{ ip: '192.0.2.1', names: ['a.example'] }, { ip: '2001:db8::1', names: ['b', 'c'] }] },
      { type: 'pb', packet: pkt(10, 20_000, 7, { interfaceId: 1 }), drops: 3 },
      { type: 'isb', interfaceId: 0, tsSec: 11, tsNsec: 0, received: 10n, dropped: 1n },
      { type: 'dsb', secretsType: 0x544c534b, data: new TextEncoder().encode('CLIENT_RANDOM x y') },
      { type: 'custom', pen: 32473, data: Uint8Array.of(1, 2, 3) },
      { type: 'custom', pen: 32473, data: Uint8Array.of(1), copyable: false },
      { type: 'raw', blockType: 0x12345678, body: Uint8Array.of(9, 9) },
      { type: 'epb', packet: pkt(12, 30_000, 9), options: [{ code: 1, value: new TextEncoder().encode('hi') }] },
    ];
    const c = collect(writePcapngSections([{ interfaces: [{ linkType: 1 }, { linkType: 12 }], blocks }]));
    expect(c.warnings).toEqual([expect.stringMatching(/^test\.pcap: interface 0 lost 1 packet while capturing \(1 by the interface\), as its interface statistics block at byte offset \d+ says$/)]);
    expect(c.frames.map((f) => [f.index, f.interfaceId, f.linkType, f.tsSec, f.tsNsec, f.data.length])).toEqual([
      [1, 1, 12, 10, 20_000, 7],
      [4, 0, 1, 12, 30_000, 9],
    ]);
  });

  it('reports the losses interface statistics blocks count once, and again only when they grow', () => {
    const isb = (tsSec: number, o: { dropped?: bigint; osDropped?: bigint }): PcapngBlock => ({ type: 'isb', interfaceId: 0, tsSec, tsNsec: 0, received: 100n, delivered: 90n, ...o });
    const blocks: (PcapngBlock | CapturePacket)[] = [
      pkt(1, 0, 4),
      isb(2, { dropped: 0n, osDropped: 0n }), // a clean capture says nothing
      isb(3, { dropped: 2n, osDropped: 8n }),
      isb(4, { dropped: 2n, osDropped: 8n }), // the same totals again: already said
      isb(5, { dropped: 2n, osDropped: 11n }),
      pkt(6, 0, 4),
    ];
    const c = collect(writePcapngSections([{ interfaces: [{ linkType: 1, name: 'eth0' }], blocks }]));
    expect(c.frames).toHaveLength(2);
    expect(c.warnings.map((w) => w.replace(/byte offset \d+/, 'byte offset N'))).toEqual([
      'test.pcap: interface 0 (eth0) lost 10 packets while capturing (8 by the operating system, 2 by the interface), as its interface statistics block at byte offset N says',
      'test.pcap: interface 0 (eth0) lost 13 packets while capturing (11 by the operating system, 2 by the interface), as its interface statistics block at byte offset N says',
    ]);
    // Too short to hold an interface id and a time: skipped with a warning, reading goes on.
    const short = collect(writePcapngSections([{ blocks: [{ type: 'raw', blockType: 5, body: Uint8Array.of(0, 0, 0, 0) }, pkt(1, 0, 4)] }]));
    expect(short.frames).toHaveLength(1);
    expect(short.warnings).toEqual([expect.stringMatching(/^test\.pcap: interface statistics block at byte offset \d+ is too short \(16 bytes\); skipped$/)]);
  });

  it('numbers journal-export, custom and sysdig event blocks like tshark, without delivering them', () => {
    const raw = (blockType: number): PcapngBlock => ({ type: 'raw', blockType, body: new Uint8Array(16) });
    const blocks: (PcapngBlock | CapturePacket)[] = [pkt(1, 0, 1), raw(9), raw(0x204), pkt(2, 0, 1), raw(0x216), raw(0x221), raw(0x208), raw(0x201), pkt(3, 0, 1)];
    expect(collect(writePcapngSections([{ blocks }])).frames.map((f) => [f.index, f.tsSec])).toEqual([
      [1, 1],
      [4, 2],
      [7, 3],
    ]);
  });

  it('delivers packets of an undescribed interface with a note and link type -1', () => {
    const c = collect(writePcapngSections([{ interfaces: [{ linkType: 1 }], blocks: [pkt(1, 0, 3, { interfaceId: 4 }), pkt(2, 0, 3)] }]));
    expect(c.frames).toHaveLength(2);
    expect(c.frames[0]!.linkType).toBe(-1);
    expect(c.frames[0]!.interfaceId).toBe(4);
    expect(c.frames[0]!.notes).toEqual(['interface id 4 is not described in this section (1 interfaces)']);
    expect(c.frames[1]!.notes).toBeUndefined();
    // SPB without any IDB.
    const s = collect(writePcapngSections([{ interfaces: [], blocks: [{ type: 'raw', blockType: 3, body: Uint8Array.of(0, 0, 0, 2, 7, 7) }] }]));
    expect(s.frames[0]!.notes?.[0]).toMatch(/no interface/);
  });

  it('keeps the captured length within the block and notes the overflow', () => {
    const file = writePcapng([pkt(1, 0, 8)]);
    const epb = file.length - 40;
    new DataView(file.buffer).setUint32(epb + 20, 9999, true);
    const c = collect(file);
    expect(c.frames[0]!.data.length).toBe(8);
    expect(c.frames[0]!.notes?.[0]).toMatch(new RegExp(`captured length 9999 exceeds the block at byte offset ${epb}`));
  });

  describe('damage', () => {
    const good = writePcapng([pkt(1, 0, 8), pkt(2, 0, 8), pkt(3, 0, 8)]);
    const second = good.length - 2 * 40;

    it.each([
      ['not a multiple of 4', 42, /invalid total length 42/],
      ['below 12', 8, /invalid total length 8/],
      ['over the limit', 0x7ffffff0, /invalid total length 2147483632/],
    ])('stops when the total length is %s', (_n, len, re) => {
      const f = good.slice();
      new DataView(f.buffer).setUint32(second + 4, len, true);
      const c = collect(f);
      expect(c.frames).toHaveLength(1);
      expect(c.warnings).toHaveLength(1);
      expect(c.warnings[0]).toMatch(new RegExp(`byte offset ${second}`));
      expect(c.warnings[0]).toMatch(re);
    });

    it('stops when the trailing length does not match', () => {
      const f = good.slice();
      new DataView(f.buffer).setUint32(second + 36, 44, true);
      const c = collect(f);
      expect(c.frames).toHaveLength(1);
      expect(c.warnings[0]).toMatch(new RegExp(`byte offset ${second}: total length 40 does not match the trailing copy 44`));
    });

    it('rejects a first SHB with a bad byte-order magic or version as not pcapng', () => {
      const f = good.slice();
      f[8] = 0x99;
      expect(collect(f).error).toBeInstanceOf(CaptureError);
      expect(collect(f).error!.message).toMatch(/^test\.pcap: not a valid pcapng file: .*bad byte-order magic/);
      const g = good.slice();
      new DataView(g.buffer).setUint16(12, 2, true);
      expect(collect(g).error!.message).toMatch(/unsupported version 2\.0/);
    });

    it('stops with a warning at a damaged later SHB', () => {
      const two = writePcapngSections([
        { blocks: [pkt(1, 0, 4)] },
        { endian: 'be', blocks: [pkt(2, 0, 4)] },
      ]);
      const shb2 = two.findIndex((b, i) => i > 0 && b === 0x0a && two[i + 1] === 0x0d && two[i + 2] === 0x0d && two[i + 3] === 0x0a);
      const f = two.slice();
      f[shb2 + 8] = 0;
      const c = collect(f);
      expect(c.error).toBeUndefined();
      expect(c.frames).toHaveLength(1);
      expect(c.warnings[0]).toMatch(new RegExp(`section header block at byte offset ${shb2} has a bad byte-order magic`));
    });

    it('warns about a bad if_tsresol and an option running past its IDB, then goes on', () => {
      const c = collect(writePcapngSections([{ interfaces: [{ linkType: 1, options: [{ code: 9, value: Uint8Array.of(0x80 | 64) }] }], blocks: [pkt(7, 5_000, 1)] }]));
      expect(c.warnings[0]).toMatch(/unusable if_tsresol 0xc0/);
      expect(c.frames[0]!.tsNsec).toBe(5_000);
      const f = writePcapngSections([{ interfaces: [{ linkType: 1, name: 'eth0' }], blocks: [pkt(7, 5_000, 1)] }]);
      // The IDB follows the 48-byte SHB; its first option header sits 16 bytes in.
      new DataView(f.buffer).setUint16(48 + 16 + 2, 200, true);
      const d = collect(f);
      expect(d.warnings[0]).toMatch(/option 2 at byte offset 64 runs past/);
      expect(d.frames).toHaveLength(1);
    });

    it('skips packet blocks too short to hold their header', () => {
      const c = collect(writePcapngSections([{ blocks: [{ type: 'raw', blockType: 6, body: new Uint8Array(8) }, pkt(1, 0, 1)] }]));
      expect(c.warnings[0]).toMatch(/packet block at byte offset \d+ is too short \(20 bytes\)/);
      expect(c.frames).toHaveLength(1);
      expect(c.frames[0]!.index).toBe(1);
    });
  });
});
