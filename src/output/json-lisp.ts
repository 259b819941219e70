// LISP messages in the JSON contract's form (../shared/json-contract.md): snake_case fields, nonces
// as 16 hex digits, addresses as text, prefixes as `addr/len` (`[iid]addr/len` inside an
// Instance-ID LCAF), other LCAFs as `{type, ...fields}`. Fields that do not apply are omitted.
// Written straight into a JsonWriter (or an ObjectWriter): this is the one place that says how LISP looks in JSON.

import { nonceHex, toHex } from '../dissect/addr.js';
import { keyIdField } from '../dissect/auth.js';
import { DataField, dataFlagLetters, dataHeaderFields } from '../dissect/data.js';
import { decodeWord, fieldOf, jsonFields, structFields, type Field, type Struct, type Word } from '../dissect/field.js';
import {
  ECM_HEADER,
  INFO,
  LCAF_APPLICATION_DATA,
  LCAF_AS_NUMBER,
  LCAF_ELP_HOP,
  LCAF_INSTANCE_ID,
  LCAF_MULTICAST_FLAGS,
  LCAF_MULTICAST_INFO,
  LCAF_NAT_TRAVERSAL,
  LCAF_OPAQUE_KEY,
  LCAF_RLE_ENTRY,
  LCAF_SECURITY_KEY,
  LOCATOR,
  type MulticastFlags,
  MAP_NOTIFY, INFO_BODY, EID_AD, EID_AD_HMAC, AD_HEADER, OTK_AD, PKT_AD, MAP_REGISTER, MAP_REPLY, MAP_REQUEST, MAPPING_RECORD, REFERRAL_RECORD, ERROR_NOTIFICATION, REGISTRATION_REFRESH, REGISTRATION_REJECT } from '../dissect/fields.js';
import { ENCAP_FORMAT_BITS } from '../dissect/lcaf.js';
import {
  actionSlug,
  AUTH_ALGORITHMS,
  controlTypeName,
  GEO_NO_ALTITUDE,
  isAuthenticatedType,
  lcafSlug,
  LISP_SEC_HMAC_IDS,
  LISP_SEC_KDF_IDS,
  LISP_SEC_KEY_WRAP_IDS,
  MessageType,
  referralActionSlug,
} from '../dissect/registry.js';
import { isOpaque, refreshScopeSlug, rejectReasonSlug, RELIABLE_END_MARKER, ReliableField, RELIABLE_TYPES, type ReliableMessage, ReliableType, reliableTypeSlug } from '../dissect/reliable.js';
import { tcpFlagLetters } from '../dissect/tcp.js';
import { VxlanField, vxlanFlagLetters, vxlanGroupPolicy } from '../dissect/vxlan.js';
import type {
  AuthFields,
  ControlMessage,
  DataMessage,
  EcmInner,
  IcmpError,
  InnerSummary,
  LispAddress,
  MsRtrAuth,
  NestedLisp,
  VxlanMessage,
  LispSecAd,
  Locator,
  MappingRecord,
  ReferralRecord,
} from '../dissect/types.js';
import type { JsonSink } from './json-writer.js';

// The reliable-transport bodies' fields, from the field table.
const ERROR_NOTIFICATION_JSON = structFields(ERROR_NOTIFICATION).filter((f) => f.json !== undefined);
const REJECT_REASON = fieldOf(REGISTRATION_REJECT[0]!, 'reason');
const REFRESH_SCOPE = fieldOf(REGISTRATION_REFRESH[0]!, 'scope');
const REFRESH_R = fieldOf(REGISTRATION_REFRESH[0]!, 'rejectedOnly');

export interface JsonOptions {
  /** Show key material (security-key LCAF) instead of its length only. */
  showKeys?: boolean;
}

/** An authentication verdict as the JSON gives it: `auth_ok`, and `auth_error` when it failed. */
export interface AuthVerdict {
  ok: boolean;
  reason?: string;
}

/**
 * The verdicts of a packet, written on the object of the message they are about: the authenticated
 * message (at the top, inside an ECM, inside LISP data), the MS-RTR authentication where it sits.
 */
