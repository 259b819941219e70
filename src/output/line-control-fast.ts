// The text line of the common LISP control messages (see capture/plain-control.ts) written
// straight from the frame bytes, as line-fast.ts does for plain data. The title, flags, a
// locator's priority/weight/flags, a negative record's action or a referral's, the algorithm's
// name are cut from what the general writer (line.ts) writes for the same bits, once per value
// seen. Lines with colours or key verdicts are the general path's. A property test holds this
// writer to `packetLine`'s bytes.

import { MAPPING_HEADER, plainControl, REFERRAL_HEADER, scanPlainControl, SHAPES, type PlainControl } from '../capture/plain-control.js';
import type { Frame } from '../capture/types.js';
import { addressText } from '../dissect/address.js';
import { u16, u32 } from '../dissect/bytes.js';
import { decodeWord, fieldOf, fieldValue, flagFields, type Word } from '../dissect/field.js';
import { ECM_HEADER, LOCATOR, MAPPING_RECORD, REFERRAL_RECORD } from '../dissect/fields.js';
import { Afi, MessageType, TTL_UNLIMITED } from '../dissect/registry.js';
import type { ControlMessage, Ecm, LispAddress, Locator, ReferralRecord } from '../dissect/types.js';
import { Runs, putScannedAddress } from './control-runs.js';
import { authText, controlSummary, locatorTail, negativeText, recordsHead, referralText, ttlText } from './line.js';
import { lineTime, putLineHead, type FastLineOptions } from './line-fast.js';
import { bytesOf, OutBuffer, putAscii, putBytes, putHex, putHexBytes, putIpDestination, putIpSource, putUint, putUint53 } from './out-buffer.js';
import { PLAIN } from './style.js';

const NONE: LispAddress = { kind: 'none', afi: 0 };

/** The bits of a word its flags are (what a title and the flags' words depend on). */
function flagBits(def: Word<unknown>): number {
  let m = 0;
  for (const f of flagFields(def)) m |= f.mask;
  return m >>> 0;
}

/** Type and flags, by type. */
const KEY_BITS = SHAPES.map((s) => (s ? (0xf0000000 | flagBits(s.def)) >>> 0 : 0));

/** The general line of a message of no parts, with nonce 0, from its type and flags. */
function bareSummary(v: number): { text: string; nonce: number } {
  const m = { nonce: 0n, keyId: 0, algorithmId: 0, authData: new Uint8Array(0), records: [], eids: [], itrRlocs: [], sourceEid: NONE, eid: NONE, eidMaskLen: 0, address: NONE, ttl: 0 };
  const text = controlSummary({ ...m, ...decodeWord(SHAPES[v >>> 28]!.def, v, {}) } as unknown as ControlMessage, PLAIN);
  return { text, nonce: text.indexOf(' nonce 0x') + 9 };
}

/** `Map-Register nonce 0x`, by KEY_BITS of the header word. */
const TITLES = new Runs((v) => {
  const s = bareSummary(v);
  return s.text.slice(0, s.nonce);
});

/** The flags' words after the nonce (` [smr]`), by KEY_BITS of the header word. */
const FLAGS = new Runs((v) => {
  const s = bareSummary(v);
  const rest = s.text.slice(s.nonce + 16);
  return rest.slice(0, rest.indexOf(','));
});

const ECM_FLAG_BITS = flagBits(ECM_HEADER as Word<unknown>);
/** `LISP ECM [flags] `, by the ECM's flags. */
const ECM_HEADS = new Runs((v) => {
  const inner = { ipVersion: 4, src: '', dst: '', ttl: 0, sport: 0, dport: 0, udpChecksum: 0 };
  const text = controlSummary({ ...decodeWord(ECM_HEADER, v, {} as Ecm), type: MessageType.ECM, inner } as unknown as ControlMessage, PLAIN);
  return `LISP ${text.slice(0, text.indexOf(' .0 > .0: ') + 1)}`;
});

/** `, auth sha1`, by Algorithm ID. */
const AUTHS = new Runs((v) => `, ${authText({ algorithmId: v }, undefined, PLAIN, false)}`);

/** `, 2 records: `, by count. */
const RECORD_COUNTS = new Runs((v) => `, ${recordsHead(v)}`);

const ACTION = fieldOf(MAPPING_RECORD[1]!, 'action');
/** ` negative drop`, by action. */
const NEGATIVES = new Runs(negativeText);

const REFERRAL_BITS = (fieldOf(REFERRAL_RECORD[1]!, 'action').mask | fieldOf(REFERRAL_RECORD[1]!, 'incomplete').mask) >>> 0;
/** ` node-referral ttl `, by action and incomplete bits of the header's second word. */
const REFERRALS = new Runs((v) => ` ${referralText(decodeWord(REFERRAL_RECORD[1]!, v, {} as ReferralRecord))} ttl `);

