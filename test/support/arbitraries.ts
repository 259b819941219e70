// fast-check generators for every LISP structure, shaped so that encode → decode is exact:
// reserved fields appear only when non-zero, counts follow the arrays, and structures that the
// decoder must guess at (trailers after Map-Notify records) are generated unambiguously.

import fc from 'fast-check';
import type { Frame } from '../../src/capture/types.js';
import { formatIPv4, formatIPv6, formatMac } from '../../src/dissect/addr.js';
import { encodeData } from '../../src/dissect/data.js';
import { encodeIPv4, encodeIPv6, encodeIpUdp } from '../../src/dissect/ip.js';
import { encodeLink } from '../../src/dissect/link.js';
import { MS_RTR_AD_TYPE } from '../../src/dissect/registry.js';
import type {
  ControlMessage,
  EidAd,
  EidPrefix,
  Lcaf,
  LcafBody,
  LispAddress,
  LispSecAd,
  Locator,
  MappingRecord,
  MsRtrAuth,
  ReferralRecord,
} from '../../src/dissect/types.js';

const u8 = fc.integer({ min: 0, max: 255 });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u24 = fc.integer({ min: 0, max: 0xffffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (max = 24) => fc.uint8Array({ maxLength: max });
const nonzero = (a: fc.Arbitrary<number>) => fc.option(a.filter((x) => x !== 0), { nil: undefined });

/** Assigns only the defined optionals so deep equality with decoded values holds. */
function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIPv4(b, 0));
export const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIPv6(b, 0));

export const plainAddress: fc.Arbitrary<LispAddress> = fc.oneof(
  ipv4.map((addr): LispAddress => ({ kind: 'ipv4', afi: 1, addr })),
  ipv6.map((addr): LispAddress => ({ kind: 'ipv6', afi: 2, addr })),
  fc
    .tuple(fc.constantFrom(6 as const, 16389 as const), fc.uint8Array({ minLength: 6, maxLength: 6 }))
    .map(([afi, b]): LispAddress => ({ kind: 'mac', afi, addr: formatMac(b, 0) })),
  fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 30 }).map(
    (name): LispAddress => ({ kind: 'dn', afi: 17, name }),
  ),
  fc.constant<LispAddress>({ kind: 'none', afi: 0 }),
);

export const ipAddress: fc.Arbitrary<LispAddress> = fc.oneof(
  ipv4.map((addr): LispAddress => ({ kind: 'ipv4', afi: 1, addr })),
  ipv6.map((addr): LispAddress => ({ kind: 'ipv6', afi: 2, addr })),
);

