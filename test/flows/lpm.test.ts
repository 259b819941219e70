import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePrefix } from '../../src/dissect/address.js';
import { prefixCovers } from '../../src/dissect/prefix.js';
import { PrefixTable } from '../../src/flows/lpm.js';
import { ipv4, ipv6 } from '../support/arbitraries.js';

describe('longest-prefix match', () => {
  it('finds the most specific EID prefix, per family and instance', () => {
    const t = new PrefixTable();
    for (const p of ['10.0.0.0/8', '10.1.0.0/16', '10.1.0.5/32', '[223]10.1.0.0/16', '2001:db8::/32', '0.0.0.0/0']) expect(t.add(p)).toBe(true);
    expect(t.lookup('10.1.0.5')).toBe('10.1.0.5/32');
    expect(t.lookup('10.1.0.6')).toBe('10.1.0.0/16');
    expect(t.lookup('10.9.9.9')).toBe('10.0.0.0/8');
    expect(t.lookup('192.0.2.1')).toBe('0.0.0.0/0');
    expect(t.lookup('[223]10.1.2.3')).toBe('[223]10.1.0.0/16');
    expect(t.lookup('[224]10.1.2.3')).toBeUndefined();
    expect(t.lookup('2001:db8:1::7')).toBe('2001:db8::/32');
    expect(t.lookup('2001:db9::7')).toBeUndefined();
    expect(t.add('(none)')).toBe(false);
  });

  it('keeps a value per prefix, and refuses what is no prefix', () => {
    const t = new PrefixTable<number>();
    expect(t.add('10.1.0.0/16', 1)).toBe(true);
    expect(t.add('[7]10.1.0.0/16', 2)).toBe(true);
    expect(t.add('10.1.2.3', 3)).toBe(true);
    for (const bad of ['10.1.0.0/33', '10.1.0.0/', '10.1.256.0/16', '[x]10.1.0.0/16', '10.1.0/16']) expect(t.add(bad, 9)).toBe(false);
    expect(t.lookup('10.1.2.3')).toBe(3);
    expect(t.lookupIPv4(0x0a010204)).toBe(1);
    expect(t.lookup('[7]10.1.2.3')).toBe(2);
    expect(t.lookupIPv4(0x0a010203, 7)).toBe(2);
    expect(t.size).toBe(3);
  });

  it('agrees with a linear scan of prefixCovers', () => {
    const prefix = fc.oneof(
      fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([a, l]) => `${a}/${l}`),
      ipv4,
      fc.tuple(ipv6, fc.integer({ min: 0, max: 128 })).map(([a, l]) => `${a}/${l}`),
    );
    fc.assert(
      fc.property(fc.array(prefix, { maxLength: 20 }), fc.oneof(ipv4, ipv6), (prefixes, addr) => {
        const t = new PrefixTable();
        prefixes.forEach((p) => t.add(p));
        const target = parsePrefix(addr)!;
        let best: string | undefined;
        let bestLen = -1;
        for (const p of prefixes) {
          const pp = parsePrefix(p)!;
          // The table keeps the last of equal networks; so does this scan (>=).
          if (prefixCovers(pp, target) && pp.maskLen >= bestLen) {
            best = p;
            bestLen = pp.maskLen;
          }
        }
        const got = t.lookup(addr);
        if (best === undefined) expect(got).toBeUndefined();
        else expect(parsePrefix(got!)!.maskLen).toBe(bestLen);
      }),
      { numRuns: 2000 },
    );
  });
});
