// The NDJSON line of the common LISP control messages (see capture/plain-control.ts) written
// straight from the frame bytes, as json-fast.ts does for plain data.
// How a header word, a record's header, a locator's header or an authentication block looks in
// JSON is cut from what the general writer (json-lisp.ts) writes for the same bits, once per value
// seen, so the two paths cannot drift. A property test holds this writer to `packetJsonText`'s bytes.

import { MAPPING_HEADER, plainControl, REFERRAL_HEADER, scanPlainControl, SHAPES, type PlainControl, type RecordHeader } from '../capture/plain-control.js';
import type { Frame } from '../capture/types.js';
import { u16, u32 } from '../dissect/bytes.js';
import { decodeWord, fieldOf, fieldValue, type Field, type Struct, type Word } from '../dissect/field.js';
import { ECM_HEADER, INFO_BODY, LOCATOR, MAPPING_RECORD, REFERRAL_RECORD } from '../dissect/fields.js';
import { Afi, controlTypeName, MessageType } from '../dissect/registry.js';
import type { Ecm, Locator, MappingRecord, ReferralRecord } from '../dissect/types.js';
import { putPacketHead } from './json-fast.js';
import { writeAuth, writeControlFields, writeFields, writeLocatorFields, writeRecord, writeReferral } from './json-lisp.js';
import { Runs, putScannedAddress } from './control-runs.js';
import { JsonWriter, type JsonSink } from './json-writer.js';
import { bytesOf, OutBuffer, putBytes, putHex, putHexBytes, putIpDestination, putIpSource, putUint, putUint53 } from './out-buffer.js';

/** Where the templates are written: one buffer, every call synchronous. */
const scratch = new OutBuffer(() => true, 1 << 16);

/** What the general writer writes, as text. */
function written(write: (w: JsonSink) => void): string {
  scratch.pos = 0;
  write(new JsonWriter(scratch));
  return Buffer.from(scratch.buf.subarray(0, scratch.pos)).toString('latin1');
}

/** The members `write` adds to an open object that has one already (so they start with a comma). */
function members(write: (w: JsonSink) => void): string {
  return written((w) => write(w.obj().key('x').num(0))).slice('{"x":0'.length);
}

/** The bits of a word its JSON depends on: all but Type, counts and reserved bits the JSON leaves out. */
function shownBits(def: Word<unknown>): number {
  let m = 0;
  for (const f of def.fields as readonly Field[]) if (f.key !== 'type' && f.kind !== 'count' && (f.kind !== 'reserved' || f.json)) m |= f.mask;
  return m >>> 0;
}

interface Layout {
  /** `,"type":"…","nonce":"` (Info's type is by its R bit), by the header word's shown bits. */
  head: Runs;
  shown: number;
  /** The header word's fields, by its shown bits. */
  fields: Runs;
}

/** By message type, as SHAPES. */
const LAYOUTS: (Layout | undefined)[] = SHAPES.map((shape, type) => {
  if (!shape) return undefined;
  const def = shape.def;
  return {
    head: new Runs((v) => `,"type":"${controlTypeName({ ...decodeWord(def as Word<{ reply?: boolean }>, v, {}), type })}","nonce":"`),
    shown: shownBits(def),
    fields: new Runs((v) => members((w) => writeFields(w, def, decodeWord(def, v, {})))),
  };
});

/** A mapping or referral record's header (before its EID), and how the general writer writes the record. */
interface RecordKind {
  header: RecordHeader;
  /** From `,"action"` to `"locators":[`, by the header's second and third words (16 bits each). */
  runs: Runs;
}

function recordKind<T extends MappingRecord | ReferralRecord>(s: Struct<T>, header: RecordHeader, write: (w: JsonSink, r: T) => void): RecordKind {
  const before = '{"eid":null,"ttl":0';
  const after = ']}';
  return {
    header,
    runs: new Runs((v) => {
      const r = { ttl: 0, eid: { kind: 'none', afi: 0 }, locators: [], referrals: [], signatures: [] } as unknown as T;
      decodeWord(s[1]!, v >>> 16, r);
      decodeWord(s[2]!, v & 0xffff, r);
      const text = written((w) => write(w, r));
      return text.slice(before.length, text.length - after.length);
    }),
  };
}

