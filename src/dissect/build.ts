// Builders for ready-made LISP messages and packets, in the RFCs' own words (RFC 9300, 9301, 8111,
// the NAT-traversal draft). Fixtures, tests, the Mobile Node and the lab all build packets here so
// that they speak through the one encoder. Addresses and prefixes are given as text
// ('10.1.0.5/32', '[223]10.0.0.0/8', '2001:db8::1') or as LispAddress values (for LCAFs).
// Nonces are always passed in: fixtures use seededNonces(), live code randomNonce().

import { createHmac, randomBytes } from 'node:crypto';
import { addressBits, addressText, ipAddress, parseAddress, parsePrefix, type Prefix } from './address.js';
import { blankAuthData, computeMac, signAuthAt, signMessage, splitKeyIdField } from './auth.js';
import { encodeControl } from './control.js';
import { Writer } from './cursor.js';
import { DataField, DataFlag, dataHeader, encodeData } from './data.js';
import { fieldBits } from './field.js';
import {
  addressBytes,
  encodeIPv4,
  encodeIPv6,
  encodeIpUdp,
  encodeUdp,
  internetChecksum,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  transportChecksum,
} from './ip.js';
import { encodeLink, LINKTYPE_EN10MB } from './link.js';
import { encodeLispSec } from './lispsec.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT, LISP_SEC_HMAC_IDS, LispSecAdType, MS_RTR_AD_TYPE } from './registry.js';
import type {
  ControlMessage,
  DataHeader,
  Ecm,
  EidAd,
  LispSecAd,
  InfoMessage,
  LispAddress,
  Locator,
  MapNotify,
  MapReferral,
  MapRegister,
  MapReply,
  MapRequest,
  MappingRecord,
  ReferralRecord,
  ReferralSignature,
} from './types.js';

// ---- nonces ----------------------------------------------------------------------------------

/** A random 64-bit nonce from the system CSPRNG (RFC 9301 §5.2: random per request). */
export function randomNonce(): bigint {
  return randomBytes(8).readBigUInt64BE(0);
}

/** A deterministic nonce sequence (SplitMix64) for fixtures and tests: same seed, same nonces. */
export function seededNonces(seed: number | bigint): () => bigint {
  const M = (1n << 64n) - 1n;
  let state = BigInt(seed) & M;
  return () => {
    state = (state + 0x9e3779b97f4a7c15n) & M;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    return z ^ (z >> 31n);
  };
}

// ---- addresses -------------------------------------------------------------------------------

export type AddressSpec = string | LispAddress;
/** Prefix text, an address (host prefix, or mask 0 for LCAFs other than Instance-ID), or address + mask. */
export type PrefixSpec = string | LispAddress | Prefix;

/** An address from text (see parseAddress) or as given. Throws on text that is no address. */
export function address(a: AddressSpec): LispAddress {
  if (typeof a !== 'string') return a;
  const parsed = parseAddress(a);
  if (!parsed) throw new RangeError(`not an address: ${a}`);
  return parsed;
}

/** A prefix from text (see parsePrefix) or as given. Throws on text that is no prefix. */
export function prefix(p: PrefixSpec): Prefix {
  if (typeof p === 'string') {
    const parsed = parsePrefix(p);
    if (!parsed) throw new RangeError(`not an EID prefix: ${p}`);
    return parsed;
  }
  if ('kind' in p) return { address: p, maskLen: addressBits(p) };
  return p;
}

// ---- mapping records -------------------------------------------------------------------------

export interface LocatorSpec {
  rloc: AddressSpec;
  /** Default 1 (255 = not for unicast). */
  priority?: number;
  /** Default 100. */
  weight?: number;
  /** Default 255 (no multicast). */
  mpriority?: number;
  /** Default 0. */
  mweight?: number;
  /** L: the RLOC is the sender's own. */
  local?: boolean;
  /** p: the probed locator of an RLOC-probe reply. */
  probed?: boolean;
  /** R: default true. */
  reachable?: boolean;
}

export function locator(l: LocatorSpec): Locator {
  return {
    priority: l.priority ?? 1,
    weight: l.weight ?? 100,
    mpriority: l.mpriority ?? 255,
    mweight: l.mweight ?? 0,
    local: l.local ?? false,
    probed: l.probed ?? false,
    reachable: l.reachable ?? true,
    rloc: address(l.rloc),
  };
}

export interface MappingRecordSpec {
  eid: PrefixSpec;
  /** Minutes; default 1440 (24 h, RFC 9301 §5.4). */
  ttl?: number;
  /** ACT (only meaningful without locators); default 0 No-Action. */
  action?: number;
  /** A; default true (sent by the site's own ETR). */
  authoritative?: boolean;
  mapVersion?: number;
  locators?: LocatorSpec[];
}

