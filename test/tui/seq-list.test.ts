// The filter's match list over chunks holds what one array would, through pushes and drops from
// the front across chunk boundaries.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeqList } from '../../src/tui/seq-list.js';

describe('SeqList', () => {
  it('holds what an array pushed to and shifted from holds', () => {
    // Runs long enough to cross many 8192-entry chunks.
    const op = fc.oneof({ weight: 3, arbitrary: fc.record({ push: fc.integer({ min: 1, max: 20_000 }) }) }, { weight: 1, arbitrary: fc.record({ drop: fc.nat(30_000) }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), fc.float({ min: 0, max: 2 ** 40, noNaN: true }), (ops, start) => {
        const list = new SeqList();
        const model: number[] = [];
        let next = Math.floor(start);
        for (const o of ops) {
          if ('push' in o) {
            for (let i = 0; i < o.push; i++) {
              list.push(next);
              model.push(next++);
            }
          } else {
            const k = Math.min(o.drop, model.length);
            list.dropFront(k);
            model.splice(0, k);
          }
          expect(list.length).toBe(model.length);
          for (const i of [0, 1, model.length >> 1, model.length - 2, model.length - 1]) if (i >= 0 && i < model.length) expect(list.get(i)).toBe(model[i]);
        }
        for (let i = 0; i < model.length; i += 97) expect(list.get(i)).toBe(model[i]);
      }),
      { numRuns: 200 },
    );
  });
});