const MAPPING = recordKind(MAPPING_RECORD, MAPPING_HEADER, (w, r) => writeRecord(w, r, {}));
const REFERRAL = recordKind(REFERRAL_RECORD, REFERRAL_HEADER, (w, r) => writeReferral(w, r, {}));

const LOCATOR_SHOWN = shownBits(LOCATOR[1] as Word<unknown>);
/** A locator's fields after its RLOC, by its two header words (32 and 16 bits). */
const LOCATOR_RUNS = new Runs((v) => {
  const l = {} as Locator;
  decodeWord(LOCATOR[0]!, Math.floor(v / 65536), l);
  decodeWord(LOCATOR[1]!, v % 65536, l);
  return members((w) => writeLocatorFields(w, l));
});

/** The authentication block up to its data's hex, by Key ID field and data length. */
const AUTH_RUNS = new Runs((v) => {
  const len = v & 0xffff;
  const text = members((w) => writeAuth(w, { keyId: v >>> 24, algorithmId: (v >>> 16) & 0xff, authData: new Uint8Array(len) }));
  return text.slice(0, text.length - 2 * len - 1);
});

const ECM_SHOWN = shownBits(ECM_HEADER as Word<unknown>);
/** An ECM's `type` and header fields. */
const ECM_RUNS = new Runs((v) => members((w) => writeControlFields(w, { ...decodeWord(ECM_HEADER, v, {} as Ecm), type: MessageType.ECM })));

const INFO_TTL = bytesOf(`,"${fieldOf(INFO_BODY[0]!, 'ttl').json!}":`);
const DPORT = bytesOf(',"dport":');
const SOURCE_EID = bytesOf(',"source_eid":');
const ITR_RLOCS = bytesOf(',"itr_rlocs":[');
const EIDS = bytesOf('],"eids":[');
const EID = bytesOf(',"eid":');
const RECORDS = bytesOf(',"records":[');
const RECORD_EID = bytesOf('{"eid":');
const TTL = bytesOf(',"ttl":');
const RLOC = bytesOf('{"rloc":');
const INNER = bytesOf(',"inner":{"src":"');
const DST = bytesOf('","dst":"');
const SPORT = bytesOf('","sport":');
const XTR_ID = bytesOf(',"xtr_id":"');
const NAT = bytesOf(',"nat":{');
const MAP_REPLY = bytesOf(',"map_reply":');
const GLOBAL_ETR_RLOC = bytesOf('"global_etr_rloc":');
const GLOBAL_ETR_PORT = bytesOf('"global_etr_port":');
const MS_UDP_PORT = bytesOf(',"ms_udp_port":');
const ETR_UDP_PORT = bytesOf(',"etr_udp_port":');
const MS_RLOC = bytesOf(',"ms_rloc":');
const PRIVATE_ETR_RLOC = bytesOf(',"private_etr_rloc":');
const RTR_RLOCS = bytesOf(',"rtr_rlocs":[');
const NULL = bytesOf('null');
const SITE_ID = bytesOf('","site_id":"');

/**
 * The longest a line gets per byte of message (a locator: 12 bytes, ~130 of JSON), and beyond:
 * the buffer's room is checked once, for the whole line.
 */
const PER_BYTE = 12;
const HEAD_ROOM = 1024;

/** An address the scan found as a JSON string. */
function putAddress(buf: Uint8Array, p: number, b: Uint8Array, a: number, maskLen: number): number {
  buf[p++] = 34;
  p = putScannedAddress(buf, p, b, a, maskLen);
  buf[p++] = 34;
  return p;
}

