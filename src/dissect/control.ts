// LISP control messages (RFC 9301 §5; RFC 8111 Map-Referral; NAT-traversal draft Info; RFC 9304
// shared extension): decode from the UDP payload, encode back to it.

import { decodeAddress, encodeAddress } from './address.js';
import { Cursor, type Note, Writer } from './cursor.js';
import { decodeEcm, encodeEcm } from './ecm.js';
import { decodeLispSec, encodeLispSec } from './lispsec.js';
import {
  decodeEidPrefix,
  decodeMappingRecords,
  decodeReferralRecord,
  encodeEidPrefix,
  encodeMappingRecord,
  encodeReferralRecord,
} from './record.js';
import { AUTH_ALGORITHMS, isKnownControlType, MessageType, MS_RTR_AD_TYPE } from './registry.js';
import type {
  AuthFields,
  ControlMessage,
  Decoded,
  InfoMessage,
  LispAddress,
  MapNotify,
  MapReferral,
  MapRegister,
  MapReply,
  MapRequest,
  MappingRecord,
  MsRtrAuth,
  SharedExtension,
} from './types.js';

/** Decodes the LISP control message in bytes[start, end). Never throws on the bytes. */
export function decodeControl(bytes: Uint8Array, start = 0, end = bytes.length, depth = 0): Decoded<ControlMessage> {
  const notes: Note[] = [];
  const c = new Cursor(bytes, start, end, start, notes);
  return { value: decodeControlAt(c, depth), notes };
}

/** Decodes at the cursor, consuming to its end. Exposed for ECM, whose inner message shares the notes. */
export function decodeControlAt(c: Cursor, depth: number): ControlMessage {
  if (c.remaining < 1) {
    c.note('empty LISP control message');
    return { type: 0, unknown: true, data: new Uint8Array(0) };
  }
  const type = c.bytes[c.pos]! >> 4;
  switch (type) {
    case MessageType.MapRequest:
      return decodeMapRequest(c);
    case MessageType.MapReply:
      return decodeMapReply(c);
    case MessageType.MapRegister:
      return decodeMapRegister(c);
    case MessageType.MapNotify:
    case MessageType.MapNotifyAck:
      return decodeMapNotify(c, type);
    case MessageType.MapReferral:
      return decodeMapReferral(c);
    case MessageType.Info:
      return decodeInfo(c);
    case MessageType.ECM:
      return decodeEcm(c, depth);
    case MessageType.SharedExtension:
      return decodeSharedExtension(c);
    default:
      c.note(`unknown LISP control message type ${type}`);
      return { type, unknown: true, data: c.rest() };
  }
}

function trailingOf<T extends { trailing?: Uint8Array }>(c: Cursor, m: T): T {
  if (c.remaining > 0) m.trailing = c.rest();
  return m;
}

function optional<T extends object>(o: T, key: keyof T, value: number): void {
  if (value) (o as Record<keyof T, unknown>)[key] = value;
}

/** Header word (type + 24 flag/count bits) and nonce, common to most messages. */
function header(c: Cursor, name: string): { word: number; nonce: bigint } | undefined {
  if (!c.need(12, `${name} header`)) return undefined;
  const word = c.u32();
  return { word, nonce: c.u64() };
}

