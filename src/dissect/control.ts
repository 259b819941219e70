// LISP control messages (RFC 9301 §5; RFC 8111 Map-Referral; NAT-traversal draft Info; RFC 9304
// shared extension): decode from the UDP payload, encode back to it.

import { infoName, typeName } from './names.js';
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
import { decodeWord, encodeWord, readStruct, writeStruct, type Word } from './field.js';
import { AD_HEADER, AUTH, type AdHeader, INFO, INFO_BODY, MAP_NOTIFY, MAP_REFERRAL, MAP_REGISTER, MAP_REPLY, MAP_REQUEST, SHARED_EXTENSION } from './fields.js';
import { AUTH_ALGORITHMS, isKnownControlType, MESSAGE_TYPES, MessageType, MS_RTR_AD_TYPE, SITE_ID_LENGTH, XTR_ID_LENGTH } from './registry.js';
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

// The registry's names, for notes.
const NAME_REQUEST = typeName(MessageType.MapRequest);
const NAME_REPLY = typeName(MessageType.MapReply);
const NAME_REGISTER = typeName(MessageType.MapRegister);
const NAME_REFERRAL = typeName(MessageType.MapReferral);
const NAME_INFO = typeName(MessageType.Info);

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

/**
 * The header word (type, flags, counts) and nonce common to most messages, decoded into `m` by the
 * message's field table; the counts it holds, or undefined when the 12 bytes are not there. A
 * message cut inside its nonce keeps what the word says, its counts as declared ones.
 */
function header<T extends { nonce: bigint; declaredRecordCount?: number; declaredItrRlocCount?: number }>(
  c: Cursor,
  def: Word<T>,
  m: T,
  name: string,
): Record<string, number> | undefined {
  const complete = c.need(12, `${name} header`);
  if (c.remaining < 4) return undefined;
  const counts: Record<string, number> = {};
  decodeWord(def, c.u32(), m, counts);
  if (complete) {
    m.nonce = c.u64();
    return counts;
  }
  if (counts.recordCount) m.declaredRecordCount = counts.recordCount;
  if (counts.itrRlocCount !== undefined) m.declaredItrRlocCount = counts.itrRlocCount + 1;
  return undefined;
}

function decodeMapRequest(c: Cursor): MapRequest {
  const m: MapRequest = {
    type: MessageType.MapRequest,
    authoritative: false,
    mapDataPresent: false,
    probe: false,
    smr: false,
    pitr: false,
    smrInvoked: false,
    xtrIdPresent: false,
    localXtr: false,
    dontMapReply: false,
    nonce: 0n,
    sourceEid: { kind: 'none', afi: 0 },
    itrRlocs: [],
    eids: [],
  };
  const h = header(c, MAP_REQUEST, m, NAME_REQUEST);
  if (!h) return m;
  const irc = h.itrRlocCount!;
  const recordCount = h.recordCount!;
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
    const r = decodeMappingRecords(c, 1, NAME_REPLY);
    if (!r.length) return m;
    m.mapReply = r[0]!;
  }
  if (m.xtrIdPresent) decodeXtrTrailer(c, m, NAME_REQUEST);
  return trailingOf(c, m);
}

function decodeMapReply(c: Cursor): MapReply {
  const m: MapReply = { type: MessageType.MapReply, probe: false, echoNonceCapable: false, security: false, nonce: 0n, records: [] };
  const h = header(c, MAP_REPLY, m, NAME_REPLY);
  if (!h) return m;
  const count = h.recordCount!;
  m.records = decodeMappingRecords(c, count, NAME_REPLY);
  if (m.records.length < count) m.declaredRecordCount = count;
  // After a cut record the position is not where the Authentication Data starts.
  if (m.security && m.records.length === count) {
    if (c.remaining === 0) c.warn('Map-Reply S bit set but no LISP-SEC Authentication Data follows the records');
    else {
      const ad = decodeLispSec(c, 'map-reply', NAME_REPLY);
      if (ad) m.lispSec = ad.ad;
    }
  }
  return trailingOf(c, m);
}

export function decodeAuth(c: Cursor, name: string): AuthFields | undefined {
  const at = c.pos;
  const a: AuthFields = { keyId: 0, algorithmId: 0, authData: new Uint8Array(0) };
  const counts = readStruct(c, AUTH, a, `${name} Key ID and Authentication Data Length`);
  if (!counts) return undefined;
  const len = counts.authDataLength!;
  const alg = AUTH_ALGORITHMS.get(a.algorithmId);
  // Implementations send the full MAC or the RFC's truncation; anything else cannot verify.
  if (alg && len !== alg.macLength && len !== alg.truncatedLength) {
    c.warn(`${name} Authentication Data Length ${len} does not fit ${alg.name} (${alg.hash ? `${alg.truncatedLength} or ${alg.macLength}` : '0'} bytes)`, at + 2);
  }
  if (len > c.remaining) {
    c.note(`${name} Authentication Data Length ${len} exceeds the ${c.remaining} bytes left`);
    a.authData = c.rest();
    a.declaredAuthDataLength = len;
    return a;
  }
  a.authData = c.take(len);
  return a;
}

