import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { readCapture, type ReadCaptureOptions } from '../../src/capture/source.js';
import { CaptureError, type Frame } from '../../src/capture/types.js';
import { writePcap, writePcapng, type CapturePacket } from '../../src/capture/writer.js';
import { copyFrame, rng, randomBytes, summary } from './helpers.js';

const r = rng(4);
const PACKETS: CapturePacket[] = Array.from({ length: 3000 }, (_, i) => ({
  tsSec: 1_650_000_000 + i,
  tsNsec: (i * 7_919) % 1_000_000 * 1000,
  data: randomBytes(r, 40 + (i % 300)),
}));
const PCAP = writePcap(PACKETS);
const PCAPNG = writePcapng(PACKETS, { endian: 'be' });

let dir: string;
const path = (name: string): string => join(dir, name);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lispscope-source-'));
  writeFileSync(path('a.pcap'), PCAP);
  writeFileSync(path('a.pcapng'), PCAPNG);
  writeFileSync(path('a.pcap.gz'), gzipSync(PCAP));
  writeFileSync(path('empty.pcap'), new Uint8Array(0));
  writeFileSync(path('text.pcap'), 'hello world, not a capture\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function read(p: string, opts: ReadCaptureOptions & { stopAfter?: number } = {}) {
  const frames: Frame[] = [];
  const warnings: string[] = [];
  const result = await readCapture(
    p,
    {
      frame(f) {
        frames.push(copyFrame(f));
        return opts.stopAfter === undefined || frames.length < opts.stopAfter;
      },
      warning(m) {
        warnings.push(m);
      },
    },
    opts,
  );
  return { result, frames, warnings };
}

const expected = summary(PACKETS.map((p, i) => ({
  index: i + 1,
  tsSec: p.tsSec,
  tsNsec: p.tsNsec,
  linkType: 1,
  len: p.data.length,
  data: p.data,
  interfaceId: 0,
})));

