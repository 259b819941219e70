// The index gives back every frame as the capture reader delivers it (number, time, link type,
// lengths, bytes): the columns it leaves implied (wire length, link type, frame number) must come
// back right where a capture does not imply them (pcapng interfaces of several link types, blocks
// that are not packets, frames cut by the snap length).

import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/capture/source.js';
import type { Frame } from '../../src/capture/types.js';
import { writePcapng } from '../../src/capture/writer.js';
import { FileIndex } from '../../src/tui/file-index.js';
import { NumberColumn } from '../../src/tui/number-column.js';
import { PCAPS, SHARED } from '../cli/run.js';

const tmp = mkdtempSync(join(tmpdir(), 'lispscope-tui-index-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function frames(file: string): Promise<Frame[]> {
  const out: Frame[] = [];
  await readCapture(file, { frame: (f) => (out.push({ ...f, data: f.data.slice() }), true), warning: () => undefined }).catch(() => undefined);
  return out;
}

async function same(file: string): Promise<number> {
  const want = await frames(file);
  const ix = new FileIndex(file);
  await ix.build(() => undefined).catch(() => undefined);
  try {
    expect(ix.count).toBe(want.length);
    want.forEach((w, i) => {
      const got = ix.frame(i)!;
      const pick = (f: Frame) => ({ i, index: f.index, tsSec: f.tsSec, tsNsec: f.tsNsec, linkType: f.linkType, len: f.len, data: Buffer.from(f.data).toString('hex') });
      expect(pick(got)).toEqual(pick(w));
      expect(ix.frameNumber(i)).toBe(w.index);
      expect(ix.entryOf(w.index)).toBe(i);
    });
    return want.length;
  } finally {
    ix.close();
  }
}

describe('the capture index', () => {
  it('gives back every frame of the sample captures as the reader delivers it', async () => {
    const dirs = [PCAPS, ...(existsSync(SHARED) ? [SHARED] : [])];
    let n = 0;
    for (const dir of dirs) for (const f of readdirSync(dir).filter((x) => /\.(pcap|pcapng)(\.gz)?$/.test(x))) n += await same(join(dir, f));
    expect(n).toBeGreaterThan(1000);
  }, 60_000);

  it('keeps the columns a capture does not imply: link types that change, cut frames, numbers past blocks that are not packets', async () => {
    const file = join(tmp, 'mixed.pcapng');
    const eth = new Uint8Array(60).fill(7);
    const raw = Uint8Array.of(0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2);
    const packets = [
      { tsSec: 1, tsNsec: 0, data: eth },
      { tsSec: 2, tsNsec: 5, data: eth, len: 1500 },
      { tsSec: 3, tsNsec: 0, data: raw, interfaceId: 1 },
      { tsSec: 4, tsNsec: 0, data: eth },
    ];
    writeFileSync(file, writePcapng(packets, { interfaces: [{ linkType: 1 }, { linkType: 101 }] }));
    expect(await same(file)).toBe(4);
    const ix = new FileIndex(file);
    await ix.build(() => undefined);
    expect([0, 1, 2, 3].map((i) => [ix.frame(i)!.linkType, ix.frame(i)!.len])).toEqual([
      [1, 60],
      [1, 1500],
      [101, 20],
      [1, 60],
    ]);
    ix.close();
  });
});

describe('the index columns (NumberColumn)', () => {
  it('give back every number set, whatever its size, across growth and widening', () => {
    const value = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      fc.integer({ min: 2 ** 32, max: Number.MAX_SAFE_INTEGER }),
      fc.double({ noNaN: true }),
      fc.constantFrom(0, -0, 2 ** 32 - 1, 2 ** 32, 2 ** 48 - 1, 2 ** 48, -1, 0.5),
    );
    fc.assert(
      fc.property(fc.array(value, { maxLength: 300 }), fc.integer({ min: 1, max: 64 }), (values, step) => {
        const c = new NumberColumn();
        values.forEach((v, i) => {
          if (i === c.capacity) c.grow(c.capacity + step, i);
          c.set(i, v, i);
        });
        c.grow(values.length, values.length);
        expect(values.map((_, i) => c.get(i))).toEqual(values);
      }),
    );
  });
});