function encodeAuth(w: Writer, a: AuthFields): void {
  writeStruct(w, AUTH, a, { authDataLength: a.declaredAuthDataLength ?? a.authData.length });
  w.bytes(a.authData);
}

export function encodeMsRtrAuth(w: Writer, a: MsRtrAuth): void {
  if (a.adType !== undefined) writeStruct(w, AD_HEADER, a);
  encodeAuth(w, a);
}

function decodeXtrTrailer(c: Cursor, m: { xtrId?: Uint8Array; siteId?: Uint8Array }, name: string): void {
  // lispers.net ends its Publish/Subscribe Map-Requests with the xTR-ID alone.
  if (c.remaining === XTR_ID_LENGTH) {
    c.warn(`${name} xTR-ID without the ${SITE_ID_LENGTH}-byte site-ID that follows it in RFC 9301/9437 (lispers.net's form)`);
    m.xtrId = c.take(XTR_ID_LENGTH);
    return;
  }
  if (!c.need(XTR_ID_LENGTH + SITE_ID_LENGTH, `${name} xTR-ID and site-ID`)) return;
  m.xtrId = c.take(XTR_ID_LENGTH);
  m.siteId = c.take(SITE_ID_LENGTH);
}

function decodeMapRegister(c: Cursor): MapRegister {
  const m: MapRegister = {
    type: MessageType.MapRegister,
    proxyReply: false,
    security: false,
    xtrIdPresent: false,
    builtForRtr: false,
    eidNotify: false,
    ttlTimeout: false,
    merge: false,
    mobileNode: false,
    wantMapNotify: false,
    nonce: 0n,
    keyId: 0,
    algorithmId: 0,
    authData: new Uint8Array(0),
    records: [],
  };
  const h = header(c, MAP_REGISTER, m, NAME_REGISTER);
  if (!h) return m;
  const auth = decodeAuth(c, NAME_REGISTER);
  if (!auth) return m;
  Object.assign(m, auth);
  const count = h.recordCount!;
  m.records = decodeMappingRecords(c, count, NAME_REGISTER);
  if (m.records.length < count) m.declaredRecordCount = count;
  if (m.records.length < count) return trailingOf(c, m);
  if (m.xtrIdPresent) decodeXtrTrailer(c, m, NAME_REGISTER);
  return trailingOf(c, m);
}