/** Source EID (omitted when AFI 0), ITR-RLOCs, EID prefixes and map-data of a Map-Request. */
function putRequest(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl): number {
  if (c.sourceEid >= 0) p = putAddress(buf, putBytes(buf, p, SOURCE_EID), b, c.sourceEid, -1);
  p = putBytes(buf, p, ITR_RLOCS);
  for (let i = 0; i < c.itrCount; i++) {
    if (i) buf[p++] = 44;
    p = putAddress(buf, p, b, c.itrs[i]!, -1);
  }
  p = putBytes(buf, p, EIDS);
  for (let i = 0; i < c.eidCount; i++) {
    if (i) buf[p++] = 44;
    p = putAddress(buf, p, b, c.eids[i]!, b[c.eids[i]! - 1]!);
  }
  buf[p++] = 93;
  return c.recordCount ? putRecord(buf, putBytes(buf, p, MAP_REPLY), b, c, 0, MAPPING) : p;
}

/** Key ID, algorithm and Authentication Data. */
function putAuth(buf: Uint8Array, p: number, b: Uint8Array, a: number): number {
  p = putBytes(buf, p, AUTH_RUNS.get(u32(b, a)));
  p = putHexBytes(buf, p, b, a + 4, a + 4 + u16(b, a + 2));
  buf[p++] = 34;
  return p;
}

/** The records of `kind`. */
function putRecords(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl, kind: RecordKind): number {
  p = putBytes(buf, p, RECORDS);
  for (let i = 0; i < c.recordCount; i++) {
    if (i) buf[p++] = 44;
    p = putRecord(buf, p, b, c, i, kind);
  }
  buf[p++] = 93;
  return p;
}

/** Record i, of `kind`. */
function putRecord(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl, i: number, kind: RecordKind): number {
  const r = c.records[i]!;
  const w1 = u32(b, r + 4);
  p = putAddress(buf, putBytes(buf, p, RECORD_EID), b, r + 10, fieldValue(kind.header.maskLen, w1));
  p = putUint53(buf, putBytes(buf, p, TTL), u32(b, r));
  p = putBytes(buf, p, kind.runs.get((((w1 & 0xffff) << 16) | u16(b, r + 8)) >>> 0));
  const first = c.firstLocator[i]!;
  for (let j = first, last = c.firstLocator[i + 1]!; j < last; j++) {
    if (j > first) buf[p++] = 44;
    const l = c.locators[j]!;
    p = putAddress(buf, putBytes(buf, p, RLOC), b, l + 6, -1);
    p = putBytes(buf, p, LOCATOR_RUNS.get(u32(b, l) * 65536 + (u16(b, l + 4) & LOCATOR_SHOWN)));
    buf[p++] = 125;
  }
  buf[p++] = 93;
  buf[p++] = 125;
  return p;
}

/** `key` and the address at `a`, nothing for AFI 0. */
function putAddressField(buf: Uint8Array, p: number, key: Uint8Array, b: Uint8Array, a: number): number {
  return u16(b, a) === Afi.None ? p : putAddress(buf, putBytes(buf, p, key), b, a, -1);
}

/** An Info-Reply's NAT-Traversal LCAF. */
function putNat(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl): number {
  const a = c.natAddresses;
  const etrPort = u16(b, c.nat + 2);
  p = putBytes(buf, p, NAT);
  if (u16(b, a[0]!) !== Afi.None) {
    p = putAddress(buf, putBytes(buf, p, GLOBAL_ETR_RLOC), b, a[0]!, -1);
    buf[p++] = 44;
  }
  p = putUint(buf, putBytes(buf, p, GLOBAL_ETR_PORT), etrPort);
  p = putUint(buf, putBytes(buf, p, MS_UDP_PORT), u16(b, c.nat));
  p = putUint(buf, putBytes(buf, p, ETR_UDP_PORT), etrPort);
  p = putAddressField(buf, p, MS_RLOC, b, a[1]!);
  p = putAddressField(buf, p, PRIVATE_ETR_RLOC, b, a[2]!);
  p = putBytes(buf, p, RTR_RLOCS);
  for (let i = 3; i < c.natCount; i++) {
    if (i > 3) buf[p++] = 44;
    p = u16(b, a[i]!) === Afi.None ? putBytes(buf, p, NULL) : putAddress(buf, p, b, a[i]!, -1);
  }
  buf[p++] = 93;
  buf[p++] = 125;
  return p;
}