function lcafBody(addr: fc.Arbitrary<LispAddress>): fc.Arbitrary<[number, LcafBody]> {
  const list = fc.array(addr, { maxLength: 3 });
  return fc.oneof(
    fc.constant<[number, LcafBody]>([0, { kind: 'null' }]),
    list.map((addresses): [number, LcafBody] => [1, { kind: 'afi-list', addresses }]),
    fc.tuple(u32, addr).map(([iid, address]): [number, LcafBody] => [2, { kind: 'instance-id', iid, address }]),
    fc.tuple(u32, addr).map(([asn, address]): [number, LcafBody] => [3, { kind: 'as-number', asn, address }]),
    fc
      .tuple(u24, u8, u16, u16, u16, u16, addr)
      .map(([tos, protocol, a, b, c, d, address]): [number, LcafBody] => [
        4,
        { kind: 'application-data', tos, protocol, localPortLow: a, localPortHigh: b, remotePortLow: c, remotePortHigh: d, address },
      ]),
    fc
      .record({
        north: fc.boolean(),
        latDegrees: fc.integer({ min: 0, max: 90 }),
        latMinutes: fc.integer({ min: 0, max: 59 }),
        latSeconds: fc.integer({ min: 0, max: 59 }),
        east: fc.boolean(),
        lonDegrees: fc.integer({ min: 0, max: 180 }),
        lonMinutes: fc.integer({ min: 0, max: 59 }),
        lonSeconds: fc.integer({ min: 0, max: 59 }),
        altitude: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
        address: addr,
      })
      .map((g): [number, LcafBody] => [5, { kind: 'geo-coordinates', ...g }]),
    fc.tuple(u8, u8, bytes()).map(([a, b, key]): [number, LcafBody] => [6, { kind: 'opaque-key', keyFieldNum: a, keyWildcardFields: b, key }]),
    fc
      .tuple(u16, u16, addr, addr, addr, list)
      .map(([ms, etr, g, m, p, rtrs]): [number, LcafBody] => [
        7,
        { kind: 'nat-traversal', msUdpPort: ms, etrUdpPort: etr, globalEtrRloc: g, msRloc: m, privateEtrRloc: p, rtrRlocs: rtrs },
      ]),
    fc
      .tuple(nonzero(u8), u24, addr)
      .map(([reserved, nonce, address]): [number, LcafBody] => [8, compact({ kind: 'nonce-locator', reserved, nonce, address })]),
    fc
      .tuple(u32, nonzero(u16), u8, u8, addr, addr)
      .map(([iid, reserved, s, g, source, group]): [number, LcafBody] => [
        9,
        compact({ kind: 'multicast-info', iid, reserved, sourceMaskLen: s, groupMaskLen: g, source, group }),
      ]),
    fc
      .array(
        fc
          .record({ reserved: nonzero(fc.integer({ min: 0, max: 0x1fff })), lookup: fc.boolean(), rlocProbe: fc.boolean(), strict: fc.boolean(), address: addr })
          .map(compact),
        { maxLength: 3 },
      )
      .map((hops): [number, LcafBody] => [10, { kind: 'elp', hops }]),
    fc
      .tuple(fc.array(bytes(16), { maxLength: 3 }), nonzero(u8), u8, nonzero(fc.integer({ min: 0, max: 127 })), fc.boolean(), addr)
      .map(([keys, rsvd3, alg, rsvd4, revoke, address]): [number, LcafBody] => [
        11,
        compact({ kind: 'security-key', keyCount: keys.length, rsvd3, keyAlgorithm: alg, rsvd4, revoke, keys, address }),
      ]),
    fc
      .tuple(nonzero(u16), u8, u8, addr, addr)
      .map(([reserved, s, d, source, dest]): [number, LcafBody] => [
        12,
        compact({ kind: 'source-dest', reserved, sourceMaskLen: s, destMaskLen: d, source, dest }),
      ]),
    fc
      .array(fc.tuple(nonzero(u24), u8, addr).map(([reserved, level, address]) => compact({ reserved, level, address })), {
        maxLength: 3,
      })
      .map((entries): [number, LcafBody] => [13, { kind: 'rle', entries }]),
    fc.tuple(bytes(40), addr).map(([json, address]): [number, LcafBody] => [14, { kind: 'json', json, address }]),
    fc.tuple(addr, addr).map(([key, value]): [number, LcafBody] => [15, { kind: 'key-value', key, value }]),
    fc
      .tuple(u32, fc.option(addr, { nil: undefined }))
      .map(([bits, address]): [number, LcafBody] => [16, compact({ kind: 'encapsulation-format', bits, address })]),
    fc
      .tuple(nonzero(u8), u24, bytes())
      .map(([reserved, oui, data]): [number, LcafBody] => [255, compact({ kind: 'vendor', reserved, oui, data })]),
    fc
      .tuple(fc.integer({ min: 17, max: 254 }), bytes())
      .map(([type, b]): [number, LcafBody] => [type, { kind: 'raw', bytes: b }]),
  );
}

function lcafOf(addr: fc.Arbitrary<LispAddress>): fc.Arbitrary<LispAddress> {
  return fc.tuple(lcafBody(addr), u8, u8, u8).map(([[type, body], rsvd1, flags, rsvd2]): LispAddress => {
    const lcaf: Lcaf = { type, rsvd1, flags, rsvd2, body };
    return { kind: 'lcaf', afi: 16387, lcaf };
  });
}