const LOCATOR_FLAG_BITS = flagBits(LOCATOR[1] as Word<unknown>);
/** ` p1/w100 LR`, by priority and weight (the top 16 bits) and flags (the low 16). */
const LOCATORS = new Runs((v) => {
  const l = {} as Locator;
  decodeWord(LOCATOR[0]!, v & 0xffff0000, l);
  decodeWord(LOCATOR[1]!, v & 0xffff, l);
  return locatorTail(l);
});

const LISP = bytesOf('LISP ');
const ARROW = bytesOf(' > ');
const COMMA = bytesOf(', ');
const SEMICOLON = bytesOf('; ');
const TTL = bytesOf(' ttl ');
const TO = bytesOf(' -> [');
const EID = bytesOf(', eid ');
const SOURCE_EID = bytesOf(', source-eid ');
const ITR_RLOCS = bytesOf(', itr-rlocs [');
const NO_ADDRESS = bytesOf(addressText(NONE));
const NO_RECORDS = bytesOf(', 0 records');
const NAT_TTL = bytesOf(', ttl ');
const MAP_DATA = bytesOf(', map-data ');
const XTR_ID = bytesOf(', xtr-id ');
const GLOBAL = bytesOf(', global ');
const MS = bytesOf(', ms ');
const PRIVATE = bytesOf(', private ');
const RTRS = bytesOf(', rtrs [');

/**
 * The longest a line gets per byte of message (a referral without referrals: 16 bytes, some 60
 * of text), and beyond: the buffer's room is checked once, for the whole line.
 */
const PER_BYTE = 6;
const HEAD_ROOM = 1024;

function putTtl(buf: Uint8Array, p: number, ttl: number): number {
  return ttl === TTL_UNLIMITED ? putAscii(buf, p, ttlText(ttl)) : putUint53(buf, p, ttl);
}

/** Addresses at offsets list[0, n), `, ` between them. */
function putAddresses(buf: Uint8Array, p: number, b: Uint8Array, list: Int32Array, n: number, masked: boolean): number {
  for (let i = 0; i < n; i++) {
    if (i) p = putBytes(buf, p, COMMA);
    const a = list[i]!;
    p = putScannedAddress(buf, p, b, a, masked ? b[a - 1]! : -1);
  }
  return p;
}

/** A Map-Request's EID prefixes, Source EID (unless AFI 0), ITR-RLOCs and map-data, in the line's order. */
function putRequest(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl): number {
  p = putAddresses(buf, putBytes(buf, p, EID), b, c.eids, c.eidCount, true);
  if (c.sourceEid >= 0) p = putScannedAddress(buf, putBytes(buf, p, SOURCE_EID), b, c.sourceEid, -1);
  p = putAddresses(buf, putBytes(buf, p, ITR_RLOCS), b, c.itrs, c.itrCount, false);
  buf[p++] = 93;
  return c.recordCount ? putRecord(buf, putBytes(buf, p, MAP_DATA), b, c, 0) : p;
}

/** Record i's locators, from ` -> [` to `]`. */
function putLocators(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl, i: number): number {
  p = putBytes(buf, p, TO);
  const first = c.firstLocator[i]!;
  for (let j = first, last = c.firstLocator[i + 1]!; j < last; j++) {
    if (j > first) p = putBytes(buf, p, COMMA);
    const l = c.locators[j]!;
    p = putScannedAddress(buf, p, b, l + 6, -1);
    p = putBytes(buf, p, LOCATORS.get(((u32(b, l) & 0xffff0000) | (u16(b, l + 4) & LOCATOR_FLAG_BITS)) >>> 0));
  }
  buf[p++] = 93;
  return p;
}

/** Mapping record i. */
function putRecord(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl, i: number): number {
  const r = c.records[i]!;
  const w1 = u32(b, r + 4);
  p = putScannedAddress(buf, p, b, r + 10, fieldValue(MAPPING_HEADER.maskLen, w1));
  p = putTtl(buf, putBytes(buf, p, TTL), u32(b, r));
  return c.firstLocator[i] === c.firstLocator[i + 1] ? putBytes(buf, p, NEGATIVES.get(fieldValue(ACTION, w1))) : putLocators(buf, p, b, c, i);
}

function putRecords(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl): number {
  p = putBytes(buf, p, RECORD_COUNTS.get(c.recordCount));
  for (let i = 0; i < c.recordCount; i++) {
    if (i) p = putBytes(buf, p, SEMICOLON);
    p = putRecord(buf, p, b, c, i);
  }
  return p;
}