export interface Verdicts {
  auth?: AuthVerdict | undefined;
  msRtrAuth?: AuthVerdict | undefined;
}

function writeVerdict(w: JsonSink, key: string, v: AuthVerdict | undefined): void {
  if (!v) return;
  w.key(`${key}_ok`).bool(v.ok);
  if (!v.ok && v.reason) w.key(`${key}_error`).str(v.reason);
}


/** Whether an address has a JSON form (AFI 0 has none: its field is omitted, in arrays null). */
export function hasAddress(a: LispAddress): boolean {
  return a.kind !== 'none';
}

/** Writes an address value (string or LCAF object; null for AFI 0). */
export function writeAddress(w: JsonSink, a: LispAddress, opts: JsonOptions, maskLen?: number): void {
  switch (a.kind) {
    case 'none':
      w.null();
      return;
    case 'ipv4':
    case 'ipv6':
    case 'mac':
      w.ascii(maskLen === undefined ? a.addr : `${a.addr}/${maskLen}`);
      return;
    case 'dn':
      w.str(a.name);
      return;
    case 'unknown':
      w.obj().key('type').str('unknown-afi').key('afi').num(a.afi).key('data').hex(a.raw).end();
      return;
    case 'lcaf':
      writeLcaf(w, a, maskLen, opts);
      return;
  }
}

/** `key: address`, omitted for AFI 0. */
function addressField(w: JsonSink, key: string, a: LispAddress, opts: JsonOptions, maskLen?: number): void {
  if (!hasAddress(a)) return;
  w.key(key);
  writeAddress(w, a, opts, maskLen);
}

function addressList(w: JsonSink, key: string, list: LispAddress[], opts: JsonOptions): void {
  w.key(key).arr();
  for (const a of list) writeAddress(w, a, opts);
  w.endArr();
}

/** The text of an Instance-ID EID, or undefined when its inner address is not plain. */
function instanceIdText(a: Extract<LispAddress, { kind: 'lcaf' }>, maskLen: number | undefined): string | undefined {
  const b = a.lcaf.body;
  if (b.kind !== 'instance-id') return undefined;
  const x = b.address;
  if (x.kind === 'ipv4' || x.kind === 'ipv6' || x.kind === 'mac') {
    return `[${b.iid}]${x.addr}${maskLen === undefined ? '' : `/${maskLen}`}`;
  }
  if (x.kind === 'dn') return `[${b.iid}]${x.name}`;
  return undefined;
}