/** Addresses including LCAFs nested two deep. */
export const address: fc.Arbitrary<LispAddress> = fc.oneof(
  { weight: 3, arbitrary: plainAddress },
  { weight: 2, arbitrary: lcafOf(fc.oneof({ weight: 3, arbitrary: plainAddress }, { weight: 1, arbitrary: lcafOf(plainAddress) })) },
);

export const locator: fc.Arbitrary<Locator> = fc
  .record({
    priority: u8,
    weight: u8,
    mpriority: u8,
    mweight: u8,
    local: fc.boolean(),
    probed: fc.boolean(),
    reachable: fc.boolean(),
    unusedFlags: nonzero(fc.integer({ min: 0, max: 0x1fff })),
    rloc: address,
  })
  .map(compact);

export const mappingRecord: fc.Arbitrary<MappingRecord> = fc
  .record({
    ttl: u32,
    eidMaskLen: u8,
    action: fc.integer({ min: 0, max: 7 }),
    authoritative: fc.boolean(),
    reserved: nonzero(fc.integer({ min: 0, max: 0xfff })),
    reserved2: nonzero(fc.integer({ min: 0, max: 15 })),
    mapVersion: fc.integer({ min: 0, max: 0xfff }),
    eid: address,
    locators: fc.array(locator, { maxLength: 3 }),
  })
  .map(compact);

const referralRecord: fc.Arbitrary<ReferralRecord> = fc
  .record({
    ttl: u32,
    eidMaskLen: u8,
    action: fc.integer({ min: 0, max: 7 }),
    authoritative: fc.boolean(),
    incomplete: fc.boolean(),
    reserved: nonzero(fc.integer({ min: 0, max: 0x7ff })),
    mapVersion: fc.integer({ min: 0, max: 0xfff }),
    eid: address,
    referrals: fc.array(locator, { maxLength: 3 }),
    signatures: fc.array(
      fc
        .record({
          originalTtl: u32,
          expiration: u32,
          inception: u32,
          keyTag: u16,
          algorithm: u8,
          reserved: nonzero(u24),
          signature: bytes(),
        })
        .map(compact),
      { maxLength: 2 },
    ),
  })
  .map(compact);

const eidPrefix: fc.Arbitrary<EidPrefix> = fc
  .record({ reserved: nonzero(u8), maskLen: u8, prefix: address })
  .map(compact);

const nonce = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const auth = fc.record({ keyId: u8, algorithmId: u8, authData: bytes(32) });
const xtr = fc.option(
  fc.record({ xtrId: fc.uint8Array({ minLength: 16, maxLength: 16 }), siteId: fc.uint8Array({ minLength: 8, maxLength: 8 }) }),
  { nil: undefined },
);
const trailing = fc.option(fc.uint8Array({ minLength: 1, maxLength: 8 }), { nil: undefined });

const mapRequest = fc
  .record({
    authoritative: fc.boolean(),
    probe: fc.boolean(),
    smr: fc.boolean(),
    pitr: fc.boolean(),
    smrInvoked: fc.boolean(),
    // Bit 11 (0x20 here) is RFC 9437's I bit, drawn with the xTR-ID below.
    reserved: nonzero(fc.integer({ min: 0, max: 0x7f }).map((v) => v & 0x5f)),
    localXtr: fc.boolean(),
    dontMapReply: fc.boolean(),
    nonce,
    sourceEid: address,
    itrRlocs: fc.array(address, { minLength: 1, maxLength: 4 }),
    eids: fc.array(eidPrefix, { maxLength: 3 }),
    mapReply: fc.option(mappingRecord, { nil: undefined }),
    xtr,
    trailing,
  })
  .map(({ xtr: x, ...r }): ControlMessage =>
    compact({ type: 1 as const, mapDataPresent: r.mapReply !== undefined, xtrIdPresent: x !== undefined, ...r, xtrId: x?.xtrId, siteId: x?.siteId }),
  );