function putReferrals(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl): number {
  if (c.recordCount === 0) return putBytes(buf, p, NO_RECORDS);
  p = putBytes(buf, p, COMMA);
  for (let i = 0; i < c.recordCount; i++) {
    if (i) p = putBytes(buf, p, SEMICOLON);
    const r = c.records[i]!;
    const w1 = u32(b, r + 4);
    p = putScannedAddress(buf, p, b, r + 10, fieldValue(REFERRAL_HEADER.maskLen, w1));
    p = putTtl(buf, putBytes(buf, p, REFERRALS.get((w1 & REFERRAL_BITS) >>> 0)), u32(b, r));
    p = putLocators(buf, p, b, c, i);
  }
  return p;
}

/** An RLOC, or `(none)` for AFI 0. */
function putRloc(buf: Uint8Array, p: number, b: Uint8Array, a: number): number {
  return u16(b, a) === Afi.None ? putBytes(buf, p, NO_ADDRESS) : putScannedAddress(buf, p, b, a, -1);
}

/** An Info message's EID, and an Info-Reply's TTL and NAT-Traversal LCAF. */
function putInfo(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl): number {
  p = putBytes(buf, p, EID);
  p = c.infoEid < 0 ? putBytes(buf, p, NO_ADDRESS) : putScannedAddress(buf, p, b, c.infoEid, b[c.info + 5]!);
  if (c.nat < 0) return p;
  const a = c.natAddresses;
  p = putUint53(buf, putBytes(buf, p, NAT_TTL), u32(b, c.info));
  p = putRloc(buf, putBytes(buf, p, GLOBAL), b, a[0]!);
  buf[p++] = 58;
  p = putUint(buf, p, u16(b, c.nat + 2));
  p = putRloc(buf, putBytes(buf, p, MS), b, a[1]!);
  buf[p++] = 58;
  p = putUint(buf, p, u16(b, c.nat));
  p = putRloc(buf, putBytes(buf, p, PRIVATE), b, a[2]!);
  p = putBytes(buf, p, RTRS);
  for (let i = 3; i < c.natCount; i++) {
    if (i > 3) p = putBytes(buf, p, COMMA);
    p = putRloc(buf, p, b, a[i]!);
  }
  buf[p++] = 93;
  return p;
}

/** The scanned message, from its title on. */
function putMessage(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl): number {
  const key = (c.word & KEY_BITS[c.type]!) >>> 0;
  p = putBytes(buf, p, TITLES.get(key));
  p = putHex(buf, p, u32(b, c.msg + 4), 8);
  p = putHex(buf, p, u32(b, c.msg + 8), 8);
  p = putBytes(buf, p, FLAGS.get(key));
  for (const part of SHAPES[c.type]!.parts) {
    if (part === 'request') p = putRequest(buf, p, b, c);
    else if (part === 'auth') p = putBytes(buf, p, AUTHS.get(b[c.auth + 1]!));
    else if (part === 'records') p = putRecords(buf, p, b, c);
    else if (part === 'referrals') p = putReferrals(buf, p, b, c);
    else if (part === 'info') p = putInfo(buf, p, b, c);
    // A Map-Request's xTR-ID; a Map-Register's or Map-Notify's, and the site-IDs, are for -V.
    else if (c.xtr >= 0 && c.type === MessageType.MapRequest) p = putHexBytes(buf, putBytes(buf, p, XTR_ID), b, c.xtr, c.xtr + 16);
  }
  return p;
}

/** The scanned ECM's flags, inner addresses and ports, and message. */
function putEcm(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl): number {
  const q = c.innerIp;
  p = putBytes(buf, p, ECM_HEADS.get((u32(b, c.ecm) & ECM_FLAG_BITS) >>> 0));
  p = putIpSource(buf, p, b, q, c.innerVersion);
  buf[p++] = 46;
  p = putUint(buf, p, u16(b, c.innerUdp));
  p = putBytes(buf, p, ARROW);
  p = putIpDestination(buf, p, b, q, c.innerVersion);
  buf[p++] = 46;
  p = putUint(buf, p, u16(b, c.innerUdp + 2));
  buf[p++] = 58;
  buf[p++] = 32;
  return putMessage(buf, p, b, c);
}

const scanned = plainControl();

/** Writes the frame's line and returns true when it is a control message this writer takes (lines without colours, no keys). */
export function writeControlLineFast(f: Frame, out: OutBuffer, o: FastLineOptions): boolean {
  const c = scanned;
  if (!scanPlainControl(f, c) || HEAD_ROOM + PER_BYTE * c.udpLen > out.capacity) return false;
  const time = lineTime(f, o);
  out.ensure(HEAD_ROOM + PER_BYTE * c.udpLen + (time?.length ?? 0));
  const buf = out.buf;
  let p = putLineHead(f, buf, out.pos, o, time, c.ip, c.sport, c.dport);
  p = c.ecm >= 0 ? putEcm(buf, p, f.data, c) : putMessage(buf, putBytes(buf, p, LISP), f.data, c);
  buf[p++] = 10;
  out.pos = p;
  return true;
}
