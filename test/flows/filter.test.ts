import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleFor, fieldList, type FilterDomain } from '../../src/flows/filter-fields.js';
import { compileFilter, compileFilterAmong, FilterError, ipv4Within, values } from '../../src/flows/filter.js';
import { parseIPv4 } from '../../src/dissect/addr.js';
import { parsePrefix } from '../../src/dissect/address.js';
import { prefixCovers } from '../../src/dissect/prefix.js';

const register = {
  frame: 1,
  type: 'map-register',
  nonce: '67ab931f9e8b974a',
  src: '10.0.123.2',
  dst: '10.0.123.1',
  sport: 4342,
  dport: 4342,
  want_map_notify: true,
  records: [{ eid: '3.0.0.3/32', locators: [{ rloc: '12.0.0.2', priority: 1 }] }],
};
const ecm = {
  type: 'ecm',
  src: '192.0.2.1',
  dst: '192.0.2.2',
  sport: 61001,
  dport: 4342,
  inner: { type: 'map-request', nonce: 'adfe176be615fa2c', smr: false, probe: true, smr_invoked: true, src: '192.0.2.9', eids: ['10.1.0.5/32'], itr_rlocs: ['192.0.2.9'] },
};
const smrPacket = { type: 'map-request', smr: true, nonce: '0000000000000000', src: '10.10.4.2', dst: '10.10.2.2', sport: 4342, dport: 4342, eids: ['4.0.0.0/24'] };
const exchange = { kind: 'resolution', eid: '10.1.0.5/32', outcome: 'unanswered', rtt_ms: null, retransmissions: 2, requester: '192.0.2.9', auth_error: 'authentication data does not match the key' };
const smr = { kind: 'smr', eid: '10.1.0.5/32', outcome: 'answered', rtt_ms: 297 };
const data = { type: 'data', src: '198.51.100.1', dst: '198.51.100.2', sport: 61000, dport: 4341, inner: { src: '10.2.0.7', dst: '10.1.0.5', proto: 1 } };
const damaged = { type: 'unknown', malformed: ['unknown LISP control message type 0 (at byte 0)'] };

const t = (expr: string, o: object, domain: FilterDomain = 'packet') => compileFilter(expr, domain)(o as Record<string, unknown>);
const err = (expr: string, domain: FilterDomain = 'packet') => {
  try {
    compileFilter(expr, domain);
  } catch (x) {
    expect(x).toBeInstanceOf(FilterError);
    return (x as Error).message;
  }
  throw new Error(`"${expr}" compiled`);
};

