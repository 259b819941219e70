import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LastSeen } from '../../src/flows/mappings.js';

type Op = { op: 'set' | 'note'; k: number | string; t: number; max: number };

describe('LastSeen', () => {
  it('keeps what a map in order of first sight keeps, through the first address, the scan and the index', () => {
    // Few keys, so that addresses repeat; up to 40 distinct ones, beyond the scan's 16.
    const key = fc.oneof(fc.integer({ min: -20, max: 20 }), fc.constantFrom('2001:db8::1', 'fe80::1'));
    const op = fc.record({ op: fc.constantFrom('set' as const, 'note' as const), k: key, t: fc.double({ noNaN: true }), max: fc.integer({ min: 0, max: 40 }) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops: Op[]) => {
        const seen = new LastSeen();
        const model = new Map<number | string, number>();
        for (const { op, k, t, max } of ops) {
          if (op === 'set') seen.set(k, t);
          else seen.note(k, t, max);
          if (op === 'set' || model.has(k) || model.size < max) model.set(k, t);
          expect(seen.size).toBe(model.size);
          expect(seen.has(k)).toBe(model.has(k));
          expect(seen.get(k)).toBe(model.get(k));
          expect(seen.get('absent')).toBeUndefined();
        }
        expect([...seen]).toEqual([...model]);
      }),
      { numRuns: 300 },
    );
  });
});
