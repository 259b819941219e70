import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  openCaptureWriter,
  PcapFileWriter,
  PcapngFileWriter,
  writePcap,
  writePcapng,
  writePcapngSections,
  type CapturePacket,
} from '../../src/capture/writer.js';
import { collect, rng, randomBytes, summary } from './helpers.js';

const r = rng(6);
const PACKETS: CapturePacket[] = Array.from({ length: 3000 }, (_, i) => ({
  tsSec: 1_690_000_000 + i,
  tsNsec: i * 333_333,
  data: randomBytes(r, 300 + (i % 700)),
}));

let dir: string;
const path = (n: string): string => join(dir, n);
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lispscope-writer-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('streaming writers', () => {
  it('PcapFileWriter writes exactly what writePcap builds, across several flushes', () => {
    const opts = { endian: 'be' as const, precision: 'ns' as const, linkType: 101, snaplen: 900 };
    const w = new PcapFileWriter(path('s.pcap'), opts);
    for (const p of PACKETS) w.write(p);
    expect(w.packets).toBe(PACKETS.length);
    w.close();
    const file = readFileSync(path('s.pcap'));
    expect(file.length).toBeGreaterThan(1.5 * 1024 * 1024);
    expect(file.equals(writePcap(PACKETS, opts))).toBe(true);
  });

  it('PcapngFileWriter writes exactly what writePcapngSections builds', () => {
    const w = new PcapngFileWriter(path('s.pcapng'), { endian: 'be', interfaces: [{ linkType: 1, tsresol: 9 }] });
    const id = w.addInterface({ linkType: 113 });
    for (const p of PACKETS.slice(0, 1000)) w.write({ ...p, interfaceId: id });
    w.writeBlock({ type: 'isb', interfaceId: 0, tsSec: 1, tsNsec: 0 });
    w.newSection({ linkType: 229, tsresol: 0x80 | 30 });
    w.writeBlock({ type: 'spb', packet: PACKETS[0]! });
    for (const p of PACKETS.slice(1000)) w.write(p);
    expect(w.packets).toBe(PACKETS.length + 1);
    w.close();
    const expected = writePcapngSections([
      {
        endian: 'be',
        interfaces: [{ linkType: 1, tsresol: 9 }],
        blocks: [
          { type: 'idb', iface: { linkType: 113 } },
          ...PACKETS.slice(0, 1000).map((p) => ({ ...p, interfaceId: 1 })),
          { type: 'isb', interfaceId: 0, tsSec: 1, tsNsec: 0 },
        ],
      },
      { interfaces: [{ linkType: 229, tsresol: 0x80 | 30 }], blocks: [{ type: 'spb', packet: PACKETS[0]! }, ...PACKETS.slice(1000)] },
    ]);
    expect(readFileSync(path('s.pcapng')).equals(expected)).toBe(true);
    const c = collect(expected);
    expect(c.frames).toHaveLength(PACKETS.length + 1);
    expect(c.warnings).toEqual([]);
  });

  it('flush() makes what was written readable before close()', () => {
    const w = new PcapFileWriter(path('live.pcap'));
    w.write(PACKETS[0]!);
    expect(statSync(path('live.pcap')).size).toBe(0);
    w.flush();
    const now = readFileSync(path('live.pcap'));
    expect(collect(now).frames).toHaveLength(1);
    w.write(PACKETS[1]!);
    w.close();
    w.close(); // idempotent
    expect(collect(readFileSync(path('live.pcap'))).frames).toHaveLength(2);
    expect(() => w.write(PACKETS[2]!)).toThrow('capture writer is closed');
    expect(() => w.flush()).toThrow('capture writer is closed');
  });

  it('writes to an open file descriptor and leaves it open', () => {
    const fd = openSync(path('fd.pcapng'), 'w');
    const w = new PcapngFileWriter(fd);
    w.write(PACKETS[0]!);
    w.close();
    writeSync(fd, new Uint8Array(0));
    closeSync(fd);
    expect(readFileSync(path('fd.pcapng')).equals(writePcapng([PACKETS[0]!]))).toBe(true);
  });

  it('openCaptureWriter picks the format from the extension', () => {
    for (const [name, format] of [
      ['a.pcapng', 'pcapng'],
      ['B.PCAPNG', 'pcapng'],
      ['c.pcap', 'pcap'],
      ['d.cap', 'pcap'],
    ] as const) {
      const w = openCaptureWriter(path(name), { linkType: 113 });
      w.write(PACKETS[0]!);
      w.close();
      const c = collect(readFileSync(path(name)));
      expect([name, c.format, c.frames[0]!.linkType, c.frames[0]!.tsNsec]).toEqual([name, format, 113, Math.floor(PACKETS[0]!.tsNsec / 1000) * 1000]);
    }
    // pcap default: µs little-endian.
    expect(Array.from(readFileSync(path('c.pcap')).subarray(0, 4))).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
  });

  it('reports unusable input as RangeError', () => {
    expect(() => writePcap([{ tsSec: 1, tsNsec: 1e9, data: new Uint8Array(1) }])).toThrow(RangeError);
    expect(() => writePcap([{ tsSec: 1.5, tsNsec: 0, data: new Uint8Array(1) }])).toThrow(RangeError);
    expect(() => writePcap([], { fcsLen: 3 })).toThrow(RangeError);
    expect(() => writePcapng([{ tsSec: 1e12, tsNsec: 0, data: new Uint8Array(1) }], { tsresol: 9 })).toThrow(RangeError);
    expect(() => writePcapng([{ tsSec: 5, tsNsec: 0, data: new Uint8Array(1) }], { tsoffset: 10 })).toThrow(RangeError);
    expect(() => writePcapngSections([{ interfaces: [], blocks: [{ type: 'spb', packet: PACKETS[0]! }] }])).toThrow(RangeError);
    expect(() => writePcapngSections([{ blocks: [{ type: 'nrb', records: [{ ip: 'nope', names: [] }] }] }])).toThrow(RangeError);
  });

  it('in-memory and streaming output agree for every pcap variant', () => {
    for (const opts of [{}, { endian: 'be' as const }, { modified: true }, { precision: 'ns' as const, fcsLen: 4 }]) {
      const w = new PcapFileWriter(path('v.pcap'), opts);
      PACKETS.slice(0, 10).forEach((p) => w.write(p));
      w.close();
      const mem = writePcap(PACKETS.slice(0, 10), opts);
      expect(readFileSync(path('v.pcap')).equals(mem)).toBe(true);
      expect(summary(collect(mem).frames)).toHaveLength(10);
    }
  });
});