describe('display filter', () => {
  it('compares fields, EIDs, RLOCs and nonces', () => {
    expect(t('type == map-register', register)).toBe(true);
    expect(t('type == map-reply', register)).toBe(false);
    expect(t('eid == 3.0.0.3/32', register)).toBe(true);
    expect(t('eid == 3.0.0.3', register)).toBe(true);
    expect(t('eid in 3.0.0.0/8', register)).toBe(true);
    expect(t('eid in 10.0.0.0/8', register)).toBe(false);
    expect(t('rloc == 12.0.0.2', register)).toBe(true);
    expect(t('rloc == 10.0.123.2', register)).toBe(true);
    expect(t('nonce == 0x67ab931f9e8b974a', register)).toBe(true);
    expect(t('nonce == 67AB931F9E8B974A', register)).toBe(true);
    expect(t('records.locators.priority < 2', register)).toBe(true);
    expect(t('inner.type == map-request && eid == 10.1.0.5/32', ecm)).toBe(true);
    expect(t('eid in 10.1.0.0/16', data)).toBe(true);
    expect(t('rloc == 192.0.2.9', ecm)).toBe(true);
  });

  it('knows the IP and UDP fields as Wireshark names them', () => {
    expect(t('ip.src == 10.0.123.2', register)).toBe(true);
    expect(t('ip.dst == 10.0.123.2', register)).toBe(false);
    expect(t('ip.addr == 10.0.123.1', register)).toBe(true);
    expect(t('udp.port == 4342', register)).toBe(true);
    expect(t('udp.port == 4342', data)).toBe(false);
    expect(t('udp.srcport == 61000 && udp.dstport == 4341', data)).toBe(true);
    expect(t('frame == 1 && len > 0', { ...register, len: 110 })).toBe(true);
  });

  it('nonce also matches an ECM’s inner nonce', () => {
    expect(t('nonce == 0xadfe176be615fa2c', ecm)).toBe(true);
    expect(t('nonce == 0xadfe176be615fa2d', ecm)).toBe(false);
  });

  it('a bare word is a field or a value, never a match for everything', () => {
    expect(t('smr', smrPacket)).toBe(true);
    expect(t('smr', register)).toBe(false);
    expect(t('smr', ecm)).toBe(false);
    expect(t('smr_invoked', ecm)).toBe(true);
    expect(t('probe', ecm)).toBe(true);
    expect(t('map-register', register)).toBe(true);
    expect(t('map-register', smrPacket)).toBe(false);
    expect(t('malformed', damaged)).toBe(true);
    expect(t('malformed', register)).toBe(false);
    expect(err('frobnicate')).toMatch(/^unknown field "frobnicate" at column 1; the fields of packets are: frame, ts, len, src, dst, .*ip\.addr.*udp\.port/);
    expect(err('a && b')).toMatch(/^unknown field "a" at column 1;/);
    expect(err('smr && b')).toMatch(/^unknown field "b" at column 8;/);
  });

  it('matches regular expressions, case-insensitive', () => {
    expect(t('auth_error matches "does not MATCH"', exchange, 'exchange')).toBe(true);
    expect(t('auth_error ~ "^key"', exchange, 'exchange')).toBe(false);
    expect(t('nonce matches "^67ab"', register)).toBe(true);
    expect(err('auth_error matches "("', 'exchange')).toMatch(/^"matches" needs a regular expression: .* at column 20$/);
  });

  it('has bare fields and values for exchanges, boolean operators and parentheses', () => {
    expect(t('smr', smr, 'exchange')).toBe(true);
    expect(t('smr', exchange, 'exchange')).toBe(false);
    expect(t('unanswered', exchange, 'exchange')).toBe(true);
    expect(t('!smr && outcome == unanswered', exchange, 'exchange')).toBe(true);
    expect(t('outcome == answered || (retransmissions >= 2 and kind == resolution)', exchange, 'exchange')).toBe(true);
    expect(t('not (rtt_ms > 100)', smr, 'exchange')).toBe(false);
    expect(t('rtt_ms > 100', exchange, 'exchange')).toBe(false);
    expect(t('outcome != answered', exchange, 'exchange')).toBe(true);
    expect(t("eid contains '10.1'", exchange, 'exchange')).toBe(true);
  });

  it('fields belong to their kind of object, and enumerations to their values', () => {
    expect(err('outcome == unanswered')).toMatch(/^unknown field "outcome" at column 1; the fields of packets/);
    expect(err('type == map-register', 'exchange')).toMatch(/^unknown field "type" at column 1; the fields of exchanges/);
    expect(err('type == map-regster')).toBe('"map-regster" at column 9 is not a value of type; it takes map-request, map-reply, map-register, map-notify, map-notify-ack, map-referral, info-request, info-reply, ecm, data, icmp-error, unknown');
    expect(err('records == 3')).toMatch(/^"records" at column 1 holds fields of its own: name one \(records\.eid, records\.ttl,/);
  });

  it('the terminal UI takes a filter either of its panes understands; the other pane shows nothing', () => {
    expect(compileFilterAmong('outcome == unanswered', 'packet', ['exchange'])(register as Record<string, unknown>)).toBe(false);
    expect(compileFilterAmong('outcome == unanswered', 'exchange', ['packet'])(exchange as Record<string, unknown>)).toBe(true);
    expect(() => compileFilterAmong('frobnicate', 'packet', ['exchange'])).toThrow(/unknown field "frobnicate"/);
  });

  it('points at the column of a mistake', () => {
    expect(err('type == ')).toBe('expected a value after "==" at column 9 (end of filter)');
    expect(err('type == map-register &&')).toBe('expected a field name at column 24 (end of filter)');
    expect(err('(smr')).toBe('expected ")" at column 5 (end of filter)');
    expect(err('rtt_ms > fast', 'exchange')).toBe('">" needs a number, not "fast", at column 10');
    expect(err('eid in nowhere')).toBe('"in" needs an address prefix like 10.0.0.0/8, not "nowhere", at column 8');
    expect(err('type == data y')).toBe('unexpected at column 14 ("y")');
    expect(err('type = x')).toBe('unexpected "=" at column 6');
  });

  it('every declared field has an example, and every example compiles in its domain', () => {
    for (const domain of ['packet', 'exchange', 'mapping'] as const) {
      for (const [name, def] of fieldList(domain)) {
        const ex = exampleFor(name, def);
        expect(ex, `${domain} ${name}`).toBeDefined();
        expect(ex!.includes(name), `${domain} ${name}: ${ex}`).toBe(true);
        expect(() => compileFilter(ex!, domain), `${domain} ${name}: ${ex}`).not.toThrow();
      }
    }
  });

  it('gathers a path\'s values through arrays at any depth, in document order, and a comparison says the same on every visit', () => {
    // The reference: what a field names, written the obvious way.
    const at = (o: unknown, path: string[]): unknown[] => {
      if (path.length === 0) return Array.isArray(o) ? o : [o];
      if (Array.isArray(o)) return o.flatMap((x) => at(x, path));
      if (o === null || typeof o !== 'object') return [];
      const v = (o as Record<string, unknown>)[path[0]!];
      return v === undefined ? [] : at(v, path.slice(1));
    };
    const key = fc.constantFrom('a', 'b', 'c');
    const leaf = fc.oneof(fc.constantFrom('10.0.0.1', '10.0.0.1/32', '3.0.0.0/8', 'x', ''), fc.integer(), fc.boolean(), fc.constant(null));
    const tree = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(key, tie('v'), { maxKeys: 3 })),
    })).v;
    fc.assert(
      fc.property(tree, fc.array(key, { minLength: 1, maxLength: 3 }), (o, path) => {
        const name = path.join('.');
        expect(values(o, name, { type: 'string', help: '' })).toEqual(at(o, path));
      }),
      { numRuns: 500 },
    );
    // The same values in other objects, and again: the verdicts a comparison remembers are its own.
    const eid = compileFilter('eid == 10.0.0.1', 'packet');
    const objects = Array.from({ length: 200 }, (_, i) => ({ type: 'map-register', records: [{ eid: i % 3 === 0 ? '10.0.0.1/32' : `10.0.${i}.1/32` }] }));
    const first = objects.map(eid);
    expect(objects.map(eid)).toEqual(first);
    expect(first.filter(Boolean).length).toBe(67);
  });
});

