// The field tables: every bit of every header word is declared, a word decodes and encodes back
// bit for bit. (The data-plane JSON fast path, which spells the flag letters out, is held to the
// table-driven general path by test/output/json-fast.test.ts.)

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countsIn, decodeWord, encodeWord, type Word } from '../../src/dissect/field.js';
import * as tables from '../../src/dissect/fields.js';

const words: [string, Word<unknown>][] = [];
for (const [name, t] of Object.entries(tables)) {
  if (Array.isArray(t)) (t as Word<unknown>[]).forEach((w, i) => words.push([`${name}[${i}]`, w]));
  else if (typeof t === 'object' && t !== null && 'fields' in t) words.push([name, t as Word<unknown>]);
}

describe('field tables', () => {
  it('are found', () => {
    expect(words.map(([n]) => n)).toEqual(expect.arrayContaining(['MAP_REQUEST', 'MAP_REGISTER', 'ECM_HEADER', 'MAPPING_RECORD[1]', 'LOCATOR[1]', 'DATA_FLAGS']));
  });

  it.each(words)('%s declares every bit of its word once', (_, w) => {
    let all = 0;
    for (const f of w.fields) {
      expect(all & f.mask).toBe(0);
      all = (all | f.mask) >>> 0;
    }
    expect(all).toBe(w.bits === 32 ? 0xffffffff : (1 << w.bits) - 1);
  });

  it.each(words)('%s decodes and encodes any word back bit for bit', (_, w) => {
    const max = w.bits === 32 ? 0xffffffff : (1 << w.bits) - 1;
    fc.assert(
      fc.property(fc.integer({ min: 0, max }), (v) => {
        const m = decodeWord(w, v, {} as Record<string, unknown>);
        expect(encodeWord(w, m, countsIn(w, v))).toBe(v);
      }),
    );
  });

  it('flags with a JSON key, line word or tshark field have a letter', () => {
    for (const [, w] of words) {
      for (const f of w.fields) if ((f.kind === 'flag' || f.kind === 'option') && (f.line || f.tshark)) expect(f.letter, f.key).toBeDefined();
    }
  });
});