// LISP-SEC Authentication Data (RFC 9303 §6): an ITR's EID-AD (KDF ID only) or the Map-Server's.
const eidAd: fc.Arbitrary<EidAd> = fc.oneof(
  fc.record({ kdfId: u16 }),
  fc
    .record({ kdfId: u16, reserved: nonzero(u8), eidHmacId: u16, records: fc.array(eidPrefix, { maxLength: 3 }), eidHmac: bytes(32) })
    .map(compact),
);
const otkAd = fc.record({ wrappingId: u16, preamble: fc.uint8Array({ minLength: 8, maxLength: 8 }), otk: bytes(24) });
const pktAd = fc.record({ pktHmacId: u16, pktHmac: bytes(32) });
/**
 * An AD Type no registry assigns: the rest of the message is its data. Not 0x4X/0x6X, which in an
 * S=1 ECM read as an inner IP header sent without AD, nor 2 (OOR's MS-RTR authentication).
 */
const unknownAd = fc
  .record({ adType: u8.filter((t) => t !== 1 && t !== 2 && t >> 4 !== 4 && t >> 4 !== 6), reserved: nonzero(u24), data: bytes() })
  .map((r): LispSecAd => compact(r));
const mapReplyAd = fc
  .record({ reserved: nonzero(u24), eidAd, pktAd })
  .map((r): LispSecAd => compact({ adType: 1, ...r }));
const ecmAd = fc.record({ reserved: nonzero(u24), otkAd, eidAd }).map((r): LispSecAd => compact({ adType: 1, ...r }));

const mapReply = fc
  .record({
    probe: fc.boolean(),
    echoNonceCapable: fc.boolean(),
    reserved: nonzero(fc.integer({ min: 0, max: 0x1ffff })),
    nonce,
    records: fc.array(mappingRecord, { maxLength: 3 }),
    lispSec: fc.option(fc.oneof({ weight: 4, arbitrary: mapReplyAd }, { weight: 1, arbitrary: unknownAd }), { nil: undefined }),
    trailing,
  })
  // S says whether the AD is there; an unknown AD Type's data runs to the end, leaving no trailer.
  .map((r): ControlMessage =>
    compact({ type: 2 as const, ...r, security: r.lispSec !== undefined, trailing: r.lispSec?.data ? undefined : r.trailing }),
  );

const mapRegister = fc
  .record({
    proxyReply: fc.boolean(),
    security: fc.boolean(),
    builtForRtr: fc.boolean(),
    reserved: nonzero(fc.integer({ min: 0, max: 0x7ff })),
    eidNotify: fc.boolean(),
    ttlTimeout: fc.boolean(),
    merge: fc.boolean(),
    mobileNode: fc.boolean(),
    wantMapNotify: fc.boolean(),
    nonce,
    auth,
    records: fc.array(mappingRecord, { maxLength: 3 }),
    xtr,
    trailing,
  })
  .map(({ auth: a, xtr: x, ...r }): ControlMessage =>
    compact({ type: 3 as const, xtrIdPresent: x !== undefined, ...r, ...a, xtrId: x?.xtrId, siteId: x?.siteId }),
  );

const mapNotify = fc
  .record({
    type: fc.constantFrom(4 as const, 5 as const),
    reserved: nonzero(fc.integer({ min: 0, max: 0x3ffff })),
    nonce,
    auth,
    records: fc.array(mappingRecord, { minLength: 1, maxLength: 3 }),
    xtr,
    // Wireshark's layout, or OOR's with the AD Type word first (its reserved bits left 0: a
    // non-zero value could read as the other layout's Length). Wireshark's layout with Key ID 2
    // and no data reads as OOR's AD word alone, as the decoder does.
    msRtrAuth: fc.option(
      fc
        .tuple(auth, fc.boolean())
        .filter(([a, word]) => word || !(a.keyId === MS_RTR_AD_TYPE && a.authData.length === 0))
        .map(([a, word]): MsRtrAuth => (word ? { adType: MS_RTR_AD_TYPE, ...a } : a)),
      { nil: undefined },
    ),
  })
  .map(({ auth: a, xtr: x, ...r }): ControlMessage =>
    compact({ ...r, xtrIdPresent: x !== undefined, msRtrAuthPresent: r.msRtrAuth !== undefined, ...a, xtrId: x?.xtrId, siteId: x?.siteId }),
  );

