// Control frames for the fast paths' property tests (json-control-fast, line-control-fast):
// mostly messages as LISP sites send them, some in ECMs, some of any shape, some changed or cut.

import fc from 'fast-check';
import type { Frame } from '../../src/capture/types.js';
import { encodeControl } from '../../src/dissect/control.js';
import { encodeIpUdp } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import { AUTH_ALGORITHMS } from '../../src/dissect/registry.js';
import type { ControlMessage, EidPrefix, LispAddress, Locator, MappingRecord, ReferralRecord } from '../../src/dissect/types.js';
import { controlMessage, ipAddress, ipv4 } from './arbitraries.js';

// Messages as LISP sites send them (IPv4/IPv6 addresses, masks that fit), so that the fast path
// is taken often; the mutations and the general arbitrary below take it off its path.
const u8 = fc.integer({ min: 0, max: 255 });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const nonce = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
export const none: LispAddress = { kind: 'none', afi: 0 };
// EIDs plain or in an Instance-ID LCAF (its IID mask-len and flags as senders set them).
const eidAddress: fc.Arbitrary<LispAddress> = fc.oneof(
  { weight: 2, arbitrary: ipAddress },
  {
    weight: 1,
    arbitrary: fc
      .record({ iid: fc.oneof(fc.integer({ min: 0, max: 0xffffff }), u32), address: ipAddress, rsvd2: fc.constantFrom(0, 0, 24, 32), flags: fc.constantFrom(0, 0, 1) })
      .map(({ iid, address, rsvd2, flags }): LispAddress => ({ kind: 'lcaf', afi: 16387, lcaf: { type: 2, rsvd1: 0, flags, rsvd2, body: { kind: 'instance-id', iid, address } } })),
  },
);
// Now and then a mask one longer than the address: noted, so the general path's.
const prefix: fc.Arbitrary<EidPrefix> = eidAddress.chain((a) => {
  const inner = a.kind === 'lcaf' && a.lcaf.body.kind === 'instance-id' ? a.lcaf.body.address : a;
  return fc.integer({ min: 0, max: inner.kind === 'ipv4' ? 33 : 129 }).map((maskLen) => ({ prefix: a, maskLen }));
});
// The I bit's xTR-ID and site-ID, or none.
const xtr = fc.option(fc.record({ xtrId: fc.uint8Array({ minLength: 16, maxLength: 16 }), siteId: fc.uint8Array({ minLength: 8, maxLength: 8 }) }), { nil: undefined });
const withXtr = (x: { xtrId: Uint8Array; siteId: Uint8Array } | undefined) => (x ? { xtrIdPresent: true, ...x } : { xtrIdPresent: false });
const loc: fc.Arbitrary<Locator> = fc.record({ priority: u8, weight: u8, mpriority: u8, mweight: u8, local: fc.boolean(), probed: fc.boolean(), reachable: fc.boolean(), rloc: ipAddress });
const header = { ttl: u32, action: fc.integer({ min: 0, max: 7 }), authoritative: fc.boolean(), mapVersion: fc.integer({ min: 0, max: 0xfff }) };
const record: fc.Arbitrary<MappingRecord> = fc
  .tuple(prefix, fc.record({ ...header, locators: fc.array(loc, { maxLength: 3 }) }))
  .map(([p, r]) => ({ ...r, eid: p.prefix, eidMaskLen: p.maskLen }));
const referral: fc.Arbitrary<ReferralRecord> = fc
  .tuple(prefix, fc.record({ ...header, incomplete: fc.boolean(), referrals: fc.array(loc, { maxLength: 3 }) }))
  .map(([p, r]) => ({ ...r, eid: p.prefix, eidMaskLen: p.maskLen, signatures: [] }));
const auth = fc
  .tuple(u8, fc.constantFrom(0, 1, 2, 9), fc.boolean(), fc.uint8Array({ maxLength: 40 }))
  .map(([keyId, algorithmId, full, raw]) => {
    const a = AUTH_ALGORITHMS.get(algorithmId);
    return { keyId, algorithmId, authData: a ? new Uint8Array(full ? a.macLength : a.truncatedLength).fill(raw[0] ?? 0) : raw };
  });
const records = fc.array(record, { minLength: 1, maxLength: 3 });
const rlocOrNone = fc.oneof({ weight: 3, arbitrary: ipAddress }, { weight: 1, arbitrary: fc.constant(none) });
// An Info-Reply's NAT-Traversal LCAF.
const nat = fc.record({
  kind: fc.constant('nat-traversal' as const),
  msUdpPort: fc.integer({ min: 0, max: 0xffff }),
  etrUdpPort: fc.integer({ min: 0, max: 0xffff }),
  globalEtrRloc: rlocOrNone,
  msRloc: rlocOrNone,
  privateEtrRloc: rlocOrNone,
  rtrRlocs: fc.array(rlocOrNone, { maxLength: 3 }),
});
const flag = fc.boolean();