function decodeMapRequest(c: Cursor): MapRequest {
  const h = header(c, 'Map-Request');
  const w = h?.word ?? 0;
  const m: MapRequest = {
    type: 1,
    authoritative: (w & 0x08000000) !== 0,
    mapDataPresent: (w & 0x04000000) !== 0,
    probe: (w & 0x02000000) !== 0,
    smr: (w & 0x01000000) !== 0,
    pitr: (w & 0x00800000) !== 0,
    smrInvoked: (w & 0x00400000) !== 0,
    xtrIdPresent: (w & MAP_REQUEST_I) !== 0,
    localXtr: (w & 0x00004000) !== 0,
    dontMapReply: (w & 0x00002000) !== 0,
    nonce: h?.nonce ?? 0n,
    sourceEid: { kind: 'none', afi: 0 },
    itrRlocs: [],
    eids: [],
  };
  optional(m, 'reserved', ((w & ~MAP_REQUEST_I) >> 15) & 0x7f);
  if (!h) return m;
  const irc = (w >> 8) & 0x1f;
  const recordCount = w & 0xff;
  if (recordCount === 0) c.warn('Map-Request with Record Count 0', c.pos - 9);
  // Counts the wire says but the bytes did not hold: kept for -V and re-encoding.
  const cut = (): MapRequest => {
    if (m.itrRlocs.length < irc + 1) m.declaredItrRlocCount = irc + 1;
    if (m.eids.length < recordCount) m.declaredRecordCount = recordCount;
    return m;
  };
  const src = decodeAddress(c, 0, 'Source EID');
  if (!src) return cut();
  m.sourceEid = src;
  if (src.kind === 'unknown') return cut();
  for (let i = 0; i <= irc; i++) {
    const a = decodeAddress(c, 0, `ITR-RLOC ${i + 1} of ${irc + 1}`);
    if (!a) return cut();
    m.itrRlocs.push(a);
    if (a.kind === 'unknown') return cut();
  }
  for (let i = 0; i < recordCount; i++) {
    const p = decodeEidPrefix(c, `EID record ${i + 1} of ${recordCount}`);
    if (!p) return cut();
    m.eids.push(p);
    if (p.prefix.kind === 'unknown') return cut();
  }
  if (m.mapDataPresent) {
    const r = decodeMappingRecords(c, 1, 'Map-Reply');
    if (!r.length) return m;
    m.mapReply = r[0]!;
  }
  if (m.xtrIdPresent) decodeXtrTrailer(c, m, 'Map-Request');
  return trailingOf(c, m);
}

/** Map-Request bit 11: I, xTR-ID and site-ID present (RFC 9437 §5). */
const MAP_REQUEST_I = 0x00100000;

function decodeMapReply(c: Cursor): MapReply {
  const h = header(c, 'Map-Reply');
  const w = h?.word ?? 0;
  const m: MapReply = {
    type: 2,
    probe: (w & 0x08000000) !== 0,
    echoNonceCapable: (w & 0x04000000) !== 0,
    security: (w & 0x02000000) !== 0,
    nonce: h?.nonce ?? 0n,
    records: [],
  };
  optional(m, 'reserved', (w >> 8) & 0x1ffff);
  if (!h) return m;
  const count = w & 0xff;
  m.records = decodeMappingRecords(c, count, 'Map-Reply');
  if (m.records.length < count) m.declaredRecordCount = count;
  // After a cut record the position is not where the Authentication Data starts.
  if (m.security && m.records.length === count) {
    if (c.remaining === 0) c.warn('Map-Reply S bit set but no LISP-SEC Authentication Data follows the records');
    else {
      const ad = decodeLispSec(c, 'map-reply', 'Map-Reply');
      if (ad) m.lispSec = ad.ad;
    }
  }
  return trailingOf(c, m);
}

export function decodeAuth(c: Cursor, name: string): AuthFields | undefined {
  if (!c.need(4, `${name} Key ID and Authentication Data Length`)) return undefined;
  const at = c.pos;
  const keyId = c.u16();
  const len = c.u16();
  const alg = AUTH_ALGORITHMS.get(keyId & 0xff);
  // Implementations send the full MAC or the RFC's truncation; anything else cannot verify.
  if (alg && len !== alg.macLength && len !== alg.truncatedLength) {
    c.warn(`${name} Authentication Data Length ${len} does not fit ${alg.name} (${alg.hash ? `${alg.truncatedLength} or ${alg.macLength}` : '0'} bytes)`, at + 2);
  }
  if (len > c.remaining) {
    c.note(`${name} Authentication Data Length ${len} exceeds the ${c.remaining} bytes left`);
    return { keyId, authData: c.rest() };
  }
  return { keyId, authData: c.take(len) };
}

function encodeAuth(w: Writer, a: AuthFields): void {
  w.u16(a.keyId).u16(a.authData.length).bytes(a.authData);
}

export function encodeMsRtrAuth(w: Writer, a: MsRtrAuth): void {
  if (a.adType !== undefined) w.u8(a.adType).u24(a.reserved ?? 0);
  encodeAuth(w, a);
}

function decodeXtrTrailer(c: Cursor, m: { xtrId?: Uint8Array; siteId?: Uint8Array }, name: string): void {
  if (!c.need(24, `${name} xTR-ID and site-ID`)) return;
  m.xtrId = c.take(16);
  m.siteId = c.take(8);
}