/** An Info message's TTL and EID (omitted when AFI 0), and an Info-Reply's NAT-Traversal LCAF. */
function putInfo(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl): number {
  p = putUint53(buf, putBytes(buf, p, INFO_TTL), u32(b, c.info));
  if (c.infoEid >= 0) p = putAddress(buf, putBytes(buf, p, EID), b, c.infoEid, b[c.info + 5]!);
  return c.nat >= 0 ? putNat(buf, p, b, c) : p;
}

/** xTR-ID and site-ID. */
function putXtr(buf: Uint8Array, p: number, b: Uint8Array, x: number): number {
  p = putHexBytes(buf, putBytes(buf, p, XTR_ID), b, x, x + 16);
  p = putHexBytes(buf, putBytes(buf, p, SITE_ID), b, x + 16, x + 24);
  buf[p++] = 34;
  return p;
}

/** The scanned message's members from `type` on. */
function putMessage(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl): number {
  const l = LAYOUTS[c.type]!;
  const start = c.msg;
  const shown = (c.word & l.shown) >>> 0;
  p = putBytes(buf, p, l.head.get(shown));
  p = putHex(buf, p, u32(b, start + 4), 8);
  p = putHex(buf, p, u32(b, start + 8), 8);
  buf[p++] = 34;
  p = putBytes(buf, p, l.fields.get(shown));
  for (const part of SHAPES[c.type]!.parts) {
    if (part === 'request') p = putRequest(buf, p, b, c);
    else if (part === 'auth') p = putAuth(buf, p, b, c.auth);
    else if (part === 'records') p = putRecords(buf, p, b, c, MAPPING);
    else if (part === 'referrals') p = putRecords(buf, p, b, c, REFERRAL);
    else if (part === 'info') p = putInfo(buf, p, b, c);
    else if (c.xtr >= 0) p = putXtr(buf, p, b, c.xtr);
  }
  return p;
}

/** The scanned ECM's header fields, inner addresses and ports, and message. */
function putEcm(buf: Uint8Array, p: number, b: Uint8Array, c: PlainControl): number {
  const q = c.innerIp;
  p = putBytes(buf, p, ECM_RUNS.get((u32(b, c.ecm) & ECM_SHOWN) >>> 0));
  p = putBytes(buf, p, INNER);
  p = putIpSource(buf, p, b, q, c.innerVersion);
  p = putBytes(buf, p, DST);
  p = putIpDestination(buf, p, b, q, c.innerVersion);
  p = putBytes(buf, p, SPORT);
  p = putUint(buf, p, u16(b, c.innerUdp));
  p = putBytes(buf, p, DPORT);
  p = putUint(buf, p, u16(b, c.innerUdp + 2));
  p = putMessage(buf, p, b, c);
  buf[p++] = 125;
  return p;
}

const scanned = plainControl();

/** Writes the frame's line and returns true when it is a control message this writer takes. */
export function writeControlJsonFast(f: Frame, out: OutBuffer): boolean {
  return scanPlainControl(f, scanned) && writeScannedControlJson(f, scanned, out);
}

/**
 * Writes the line of a frame that scanPlainControl accepted into `c`; false (nothing written)
 * when the line might not fit the buffer.
 */
export function writeScannedControlJson(f: Frame, c: PlainControl, out: OutBuffer): boolean {
  if (HEAD_ROOM + PER_BYTE * c.udpLen > out.capacity) return false;
  out.ensure(HEAD_ROOM + PER_BYTE * c.udpLen);
  const buf = out.buf;
  let p = putPacketHead(f, buf, out.pos, c.ip);
  p = putUint(buf, p, c.sport);
  p = putUint(buf, putBytes(buf, p, DPORT), c.dport);
  p = c.ecm >= 0 ? putEcm(buf, p, f.data, c) : putMessage(buf, p, f.data, c);
  buf[p++] = 125;
  buf[p++] = 10;
  out.pos = p;
  return true;
}