describe('`in` an IPv4 prefix read in place (ipv4Within)', () => {
  const octet = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: 255 }).map(String) }, fc.integer({ min: 0, max: 999 }).map((n) => String(n).padStart(3, '0')), fc.constantFrom('', '1234', 'a', ' 1'));
  const mask = fc.oneof({ weight: 3, arbitrary: fc.constant('') }, { weight: 3, arbitrary: fc.integer({ min: 0, max: 32 }).map((n) => `/${n}`) }, fc.integer({ min: 0, max: 40 }).map((n) => `/${n}`), fc.constantFrom('/', '/032', '/0x', '/1 ', '/8/8'));
  const text = fc.oneof(
    { weight: 4, arbitrary: fc.tuple(octet, octet, octet, octet, mask).map(([a, b, c, d, m]) => `${a}.${b}.${c}.${d}${m}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    { weight: 1, arbitrary: fc.constantFrom('10.1.2', '10.1.2.3.4', '[7]10.1.2.3', '2001:db8::1', '10.1.2.3 ', '::ffff:10.1.2.3') },
  );
  const prefix = fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 32 })).map(([b, len]) => `${b.join('.')}/${len}`);

  it('says what parsePrefix and prefixCovers say, or leaves the text to them', () => {
    let decided = 0;
    fc.assert(
      fc.property(text, prefix, (t, p) => {
        const outer = parsePrefix(p)!;
        const o = parseIPv4(outer.address.kind === 'ipv4' ? outer.address.addr : '')!;
        const net = ((((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0) & (outer.maskLen ? (0xffffffff << (32 - outer.maskLen)) >>> 0 : 0)) >>> 0;
        const r = ipv4Within(t, net, outer.maskLen);
        if (r < 0) return;
        decided++;
        const inner = parsePrefix(t);
        expect(inner).toBeDefined();
        expect(r === 1).toBe(prefixCovers(outer, inner!));
      }),
      { numRuns: 5000 },
    );
    expect(decided).toBeGreaterThan(1000);
  });

  it('decides through the filter as the prefix parser does', () => {
    const f = compileFilter('eid in 10.1.0.0/16', 'packet');
    const d = (src: string) => f({ type: 'data', inner: { src, dst: '192.0.2.1' } });
    expect([d('10.1.2.3'), d('10.1.255.255'), d('10.2.0.0'), d('10.1.0.0/15'), d('10.1.0.0/24'), d('010.001.2.3'), d('[5]10.1.2.3')]).toEqual([true, true, false, false, true, true, false]);
  });
});
