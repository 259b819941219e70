import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExchangeSlots } from '../../src/flows/exchange-slots.js';

/** Nonces that differ in one half only, besides random ones: a compare of one half would pass them. */
const nonce = fc.oneof(
  fc.constantFrom(0n, 1n, 0xffffffffn, 0x100000000n, 0x1_00000001n, 0xffffffff_ffffffffn, 0xffffffff_00000000n),
  fc.bigInt({ min: 0n, max: 3n }).map((n) => n << 32n),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
);
const op = fc.oneof(
  fc.record({ op: fc.constant('take' as const), nonce }),
  fc.record({ op: fc.constant('release' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('ask' as const), pick: fc.nat(), nonce }),
);

describe('ExchangeSlots nonces', () => {
  it('keep each slot’s nonce through reuse and growth, and compare as === on the bigint does', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 300 }), fc.integer({ min: 0, max: 2000 }), (ops, prefill) => {
        const s = new ExchangeSlots();
        const held = new Map<number, bigint>();
        // Enough slots taken first that the ops run across a growth of the arrays (1024 at first).
        for (let i = 0; i < prefill; i++) held.set(s.take(i, i + 1, BigInt(i) << 32n), BigInt(i) << 32n);
        for (const o of ops) {
          const slots = [...held.keys()];
          if (o.op === 'take') held.set(s.take(0, 1, o.nonce), o.nonce);
          else if (slots.length === 0) continue;
          else if (o.op === 'release') {
            const slot = slots[o.pick % slots.length]!;
            s.release(slot);
            held.delete(slot);
          } else {
            const slot = slots[o.pick % slots.length]!;
            expect(s.startedWith(slot, o.nonce)).toBe(held.get(slot) === o.nonce);
            expect(s.startedWith(slot, held.get(slot)!)).toBe(true);
          }
        }
        for (const [slot, n] of held) expect(s.nonce(slot)).toBe(n);
      }),
      { numRuns: 200 },
    );
  });
});

describe('ExchangeSlots SMR fields', () => {
  it("keep each slot's SMR peer and EIDs through growth, and a slot taken again has none", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.array(fc.nat(), { maxLength: 50 }), (n, picks) => {
        const s = new ExchangeSlots();
        const eids = new Map<number, readonly string[]>();
        for (let i = 0; i < n; i++) {
          const slot = s.take(i, i + 1, BigInt(i));
          // Every third slot an SMR's.
          if (i % 3 === 0) {
            const list = [`10.${i >> 8}.${i & 255}.0/24`];
            s.smrPeer[slot] = `192.0.2.${i & 255}`;
            s.smrEids[slot] = list;
            eids.set(slot, list);
          }
        }
        expect(s.smrPeer.length).toBeGreaterThanOrEqual(n);
        for (let slot = 0; slot < n; slot++) {
          expect(s.smrEids[slot]).toBe(eids.get(slot));
          expect(s.smrPeer[slot]).toBe(eids.has(slot) ? `192.0.2.${slot & 255}` : undefined);
        }
        for (const p of picks) {
          const slot = p % n;
          s.release(slot);
          expect(s.take(0, 1, 0n)).toBe(slot);
          expect(s.smrPeer[slot]).toBeUndefined();
          expect(s.smrEids[slot]).toBeUndefined();
        }
      }),
      { numRuns: 100 },
    );
  });
});
