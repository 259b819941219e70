import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIPv4, formatIPv6, formatMac } from '../../src/dissect/addr.js';
import { prefixText, type Prefix } from '../../src/dissect/address.js';
import { prefixCovers } from '../../src/dissect/prefix.js';
import type { LispAddress } from '../../src/dissect/types.js';
import { askedPrefix } from '../../src/flows/exchanges.js';

// The tracker keeps a resolution's EID as text only and takes the prefix back from it when a reply's
// record must cover it: the prefix from the text must be covered exactly where the decoded one is.
// It keeps an SMR's EIDs as texts too, and takes each back when an SMR-invoked request may be the
// SMR's: there the prefix from the text must cover exactly what the decoded one covers.

/** Bytes with few distinct values, so that a covering prefix often shares the leading bits. */
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => b.map((x) => x & 0x81));

const plain: fc.Arbitrary<LispAddress> = fc.oneof(
  bytes(4).map((b): LispAddress => ({ kind: 'ipv4', afi: 1, addr: formatIPv4(b, 0) })),
  bytes(16).map((b): LispAddress => ({ kind: 'ipv6', afi: 2, addr: formatIPv6(b, 0) })),
  // ::ffff:a.b.c.d, written with a dotted quad.
  bytes(4).map((b): LispAddress => ({ kind: 'ipv6', afi: 2, addr: formatIPv6(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...b]), 0) })),
  bytes(6).map((b): LispAddress => ({ kind: 'mac', afi: 6, addr: formatMac(b, 0) })),
);

const inIid = (a: LispAddress, iid: number): LispAddress => ({
  kind: 'lcaf',
  afi: 16387,
  lcaf: { type: 2, rsvd1: 0, flags: 0, rsvd2: 0, body: { kind: 'instance-id', iid, address: a } },
});

/** Addresses prefixCovers compares, and kinds it never does (their text must not turn into one it does). */
const address: fc.Arbitrary<LispAddress> = fc.oneof(
  plain,
  fc.tuple(plain, fc.constantFrom(0, 1, 0xffffff)).map(([a, iid]) => inIid(a, iid)),
  fc.tuple(plain, fc.constantFrom(0, 7), fc.constantFrom(0, 7)).map(([a, x, y]) => inIid(inIid(a, x), y)),
  fc.string().map((name): LispAddress => ({ kind: 'dn', afi: 17, name })),
  fc.constantFrom<LispAddress>({ kind: 'none', afi: 0 }),
  fc.tuple(fc.integer({ min: 0, max: 0xffff }), plain).map(([asn, a]): LispAddress => ({
    kind: 'lcaf',
    afi: 16387,
    lcaf: { type: 3, rsvd1: 0, flags: 0, rsvd2: 0, body: { kind: 'as-number', asn, address: a } },
  })),
);

const prefix: fc.Arbitrary<Prefix> = fc.record({ address, maskLen: fc.integer({ min: 0, max: 255 }) });

describe('askedPrefix', () => {
  it('is covered by a prefix exactly where the decoded prefix its text was made of is', () => {
    fc.assert(
      fc.property(prefix, prefix, fc.integer({ min: -2, max: 2 }), (asked, other, d) => {
        const back = askedPrefix(prefixText(asked.address, asked.maskLen));
        // Another prefix, and the asked address with a mask length close to its own (the edge).
        for (const outer of [other, { address: asked.address, maskLen: Math.max(0, asked.maskLen + d) }]) {
          expect(back !== undefined && prefixCovers(outer, back)).toBe(prefixCovers(outer, asked));
        }
      }),
      { numRuns: 5000 },
    );
  });

  it("covers a prefix exactly where the decoded prefix its text was made of does (an SMR's EIDs)", () => {
    fc.assert(
      fc.property(prefix, prefix, fc.integer({ min: -2, max: 2 }), (smr, other, d) => {
        const back = askedPrefix(prefixText(smr.address, smr.maskLen));
        // Another prefix, and the SMR's address with a mask length close to its own (the edge).
        for (const inner of [other, { address: smr.address, maskLen: Math.max(0, smr.maskLen + d) }]) {
          expect(back !== undefined && prefixCovers(back, inner)).toBe(prefixCovers(smr, inner));
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('gives nothing for a text with no mask length', () => {
    expect(askedPrefix('(none)')).toBeUndefined();
    expect(askedPrefix("'a/b'")).toBeUndefined();
    expect(askedPrefix('[5](10.0.0.1/32, 224.0.0.1/32)')).toBeUndefined();
  });
});