function writeLcaf(w: JsonSink, a: Extract<LispAddress, { kind: 'lcaf' }>, maskLen: number | undefined, opts: JsonOptions): void {
  const l = a.lcaf;
  const b = l.body;
  const iidText = instanceIdText(a, maskLen);
  if (iidText !== undefined) {
    w.str(iidText);
    return;
  }
  w.obj().key('type').str(b.kind === 'raw' ? lcafSlug(l.type) : b.kind);
  switch (b.kind) {
    case 'instance-id':
      writeStructFields(w, LCAF_INSTANCE_ID, b);
      w.key('mask_len').num(l.rsvd2);
      addressField(w, 'address', b.address, opts, maskLen);
      break;
    case 'null':
      break;
    case 'afi-list':
      addressList(w, 'addresses', b.addresses, opts);
      break;
    case 'as-number':
      writeStructFields(w, LCAF_AS_NUMBER, b);
      addressField(w, 'address', b.address, opts, maskLen);
      break;
    case 'application-data':
      writeStructFields(w, LCAF_APPLICATION_DATA, b);
      addressField(w, 'address', b.address, opts);
      break;
    case 'geo-coordinates': {
      const dec = (deg: number, min: number, sec: number, pos: boolean) =>
        Math.round((pos ? 1 : -1) * (deg + min / 60 + sec / 3600) * 1e6) / 1e6;
      w.key('latitude').num(dec(b.latDegrees, b.latMinutes, b.latSeconds, b.north));
      w.key('longitude').num(dec(b.lonDegrees, b.lonMinutes, b.lonSeconds, b.east));
      if (b.altitude !== GEO_NO_ALTITUDE) w.key('altitude').num(b.altitude);
      addressField(w, 'address', b.address, opts);
      break;
    }
    case 'opaque-key':
      writeStructFields(w, LCAF_OPAQUE_KEY, b);
      w.key('key').hex(b.key);
      break;
    case 'nat-traversal':
      writeStructFields(w, LCAF_NAT_TRAVERSAL, b);
      addressField(w, 'global_etr_rloc', b.globalEtrRloc, opts);
      addressField(w, 'ms_rloc', b.msRloc, opts);
      addressField(w, 'private_etr_rloc', b.privateEtrRloc, opts);
      addressList(w, 'rtr_rlocs', b.rtrRlocs, opts);
      break;
    case 'nonce-locator':
      w.key('nonce').str(b.nonce.toString(16).padStart(6, '0'));
      addressField(w, 'address', b.address, opts);
      break;
    case 'multicast-info':
      writeStructFields(w, [LCAF_MULTICAST_INFO[0]!], b);
      w.key('source');
      writeAddress(w, b.source, opts, b.sourceMaskLen);
      w.key('group');
      writeAddress(w, b.group, opts, b.groupMaskLen);
      writeFields(w, LCAF_MULTICAST_FLAGS, decodeWord(LCAF_MULTICAST_FLAGS, l.rsvd2, {} as MulticastFlags));
      break;
    case 'elp':
      w.key('hops').arr();
      for (const h of b.hops) {
        w.obj();
        addressField(w, 'address', h.address, opts);
        writeStructFields(w, LCAF_ELP_HOP, h);
        w.end();
      }
      w.endArr();
      break;
    case 'security-key':
      writeStructFields(w, LCAF_SECURITY_KEY, b);
      w.key('keys').arr();
      for (const k of b.keys) {
        w.obj().key('length').num(k.length);
        if (opts.showKeys) w.key('key').hex(k);
        w.end();
      }
      w.endArr();
      addressField(w, 'address', b.address, opts);
      break;
    case 'source-dest':
      w.key('source');
      writeAddress(w, b.source, opts, b.sourceMaskLen);
      w.key('dest');
      writeAddress(w, b.dest, opts, b.destMaskLen);
      break;
    case 'rle':
      w.key('entries').arr();
      for (const e of b.entries) {
        w.obj();
        addressField(w, 'address', e.address, opts);
        writeStructFields(w, LCAF_RLE_ENTRY, e);
        w.end();
      }
      w.endArr();
      break;
    case 'json': {
      const binary = (l.rsvd2 & 1) !== 0;
      w.key('binary').bool(binary);
      w.key('json').str(binary ? toHex(b.json) : new TextDecoder('utf-8', { fatal: false }).decode(b.json));
      addressField(w, 'address', b.address, opts);
      break;
    }
    case 'key-value':
      addressField(w, 'key', b.key, opts);
      addressField(w, 'value', b.value, opts);
      break;
    case 'encapsulation-format':
      w.key('formats').arr();
      for (const [m, n] of ENCAP_FORMAT_BITS) if (b.bits & m) w.str(n);
      w.endArr();
      if (b.address) addressField(w, 'address', b.address, opts);
      break;
    case 'vendor':
      w.key('oui').str(b.oui.toString(16).padStart(6, '0')).key('data').hex(b.data);
      break;
    case 'raw':
      w.key('lcaf_type').num(l.type).key('data').hex(b.bytes);
      break;
  }
  w.end();
}

function writeLocator(w: JsonSink, l: Locator, opts: JsonOptions): void {
  w.obj().key('rloc');
  writeAddress(w, l.rloc, opts);
  writeLocatorFields(w, l);
  w.end();
}

