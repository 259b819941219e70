import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CaptureParser } from '../../src/capture/reader.js';
import { CaptureError } from '../../src/capture/types.js';
import { writePcap, writePcapngSections, type CapturePacket, type PcapngSection } from '../../src/capture/writer.js';
import { collect, rng, randomBytes, summary } from './helpers.js';

const r = rng(3);
const packets = (n: number, base = 1_600_000_000): CapturePacket[] =>
  Array.from({ length: n }, (_, i) => ({ tsSec: base + i, tsNsec: i * 1_001_001, data: randomBytes(r, 1 + ((i * 37) % 90)) }));

const PCAP_FILES: Record<string, Uint8Array> = {
  'pcap µs le': writePcap(packets(6)),
  'pcap ns be': writePcap(packets(6), { endian: 'be', precision: 'ns' }),
  'pcap modified': writePcap(packets(4), { modified: true }),
};

const SECTIONS: PcapngSection[] = [
  {
    interfaces: [{ linkType: 1, tsresol: 9 }, { linkType: 113 }],
    blocks: [
      { type: 'nrb', records: [{ ip: '10.0.0.1', names: ['x'] }] },
      ...packets(3).map((p, i) => ({ ...p, interfaceId: i % 2 })),
      { type: 'spb', packet: packets(1)[0]! },
      { type: 'custom', pen: 1, data: Uint8Array.of(1, 2, 3, 4, 5) },
    ],
  },
  {
    endian: 'be',
    interfaces: [{ linkType: 101, tsresol: 0x80 | 30 }],
    blocks: [{ type: 'pb', packet: packets(1)[0]! }, ...packets(2)],
  },
];
const PCAPNG = writePcapngSections(SECTIONS);
const ALL: Record<string, Uint8Array> = { ...PCAP_FILES, pcapng: PCAPNG };

/** Start offsets of every unit (file header, record, block) and the end, found by walking the file. */
function units(file: Uint8Array): { start: number; end: number; packet: boolean }[] {
  const out: { start: number; end: number; packet: boolean }[] = [];
  const dv = new DataView(file.buffer, file.byteOffset);
  if (file[0] === 0x0a) {
    let le = true;
    for (let o = 0; o < file.length; ) {
      if (dv.getUint32(o, true) === 0x0a0d0d0a) le = dv.getUint32(o + 8, true) === 0x1a2b3c4d;
      const type = dv.getUint32(o, le);
      const total = dv.getUint32(o + 4, le);
      out.push({ start: o, end: o + total, packet: type === 2 || type === 3 || type === 6 });
      o += total;
    }
    return out;
  }
  const le = file[0] === 0xd4 || file[0] === 0x4d || file[0] === 0x34;
  const hl = file[0] === 0x34 || file[3] === 0x34 ? 24 : 16;
  out.push({ start: 0, end: 24, packet: false });
  for (let o = 24; o < file.length; ) {
    const end = o + hl + dv.getUint32(o + 8, le);
    out.push({ start: o, end, packet: true });
    o = end;
  }
  return out;
}