const mapReferral = fc
  .record({
    reserved: nonzero(fc.integer({ min: 0, max: 0xfffff })),
    nonce,
    records: fc.array(referralRecord, { maxLength: 3 }),
    trailing,
  })
  .map((r): ControlMessage => compact({ type: 6 as const, ...r }));

const natLcaf = fc
  .tuple(u16, u16, ipAddress, ipAddress, plainAddress, fc.array(ipAddress, { maxLength: 3 }))
  .map(([ms, etr, g, m, p, rtrs]): LispAddress => ({
    kind: 'lcaf',
    afi: 16387,
    lcaf: {
      type: 7,
      rsvd1: 0,
      flags: 0,
      rsvd2: 0,
      body: { kind: 'nat-traversal', msUdpPort: ms, etrUdpPort: etr, globalEtrRloc: g, msRloc: m, privateEtrRloc: p, rtrRlocs: rtrs },
    },
  }));

const info = fc
  .record({
    reply: fc.boolean(),
    reserved: nonzero(fc.integer({ min: 0, max: 0x07ffffff })),
    nonce,
    auth,
    ttl: u32,
    reserved2: nonzero(u8),
    eidMaskLen: u8,
    eid: address,
    nat: natLcaf,
    trailing,
  })
  .map(({ auth: a, nat, ...r }): ControlMessage =>
    compact({ type: 7 as const, ...r, ...a, address: r.reply ? nat : { kind: 'none' as const, afi: 0 as const } }),
  );

const sharedExtension = fc
  .record({ subType: fc.integer({ min: 0, max: 0xfff }), data: bytes() })
  .map((r): ControlMessage => ({ type: 15, ...r }));

const unknownControl = fc
  .tuple(fc.constantFrom(0, 9, 10, 11, 12, 13, 14), fc.uint8Array({ minLength: 1, maxLength: 20 }))
  .map(([type, data]): ControlMessage => {
    data[0] = (type << 4) | (data[0]! & 0x0f);
    return { type, unknown: true, data };
  });

/** Every control message except ECM. */
export const plainControl: fc.Arbitrary<ControlMessage> = fc.oneof(
  mapRequest,
  mapReply,
  mapRegister,
  mapNotify,
  mapReferral,
  info,
  sharedExtension,
  unknownControl,
);

const ecm = fc
  .record({
    security: fc.boolean(),
    ddt: fc.boolean(),
    toEtr: fc.boolean(),
    toMs: fc.boolean(),
    reserved: nonzero(u24.map((v) => v & ~0x600000)),
    rtrProcess: fc.constantFrom(true, undefined),
    rtrRelayed: fc.constantFrom(true, undefined),
    v6: fc.boolean(),
    src4: ipv4,
    dst4: ipv4,
    src6: ipv6,
    dst6: ipv6,
    ttl: u8,
    sport: u16,
    dport: u16,
    udpChecksum: u16,
    message: plainControl,
    lispSec: fc.oneof({ weight: 4, arbitrary: ecmAd }, { weight: 1, arbitrary: unknownAd }),
    msRtr: fc.option(fc.tuple(auth, nonzero(u24)).map(([a, reserved]): MsRtrAuth => compact({ adType: 2, reserved, ...a })), { nil: undefined }),
  })
  .map(
    (r): ControlMessage =>
      compact({
        type: 8 as const,
        security: r.security,
        ddt: r.ddt,
        toEtr: r.toEtr,
        toMs: r.toMs,
        reserved: r.reserved,
        rtrProcess: r.rtrProcess,
        rtrRelayed: r.rtrRelayed,
        // S=1: LISP-SEC or OOR's MS-RTR authentication before the inner packet; an unknown AD
        // Type's data hides the packet.
        lispSec: r.security && !r.msRtr ? r.lispSec : undefined,
        msRtrAuth: r.security ? r.msRtr : undefined,
        inner: r.security && !r.msRtr && r.lispSec.data ? undefined : {
          ipVersion: r.v6 ? (6 as const) : (4 as const),
          src: r.v6 ? r.src6 : r.src4,
          dst: r.v6 ? r.dst6 : r.dst4,
          ttl: r.ttl,
          sport: r.sport,
          dport: r.dport,
          udpChecksum: r.udpChecksum,
          message: r.message,
        },
      }),
  );

