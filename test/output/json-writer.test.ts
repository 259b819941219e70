import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonWriter, ObjectWriter } from '../../src/output/json-writer.js';
import { OutBuffer } from '../../src/output/out-buffer.js';
import { tsText } from '../../src/output/time.js';

function written(sec: number, nsec: number): string {
  const chunks: Uint8Array[] = [];
  const out = new OutBuffer((b) => {
    chunks.push(b.slice());
    return true;
  }, 256);
  new JsonWriter(out).arr().time(sec, nsec).time(sec, nsec).endArr();
  out.flush();
  return Buffer.concat(chunks).toString('latin1');
}

describe('JsonWriter.time', () => {
  it('writes the text tsText makes, microseconds rounded and carried, trailing zeros dropped', () => {
    expect(written(1764000000, 37_000)).toBe('[1764000000.000037,1764000000.000037]');
    expect(written(1, 999_999_600)).toBe('[2,2]');
    expect(written(0, 120_000_000)).toBe('[0.12,0.12]');
    expect(written(2 ** 32 + 5, 1000)).toBe(`[${2 ** 32 + 5}.000001,${2 ** 32 + 5}.000001]`);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 33 }), fc.integer({ min: 0, max: 999_999_999 }), (sec, nsec) => {
        const t = tsText(sec, nsec);
        expect(written(sec, nsec)).toBe(`[${t},${t}]`);
        const o = new ObjectWriter();
        o.time(sec, nsec);
        expect(o.result).toBe(JSON.parse(t));
      }),
    );
  });
});