function decodeMapNotify(c: Cursor, type: 4 | 5): MapNotify {
  const name = MESSAGE_TYPES.get(type)!.title;
  const m: MapNotify = { type, xtrIdPresent: false, msRtrAuthPresent: false, nonce: 0n, keyId: 0, algorithmId: 0, authData: new Uint8Array(0), records: [] };
  const h = header(c, MAP_NOTIFY, m, name);
  if (!h) return m;
  const auth = decodeAuth(c, name);
  if (!auth) return m;
  Object.assign(m, auth);
  const count = h.recordCount!;
  m.records = decodeMappingRecords(c, count, name);
  if (m.records.length < count) {
    m.declaredRecordCount = count;
    return trailingOf(c, m);
  }
  if (count === 0 && c.remaining > 0) recoverUncountedRecords(c, m, name);
  if (m.xtrIdPresent) decodeXtrTrailer(c, m, name);
  else if (m.msRtrAuthPresent ? !msRtrLayout(c, c.pos) && msRtrLayout(c, c.pos + 24) : c.remaining === 24) {
    // lispers.net copies the Map-Register's xTR-ID/site-ID without setting I.
    c.warn(`${name}: 24 bytes after the records without the I bit: read as xTR-ID/site-ID`);
    decodeXtrTrailer(c, m, name);
  }
  if (m.msRtrAuthPresent) {
    // When neither layout fills the rest (a cut message), OOR's AD word is recognised by its type.
    const layout = msRtrLayout(c, c.pos) ?? (c.remaining >= 4 && c.bytes[c.pos] === MS_RTR_AD_TYPE ? 'ad-word' : 'plain');
    let ad: AdHeader | undefined;
    if (layout === 'ad-word') readStruct(c, AD_HEADER, (ad = {}), `${name} MS-RTR AD Type`);
    const a = decodeAuth(c, `${name} MS-RTR`);
    if (a) {
      const auth: MsRtrAuth = { ...a };
      if (ad) {
        auth.adType = ad.adType!;
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
  const m: MapReferral = { type: MessageType.MapReferral, nonce: 0n, records: [] };
  const h = header(c, MAP_REFERRAL, m, NAME_REFERRAL);
  if (!h) return m;
  const count = h.recordCount!;
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
  const m: InfoMessage = {
    type: MessageType.Info,
    reply: false,
    nonce: 0n,
    keyId: 0,
    algorithmId: 0,
    authData: new Uint8Array(0),
    ttl: 0,
    eidMaskLen: 0,
    eid: { kind: 'none', afi: 0 },
    address: { kind: 'none', afi: 0 },
  };
  const h = header(c, INFO, m, NAME_INFO);
  const reply = m.reply;
  const name = infoName(reply);
  if (!h) return m;
  const auth = decodeAuth(c, name);
  if (!auth) return m;
  Object.assign(m, auth);
  if (!readStruct(c, INFO_BODY, m, `${name} TTL and EID mask-len`)) return m;
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
  const m: SharedExtension = { type: MessageType.SharedExtension, subType: 0, data: new Uint8Array(0) };
  if (c.need(2, 'Shared Extension header')) decodeWord(SHARED_EXTENSION, c.u16(), m);
  m.data = c.rest();
  return m;
}

// ---- encoding --------------------------------------------------------------------------------

export function encodeControl(m: ControlMessage): Uint8Array {
  const w = new Writer();
  encodeControlTo(w, m);
  return w.finish();
}

/**
 * The counts of a message's header word: as the wire said them when fewer structures were there
 * to decode, otherwise what it carries.
 */
export function headerCounts(m: ControlMessage): Record<string, number> {
  if ('unknown' in m) return {};
  switch (m.type) {
    case MessageType.MapRequest:
      return { itrRlocCount: (m.declaredItrRlocCount ?? m.itrRlocs.length) - 1, recordCount: m.declaredRecordCount ?? m.eids.length };
    case MessageType.MapReply:
    case MessageType.MapRegister:
    case MessageType.MapNotify:
    case MessageType.MapNotifyAck:
    case MessageType.MapReferral:
      return { recordCount: m.declaredRecordCount ?? m.records.length };
    default:
      return {};
  }
}

/** The header word and nonce by the message's field table. */
function writeHeader<T extends ControlMessage & { nonce: bigint }>(w: Writer, def: Word<T>, m: T): void {
  w.u32(encodeWord(def, m, headerCounts(m))).u64(m.nonce);
}

export function encodeControlTo(w: Writer, m: ControlMessage): void {
  if ('unknown' in m) {
    w.bytes(m.data);
    return;
  }
  switch (m.type) {
    case MessageType.MapRequest: {
      const itrRlocCount = m.declaredItrRlocCount ?? m.itrRlocs.length;
      if (itrRlocCount < 1 || itrRlocCount > 32) {
        throw new RangeError(`a Map-Request carries 1 to 32 ITR-RLOCs, not ${itrRlocCount}`);
      }
      writeHeader(w, MAP_REQUEST, m);
      encodeAddress(w, m.sourceEid);
      m.itrRlocs.forEach((a: LispAddress) => encodeAddress(w, a));
      m.eids.forEach((p) => encodeEidPrefix(w, p));
      if (m.mapReply) encodeMappingRecord(w, m.mapReply);
      if (m.xtrId) w.bytes(m.xtrId);
      if (m.siteId) w.bytes(m.siteId);
      break;
    }
    case MessageType.MapReply:
      writeHeader(w, MAP_REPLY, m);
      m.records.forEach((r) => encodeMappingRecord(w, r));
      if (m.lispSec) encodeLispSec(w, m.lispSec);
      break;
    case MessageType.MapRegister:
      writeHeader(w, MAP_REGISTER, m);
      encodeAuth(w, m);
      m.records.forEach((r) => encodeMappingRecord(w, r));
      if (m.xtrId) w.bytes(m.xtrId);
      if (m.siteId) w.bytes(m.siteId);
      break;
    case MessageType.MapNotify:
    case MessageType.MapNotifyAck:
      writeHeader(w, MAP_NOTIFY, m);
      encodeAuth(w, m);
      m.records.forEach((r) => encodeMappingRecord(w, r));
      if (m.xtrId) w.bytes(m.xtrId);
      if (m.siteId) w.bytes(m.siteId);
      if (m.msRtrAuth) encodeMsRtrAuth(w, m.msRtrAuth);
      break;
    case MessageType.MapReferral:
      writeHeader(w, MAP_REFERRAL, m);
      m.records.forEach((r) => encodeReferralRecord(w, r));
      break;
    case MessageType.Info:
      writeHeader(w, INFO, m);
      encodeAuth(w, m);
      writeStruct(w, INFO_BODY, m);
      encodeAddress(w, m.eid);
      encodeAddress(w, m.address);
      break;
    case MessageType.ECM:
      encodeEcm(w, m);
      break;
    case MessageType.SharedExtension:
      w.u16(encodeWord(SHARED_EXTENSION, m));
      w.bytes(m.data);
      break;
  }
  if ('trailing' in m && m.trailing) w.bytes(m.trailing);
}

/** Known control types only; anything else decodes as `unknown`. */
export { isKnownControlType };