function decodeMapRegister(c: Cursor): MapRegister {
  const h = header(c, 'Map-Register');
  const w = h?.word ?? 0;
  const m: MapRegister = {
    type: 3,
    proxyReply: (w & 0x08000000) !== 0,
    security: (w & 0x04000000) !== 0,
    xtrIdPresent: (w & 0x02000000) !== 0,
    rtr: (w & 0x01000000) !== 0,
    eidNotify: (w & 0x00001000) !== 0,
    ttlTimeout: (w & 0x00000800) !== 0,
    merge: (w & 0x00000400) !== 0,
    mobileNode: (w & 0x00000200) !== 0,
    wantMapNotify: (w & 0x00000100) !== 0,
    nonce: h?.nonce ?? 0n,
    keyId: 0,
    authData: new Uint8Array(0),
    records: [],
  };
  optional(m, 'reserved', (w >> 13) & 0x7ff);
  if (!h) return m;
  const auth = decodeAuth(c, 'Map-Register');
  if (!auth) return m;
  Object.assign(m, auth);
  const count = w & 0xff;
  m.records = decodeMappingRecords(c, count, 'Map-Register');
  if (m.records.length < count) m.declaredRecordCount = count;
  if (m.records.length < count) return trailingOf(c, m);
  if (m.xtrIdPresent) decodeXtrTrailer(c, m, 'Map-Register');
  return trailingOf(c, m);
}

function decodeMapNotify(c: Cursor, type: 4 | 5): MapNotify {
  const name = type === 4 ? 'Map-Notify' : 'Map-Notify-Ack';
  const h = header(c, name);
  const w = h?.word ?? 0;
  const m: MapNotify = {
    type,
    xtrIdPresent: (w & 0x08000000) !== 0,
    rtr: (w & 0x04000000) !== 0,
    nonce: h?.nonce ?? 0n,
    keyId: 0,
    authData: new Uint8Array(0),
    records: [],
  };
  optional(m, 'reserved', (w >> 8) & 0x3ffff);
  if (!h) return m;
  const auth = decodeAuth(c, name);
  if (!auth) return m;
  Object.assign(m, auth);
  const count = w & 0xff;
  m.records = decodeMappingRecords(c, count, name);
  if (m.records.length < count) {
    m.declaredRecordCount = count;
    return trailingOf(c, m);
  }
  if (count === 0 && c.remaining > 0) recoverUncountedRecords(c, m, name);
  if (m.xtrIdPresent) decodeXtrTrailer(c, m, name);
  else if (m.rtr ? !msRtrLayout(c, c.pos) && msRtrLayout(c, c.pos + 24) : c.remaining === 24) {
    // lispers.net copies the Map-Register's xTR-ID/site-ID without setting I.
    c.warn(`${name}: 24 bytes after the records without the I bit: read as xTR-ID/site-ID`);
    decodeXtrTrailer(c, m, name);
  }
  if (m.rtr) {
    // When neither layout fills the rest (a cut message), OOR's AD word is recognised by its type.
    const layout = msRtrLayout(c, c.pos) ?? (c.remaining >= 4 && c.bytes[c.pos] === MS_RTR_AD_TYPE ? 'ad-word' : 'plain');
    let ad: { adType: number; reserved: number } | undefined;
    if (layout === 'ad-word') {
      ad = { adType: c.u8(), reserved: c.u24() };
    }
    const a = decodeAuth(c, `${name} MS-RTR`);
    if (a) {
      const auth: MsRtrAuth = { ...a };
      if (ad) {
        auth.adType = ad.adType;
        if (ad.reserved) auth.reserved = ad.reserved;
      }
      m.msRtrAuth = auth;
    }
  }
  return trailingOf(c, m);
}

/**
 * How an MS-RTR authentication block at `at` fills the rest of the message: `plain` (Key ID,
 * Length, Data: Wireshark's reading), `ad-word` (OOR's AD Type word first), or undefined.
 */
function msRtrLayout(c: Cursor, at: number): 'plain' | 'ad-word' | undefined {
  const len = (p: number) => (c.bytes[p + 2]! << 8) | c.bytes[p + 3]!;
  const fills = (p: number) => p + 4 <= c.end && p + 4 + len(p) === c.end;
  const word = at < c.end && c.bytes[at] === MS_RTR_AD_TYPE;
  if (word && fills(at + 4)) return 'ad-word';
  // OOR's AD word alone reads as Key ID 0x0200 with no data: not an authentication.
  if (fills(at) && !(word && len(at) === 0)) return 'plain';
  return undefined;
}

/**
 * lispers.net sends Map-Notify-Ack with Record Count 0 but the records still attached. Read them
 * when they parse cleanly; otherwise leave the bytes as trailing.
 */