export const controlMessage: fc.Arbitrary<ControlMessage> = fc.oneof({ weight: 8, arbitrary: plainControl }, { weight: 1, arbitrary: ecm });

/** An inner packet's transport bytes: a whole TCP header, and ICMP echoes whole or cut, often enough to be seen. */
const echoType = fc.constantFrom(0, 8, 128, 129);
const transportBody = fc.oneof(
  fc.uint8Array({ maxLength: 40 }),
  fc.uint8Array({ minLength: 20, maxLength: 40 }),
  fc.tuple(echoType, fc.uint8Array({ minLength: 7, maxLength: 40 })).map(([type, rest]) => Uint8Array.of(type, ...rest)),
  fc.tuple(echoType, fc.uint8Array({ maxLength: 6 })).map(([type, rest]) => Uint8Array.of(type, ...rest)),
);

const innerPacket = fc.oneof(
  fc
    .record({
      src: ipv4,
      dst: ipv4,
      proto: fc.constantFrom(1, 6, 17, 47, 58, 132),
      body: transportBody,
      frag: fc.constantFrom(0, 0, 0, 3),
      mf: fc.boolean(),
    })
    .map((r) => encodeIPv4({ src: r.src, dst: r.dst, proto: r.proto, fragmentOffset: r.frag, mf: r.mf }, r.body)),
  fc
    .record({ src: ipv6, dst: ipv6, proto: fc.constantFrom(1, 6, 17, 58, 0, 44), body: transportBody })
    .map((r) => encodeIPv6({ src: r.src, dst: r.dst, nextHeader: r.proto }, r.body)),
  fc.uint8Array({ maxLength: 30 }),
);

/**
 * A frame of LISP data (of any link type, from or to odd ports, sometimes cut short): often a
 * plain data packet (capture/plain-data.ts), for the fast paths that must write what the decoder does.
 */
export const dataFrame: fc.Arbitrary<Omit<Frame, 'index'>> = fc
  .record({
    link: fc.constantFrom(1, 12, 101, 113, 228, 276, 0),
    src: ipv4,
    dst: ipv4,
    sport: fc.constantFrom(4341, 4342, 4789, 61000, 1234, 50001, 50002),
    dport: fc.constantFrom(4341, 4341, 4341, 4342, 80),
    flags: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 31 }).map((x) => x << 3) }, fc.integer({ min: 0, max: 255 })),
    word1: fc.integer({ min: 0, max: 0xffffff }),
    word2: fc.integer({ min: 0, max: 0xffffffff }),
    inner: innerPacket,
    tsSec: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    tsNsec: fc.integer({ min: 0, max: 999_999_999 }),
    cut: fc.constantFrom(0, 0, 0, 1, 5),
  })
  .map((r) => {
    const lisp = encodeData({ flags: r.flags, word1: r.word1, word2: r.word2 }, r.inner);
    const full = encodeLink(r.link, encodeIpUdp({ src: r.src, dst: r.dst, sport: r.sport, dport: r.dport }, lisp));
    return { tsSec: r.tsSec, tsNsec: r.tsNsec, linkType: r.link, len: full.length, data: full.subarray(0, full.length - r.cut), interfaceId: 0 };
  });