export function mappingRecord(r: MappingRecordSpec): MappingRecord {
  const eid = prefix(r.eid);
  return {
    ttl: r.ttl ?? 1440,
    eidMaskLen: eid.maskLen,
    action: r.action ?? 0,
    authoritative: r.authoritative ?? true,
    mapVersion: r.mapVersion ?? 0,
    eid: eid.address,
    locators: (r.locators ?? []).map(locator),
  };
}

// ---- Map-Request / Map-Reply -----------------------------------------------------------------

export interface MapRequestSpec extends XtrIdSpec {
  nonce: bigint;
  /** EID-records: the prefixes asked for. */
  eids: PrefixSpec[];
  /** 1..32 addresses the reply may go to. */
  itrRlocs: AddressSpec[];
  /** Default AFI 0 (no Source-EID). */
  sourceEid?: AddressSpec;
  authoritative?: boolean;
  probe?: boolean;
  smr?: boolean;
  pitr?: boolean;
  smrInvoked?: boolean;
  /** L: sent by an xTR of the same site. */
  localXtr?: boolean;
  /** D: do not answer (used with SMR). */
  dontMapReply?: boolean;
  /** The requester's own mapping; sets M (map-data present). */
  mapReply?: MappingRecord;
  /** RFC 9437 N (bit 0 of each EID-record's first byte): notify me of changes; goes with an xTR-ID. */
  subscribe?: boolean;
}

/** The N bit of a Map-Request EID-record (RFC 9437): the requester subscribes to the EID-prefix. */
export const EID_RECORD_N = 0x80;

export function mapRequest(s: MapRequestSpec): MapRequest {
  const m: MapRequest = {
    type: 1,
    authoritative: s.authoritative ?? false,
    mapDataPresent: s.mapReply !== undefined,
    probe: s.probe ?? false,
    smr: s.smr ?? false,
    pitr: s.pitr ?? false,
    smrInvoked: s.smrInvoked ?? false,
    xtrIdPresent: false,
    localXtr: s.localXtr ?? false,
    dontMapReply: s.dontMapReply ?? false,
    nonce: s.nonce,
    sourceEid: s.sourceEid === undefined ? { kind: 'none', afi: 0 } : address(s.sourceEid),
    itrRlocs: s.itrRlocs.map(address),
    eids: s.eids.map((e) => {
      const p = prefix(e);
      return { maskLen: p.maskLen, prefix: p.address, ...(s.subscribe ? { reserved: EID_RECORD_N } : {}) };
    }),
  };
  if (s.mapReply) m.mapReply = s.mapReply;
  // RFC 9437: with an xTR-ID and site-ID the Map-Request asks for a subscription.
  xtrTrailer(s, m);
  return m;
}

export interface MapReplySpec {
  nonce: bigint;
  records: MappingRecord[];
  /** P: an RLOC-probe reply. */
  probe?: boolean;
  /** E: the sender can do echo-nonce. */
  echoNonceCapable?: boolean;
  /** S: LISP-SEC data follows; default: whether `lispSec` is given. */
  security?: boolean;
  /** LISP-SEC Authentication Data after the records (mapReplyLispSec()). */
  lispSec?: LispSecAd;
}

export function mapReply(s: MapReplySpec): MapReply {
  const m: MapReply = {
    type: 2,
    probe: s.probe ?? false,
    echoNonceCapable: s.echoNonceCapable ?? false,
    security: s.security ?? s.lispSec !== undefined,
    nonce: s.nonce,
    records: s.records,
  };
  if (s.lispSec) m.lispSec = s.lispSec;
  return m;
}

export interface NegativeMapReplySpec {
  nonce: bigint;
  /** The (widest) prefix the answer covers. */
  eid: PrefixSpec;
  /** Default 1 Natively-Forward. */
  action?: number;
  /** Minutes; default 15 (a Map-Resolver's negative reply, RFC 9301 §8.4). */
  ttl?: number;
  /** Default false: the mapping system, not a site, answered. */
  authoritative?: boolean;
  mapVersion?: number;
}

/** A Map-Reply with one locator-less record: ACT says what to do with the EID. */
export function negativeMapReply(s: NegativeMapReplySpec): MapReply {
  return mapReply({
    nonce: s.nonce,
    records: [
      mappingRecord({
        eid: s.eid,
        ttl: s.ttl ?? 15,
        action: s.action ?? 1,
        authoritative: s.authoritative ?? false,
        mapVersion: s.mapVersion ?? 0,
      }),
    ],
  });
}

// ---- authenticated messages ------------------------------------------------------------------

