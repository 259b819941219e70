import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LispAddress, Locator } from '../../src/dissect/types.js';
import { locatorSet } from '../../src/flows/view.js';

const locator = (rloc: LispAddress): Locator => ({ priority: 1, weight: 100, mpriority: 255, mweight: 0, local: false, probed: false, reachable: true, rloc });

const address: fc.Arbitrary<Extract<LispAddress, { kind: 'ipv4' | 'ipv6' }>> = fc.oneof(
  fc.ipV4().map((addr) => ({ kind: 'ipv4' as const, afi: 1 as const, addr })),
  fc.ipV6().map((addr) => ({ kind: 'ipv6' as const, afi: 2 as const, addr })),
);

describe('locatorSet', () => {
  it('lists the locators in the order of Array.prototype.sort, whatever their number', () => {
    fc.assert(
      fc.property(fc.array(address, { maxLength: 5 }), (rlocs) => {
        expect(locatorSet(rlocs.map(locator))).toEqual(rlocs.map((a) => a.addr).sort());
      }),
      { numRuns: 500 },
    );
  });

  it('puts two locators in order', () => {
    const a: LispAddress = { kind: 'ipv4', afi: 1, addr: '198.51.100.9' };
    const b: LispAddress = { kind: 'ipv4', afi: 1, addr: '192.0.2.200' };
    expect(locatorSet([locator(a), locator(b)])).toEqual(['192.0.2.200', '198.51.100.9']);
    expect(locatorSet([locator(b), locator(a)])).toEqual(['192.0.2.200', '198.51.100.9']);
  });
});