export const typical: fc.Arbitrary<ControlMessage> = fc.oneof(
  fc
    .record({ authoritative: flag, probe: flag, smr: flag, pitr: flag, smrInvoked: flag, localXtr: flag, dontMapReply: flag, nonce })
    .chain((h) =>
      fc
        .record({
          sourceEid: fc.oneof(eidAddress, fc.constant(none)),
          itrRlocs: fc.array(ipAddress, { minLength: 1, maxLength: 3 }),
          eids: fc.array(prefix, { minLength: 1, maxLength: 3 }),
          mapReply: fc.option(record, { nil: undefined }),
          xtr,
        })
        .map(({ mapReply, xtr: x, ...r }): ControlMessage => ({ type: 1, ...h, ...r, mapDataPresent: mapReply !== undefined, ...(mapReply ? { mapReply } : {}), ...withXtr(x) })),
    ),
  fc.record({ probe: flag, echoNonceCapable: flag, security: fc.constant(false), nonce, records }).map((r): ControlMessage => ({ type: 2, ...r })),
  fc
    .record({ proxyReply: flag, security: flag, builtForRtr: flag, eidNotify: flag, ttlTimeout: flag, merge: flag, mobileNode: flag, wantMapNotify: flag, nonce, auth, records, xtr })
    .map(({ auth: a, xtr: x, ...r }): ControlMessage => ({ type: 3, ...r, ...a, ...withXtr(x) })),
  fc
    .record({ type: fc.constantFrom(4 as const, 5 as const), msRtrAuthPresent: fc.constant(false), nonce, auth, records, xtr })
    .map(({ auth: a, xtr: x, ...r }): ControlMessage => ({ ...r, ...a, ...withXtr(x) })),
  fc.record({ nonce, records: fc.array(referral, { maxLength: 3 }) }).map((r): ControlMessage => ({ type: 6, ...r })),
  fc
    .record({ nonce, auth, ttl: u32, eid: fc.oneof(prefix, fc.constant({ prefix: none, maskLen: 0 })), nat: fc.option(nat, { nil: undefined }) })
    .map(
      ({ auth: a, eid, nat: n, ...r }): ControlMessage => ({
        type: 7,
        reply: n !== undefined,
        ...r,
        ...a,
        eidMaskLen: eid.maskLen,
        eid: eid.prefix,
        address: n ? { kind: 'lcaf', afi: 16387, lcaf: { type: 7, rsvd1: 0, flags: 0, rsvd2: 0, body: n } } : none,
      }),
    ),
);

export const typicalEcm: fc.Arbitrary<ControlMessage> = fc
  .record({ ddt: flag, toEtr: flag, toMs: flag, rtrProcess: fc.constantFrom(true, undefined), rtrRelayed: fc.constantFrom(true, undefined), inner: fc.tuple(ipAddress, ipAddress, fc.integer({ min: 0, max: 0xffff }), typical) })
  .map(({ inner: [s, d, sport, message], rtrProcess, rtrRelayed, ...r }): ControlMessage => {
    const v6 = s.kind === 'ipv6';
    const addr = (a: LispAddress) => (a.kind === (v6 ? 'ipv6' : 'ipv4') && 'addr' in a ? a.addr : v6 ? '::1' : '10.0.0.1');
    return {
      type: 8,
      security: false,
      ...r,
      ...(rtrProcess ? { rtrProcess } : {}),
      ...(rtrRelayed ? { rtrRelayed } : {}),
      inner: { ipVersion: v6 ? 6 : 4, src: addr(s), dst: addr(d), ttl: 64, sport, dport: 4342, udpChecksum: 0, message },
    };
  });

/** A control frame, sometimes with a byte changed or cut short (each path must make the same of it). */
export const controlFrame: fc.Arbitrary<Omit<Frame, 'index'>> = fc
  .record({
    link: fc.constantFrom(1, 1, 1, 101, 113, 276, 0),
    src: ipv4,
    dst: ipv4,
    sport: fc.constantFrom(4342, 4342, 40000, 4341, 4789),
    dport: fc.constantFrom(4342, 4342, 61000, 4341),
    message: fc.oneof({ weight: 4, arbitrary: typical }, { weight: 2, arbitrary: typicalEcm }, { weight: 2, arbitrary: controlMessage }),
    change: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.tuple(fc.nat(), u8) }),
    cut: fc.constantFrom(0, 0, 0, 0, 1, 7),
    tsSec: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    tsNsec: fc.integer({ min: 0, max: 999_999_999 }),
  })
  .map((r) => {
    const lisp = encodeControl(r.message);
    if (r.change && lisp.length) lisp[r.change[0] % lisp.length] = r.change[1];
    const full = encodeLink(r.link, encodeIpUdp({ src: r.src, dst: r.dst, sport: r.sport, dport: r.dport }, lisp));
    return { tsSec: r.tsSec, tsNsec: r.tsNsec, linkType: r.link, len: full.length, data: full.subarray(0, full.length - r.cut), interfaceId: 0 };
  });


/**
 * How often the lanes beyond the plainest were taken: an I bit's xTR-ID, EIDs in Instance-ID
 * LCAFs, an Info-Reply's NAT-Traversal LCAF, a Map-Request's map-data.
 */
export class Lanes {
  readonly taken = { xtr: 0, iid: 0, nat: 0, mapData: 0 };

  add(m: ControlMessage): void {
    const x = 'inner' in m ? m.inner?.message : m;
    if (!x || 'unknown' in x) return;
    const eids: LispAddress[] = [];
    if ('records' in x) for (const r of x.records) eids.push(r.eid);
    if ('eids' in x) for (const p of x.eids) eids.push(p.prefix);
    if ('sourceEid' in x) eids.push(x.sourceEid);
    if ('eid' in x) eids.push(x.eid);
    const t = this.taken;
    if ('xtrId' in x && x.xtrId) t.xtr++;
    if (eids.some((a) => a.kind === 'lcaf')) t.iid++;
    if ('reply' in x && x.reply) t.nat++;
    if ('mapReply' in x && x.mapReply) t.mapData++;
  }

  /** The least taken lane's count. */
  least(): number {
    return Math.min(...Object.values(this.taken));
  }
}