export interface AuthSpec {
  /**
   * The 16-bit Key ID field as RFC 6830 wrote it (what `--key-id` and the lab's configuration
   * say): 1 = HMAC-SHA-1-96, 2 = HMAC-SHA-256-128; RFC 9301 reads its high byte as the Key ID and
   * its low byte as the Algorithm ID.
   */
  keyId: number;
  /** The site's shared key. */
  key: string | Uint8Array;
  /** Authentication Data Length; default the full MAC (20 for SHA-1, 32 for SHA-256). */
  authLength?: number;
}

function blankAuth(a: AuthSpec): Uint8Array {
  const full = blankAuthData(splitKeyIdField(a.keyId).algorithmId);
  if (full.length === 0) throw new RangeError(`no authentication algorithm for Key ID ${a.keyId}`);
  if (a.authLength === undefined) return full;
  if (a.authLength > full.length) throw new RangeError(`Authentication Data Length ${a.authLength} exceeds the ${full.length}-byte MAC`);
  return new Uint8Array(a.authLength);
}

/** Encodes an authenticated message (its Authentication Data sized, zeroed) and signs it with `key`. */
export function signed(m: MapRegister | MapNotify | InfoMessage, key: string | Uint8Array): Uint8Array {
  return signMessage(encodeControl(m), key);
}