describe('format detection', () => {
  it('throws CaptureError for an empty file', () => {
    const c = collect(new Uint8Array(0));
    expect(c.error).toBeInstanceOf(CaptureError);
    expect(c.error!.message).toBe('test.pcap: empty file');
  });

  it('throws a one-line CaptureError naming the expected formats, not the bytes found', () => {
    const c = collect(new TextEncoder().encode('GET / HTTP/1.1\r\n'));
    expect(c.error).toBeInstanceOf(CaptureError);
    expect(c.error!.message).toBe('test.pcap: not a capture file: expected pcap (magic a1b2c3d4 or a1b23c4d, either byte order) or pcapng (0a0d0d0a), found neither in its first 4 bytes');
    expect(collect(Uint8Array.of(0x1f, 0x8b, 8, 0)).error!.message).toBe('test.pcap: gzip-compressed data (decompress it first)');
  });

  it('decides after 8 bytes (or at the end), whatever the chunking', () => {
    const p = new CaptureParser({ frame: () => true, warning: () => {} }, { name: 'x' });
    p.push(Uint8Array.of(0x00, 1, 2));
    expect(p.stopped).toBe(false);
    expect(() => p.push(Uint8Array.of(3, 4, 5, 6, 7, 8, 9))).toThrow('x: not a capture file: expected pcap (magic a1b2c3d4 or a1b23c4d, either byte order) or pcapng (0a0d0d0a), found neither in its first 4 bytes');
    expect(p.stopped).toBe(true);
    expect(p.format).toBeUndefined();
    const q = new CaptureParser({ frame: () => true, warning: () => {} }, { name: 'y' });
    q.push(Uint8Array.of(0x47, 0x45));
    expect(() => q.end()).toThrow('y: not a capture file: expected pcap (magic a1b2c3d4 or a1b23c4d, either byte order) or pcapng (0a0d0d0a), found neither in its first 4 bytes');
    const w = new CaptureParser({ frame: () => true, warning: () => {} });
    w.push(Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0));
    expect(w.format).toBeUndefined();
    w.push(Uint8Array.of(4, 0));
    expect(w.format).toBe('pcap');
  });

  it('reports format, frames and bytes', () => {
    const p = new CaptureParser({ frame: () => true, warning: () => {} });
    p.push(PCAPNG);
    p.end();
    expect([p.format, p.frames, p.bytes, p.stopped]).toEqual(['pcapng', 7, PCAPNG.length, false]);
  });
});