function recoverUncountedRecords(c: Cursor, m: MapNotify, name: string): void {
  const scratch: Note[] = [];
  const probe = new Cursor(c.bytes, c.pos, c.end, c.base, scratch);
  const records: MappingRecord[] = [];
  while (probe.remaining >= 12 && records.length < 255) {
    const before = probe.pos;
    const r = decodeMappingRecords(probe, 1, name);
    if (r.length !== 1 || scratch.length > 0) {
      probe.pos = before;
      break;
    }
    records.push(r[0]!);
    const left = probe.remaining;
    if (left === 0 || left === 24) break;
  }
  if (records.length && scratch.length === 0 && (probe.remaining === 0 || probe.remaining === 24)) {
    c.warn(`${name}: Record Count 0 but ${records.length} record(s) follow; decoded them`);
    m.records = records;
    m.declaredRecordCount = 0;
    c.pos = probe.pos;
  }
}

function decodeMapReferral(c: Cursor): MapReferral {
  const h = header(c, 'Map-Referral');
  const w = h?.word ?? 0;
  const m: MapReferral = { type: 6, nonce: h?.nonce ?? 0n, records: [] };
  optional(m, 'reserved', (w >> 8) & 0xfffff);
  if (!h) return m;
  const count = w & 0xff;
  for (let i = 0; i < count; i++) {
    const r = decodeReferralRecord(c, `Map-Referral record ${i + 1} of ${count}`);
    if (!r) break;
    m.records.push(r.record);
    if (!r.complete) break;
  }
  if (m.records.length < count) m.declaredRecordCount = count;
  return trailingOf(c, m);
}

function decodeInfo(c: Cursor): InfoMessage {
  const h = header(c, 'Info');
  const w = h?.word ?? 0;
  const reply = (w & 0x08000000) !== 0;
  const name = reply ? 'Info-Reply' : 'Info-Request';
  const m: InfoMessage = {
    type: 7,
    reply,
    nonce: h?.nonce ?? 0n,
    keyId: 0,
    authData: new Uint8Array(0),
    ttl: 0,
    eidMaskLen: 0,
    eid: { kind: 'none', afi: 0 },
    address: { kind: 'none', afi: 0 },
  };
  optional(m, 'reserved', w & 0x07ffffff);
  if (!h) return m;
  const auth = decodeAuth(c, name);
  if (!auth) return m;
  Object.assign(m, auth);
  if (!c.need(6, `${name} TTL and EID mask-len`)) return m;
  m.ttl = c.u32();
  optional(m, 'reserved2', c.u8());
  m.eidMaskLen = c.u8();
  const eid = decodeAddress(c, 0, `${name} EID`);
  if (!eid) return m;
  m.eid = eid;
  if (eid.kind === 'unknown') return m;
  const at = c.pos;
  const addr = decodeAddress(c, 0, reply ? 'Info-Reply NAT-Traversal' : 'Info-Request address');
  if (!addr) return m;
  m.address = addr;
  if (!reply && addr.kind !== 'none') c.warn(`Info-Request: expected AFI 0 after the EID, found AFI ${addr.afi}`, at);
  if (reply && !(addr.kind === 'lcaf' && addr.lcaf.body.kind === 'nat-traversal')) {
    c.warn(`Info-Reply: expected a NAT-Traversal LCAF after the EID, found AFI ${addr.afi}`, at);
  }
  return trailingOf(c, m);
}

function decodeSharedExtension(c: Cursor): SharedExtension {
  if (!c.need(2, 'Shared Extension header')) {
    return { type: 15, subType: 0, data: c.rest() };
  }
  const word = c.u16();
  return { type: 15, subType: word & 0x0fff, data: c.rest() };
}

// ---- encoding --------------------------------------------------------------------------------

const bit = (on: boolean, mask: number) => (on ? mask : 0);

export function encodeControl(m: ControlMessage): Uint8Array {
  const w = new Writer();
  encodeControlTo(w, m);
  return w.finish();
}