export function writeRecord(w: JsonSink, r: MappingRecord, opts: JsonOptions): void {
  w.obj().key('eid');
  writeAddress(w, r.eid, opts, r.eidMaskLen);
  w.key('ttl').num(r.ttl).key('action').ascii(actionSlug(r.action));
  writeFields(w, MAPPING_RECORD[1]!, r);
  writeFields(w, MAPPING_RECORD[2]!, r);
  w.key('locators').arr();
  for (const l of r.locators) writeLocator(w, l, opts);
  w.endArr().end();
}

function writeRecords(w: JsonSink, rs: MappingRecord[], opts: JsonOptions): void {
  w.key('records').arr();
  for (const r of rs) writeRecord(w, r, opts);
  w.endArr();
}

export function writeReferral(w: JsonSink, r: ReferralRecord, opts: JsonOptions): void {
  w.obj().key('eid');
  writeAddress(w, r.eid, opts, r.eidMaskLen);
  w.key('ttl').num(r.ttl).key('action').str(referralActionSlug(r.action));
  writeFields(w, REFERRAL_RECORD[1]!, r);
  writeFields(w, REFERRAL_RECORD[2]!, r);
  w.key('locators').arr();
  for (const l of r.referrals) writeLocator(w, l, opts);
  w.endArr();
  if (r.signatures.length) w.key('signatures').num(r.signatures.length);
  w.end();
}

/** `key_id` is the 16-bit field as RFC 6830 wrote it (what tshark shows); the algorithm is its low byte. */
export function writeAuth(w: JsonSink, a: AuthFields): void {
  w.key('key_id').num(keyIdField(a));
  w.key('auth_algorithm').ascii(algorithmName(a));
  w.key('auth_len').num(a.authData.length).key('auth').hex(a.authData);
}

function algorithmName(a: AuthFields): string {
  return AUTH_ALGORITHMS.get(a.algorithmId)?.name ?? `algorithm-${a.algorithmId}`;
}

type FieldsWriter = (w: JsonSink, m: unknown) => void;

const fieldsWriters = new WeakMap<object, FieldsWriter>();

/**
 * Writes each field as the table declares it (a number, true; false only for the contract's fixed
 * fields), compiled once into straight-line code: every control message runs through these, and
 * named property loads are much cheaper than a loop of keyed ones.
 */
function compileFields(fields: readonly Field[]): FieldsWriter {
  const lines = ['let v;'];
  for (const f of fields) {
    const json = JSON.stringify(f.json);
    lines.push(`v = m[${JSON.stringify(f.key)}];`);
    lines.push(`if (typeof v === 'number') w.key(${json}).num(v); else if (v === true) w.key(${json}).bool(true);${f.always ? ` else w.key(${json}).bool(false);` : ''}`);
  }
  return new Function('w', 'm', lines.join('\n')) as FieldsWriter;
}

/** The fields of a header word the JSON carries, in its order (or those of `keys`, a constant array). */
export function writeFields<T>(w: JsonSink, def: Word<T>, m: T, keys?: readonly Extract<keyof T, string>[]): void {
  const at = keys ?? def;
  let write = fieldsWriters.get(at);
  if (!write) {
    write = compileFields(jsonFields(def, keys));
    fieldsWriters.set(at, write);
  }
  write(w, m);
}

function writeStructFields<T>(w: JsonSink, s: Struct<T>, m: T): void {
  for (const x of s) writeFields(w, x, m);
}

export const writeLocatorFields = compileFields([...jsonFields(LOCATOR[0]!), ...jsonFields(LOCATOR[1]!)]);

function writeMsRtrAuth(w: JsonSink, a: MsRtrAuth): void {
  if (a.adType !== undefined) w.key('ms_rtr_ad_type').num(a.adType);
  w.key('ms_rtr_key_id').num(keyIdField(a));
  w.key('ms_rtr_auth_algorithm').ascii(algorithmName(a));
  w.key('ms_rtr_auth').hex(a.authData);
}

/** The ECM header's fields before and after `rtr`, in the contract's order. */
const ECM_BEFORE_RTR = ['security', 'ddt'] as const;
const ECM_AFTER_RTR = ['toEtr', 'toMs', 'rtrRelayed'] as const;