describe('chunk boundaries', () => {
  for (const [name, file] of Object.entries(ALL)) {
    it(`${name}: one byte at a time gives the same frames`, () => {
      const whole = collect(file);
      expect(whole.error).toBeUndefined();
      expect(whole.warnings).toEqual([]);
      const bytewise = collect(file, () => 1);
      expect(summary(bytewise.frames)).toEqual(summary(whole.frames));
      expect(bytewise.warnings).toEqual([]);
    });

    it(`${name}: random chunk sizes give the same frames`, () => {
      const whole = summary(collect(file).frames);
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 30 }), (sizes) => {
          let i = 0;
          const c = collect(file, () => sizes[i++ % sizes.length]!);
          expect(c.warnings).toEqual([]);
          expect(summary(c.frames)).toEqual(whole);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('frames of all pcapng kinds are counted across sections', () => {
    const c = collect(PCAPNG);
    expect(c.frames.map((f) => [f.index, f.linkType, f.interfaceId])).toEqual([
      [1, 1, 0],
      [2, 113, 1],
      [3, 1, 0],
      [4, 1, 0],
      // The custom block closing section 1 is numbered too (as tshark does).
      [6, 101, 0],
      [7, 101, 0],
      [8, 101, 0],
    ]);
  });
});

describe('truncated files', () => {
  for (const [name, file] of Object.entries(ALL)) {
    it(`${name}: cut at every offset keeps earlier frames and names the damaged record (a cut header is an error)`, () => {
      const us = units(file);
      const full = summary(collect(file).frames);
      for (let cut = 1; cut < file.length; cut++) {
        for (const chunker of [undefined, () => 7]) {
          const c = collect(file.subarray(0, cut), chunker);
          const damaged = us.find((u) => u.start < cut && u.end > cut);
          if (damaged?.start === 0) {
            // Not even the file header (or first section header) is whole: that is no capture at all.
            expect(c.error?.message).toMatch(/^test\.pcap: truncated: the file ends inside its [a-z ]+ \(\d+( of \d+)? bytes\): no capture to read$/);
            continue;
          }
          expect(c.error).toBeUndefined();
          const complete = us.filter((u) => u.packet && u.end <= cut).length;
          expect(summary(c.frames)).toEqual(full.slice(0, complete));
          if (!damaged) {
            expect(c.warnings).toEqual([]);
          } else {
            expect(c.warnings).toHaveLength(1);
            expect(c.warnings[0]).toMatch(
              new RegExp(`^test\\.pcap: truncated: capture ends inside (a|the) [a-z ]+ at byte offset ${damaged.start}\\b`),
            );
          }
        }
      }
    });
  }
});

describe('stopping', () => {
  it('sink.frame returning false stops everything, including later warnings', () => {
    for (const file of Object.values(ALL)) {
      const cut = file.subarray(0, file.length - 1);
      const c = collect(cut, undefined, { stopAfter: 2 });
      expect(c.frames).toHaveLength(2);
      expect(c.warnings).toEqual([]);
      const d = collect(cut, () => 3, { stopAfter: 2 });
      expect(d.frames).toHaveLength(2);
      expect(d.warnings).toEqual([]);
    }
  });

  it('ignores pushes after stop and after end', () => {
    let n = 0;
    const p = new CaptureParser({ frame: () => (++n, false), warning: () => {} });
    p.push(PCAP_FILES['pcap µs le']!);
    expect(p.stopped).toBe(true);
    p.push(PCAP_FILES['pcap µs le']!);
    p.end();
    expect(n).toBe(1);
  });

  it('does not keep the whole file: the internal buffer only ever holds one record', () => {
    const big = writePcap(Array.from({ length: 2000 }, (_, i) => ({ tsSec: i, tsNsec: 0, data: new Uint8Array(1000) })));
    const p = new CaptureParser({ frame: () => true, warning: () => {} });
    let maxStash = 0;
    for (let o = 0; o < big.length; o += 4093) {
      p.push(big.subarray(o, o + 4093));
      maxStash = Math.max(maxStash, (p as unknown as { stash: Uint8Array }).stash.length);
    }
    p.end();
    expect(p.frames).toBe(2000);
    expect(maxStash).toBeLessThanOrEqual(2 * 1016);
  });
});

describe('robustness (properties)', () => {
  const MAGICS = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
    [0x34, 0xcd, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xcd, 0x34],
    [0x0a, 0x0d, 0x0d, 0x0a],
  ];

  function check(bytes: Uint8Array, sizes: number[]): void {
    let i = 0;
    const whole = collect(bytes);
    const chunked = collect(bytes, () => sizes[i++ % sizes.length]!);
    for (const c of [whole, chunked]) {
      if (c.error) {
        expect(c.error).toBeInstanceOf(CaptureError);
        expect(c.frames).toEqual([]);
        expect(c.error.message).not.toContain('\n');
      }
    }
    // Chunking never changes the outcome, even for damaged input.
    expect(summary(chunked.frames)).toEqual(summary(whole.frames));
    expect(chunked.warnings).toEqual(whole.warnings);
    expect(chunked.error?.message).toEqual(whole.error?.message);
  }

  it('random bytes (with and without a valid magic) only ever raise CaptureError up front', () => {
    fc.assert(
      fc.property(
        fc.option(fc.constantFrom(...MAGICS), { nil: undefined }),
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        (magic, tail, sizes) => {
          check(Uint8Array.from([...(magic ?? []), ...tail]), sizes);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('mutated valid files never throw after the start and parse the same in any chunking', () => {
    const files = Object.values(ALL);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: files.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 8 }),
        (fi, edits, cut, sizes) => {
          const f = files[fi]!.slice();
          for (const [pos, v] of edits) f[pos % f.length] = v;
          check(cut === undefined ? f : f.subarray(0, cut % (f.length + 1)), sizes);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('a length field pointing far ahead does not make the parser allocate for it', () => {
    const f = writePcapngSections([{ blocks: [{ tsSec: 1, tsNsec: 0, data: new Uint8Array(4) }] }]);
    const g = f.slice();
    const epb = g.length - 36;
    new DataView(g.buffer).setUint32(epb + 4, 0x0ffffff0, true);
    const warnings: string[] = [];
    const p = new CaptureParser({ frame: () => true, warning: (m) => warnings.push(m) });
    p.push(g);
    p.push(new Uint8Array(100_000));
    expect((p as unknown as { stash: Uint8Array }).stash.length).toBeLessThan(300_000);
    p.end();
    expect(p.frames).toBe(0);
    expect(warnings).toEqual([
      `capture: truncated: capture ends inside a block at byte offset ${epb} (${g.length - epb + 100_000} of 268435440 bytes present)`,
    ]);
  });
});