export function encodeControlTo(w: Writer, m: ControlMessage): void {
  if ('unknown' in m) {
    w.bytes(m.data);
    return;
  }
  switch (m.type) {
    case 1: {
      const itrRlocCount = m.declaredItrRlocCount ?? m.itrRlocs.length;
      if (itrRlocCount < 1 || itrRlocCount > 32) {
        throw new RangeError(`a Map-Request carries 1 to 32 ITR-RLOCs, not ${itrRlocCount}`);
      }
      w.u32(
        (1 << 28) |
          bit(m.authoritative, 0x08000000) |
          bit(m.mapDataPresent, 0x04000000) |
          bit(m.probe, 0x02000000) |
          bit(m.smr, 0x01000000) |
          bit(m.pitr, 0x00800000) |
          bit(m.smrInvoked, 0x00400000) |
          bit(m.xtrIdPresent, MAP_REQUEST_I) |
          (((m.reserved ?? 0) & 0x5f) << 15) |
          bit(m.localXtr, 0x00004000) |
          bit(m.dontMapReply, 0x00002000) |
          (((itrRlocCount - 1) & 0x1f) << 8) |
          ((m.declaredRecordCount ?? m.eids.length) & 0xff),
      );
      w.u64(m.nonce);
      encodeAddress(w, m.sourceEid);
      m.itrRlocs.forEach((a: LispAddress) => encodeAddress(w, a));
      m.eids.forEach((p) => encodeEidPrefix(w, p));
      if (m.mapReply) encodeMappingRecord(w, m.mapReply);
      if (m.xtrId) w.bytes(m.xtrId);
      if (m.siteId) w.bytes(m.siteId);
      break;
    }
    case 2:
      w.u32(
        (2 << 28) |
          bit(m.probe, 0x08000000) |
          bit(m.echoNonceCapable, 0x04000000) |
          bit(m.security, 0x02000000) |
          (((m.reserved ?? 0) & 0x1ffff) << 8) |
          ((m.declaredRecordCount ?? m.records.length) & 0xff),
      );
      w.u64(m.nonce);
      m.records.forEach((r) => encodeMappingRecord(w, r));
      if (m.lispSec) encodeLispSec(w, m.lispSec);
      break;
    case 3:
      w.u32(
        (3 << 28) |
          bit(m.proxyReply, 0x08000000) |
          bit(m.security, 0x04000000) |
          bit(m.xtrIdPresent, 0x02000000) |
          bit(m.rtr, 0x01000000) |
          (((m.reserved ?? 0) & 0x7ff) << 13) |
          bit(m.eidNotify, 0x1000) |
          bit(m.ttlTimeout, 0x0800) |
          bit(m.merge, 0x0400) |
          bit(m.mobileNode, 0x0200) |
          bit(m.wantMapNotify, 0x0100) |
          ((m.declaredRecordCount ?? m.records.length) & 0xff),
      );
      w.u64(m.nonce);
      encodeAuth(w, m);
      m.records.forEach((r) => encodeMappingRecord(w, r));
      if (m.xtrId) w.bytes(m.xtrId);
      if (m.siteId) w.bytes(m.siteId);
      break;
    case 4:
    case 5:
      w.u32(
        (m.type << 28) |
          bit(m.xtrIdPresent, 0x08000000) |
          bit(m.rtr, 0x04000000) |
          (((m.reserved ?? 0) & 0x3ffff) << 8) |
          (m.declaredRecordCount ?? m.records.length),
      );
      w.u64(m.nonce);
      encodeAuth(w, m);
      m.records.forEach((r) => encodeMappingRecord(w, r));
      if (m.xtrId) w.bytes(m.xtrId);
      if (m.siteId) w.bytes(m.siteId);
      if (m.msRtrAuth) encodeMsRtrAuth(w, m.msRtrAuth);
      break;
    case 6:
      w.u32((6 << 28) | (((m.reserved ?? 0) & 0xfffff) << 8) | ((m.declaredRecordCount ?? m.records.length) & 0xff));
      w.u64(m.nonce);
      m.records.forEach((r) => encodeReferralRecord(w, r));
      break;
    case 7:
      w.u32((7 << 28) | bit(m.reply, 0x08000000) | ((m.reserved ?? 0) & 0x07ffffff));
      w.u64(m.nonce);
      encodeAuth(w, m);
      w.u32(m.ttl).u8(m.reserved2 ?? 0).u8(m.eidMaskLen);
      encodeAddress(w, m.eid);
      encodeAddress(w, m.address);
      break;
    case 8:
      encodeEcm(w, m);
      break;
    case 15:
      w.u16((15 << 12) | (m.subType & 0x0fff));
      w.bytes(m.data);
      break;
  }
  if ('trailing' in m && m.trailing) w.bytes(m.trailing);
}

/** Known control types only; anything else decodes as `unknown`. */
export { isKnownControlType };