/**
 * The contract fields of a control message, `type` and `nonce` first, as members of the open
 * object; verdicts go on the message they are about (an ECM hands `auth` to its inner message).
 */
export function writeControlFields(w: JsonSink, m: ControlMessage, opts: JsonOptions = {}, verdicts: Verdicts = {}): void {
  w.key('type').ascii(controlTypeName(m));
  if ('unknown' in m) {
    w.key('control_type').num(m.type).key('data').hex(m.data);
    return;
  }
  if ('nonce' in m) w.key('nonce').ascii(nonceHex(m.nonce));
  switch (m.type) {
    case MessageType.MapRequest:
      writeFields(w, MAP_REQUEST, m);
      addressField(w, 'source_eid', m.sourceEid, opts);
      addressList(w, 'itr_rlocs', m.itrRlocs, opts);
      w.key('eids').arr();
      for (const p of m.eids) writeAddress(w, p.prefix, opts, p.maskLen);
      w.endArr();
      if (m.mapReply) {
        w.key('map_reply');
        writeRecord(w, m.mapReply, opts);
      }
      if (m.xtrId) w.key('xtr_id').hex(m.xtrId);
      if (m.siteId) w.key('site_id').hex(m.siteId);
      break;
    case MessageType.MapReply:
      writeFields(w, MAP_REPLY, m);
      writeRecords(w, m.records, opts);
      if (m.lispSec) writeLispSec(w, m.lispSec, false, opts);
      break;
    case MessageType.MapRegister:
      writeFields(w, MAP_REGISTER, m);
      writeAuth(w, m);
      writeRecords(w, m.records, opts);
      if (m.xtrId) w.key('xtr_id').hex(m.xtrId);
      if (m.siteId) w.key('site_id').hex(m.siteId);
      break;
    case MessageType.MapNotify:
    case MessageType.MapNotifyAck:
      writeFields(w, MAP_NOTIFY, m);
      writeAuth(w, m);
      writeRecords(w, m.records, opts);
      if (m.xtrId) w.key('xtr_id').hex(m.xtrId);
      if (m.siteId) w.key('site_id').hex(m.siteId);
      if (m.msRtrAuth) writeMsRtrAuth(w, m.msRtrAuth);
      writeVerdict(w, 'ms_rtr_auth', verdicts.msRtrAuth);
      break;
    case MessageType.MapReferral:
      w.key('records').arr();
      for (const r of m.records) writeReferral(w, r, opts);
      w.endArr();
      break;
    case MessageType.Info: {
      writeFields(w, INFO, m);
      writeAuth(w, m);
      w.key(INFO_TTL.json!).num(m.ttl);
      addressField(w, 'eid', m.eid, opts, m.eidMaskLen);
      const a = m.address;
      if (a.kind === 'lcaf' && a.lcaf.body.kind === 'nat-traversal') {
        const n = a.lcaf.body;
        w.key('nat').obj();
        addressField(w, 'global_etr_rloc', n.globalEtrRloc, opts);
        w.key('global_etr_port').num(n.etrUdpPort).key('ms_udp_port').num(n.msUdpPort).key('etr_udp_port').num(n.etrUdpPort);
        addressField(w, 'ms_rloc', n.msRloc, opts);
        addressField(w, 'private_etr_rloc', n.privateEtrRloc, opts);
        addressList(w, 'rtr_rlocs', n.rtrRlocs, opts);
        w.end();
      } else addressField(w, 'address', a, opts);
      break;
    }
    case MessageType.ECM:
      writeFields(w, ECM_HEADER, m, ECM_BEFORE_RTR);
      // `rtr`: for an RTR, by the NAT draft's bit 6 or the bit Open Overlay Router uses (docs/decoding.md).
      w.key('rtr').bool(m.toEtr || !!m.rtrProcess);
      writeFields(w, ECM_HEADER, m, ECM_AFTER_RTR);
      if (m.lispSec) writeLispSec(w, m.lispSec, m.toEtr, opts);
      if (m.msRtrAuth) writeMsRtrAuth(w, m.msRtrAuth);
      writeVerdict(w, 'ms_rtr_auth', verdicts.msRtrAuth);
      if (m.inner) {
        w.key('inner');
        writeEcmInner(w, m.inner, opts, verdicts.auth);
      }
      if (m.payload) w.key('payload').hex(m.payload);
      break;
    case MessageType.SharedExtension:
      w.key('control_type').num(m.type).key('name').str('shared-extension').key('sub_type').num(m.subType).key('data').hex(m.data);
      break;
  }
  if (m.trailing) w.key('trailing').hex(m.trailing);
  if (isAuthenticatedType(m.type)) writeVerdict(w, 'auth', verdicts.auth);
}

