import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NonceTable, nonceHash } from '../../src/flows/nonce-table.js';

/**
 * Nonces drawn from a few values so that operations hit the same keys: 0, small counters, values
 * differing in one half only (equal low or high 32 bits), and random 64-bit ones.
 */
const nonce = fc.oneof(
  fc.constantFrom(0n, 1n, 2n, 0xffffffffn, 0x100000000n, 0x1_00000001n, 0xffffffff_ffffffffn, 0xffffffff_00000000n),
  fc.bigInt({ min: 0n, max: 40n }),
  fc.bigInt({ min: 0n, max: 40n }).map((n) => n << 32n),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);
const op = fc.oneof(
  fc.record({ op: fc.constant('set' as const), nonce, value: fc.integer() }),
  fc.record({ op: fc.constant('delete' as const), nonce }),
  fc.record({ op: fc.constant('get' as const), nonce }),
);

describe('NonceTable', () => {
  it('answers as a Map<bigint> does over random sets, deletes and lookups, through growth', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 400 }), (ops) => {
        const t = new NonceTable<number>();
        const m = new Map<bigint, number>();
        for (const o of ops) {
          if (o.op === 'set') {
            t.set(o.nonce, o.value);
            m.set(o.nonce, o.value);
          } else if (o.op === 'delete') expect(t.delete(o.nonce)).toBe(m.delete(o.nonce));
          else {
            expect(t.get(o.nonce)).toBe(m.get(o.nonce));
            expect(t.has(o.nonce)).toBe(m.has(o.nonce));
          }
          expect(t.size).toBe(m.size);
        }
        for (const k of m.keys()) expect(t.get(k)).toBe(m.get(k));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every entry of a half-full smallest table, where probe runs wrap round its end', () => {
    // Eight keys at most in the first sixteen slots: dense, and a deletion often has to shift back
    // an entry whose run crossed the end of the table.
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(7), fc.nat(3), fc.boolean()), { minLength: 100, maxLength: 200 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (steps, base) => {
        const t = new NonceTable<number>();
        const m = new Map<bigint, number>();
        for (const [k, v, add] of steps) {
          const n = base ^ BigInt(k * 0x9e37 + 1);
          if (add) {
            t.set(n, v);
            m.set(n, v);
          } else expect(t.delete(n)).toBe(m.delete(n));
          for (const x of m.keys()) expect(t.get(x)).toBe(m.get(x));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every entry through long runs of colliding keys deleted out of order', () => {
    // Keys that differ in the high half only, many more than the first capacity: long probe runs,
    // each deletion shifting entries back across the table's end.
    const t = new NonceTable<string>();
    const m = new Map<bigint, string>();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(300), fc.boolean()), { minLength: 500, maxLength: 2000 }), (steps) => {
        for (const [k, add] of steps) {
          const n = BigInt(k) << 32n;
          if (add) {
            t.set(n, `v${k}`);
            m.set(n, `v${k}`);
          } else expect(t.delete(n)).toBe(m.delete(n));
        }
        expect(t.size).toBe(m.size);
        for (let k = 0; k <= 300; k++) expect(t.get(BigInt(k) << 32n)).toBe(m.get(BigInt(k) << 32n));
      }),
      { numRuns: 50 },
    );
  });
});

describe('nonceHash', () => {
  // Counter-like generators (the bench's flood: high half i, low half i times the golden ratio; OOR's
  // zero nonces with a counter in one half) must spread over the slots, or every lookup probes the
  // whole table: 4,096 such nonces over 8,192 slots fill thousands of them, not a handful.
  const families: [string, (i: number) => [number, number]][] = [
    ['low = i * golden ratio, high = i', (i) => [Math.imul(i, 0x9e3779b1) >>> 0, i]],
    ['low = i, high = i', (i) => [i, i]],
    ['low = i, high = 0', (i) => [i, 0]],
    ['low = 0, high = i', (i) => [0, i]],
    ['low = i << 16, high = i << 16', (i) => [(i << 16) >>> 0, (i << 16) >>> 0]],
  ];
  it.each(families)('spreads %s over the slots, whatever the seed', (_name, key) => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (seed) => {
        const used = new Set<number>();
        for (let i = 0; i < 4096; i++) used.add(nonceHash(...key(i), seed) & 8191);
        // A uniform hash fills about 8192 * (1 - e^-0.5) = 3,223 slots.
        expect(used.size).toBeGreaterThan(2800);
      }),
      { numRuns: 20 },
    );
  });
});
