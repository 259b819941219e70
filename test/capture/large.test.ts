// Captures beyond 4 GiB: offsets, counts and warnings must not wrap at 2^32. The file is streamed,
// not stored: one chunk of whole records is pushed over and over.

import { describe, expect, it } from 'vitest';
import { CaptureParser } from '../../src/capture/reader.js';
import { writePcap, writePcapng } from '../../src/capture/writer.js';

const GIB4 = 2 ** 32;

function run(header: Uint8Array, chunk: Uint8Array, perChunk: number, tail: Uint8Array) {
  let frames = 0;
  let lastIndex = 0;
  const warnings: string[] = [];
  const p = new CaptureParser({ frame: (f) => void (frames++, (lastIndex = f.index)), warning: (w) => warnings.push(w) }, { name: 'big' });
  p.push(header);
  const repeats = Math.ceil((GIB4 + 64 * 1024 * 1024) / chunk.length);
  for (let i = 0; i < repeats; i++) p.push(chunk);
  p.push(tail);
  p.end();
  return { frames, lastIndex, warnings, expected: repeats * perChunk, tailAt: header.length + repeats * chunk.length };
}

describe('captures larger than 4 GiB', () => {
  it('pcap: every frame counted, the damage offset exact', () => {
    const rec = { tsSec: 1, tsNsec: 0, data: new Uint8Array(100) };
    const one = writePcap([rec]);
    const header = one.subarray(0, 24);
    const record = one.subarray(24);
    const perChunk = 9000;
    const chunk = new Uint8Array(record.length * perChunk);
    for (let i = 0; i < perChunk; i++) chunk.set(record, i * record.length);
    const r = run(header, chunk, perChunk, record.subarray(0, 50));
    expect(r.frames).toBe(r.expected);
    expect(r.lastIndex).toBe(r.expected);
    expect(r.tailAt).toBeGreaterThan(GIB4);
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toContain(`byte offset ${r.tailAt}`);
  }, 120_000);

  it('pcapng: the same', () => {
    const rec = { tsSec: 1, tsNsec: 0, data: new Uint8Array(100) };
    const none = writePcapng([]);
    const one = writePcapng([rec]);
    const header = one.subarray(0, none.length);
    const block = one.subarray(none.length);
    const perChunk = 8000;
    const chunk = new Uint8Array(block.length * perChunk);
    for (let i = 0; i < perChunk; i++) chunk.set(block, i * block.length);
    const r = run(header, chunk, perChunk, block.subarray(0, 40));
    expect(r.frames).toBe(r.expected);
    expect(r.tailAt).toBeGreaterThan(GIB4);
    expect(r.warnings[0]).toContain(`byte offset ${r.tailAt}`);
  }, 120_000);
});