describe('readCapture', () => {
  it('reads pcap and pcapng files, in any chunk size', async () => {
    for (const [file, format] of [
      ['a.pcap', 'pcap'],
      ['a.pcapng', 'pcapng'],
    ] as const) {
      for (const chunkSize of [undefined, 1000, 4093]) {
        const { result, frames, warnings } = await read(path(file), chunkSize ? { chunkSize } : {});
        expect(result.format).toBe(format);
        expect(result.frames).toBe(PACKETS.length);
        expect(result.bytes).toBe(format === 'pcap' ? PCAP.length : PCAPNG.length);
        expect(warnings).toEqual([]);
        expect(summary(frames)).toEqual(expected);
      }
    }
  });

  it('reads with tiny chunks', async () => {
    writeFileSync(path('small.pcapng'), writePcapng(PACKETS.slice(0, 20)));
    const { result, frames } = await read(path('small.pcapng'), { chunkSize: 7 });
    expect(result.frames).toBe(20);
    expect(summary(frames)).toEqual(expected.slice(0, 20));
  });

  it('gunzips transparently', async () => {
    const { result, frames, warnings } = await read(path('a.pcap.gz'));
    expect(result).toEqual({ format: 'pcap', frames: PACKETS.length, bytes: PCAP.length });
    expect(warnings).toEqual([]);
    expect(summary(frames)).toEqual(expected);
  });

  it('keeps the frames of a cut-short gzip stream and says how far it got', async () => {
    const gz = gzipSync(PCAP);
    for (const keep of [0.3, 0.9, 0.999]) {
      const cut = Math.floor(gz.length * keep);
      writeFileSync(path('cut.pcap.gz'), gz.subarray(0, cut));
      const { result, frames, warnings } = await read(path('cut.pcap.gz'), { chunkSize: 4096 });
      expect(frames.length).toBeGreaterThan(0);
      expect(frames.length).toBeLessThan(PACKETS.length);
      expect(summary(frames)).toEqual(expected.slice(0, frames.length));
      expect(warnings[0]).toBe(
        `${path('cut.pcap.gz')}: gzip stream is cut short or corrupt after ${cut} compressed bytes` +
          ` (${result.bytes} bytes decompressed): unexpected end of file`,
      );
      // The decompressed data usually ends inside a record too.
      expect(warnings.length).toBeLessThanOrEqual(2);
      if (warnings[1]) expect(warnings[1]).toMatch(/truncated: capture ends inside a record at byte offset \d+/);
    }
  });

  it('rejects gzip data damaged before any capture byte', async () => {
    writeFileSync(path('bad.gz'), Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff));
    await expect(read(path('bad.gz'))).rejects.toThrow(CaptureError);
    await expect(read(path('bad.gz'))).rejects.toThrow(/bad\.gz: damaged gzip data before any capture bytes/);
  });

  it('reports a gzip file that does not hold a capture as not a capture', async () => {
    writeFileSync(path('text.gz'), gzipSync(new TextEncoder().encode('not a capture at all')));
    await expect(read(path('text.gz'))).rejects.toThrow(`${path('text.gz')}: not a capture file: expected pcap (magic a1b2c3d4 or a1b23c4d, either byte order) or pcapng (0a0d0d0a), found neither in its first 4 bytes`);
  });

  it('turns file problems into one-line CaptureErrors', async () => {
    await expect(read(path('missing.pcap'))).rejects.toThrow(new CaptureError(`${path('missing.pcap')}: no such file`));
    await expect(read(dir)).rejects.toThrow(new CaptureError(`${dir}: is a directory`));
    await expect(read(path('empty.pcap'))).rejects.toThrow(new CaptureError(`${path('empty.pcap')}: empty file`));
    await expect(read(path('text.pcap'))).rejects.toThrow(
      new CaptureError(`${path('text.pcap')}: not a capture file: expected pcap (magic a1b2c3d4 or a1b23c4d, either byte order) or pcapng (0a0d0d0a), found neither in its first 4 bytes`),
    );
  });

  it('reports permission denied', async () => {
    const p = path('secret.pcap');
    writeFileSync(p, PCAP);
    chmodSync(p, 0o000);
    // root ignores file modes, so read as "nobody" when we are root.
    const asRoot = process.geteuid?.() === 0;
    if (asRoot) process.seteuid!(65534);
    try {
      await expect(read(p)).rejects.toThrow(new CaptureError(`${p}: permission denied`));
    } finally {
      if (asRoot) process.seteuid!(0);
    }
  });

  it('stops reading early when the sink says stop', async () => {
    const big = path('big.pcap');
    const file = writePcap(Array.from({ length: 20_000 }, (_, i) => ({ tsSec: i, tsNsec: 0, data: new Uint8Array(500) })));
    writeFileSync(big, file);
    const { result, frames } = await read(big, { stopAfter: 5, chunkSize: 64 * 1024 });
    expect(frames).toHaveLength(5);
    expect(result.frames).toBe(5);
    expect(result.bytes).toBeLessThanOrEqual(64 * 1024);
    // Same through gzip.
    writeFileSync(path('big.pcap.gz'), gzipSync(file));
    const z = await read(path('big.pcap.gz'), { stopAfter: 5 });
    expect(z.frames).toHaveLength(5);
    expect(z.result.bytes).toBeLessThan(file.length);
  });

  it('reports a truncated file with the offset of the damaged record', async () => {
    writeFileSync(path('trunc.pcap'), PCAP.subarray(0, PCAP.length - 10));
    const { frames, warnings } = await read(path('trunc.pcap'), { chunkSize: 5000 });
    expect(frames).toHaveLength(PACKETS.length - 1);
    const lastStart = PCAP.length - 16 - PACKETS[PACKETS.length - 1]!.data.length;
    expect(warnings).toEqual([
      `${path('trunc.pcap')}: truncated: capture ends inside a record at byte offset ${lastStart} (${16 + PACKETS.at(-1)!.data.length - 10} of ${16 + PACKETS.at(-1)!.data.length} bytes present)`,
    ]);
  });
});

describe('readCapture from stdin', () => {
  it('reads a Readable given as stdin, plain and gzipped', async () => {
    const chunks = (b: Uint8Array): Uint8Array[] => Array.from({ length: Math.ceil(b.length / 999) }, (_, i) => b.subarray(i * 999, (i + 1) * 999));
    const plain = await read('-', { stdin: Readable.from(chunks(PCAPNG)) });
    // A pcapng file can say what its capture lost (no Interface Statistics Block here: nothing).
    expect(plain.result).toEqual({ format: 'pcapng', frames: PACKETS.length, bytes: PCAPNG.length, drops: 0 });
    expect(summary(plain.frames)).toEqual(expected);
    const gz = await read('-', { stdin: Readable.from(chunks(gzipSync(PCAP))) });
    expect(gz.result.frames).toBe(PACKETS.length);
    expect(gz.warnings).toEqual([]);
  });

  it('reads a real pipe from a child process and names it stdin in messages', async () => {
    const child = spawn('cat', [path('a.pcap.gz')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const { result } = await read('-', { stdin: child.stdout });
    expect(result.frames).toBe(PACKETS.length);
    const empty = spawn('true', [], { stdio: ['ignore', 'pipe', 'inherit'] });
    await expect(read('-', { stdin: empty.stdout })).rejects.toThrow(new CaptureError('stdin: empty file'));
  });
});