/**
 * LISP-SEC Authentication Data (RFC 9303 §6). The OTK is key material (in clear with
 * NULL-KEY-WRAP-128): like Security Key LCAFs, only its length unless --show-keys.
 */
const INFO_TTL = fieldOf(INFO_BODY[0]!, 'ttl');
const OTK_WRAPPING_ID = fieldOf(OTK_AD[0]!, 'wrappingId');
const EID_AD_KDF = fieldOf(EID_AD[0]!, 'kdfId');
const EID_HMAC_ID = fieldOf(EID_AD_HMAC[0]!, 'eidHmacId');
const PKT_HMAC_ID = fieldOf(PKT_AD[0]!, 'pktHmacId');

function writeLispSec(w: JsonSink, ad: LispSecAd, fromMapServer: boolean, opts: JsonOptions): void {
  const [adType, reserved] = structFields(AD_HEADER);
  w.key('lisp_sec').obj().key(adType!.json!).num(ad.adType);
  if (ad.reserved) w.key(reserved!.json!).num(ad.reserved);
  if (ad.data) w.key('data').hex(ad.data);
  const o = ad.otkAd;
  if (o) {
    // The Map-Server sends the ETR the MS-OTK it derived, in an ECM with the E (to-ETR) bit.
    w.key('otk_ad').obj().key('carries').ascii(fromMapServer ? 'ms-otk' : 'otk');
    w.key(OTK_WRAPPING_ID.json!).num(o.wrappingId);
    const wrap = LISP_SEC_KEY_WRAP_IDS.get(o.wrappingId);
    if (wrap) w.key('wrapping').str(wrap.name);
    w.key('preamble').hex(o.preamble).key('otk_len').num(o.otk.length);
    if (opts.showKeys) w.key('otk').hex(o.otk);
    w.end();
  }
  const e = ad.eidAd;
  if (e) {
    w.key('eid_ad').obj().key(EID_AD_KDF.json!).num(e.kdfId);
    const kdf = LISP_SEC_KDF_IDS.get(e.kdfId);
    if (kdf) w.key('kdf').str(kdf);
    if (e.eidHmacId !== undefined) {
      w.key(EID_HMAC_ID.json!).num(e.eidHmacId);
      const alg = LISP_SEC_HMAC_IDS.get(e.eidHmacId);
      if (alg) w.key('eid_hmac_algorithm').str(alg.name);
      w.key('eids').arr();
      for (const p of e.records ?? []) writeAddress(w, p.prefix, opts, p.maskLen);
      w.endArr();
      if (e.eidHmac) w.key('eid_hmac').hex(e.eidHmac);
    }
    w.end();
  }
  const p = ad.pktAd;
  if (p) {
    w.key('pkt_ad').obj().key(PKT_HMAC_ID.json!).num(p.pktHmacId);
    const alg = LISP_SEC_HMAC_IDS.get(p.pktHmacId);
    if (alg) w.key('pkt_hmac_algorithm').str(alg.name);
    w.key('pkt_hmac').hex(p.pktHmac).end();
  }
  w.end();
}

function writeEcmInner(w: JsonSink, i: EcmInner, opts: JsonOptions, auth: AuthVerdict | undefined): void {
  w.obj().key('src').str(i.src).key('dst').str(i.dst).key('sport').num(i.sport).key('dport').num(i.dport);
  if (i.message) writeControlFields(w, i.message, opts, { auth });
  else if (i.payload) w.key('payload').hex(i.payload);
  w.end();
}

