import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parsePrefix } from '../../src/dissect/address.js';
import { prefixCovers } from '../../src/dissect/prefix.js';
import { PrefixTable, ipv4Prefix, readIPv4Prefix } from '../../src/flows/lpm.js';
import { formatIPv4 } from '../../src/dissect/addr.js';
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

  // The mapping tracker finds an EID by the numbers of a canonical text alone: that holds only if
  // no two texts read as canonical with the same numbers, i.e. a canonical text is the one written
  // from its numbers.
  it('reads an IPv4 prefix as canonical exactly when it is the text written from the numbers of its network', () => {
    const num = (max: number) => fc.tuple(fc.integer({ min: 0, max }), fc.boolean()).map(([n, zero]) => (zero ? `0${n}` : `${n}`));
    const text = fc
      .tuple(fc.option(num(300), { nil: undefined }), fc.array(num(260), { minLength: 3, maxLength: 5 }), fc.option(num(34), { nil: undefined }), fc.boolean())
      .map(([iid, octets, len, dot]) => `${iid === undefined ? '' : `[${iid}]`}${octets.join(dot ? '.' : ',')}${len === undefined ? '' : `/${len}`}`);
    const written = (iid: number, v4: number, len: number) => {
      const b = new Uint8Array([v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255]);
      return `${iid < 0 ? '' : `[${iid}]`}${formatIPv4(b, 0)}/${len}`;
    };
    const prefixOf = fc
      .tuple(fc.integer({ min: -1, max: 5000 }), ipv4, fc.integer({ min: 0, max: 32 }))
      .map(([iid, a, len]) => {
        const p = parsePrefix(`${a}/${len}`)!;
        const v = p.address.kind === 'ipv4' ? p.address.addr.split('.').reduce((x, o) => x * 256 + Number(o), 0) : 0;
        const masked = len === 0 ? 0 : (v & (-1 << (32 - len))) >>> 0;
        return written(iid, masked, len);
      });
    fc.assert(
      fc.property(fc.oneof(text, prefixOf), (t) => {
        if (!readIPv4Prefix(t)) {
          expect(parsePrefix(t)?.address.kind ?? 'none').not.toBe('ipv4');
          return;
        }
        const { iid, v4, len, canonical } = ipv4Prefix;
        // Written from the prefix: its network, no address bit beyond the length.
        expect(canonical).toBe(t === written(iid, len === 0 ? 0 : v4 & (-1 << (32 - len)), len));
      }),
      { numRuns: 3000 },
    );
    for (const t of ['10.1.2.0/24', '[0]10.1.2.0/24', '0.0.0.0/0', '255.255.255.255/32']) expect(readIPv4Prefix(t) && ipv4Prefix.canonical).toBe(true);
    for (const t of ['10.1.2.5/24', '010.1.2.0/24', '10.1.2.0/024', '[00]10.1.2.0/24', '10.1.2.3']) expect(readIPv4Prefix(t) && !ipv4Prefix.canonical).toBe(true);
  });

  it('adds and finds an exact IPv4 prefix on its numbers, saying which value it replaced', () => {
    const t = new PrefixTable<number>();
    expect(t.addIPv4(-1, 0x0a010200, 24, 1)).toBeUndefined();
    expect(t.exactIPv4(-1, 0x0a010200, 24)).toBe(1);
    // Addresses from 128.0.0.0 up, as signed or unsigned values alike.
    expect(t.addIPv4(5, 0xc0000200 | 0, 24, 2)).toBeUndefined();
    expect(t.exactIPv4(5, 0xc0000200, 24)).toBe(2);
    expect(t.lookupIPv4(0xc0000207, 5)).toBe(2);
    expect(t.lookup('[5]192.0.2.7')).toBe(2);
    expect(t.exactIPv4(-1, 0x0a010200, 16)).toBeUndefined();
    expect(t.exactIPv4(-1, 0x0a010000, 24)).toBeUndefined();
    // The same network written with host bits: the same prefix, replaced.
    expect(t.addIPv4(-1, 0x0a010205, 24, 3)).toBe(1);
    expect(t.exactIPv4(-1, 0x0a010200, 24)).toBe(3);
    expect(t.size).toBe(2);
  });
});