function fixedBytes(v: Uint8Array | bigint, size: number, what: string): Uint8Array {
  if (v instanceof Uint8Array) {
    if (v.length !== size) throw new RangeError(`${what} must be ${size} bytes, not ${v.length}`);
    return v;
  }
  if (v < 0n || v >> BigInt(size * 8) !== 0n) throw new RangeError(`${what} ${v} does not fit ${size} bytes`);
  const out = new Uint8Array(size);
  let x = v;
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

interface XtrIdSpec {
  /** 128-bit xTR-ID: sets I and appends xTR-ID and site-ID. */
  xtrId?: Uint8Array | bigint;
  /** 64-bit site-ID (default 0 when only xtrId is given). */
  siteId?: Uint8Array | bigint;
}

function xtrTrailer(s: XtrIdSpec, m: { xtrIdPresent: boolean; xtrId?: Uint8Array; siteId?: Uint8Array }): void {
  if (s.xtrId === undefined && s.siteId === undefined) return;
  m.xtrIdPresent = true;
  m.xtrId = fixedBytes(s.xtrId ?? 0n, 16, 'xTR-ID');
  m.siteId = fixedBytes(s.siteId ?? 0n, 8, 'site-ID');
}

export interface MapRegisterSpec extends AuthSpec, XtrIdSpec {
  nonce: bigint;
  records: MappingRecord[];
  /** P: the Map-Server answers Map-Requests for these EIDs. */
  proxyReply?: boolean;
  /** S: LISP-SEC capable. */
  security?: boolean;
  /** R (bit 7, NAT draft): built for an RTR. */
  builtForRtr?: boolean;
  eidNotify?: boolean;
  /** T: the Record TTL is the registration timeout. */
  ttlTimeout?: boolean;
  /** a: merge RLOC-sets with other xTRs of the site. */
  merge?: boolean;
  /** Bit 22, "m" in lispers.net/OOR. */
  mobileNode?: boolean;
  /** M: answer with a Map-Notify. */
  wantMapNotify?: boolean;
}

/** The Map-Register with zeroed Authentication Data, ready for signed(). */
export function mapRegisterMessage(s: MapRegisterSpec): MapRegister {
  const m: MapRegister = {
    type: 3,
    proxyReply: s.proxyReply ?? false,
    security: s.security ?? false,
    xtrIdPresent: false,
    builtForRtr: s.builtForRtr ?? false,
    eidNotify: s.eidNotify ?? false,
    ttlTimeout: s.ttlTimeout ?? false,
    merge: s.merge ?? false,
    mobileNode: s.mobileNode ?? false,
    wantMapNotify: s.wantMapNotify ?? false,
    nonce: s.nonce,
    ...splitKeyIdField(s.keyId),
    authData: blankAuth(s),
    records: s.records,
  };
  xtrTrailer(s, m);
  return m;
}

/** A signed Map-Register (RFC 9301 §5.6), as UDP payload bytes. */
export function mapRegister(s: MapRegisterSpec): Uint8Array {
  return signed(mapRegisterMessage(s), s.key);
}

export interface MapNotifySpec extends AuthSpec, XtrIdSpec {
  /** The Map-Register's nonce when acknowledging one. */
  nonce: bigint;
  records: MappingRecord[];
  /**
   * R (NAT-traversal draft): the Map-Server's authentication towards the RTR follows the rest,
   * signed with the RTR's key; `adWord` puts OOR's AD Type word (2) before its Key ID.
   */
  msRtr?: AuthSpec & { adWord?: boolean };
}

/** Map-Notify (4) or Map-Notify-Ack (5) with zeroed Authentication Data, ready for signed(). */
export function mapNotifyMessage(s: MapNotifySpec, type: 4 | 5 = 4): MapNotify {
  const m: MapNotify = {
    type,
    xtrIdPresent: false,
    msRtrAuthPresent: false,
    nonce: s.nonce,
    ...splitKeyIdField(s.keyId),
    authData: blankAuth(s),
    records: s.records,
  };
  xtrTrailer(s, m);
  if (s.msRtr) {
    m.msRtrAuthPresent = true;
    m.msRtrAuth = { ...splitKeyIdField(s.msRtr.keyId), authData: blankAuth(s.msRtr) };
    if (s.msRtr.adWord) m.msRtrAuth.adType = MS_RTR_AD_TYPE;
  }
  return m;
}

/**
 * A signed Map-Notify (RFC 9301 §5.7), as UDP payload bytes. With R, the site's HMAC covers the
 * message up to the MS-RTR block (the Map-Server signs before appending it, as OOR does) and the
 * MS-RTR HMAC the whole message.
 */
export function mapNotify(s: MapNotifySpec): Uint8Array {
  const m = mapNotifyMessage(s, 4);
  const bytes = encodeControl(m);
  if (!m.msRtrAuth || !s.msRtr) return signMessage(bytes, s.key);
  const block = (m.msRtrAuth.adType !== undefined ? 4 : 0) + 4 + m.msRtrAuth.authData.length;
  signMessage(bytes, s.key, bytes.length - block);
  return signAuthAt(bytes, bytes.length - block + (m.msRtrAuth.adType !== undefined ? 4 : 0), s.msRtr.key);
}

/** A signed Map-Notify-Ack (RFC 9301 §5.7): same layout, nonce of the Map-Notify it acknowledges. */
export function mapNotifyAck(s: MapNotifySpec): Uint8Array {
  return signed(mapNotifyMessage(s, 5), s.key);
}

// ---- Info-Request / Info-Reply (NAT traversal) -----------------------------------------------

export interface NatTraversalSpec {
  /** Port the Info-Request arrived on; default 4342. */
  msUdpPort?: number;
  /** The requester's source port as the Map-Server saw it (after NAT). */
  etrUdpPort: number;
  /** The requester's address as the Map-Server saw it (after NAT). */
  globalEtrRloc: AddressSpec;
  /** The address the Map-Server received the Info-Request on. */
  msRloc: AddressSpec;
  /** The requester's own address; default AFI 0. */
  privateEtrRloc?: AddressSpec;
  rtrRlocs?: AddressSpec[];
}

/** The NAT-Traversal LCAF (type 7). */
export function natTraversal(n: NatTraversalSpec): LispAddress {
  return {
    kind: 'lcaf',
    afi: 16387,
    lcaf: {
      type: 7,
      rsvd1: 0,
      flags: 0,
      rsvd2: 0,
      body: {
        kind: 'nat-traversal',
        msUdpPort: n.msUdpPort ?? LISP_CONTROL_PORT,
        etrUdpPort: n.etrUdpPort,
        globalEtrRloc: address(n.globalEtrRloc),
        msRloc: address(n.msRloc),
        privateEtrRloc: n.privateEtrRloc === undefined ? { kind: 'none', afi: 0 } : address(n.privateEtrRloc),
        rtrRlocs: (n.rtrRlocs ?? []).map(address),
      },
    },
  };
}

export interface InfoRequestSpec extends AuthSpec {
  nonce: bigint;
  /** The requester's EID prefix. */
  eid: PrefixSpec;
  /** Minutes; default 0 (requests carry none). */
  ttl?: number;
}

export interface InfoReplySpec extends AuthSpec {
  /** The Info-Request's nonce. */
  nonce: bigint;
  eid: PrefixSpec;
  /** Minutes the RTR information may be kept; default 1440. */
  ttl?: number;
  nat: NatTraversalSpec;
}

function infoMessage(s: AuthSpec & { nonce: bigint; eid: PrefixSpec; ttl: number }, reply: boolean, addr: LispAddress): InfoMessage {
  const eid = prefix(s.eid);
  return {
    type: 7,
    reply,
    nonce: s.nonce,
    ...splitKeyIdField(s.keyId),
    authData: blankAuth(s),
    ttl: s.ttl,
    eidMaskLen: eid.maskLen,
    eid: eid.address,
    address: addr,
  };
}

export function infoRequestMessage(s: InfoRequestSpec): InfoMessage {
  return infoMessage({ ...s, ttl: s.ttl ?? 0 }, false, { kind: 'none', afi: 0 });
}

/** A signed Info-Request (R=0, AFI 0 after the EID), as UDP payload bytes. */
export function infoRequest(s: InfoRequestSpec): Uint8Array {
  return signed(infoRequestMessage(s), s.key);
}

export function infoReplyMessage(s: InfoReplySpec): InfoMessage {
  return infoMessage({ ...s, ttl: s.ttl ?? 1440 }, true, natTraversal(s.nat));
}

/** A signed Info-Reply (R=1) carrying the NAT-Traversal LCAF, as UDP payload bytes. */
export function infoReply(s: InfoReplySpec): Uint8Array {
  return signed(infoReplyMessage(s), s.key);
}

// ---- Map-Referral (RFC 8111) -----------------------------------------------------------------

export interface ReferralRecordSpec {
  eid: PrefixSpec;
  /** Minutes; default 1440. */
  ttl?: number;
  /** Referral action (RFC 8111 §6.1): 0 NODE-REFERRAL ... 5 NOT-AUTHORITATIVE. */
  action: number;
  /** Default true. */
  authoritative?: boolean;
  /** I: the referral set is incomplete. */
  incomplete?: boolean;
  mapVersion?: number;
  /** DDT nodes or Map-Servers to ask next. */
  referrals?: LocatorSpec[];
  signatures?: ReferralSignature[];
}

export function referralRecord(r: ReferralRecordSpec): ReferralRecord {
  const eid = prefix(r.eid);
  return {
    ttl: r.ttl ?? 1440,
    eidMaskLen: eid.maskLen,
    action: r.action,
    authoritative: r.authoritative ?? true,
    incomplete: r.incomplete ?? false,
    mapVersion: r.mapVersion ?? 0,
    eid: eid.address,
    referrals: (r.referrals ?? []).map(locator),
    signatures: r.signatures ?? [],
  };
}

export function mapReferral(s: { nonce: bigint; records: ReferralRecord[] }): MapReferral {
  return { type: 6, nonce: s.nonce, records: s.records };
}

// ---- LISP-SEC (RFC 9303) ---------------------------------------------------------------------

function lispSecHmac(id: number, key: Uint8Array, data: Uint8Array): Uint8Array {
  const alg = LISP_SEC_HMAC_IDS.get(id);
  if (!alg?.hash) throw new RangeError(`LISP-SEC HMAC ID ${id} names no HMAC`);
  return new Uint8Array(createHmac(alg.hash, key).update(data).digest().subarray(0, alg.length));
}

export interface EidAdSpec {
  /** KDF ID; default 2 (HKDF-SHA256-128). */
  kdfId?: number;
  /** The Map-Server's EID-Prefixes; absent: an ITR's EID-AD (KDF ID only). */
  eids?: PrefixSpec[];
  /** EID HMAC ID; default 2 (AUTH-HMAC-SHA-256-128). */
  eidHmacId?: number;
  /** The OTK the Map-Server computes the EID HMAC with (RFC 9303 §6.7: over the EID-AD, HMAC zeroed). */
  otk?: Uint8Array;
  /** Or the EID HMAC bytes as they are to appear. */
  eidHmac?: Uint8Array;
}

export function eidAd(s: EidAdSpec = {}): EidAd {
  const e: EidAd = { kdfId: s.kdfId ?? 2 };
  if (!s.eids) return e;
  e.eidHmacId = s.eidHmacId ?? 2;
  e.records = s.eids.map((x) => {
    const p = prefix(x);
    return { maskLen: p.maskLen, prefix: p.address };
  });
  const size = LISP_SEC_HMAC_IDS.get(e.eidHmacId)?.length ?? 0;
  e.eidHmac = s.eidHmac ?? new Uint8Array(size);
  if (s.otk && !s.eidHmac) {
    // Encode with the HMAC zeroed, drop the AD Type word: what is left is the EID-AD.
    const w = new Writer();
    encodeLispSec(w, { adType: LispSecAdType.LispSec, eidAd: e });
    e.eidHmac = lispSecHmac(e.eidHmacId, s.otk, w.finish().subarray(4));
  }
  return e;
}

export interface EcmLispSecSpec {
  /** The One-Time Key (or, from the Map-Server to the ETR, the MS-OTK) as it is to be carried. */
  otk: Uint8Array;
  /** OTK Wrapping ID; default 1 (NULL-KEY-WRAP-128: the OTK in clear). */
  wrappingId?: number;
  /** Default 8 zero bytes (what NULL-KEY-WRAP-128 requires). */
  preamble?: Uint8Array;
  /** Default an ITR's EID-AD (KDF ID 2 only). */
  eidAd?: EidAd;
}

/** LISP-SEC Authentication Data of an ECM (RFC 9303 §6.1): OTK-AD and EID-AD. */
export function ecmLispSec(s: EcmLispSecSpec): LispSecAd {
  return {
    adType: LispSecAdType.LispSec,
    otkAd: { wrappingId: s.wrappingId ?? 1, preamble: s.preamble ?? new Uint8Array(8), otk: s.otk },
    eidAd: s.eidAd ?? eidAd(),
  };
}

export interface MapReplyLispSecSpec {
  /** Copied by the ETR from the Map-Server's ECM. */
  eidAd: EidAd;
  /** PKT HMAC ID; default 2 (AUTH-HMAC-SHA-256-128). */
  pktHmacId?: number;
  /** PKT HMAC bytes; default zeros of the HMAC's size (signMapReplyPktAd() fills them). */
  pktHmac?: Uint8Array;
}

/** LISP-SEC Authentication Data of a Map-Reply (RFC 9303 §6.2): EID-AD and PKT-AD. */
export function mapReplyLispSec(s: MapReplyLispSecSpec): LispSecAd {
  const id = s.pktHmacId ?? 2;
  return {
    adType: LispSecAdType.LispSec,
    eidAd: s.eidAd,
    pktAd: { pktHmacId: id, pktHmac: s.pktHmac ?? new Uint8Array(LISP_SEC_HMAC_IDS.get(id)?.length ?? 0) },
  };
}

/**
 * Fills the PKT HMAC of a Map-Reply with LISP-SEC data: the ETR's HMAC with the MS-OTK over the
 * whole Map-Reply, from the Type field through the PKT HMAC, the PKT HMAC zeroed (RFC 9303 §6.2).
 */
export function signMapReplyPktAd(m: MapReply, msOtk: Uint8Array): MapReply {
  const pkt = m.lispSec?.pktAd;
  if (!pkt) throw new RangeError('the Map-Reply has no PKT-AD to sign');
  const zeroed: MapReply = { ...m, lispSec: { ...m.lispSec!, pktAd: { ...pkt, pktHmac: new Uint8Array(pkt.pktHmac.length) } } };
  delete zeroed.trailing;
  const hmac = lispSecHmac(pkt.pktHmacId, msOtk, encodeControl(zeroed));
  return { ...m, lispSec: { ...m.lispSec!, pktAd: { ...pkt, pktHmac: hmac } } };
}

// ---- ECM -------------------------------------------------------------------------------------

export interface EcmSpec {
  inner: {
    /** Inner IP source: the ITR's RLOC (or EID). The family of src picks IPv4 or IPv6. */
    src: string;
    /** Inner IP destination: the EID looked up, or the Map-Server. */
    dst: string;
    /** Where the requester listens for the answer. */
    sport: number;
    /** Default 4342. */
    dport?: number;
    /** Default 64. */
    ttl?: number;
    /** Compute the inner UDP checksum (default true); false writes 0, as many senders do. */
    udpChecksum?: boolean;
  };
  /** The encapsulated message, or already-encoded bytes (a signed Map-Register, another ECM ...). */
  message: ControlMessage | Uint8Array;
  /** S: LISP-SEC data present; default: whether `lispSec` is given. */
  security?: boolean;
  /** LISP-SEC Authentication Data before the inner IP header (ecmLispSec()). */
  lispSec?: LispSecAd;
  /** D: sent by a DDT node. */
  ddt?: boolean;
  /** Bit 6: E to-ETR (RFC 9301) / R for an RTR (NAT draft). */
  toEtr?: boolean;
  /** Bit 7: M to-MS (RFC 9301) / N relay to the Map-Server (NAT draft). */
  toMs?: boolean;
  /** Open Overlay Router's bit 9: to be processed by an RTR. */
  rtrProcess?: boolean;
  /** Open Overlay Router's bit 10: relayed by an RTR to the Map-Server. */
  rtrRelayed?: boolean;
  /**
   * The Map-Server's authentication towards the RTR, as OOR sends it: S=1, AD Type 2, Key ID, and
   * the HMAC with the RTR's key over the encapsulated LISP message.
   */
  msRtr?: AuthSpec;
}

/** An Encapsulated Control Message (RFC 9301 §5.8). */
export function ecm(s: EcmSpec): Ecm {
  const src = ipAddress(s.inner.src);
  const dst = ipAddress(s.inner.dst);
  if (!src || !dst || src.afi !== dst.afi) throw new RangeError(`ECM inner addresses ${s.inner.src} > ${s.inner.dst} are not one IP family`);
  const payload = s.message instanceof Uint8Array ? s.message : encodeControl(s.message);
  const dport = s.inner.dport ?? LISP_CONTROL_PORT;
  let udpChecksum = 0;
  if (s.inner.udpChecksum ?? true) {
    const udp = encodeUdp(s.inner.sport, dport, payload, { checksum: { src: s.inner.src, dst: s.inner.dst } });
    udpChecksum = (udp[6]! << 8) | udp[7]!;
  }
  const m: Ecm = {
    type: 8,
    security: s.security ?? s.lispSec !== undefined,
    ddt: s.ddt ?? false,
    toEtr: s.toEtr ?? false,
    toMs: s.toMs ?? false,
    inner: {
      ipVersion: src.kind === 'ipv4' ? 4 : 6,
      src: addressText(src),
      dst: addressText(dst),
      ttl: s.inner.ttl ?? 64,
      sport: s.inner.sport,
      dport,
      udpChecksum,
    },
  };
  if (s.message instanceof Uint8Array) m.inner!.payload = s.message;
  else m.inner!.message = s.message;
  if (s.lispSec) m.lispSec = s.lispSec;
  if (s.rtrProcess) m.rtrProcess = true;
  if (s.rtrRelayed) m.rtrRelayed = true;
  if (s.msRtr) {
    const ids = splitKeyIdField(s.msRtr.keyId);
    const mac = computeMac(ids.algorithmId, s.msRtr.key, payload);
    if (!mac) throw new RangeError(`no authentication algorithm for Key ID ${s.msRtr.keyId}`);
    m.security = true;
    m.msRtrAuth = { adType: MS_RTR_AD_TYPE, ...ids, authData: mac.subarray(0, s.msRtr.authLength ?? mac.length) };
  }
  return m;
}

// ---- whole packets ---------------------------------------------------------------------------

export interface LispUdpPacketSpec {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** A control message, or the UDP payload bytes. */
  payload: ControlMessage | Uint8Array;
  /** Default 64. */
  ttl?: number;
  /** IPv4 Identification; default 0. */
  id?: number;
  /** Default true for control traffic (compute it); false writes 0. */
  udpChecksum?: boolean;
}

/** An IPv4 or IPv6 (by the address family) UDP datagram carrying a LISP message. */
export function lispUdpPacket(s: LispUdpPacketSpec): Uint8Array {
  const payload = s.payload instanceof Uint8Array ? s.payload : encodeControl(s.payload);
  return encodeIpUdp(
    { src: s.src, dst: s.dst, sport: s.sport, dport: s.dport, ttl: s.ttl ?? 64, id: s.id ?? 0, udpChecksum: s.udpChecksum ?? true },
    payload,
  );
}

export type InnerProto = 'icmp-echo-request' | 'icmp-echo-reply' | 'udp' | 'tcp';

export interface InnerPacketSpec {
  src: string;
  dst: string;
  proto: InnerProto;
  /** TTL / hop limit; default 64. */
  ttl?: number;
  /** IPv4 Identification; default 0. */
  id?: number;
  /** ICMP echo identifier and sequence number. */
  icmpId?: number;
  seq?: number;
  /** UDP/TCP ports. */
  sport?: number;
  dport?: number;
  /** TCP flags byte; default 0x02 (SYN). */
  tcpFlags?: number;
  tcpSeq?: number;
  tcpAck?: number;
  /** Upper-layer payload; default 32 bytes of ping-style filler for ICMP, empty otherwise. */
  payload?: Uint8Array;
}

const PING_FILLER = new TextEncoder().encode('abcdefghijklmnopqrstuvwabcdefghi');

/** An IPv4/IPv6 packet with an ICMP echo, UDP or TCP header: what an EID host sends. */
export function innerPacket(s: InnerPacketSpec): Uint8Array {
  const src = addressBytes(s.src);
  const dst = addressBytes(s.dst);
  if (src.length !== dst.length) throw new RangeError(`inner addresses ${s.src} > ${s.dst} are not one IP family`);
  const v6 = src.length === 16;
  let proto: number;
  let l4: Uint8Array;
  switch (s.proto) {
    case 'icmp-echo-request':
    case 'icmp-echo-reply': {
      const data = s.payload ?? PING_FILLER;
      l4 = new Uint8Array(8 + data.length);
      const request = s.proto === 'icmp-echo-request';
      l4[0] = v6 ? (request ? 128 : 129) : request ? 8 : 0;
      const dv = new DataView(l4.buffer);
      dv.setUint16(4, s.icmpId ?? 0);
      dv.setUint16(6, s.seq ?? 0);
      l4.set(data, 8);
      proto = v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;
      dv.setUint16(2, v6 ? transportChecksum(src, dst, proto, l4) : internetChecksum(l4));
      break;
    }
    case 'udp':
      proto = IPPROTO_UDP;
      l4 = encodeUdp(s.sport ?? 0, s.dport ?? 0, s.payload ?? new Uint8Array(0), { checksum: { src, dst } });
      break;
    case 'tcp': {
      proto = IPPROTO_TCP;
      const data = s.payload ?? new Uint8Array(0);
      l4 = new Uint8Array(20 + data.length);
      const dv = new DataView(l4.buffer);
      dv.setUint16(0, s.sport ?? 0);
      dv.setUint16(2, s.dport ?? 0);
      dv.setUint32(4, (s.tcpSeq ?? 0) >>> 0);
      dv.setUint32(8, (s.tcpAck ?? 0) >>> 0);
      l4[12] = 5 << 4;
      l4[13] = s.tcpFlags ?? 0x02;
      dv.setUint16(14, 65535);
      l4.set(data, 20);
      dv.setUint16(16, transportChecksum(src, dst, proto, l4));
      break;
    }
  }
  return v6
    ? encodeIPv6({ src, dst, nextHeader: proto, hopLimit: s.ttl ?? 64 }, l4)
    : encodeIPv4({ src, dst, proto, ttl: s.ttl ?? 64, id: s.id ?? 0 }, l4);
}

export interface DataHeaderSpec {
  /** N: 24-bit nonce (16-bit under GPE). */
  nonce?: number;
  /** E: ask the other side to echo the nonce (with nonce). */
  echoNonce?: boolean;
  /** V: source and destination map-versions (ignored when nonce is given). */
  mapVersion?: { source: number; dest: number };
  /** I: 24-bit Instance ID. */
  iid?: number;
  /** L: Locator-Status-Bits (8 with I, 32 without). */
  lsb?: number;
  /** K bits (RFC 8061): 1..3 means the payload is encrypted with that key. */
  keyId?: number;
  /** P (LISP-GPE, RFC 9305): Next Protocol 1 IPv4, 2 IPv6, 3 Ethernet, 4 NSH. */
  gpeNextProtocol?: number;
}

/** The 8-byte data header from named fields, with the K and GPE bits that dataHeader() leaves out. */
export function lispDataHeader(s: DataHeaderSpec): DataHeader {
  const fields: Parameters<typeof dataHeader>[0] = {};
  if (s.nonce !== undefined) fields.nonce = s.gpeNextProtocol !== undefined ? s.nonce & 0xffff : s.nonce;
  if (s.echoNonce) fields.echoNonce = true;
  if (s.mapVersion) fields.mapVersion = s.mapVersion;
  if (s.iid !== undefined) fields.iid = s.iid;
  if (s.lsb !== undefined) fields.lsb = s.lsb;
  const h = dataHeader(fields);
  h.flags |= (s.keyId ?? 0) & DataFlag.K;
  if (s.gpeNextProtocol !== undefined) {
    h.flags |= DataFlag.P;
    h.word1 = fieldBits(DataField.gpeNonce, h.word1) | fieldBits(DataField.nextProtocol, s.gpeNextProtocol);
  }
  return h;
}

export interface DataPacketSpec extends DataHeaderSpec {
  /** Outer addresses: ITR RLOC > ETR RLOC. */
  src: string;
  dst: string;
  /** Default: a hash of the inner packet's addresses and ports (entropy, RFC 9300 §5.3). */
  sport?: number;
  /** Default 4341. */
  dport?: number;
  /** Outer TTL; default the inner one (64). */
  ttl?: number;
  /** Outer IPv4 Identification; default 0. */
  id?: number;
  /**
   * The encapsulated packet: built from a spec, or given as bytes (ciphertext under K, an
   * Ethernet frame or NSH under GPE ...). With gpeNextProtocol 3 a spec is framed in Ethernet.
   */
  inner: InnerPacketSpec | Uint8Array;
}

function entropyPort(inner: Uint8Array): number {
  // FNV-1a over the version/addresses/protocol region and the first 4 payload bytes.
  let h = 0x811c9dc5;
  const v6 = inner[0]! >> 4 === 6;
  const hdr = v6 ? 40 : (inner[0]! & 0x0f) * 4;
  const parts = v6 ? [[6, 7], [8, 40]] : [[9, 10], [12, 20]];
  parts.push([hdr, hdr + 4]);
  for (const [a, b] of parts) {
    for (let i = a!; i < Math.min(b!, inner.length); i++) h = Math.imul(h ^ inner[i]!, 0x01000193) >>> 0;
  }
  return 0xc000 | (h & 0x3fff);
}

/** An encapsulated data packet (RFC 9300 §5): outer IP + UDP (checksum 0) + LISP header + inner packet. */
export function dataPacket(s: DataPacketSpec): Uint8Array {
  const ip = s.inner instanceof Uint8Array ? undefined : innerPacket(s.inner);
  const inner = ip ? (s.gpeNextProtocol === 3 ? encodeLink(LINKTYPE_EN10MB, ip) : ip) : (s.inner as Uint8Array);
  const sport = s.sport ?? (ip ? entropyPort(ip) : 0xc000);
  const ttl = s.ttl ?? (s.inner instanceof Uint8Array ? 64 : (s.inner.ttl ?? 64));
  return encodeIpUdp(
    { src: s.src, dst: s.dst, sport, dport: s.dport ?? LISP_DATA_PORT, ttl, id: s.id ?? 0, udpChecksum: false },
    encodeData(lispDataHeader(s), inner),
  );
}