/** A LISP message found inside another packet, in its own contract form (control or data fields). */
export function writeNestedFields(w: JsonSink, n: NestedLisp, opts: JsonOptions, verdicts: Verdicts = {}): void {
  if (n.control) writeControlFields(w, n.control, opts, verdicts);
  else if (n.data) writeDataFields(w, n.data, opts, verdicts);
  else w.key('type').ascii(n.kind === 'data' ? 'data' : 'unknown');
}

/** The encapsulated packet (`inner` of data, VXLAN): addresses, protocol, length, transport fields, the LISP it carries. */
export function writeInnerSummary(w: JsonSink, i: InnerSummary, opts: JsonOptions, verdicts: Verdicts = {}): void {
  w.obj().key('src').ascii(i.src).key('dst').ascii(i.dst).key('proto').num(i.proto).key('len').num(i.len);
  if (i.sport !== undefined) w.key('sport').num(i.sport).key('dport').num(i.dport!);
  if (i.icmpType !== undefined) w.key('icmp_type').num(i.icmpType).key('icmp_code').num(i.icmpCode!);
  if (i.icmpId !== undefined) w.key('icmp_id').num(i.icmpId).key('icmp_seq').num(i.icmpSeq!);
  if (i.tcpFlags !== undefined) w.key('tcp_flags').ascii(tcpFlagLetters(i.tcpFlags));
  if (i.payloadLen !== undefined) w.key('payload_len').num(i.payloadLen);
  if (i.lisp) {
    w.key('lisp').obj();
    writeNestedFields(w, i.lisp, opts, verdicts);
    w.end();
  }
  w.end();
}

/** The contract fields of a data packet, as members of the open object. */
export function writeDataFields(w: JsonSink, d: DataMessage, opts: JsonOptions = {}, verdicts: Verdicts = {}): void {
  const f = dataHeaderFields(d.header);
  w.key('type').str('data').key('flags').str(dataFlagLetters(d.header));
  const D = DataField;
  if (f.nonce !== undefined) w.key(D.nonce.json!).str(f.nonce.toString(16).padStart(6, '0'));
  if (f.srcMapVersion !== undefined) w.key('map_version').obj().key(D.srcMapVersion.json!).num(f.srcMapVersion).key(D.dstMapVersion.json!).num(f.dstMapVersion!).end();
  if (f.iid !== undefined) w.key(D.iid.json!).num(f.iid);
  if (f.lsb !== undefined) w.key(D.lsb32.json!).num(f.lsb);
  if (f.keyId) w.key('key_id').num(f.keyId);
  if (f.gpeNextProtocol !== undefined) w.key(D.nextProtocol.json!).num(f.gpeNextProtocol);
  if (d.inner) {
    w.key('inner');
    writeInnerSummary(w, d.inner, opts, verdicts);
  }
}

/**
 * A VXLAN / VXLAN-GPO packet: `flags` (letters among G I D A), `vni` and `iid` (the same number:
 * the VNI is the fabric's LISP Instance-ID), `group_policy_id`, `dont_learn`, `policy_applied`
 * with G, `ethernet` (the inner frame's MACs, Ethertype, VLANs), `inner` as for LISP data.
 */
export function writeVxlanFields(w: JsonSink, m: VxlanMessage, opts: JsonOptions = {}): void {
  const F = VxlanField;
  w.key('type').ascii('vxlan').key('flags').ascii(vxlanFlagLetters(m.flags)).key(F.vni.json!).num(m.vni).key('iid').num(m.vni);
  const g = vxlanGroupPolicy(m);
  if (g) w.key(F.groupPolicyId.json!).num(g.groupPolicyId).key(F.dontLearn.json!).bool(g.dontLearn).key(F.policyApplied.json!).bool(g.policyApplied);
  const e = m.ethernet;
  if (e) {
    w.key('ethernet').obj().key('src').ascii(e.src).key('dst').ascii(e.dst);
    if (e.etherType !== undefined) w.key('ethertype').num(e.etherType);
    if (e.vlanIds) {
      w.key('vlan_ids').arr();
      for (const v of e.vlanIds) w.num(v);
      w.endArr();
    }
    w.end();
  }
  if (m.inner) {
    w.key('inner');
    writeInnerSummary(w, m.inner, opts);
  }
}

