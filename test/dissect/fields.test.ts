// The field tables: every bit of every header word is declared, a word decodes and encodes back
// bit for bit; the data fast paths' straight-line reads agree with the table. (The data-plane line
// and JSON fast paths as a whole are held to the table-driven general path by
// test/output/line-fast.test.ts and json-fast.test.ts.)

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DATA_FLAG_LETTERS, DataField, dataDstMapVersion, dataFlagLetters, dataIid, dataLsb8, dataSrcMapVersion } from '../../src/dissect/data.js';
import { countsIn, decodeWord, encodeWord, fieldValue, type Word } from '../../src/dissect/field.js';
import * as tables from '../../src/dissect/fields.js';
import type { DataHeader } from '../../src/dissect/types.js';

const words: [string, Word<unknown>][] = [];
for (const [name, t] of Object.entries(tables)) {
  if (Array.isArray(t)) (t as Word<unknown>[]).forEach((w, i) => words.push([`${name}[${i}]`, w]));
  else if (typeof t === 'object' && t !== null && 'fields' in t) words.push([name, t as Word<unknown>]);
}

describe('field tables', () => {
  it('are found', () => {
    expect(words.map(([n]) => n)).toEqual(expect.arrayContaining([
        'MAP_REQUEST', 'MAP_REGISTER', 'ECM_HEADER', 'MAPPING_RECORD[1]', 'LOCATOR[1]', 'DATA_FLAGS',
        'AD_HEADER[0]', 'OTK_AD[0]', 'EID_AD[0]', 'EID_AD_HMAC[0]', 'PKT_AD[0]',
        'VXLAN_FLAGS', 'VXLAN_HEADER[2]', 'RELIABLE_HEADER[0]', 'RELIABLE_HEADER[2]', 'RELIABLE_TRAILER[0]',
      ]));
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

describe('the data fast paths’ reads (dissect/data.ts)', () => {
  it('agree with the field table on every word', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (w) => {
        expect(dataIid(w)).toBe(fieldValue(DataField.iid, w));
        expect(dataLsb8(w)).toBe(fieldValue(DataField.lsb8, w));
        const w1 = w & 0xffffff;
        expect(dataSrcMapVersion(w1)).toBe(fieldValue(DataField.srcMapVersion, w1));
        expect(dataDstMapVersion(w1)).toBe(fieldValue(DataField.dstMapVersion, w1));
      }),
    );
  });

  it('spell the flag letters as the table does, and the letters are the top five bits', () => {
    for (let flags = 0; flags < 256; flags++) {
      expect(DATA_FLAG_LETTERS[flags >> 3]).toBe(dataFlagLetters({ flags } as DataHeader));
    }
  });
});