/**
 * An ICMP error quoting a LISP packet: `icmp` (type, code, name, mtu ...) and `quoted`, the
 * quoted packet's object as far as it was quoted (its addresses, ports and LISP fields).
 */
export function writeIcmpErrorFields(w: JsonSink, e: IcmpError, opts: JsonOptions = {}): void {
  w.key('type').ascii('icmp-error');
  w.key('icmp').obj().key('version').num(e.version).key('type').num(e.type).key('code').num(e.code).key('name').ascii(e.name);
  if (e.mtu !== undefined) w.key('mtu').num(e.mtu);
  if (e.pointer !== undefined) w.key('pointer').num(e.pointer);
  if (e.gateway !== undefined) w.key('gateway').ascii(e.gateway);
  w.key('length').num(e.length);
  w.end();
  const q = e.quoted;
  w.key('quoted').obj().key('src').ascii(q.src).key('dst').ascii(q.dst);
  if (q.sport !== undefined) w.key('sport').num(q.sport).key('dport').num(q.dport!);
  w.key('len').num(q.totalLength).key('quoted_len').num(q.quotedLength).key('cut').bool(q.cut);
  if (q.lisp) writeNestedFields(w, q.lisp, opts);
  w.end();
}

/**
 * The fields of a reliable-transport message (TCP port 4342) as members of the open object:
 * `type` (its slug), `message_id`, then what the type carries.
 */
export function writeReliableFields(w: JsonSink, m: ReliableMessage, opts: JsonOptions = {}): void {
  w.key('type').ascii(reliableTypeSlug(m.type));
  const F = ReliableField;
  if (!RELIABLE_TYPES.has(m.type)) w.key(F.type.json!).num(m.type);
  w.key(F.messageId.json!).num(m.messageId);
  if (isOpaque(m)) w.key('data').hex(m.body);
  else {
    switch (m.type) {
      case ReliableType.ErrorNotification:
        for (const f of ERROR_NOTIFICATION_JSON) w.key(f.json!).num((m as unknown as Record<string, number>)[f.key]!);
        w.key('offending_data').hex(m.offendingData);
        break;
      case ReliableType.Registration:
        w.key('map_register').obj();
        writeControlFields(w, m.mapRegister, opts);
        w.end();
        break;
      case ReliableType.RegistrationAck:
        w.key('eid');
        writeAddress(w, m.eid, opts, m.eidMaskLen);
        break;
      case ReliableType.RegistrationReject:
        w.key('reason').ascii(rejectReasonSlug(m.reason)).key(REJECT_REASON.json!).num(m.reason);
        w.key('eid');
        writeAddress(w, m.eid, opts, m.eidMaskLen);
        break;
      case ReliableType.RegistrationRefresh:
        w.key('scope').ascii(refreshScopeSlug(m.scope)).key(REFRESH_SCOPE.json!).num(m.scope).key(REFRESH_R.json!).bool(m.rejectedOnly);
        if (m.eid) {
          w.key('eid');
          writeAddress(w, m.eid, opts, m.eidMaskLen ?? 0);
        }
        break;
      case ReliableType.MappingNotification:
        w.key('xtr_id').hex(m.xtrId).key('site_id').hex(m.siteId);
        writeRecords(w, [m.record], opts);
        break;
    }
  }
  if (m.trailing) w.key('trailing').hex(m.trailing);
  if (m.endMarker !== undefined && m.endMarker !== RELIABLE_END_MARKER) w.key(F.endMarker.json!).ascii(m.endMarker.toString(16).padStart(8, '0'));
}
