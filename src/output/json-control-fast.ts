// The NDJSON line of the common LISP control messages (Map-Request, Map-Reply, Map-Register,
// Map-Notify(-Ack), Map-Referral, Info-Request, and an ECM carrying one of them) written straight
// from the frame bytes, as json-fast.ts does for plain data: control messages are a fifth of a
// capture, and objects and strings cost them several times what the bytes do.
// What follows each message's header is a table (LAYOUTS). How a header word, a record's header, a
// locator's header or an authentication block looks in JSON is cut from what the general writer
// (json-lisp.ts) writes for the same bits, once per value seen, so the two paths cannot drift.
// Anything unusual (LCAFs, AFI 0 where it is not omitted, flags that add parts, trailing bytes,
// whatever the decoder would note) returns false and takes the general path. A property test holds
// this writer to `packetJsonText`'s bytes.

import { plainIpv4Udp } from '../capture/plain-data.js';
import type { Frame } from '../capture/types.js';
import { formatIPv6 } from '../dissect/addr.js';
import { u16, u32 } from '../dissect/bytes.js';
import { looksLikeData } from '../dissect/classify.js';
import { decodeWord, fieldOf, fieldValue, type Field, type Struct, type Word } from '../dissect/field.js';
import {
  ECM_HEADER,
  INFO,
  INFO_BODY,
  LOCATOR,
  MAP_NOTIFY,
  MAP_REFERRAL,
  MAP_REGISTER,
  MAP_REPLY,
  MAP_REQUEST,
  MAPPING_RECORD,
  REFERRAL_RECORD,
} from '../dissect/fields.js';
import { AFI_MAX_MASK, Afi, AUTH_ALGORITHMS, controlTypeName, LISP_CONTROL_PORT, LISP_DATA_PORT, MessageType } from '../dissect/registry.js';
import type { Ecm, Locator, MappingRecord, ReferralRecord } from '../dissect/types.js';
import { putPacketHead } from './json-fast.js';
import { writeAuth, writeControlFields, writeFields, writeLocatorFields, writeRecord, writeReferral } from './json-lisp.js';
import { JsonWriter, type JsonSink } from './json-writer.js';
import { bytesOf, OutBuffer, putAscii, putBytes, putHex, putHexBytes, putIPv4, putUint, putUint53 } from './out-buffer.js';

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

/** Runs of JSON by the bits they are made from, made once per value; a crafted capture's thousands of values start the cache over. */
class Runs {
  private readonly made = new Map<number, Uint8Array>();
  constructor(private readonly make: (v: number) => string) {}

  get(v: number): Uint8Array {
    let r = this.made.get(v);
    if (r === undefined) {
      if (this.made.size >= 4096) this.made.clear();
      r = bytesOf(this.make(v));
      this.made.set(v, r);
    }
    return r;
  }
}

/** The bits of a word its JSON depends on: all but Type, counts and reserved bits the JSON leaves out. */
function shownBits(def: Word<unknown>): number {
  let m = 0;
  for (const f of def.fields as readonly Field[]) if (f.key !== 'type' && f.kind !== 'count' && (f.kind !== 'reserved' || f.json)) m |= f.mask;
  return m >>> 0;
}

/** The parts that follow a message's header word and nonce, in wire order. */
type Part = 'request' | 'auth' | 'records' | 'referrals' | 'info';

interface Layout {
  /** `,"type":"…","nonce":"`. */
  head: Uint8Array;
  /** Flags that bring parts this writer leaves to the general path. */
  refuse: number;
  shown: number;
  /** The header word's fields, by its shown bits. */
  fields: Runs;
  parts: readonly Part[];
}

function layout<T>(type: number, def: Word<T>, refuse: readonly Extract<keyof T, string>[], parts: readonly Part[]): Layout {
  let r = 0;
  for (const k of refuse) r |= fieldOf(def, k).mask;
  return {
    head: bytesOf(`,"type":"${controlTypeName({ type })}","nonce":"`),
    refuse: r >>> 0,
    shown: shownBits(def as Word<unknown>),
    fields: new Runs((v) => members((w) => writeFields(w, def, decodeWord(def, v, {} as T)))),
    parts,
  };
}

/** By message type; ECM is its own (putEcm), and an ECM inside an ECM is the general path's. */
const LAYOUTS: (Layout | undefined)[] = [];
LAYOUTS[MessageType.MapRequest] = layout(MessageType.MapRequest, MAP_REQUEST, ['mapDataPresent', 'xtrIdPresent'], ['request']);
LAYOUTS[MessageType.MapReply] = layout(MessageType.MapReply, MAP_REPLY, ['security'], ['records']);
LAYOUTS[MessageType.MapRegister] = layout(MessageType.MapRegister, MAP_REGISTER, ['xtrIdPresent'], ['auth', 'records']);
LAYOUTS[MessageType.MapNotify] = layout(MessageType.MapNotify, MAP_NOTIFY, ['xtrIdPresent', 'msRtrAuthPresent'], ['auth', 'records']);
LAYOUTS[MessageType.MapNotifyAck] = layout(MessageType.MapNotifyAck, MAP_NOTIFY, ['xtrIdPresent', 'msRtrAuthPresent'], ['auth', 'records']);
LAYOUTS[MessageType.MapReferral] = layout(MessageType.MapReferral, MAP_REFERRAL, [], ['referrals']);
LAYOUTS[MessageType.Info] = layout(MessageType.Info, INFO, ['reply'], ['auth', 'info']);

const ITR_RLOC_COUNT = fieldOf(MAP_REQUEST, 'itrRlocCount');
const RECORD_COUNT = fieldOf(MAP_REQUEST, 'recordCount');

/** A mapping or referral record's header (before its EID), and how the general writer writes the record. */
interface RecordKind {
  size: number;
  locators: Field;
  maskLen: Field;
  /** Referrals' signatures: the general path's. */
  signatures: Field | undefined;
  /** From `,"action"` to `"locators":[`, by the header's second and third words (16 bits each). */
  runs: Runs;
}

function recordKind<T extends MappingRecord | ReferralRecord>(s: Struct<T>, locators: string, signatures: string | undefined, write: (w: JsonSink, r: T) => void): RecordKind {
  const before = '{"eid":null,"ttl":0';
  const after = ']}';
  return {
    size: 10,
    locators: fieldOf(s[1]!, locators),
    maskLen: fieldOf(s[1]!, 'eidMaskLen'),
    signatures: signatures === undefined ? undefined : fieldOf(s[2]!, signatures),
    runs: new Runs((v) => {
      const r = { ttl: 0, eid: { kind: 'none', afi: 0 }, locators: [], referrals: [], signatures: [] } as unknown as T;
      decodeWord(s[1]!, v >>> 16, r);
      decodeWord(s[2]!, v & 0xffff, r);
      const text = written((w) => write(w, r));
      return text.slice(before.length, text.length - after.length);
    }),
  };
}

const MAPPING = recordKind(MAPPING_RECORD, 'locatorCount', undefined, (w, r) => writeRecord(w, r, {}));
const REFERRAL = recordKind(REFERRAL_RECORD, 'referralCount', 'signatureCount', (w, r) => writeReferral(w, r, {}));

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

const ECM_SECURITY = fieldOf(ECM_HEADER, 'security').mask;
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

/**
 * The longest a line gets per byte of message (a locator: 12 bytes, ~130 of JSON), and beyond:
 * the buffer's room is checked once, for the whole line.
 */
const PER_BYTE = 12;
const HEAD_ROOM = 1024;

// Reading position and end of the message being written (the parts' writers share them).
let at = 0;
let end = 0;

/**
 * An IPv4 or IPv6 address at `at` (AFI first) as a JSON string, with `/maskLen` when it is not
 * negative; -1 for any other AFI, a cut address or a mask longer than the address (a note).
 */
function putAddress(buf: Uint8Array, p: number, b: Uint8Array, maskLen: number): number {
  if (p < 0 || at + 2 > end) return -1;
  const afi = u16(b, at);
  const a = at + 2;
  if (afi === Afi.IPv4) {
    if (a + 4 > end) return -1;
    buf[p++] = 34;
    p = putIPv4(buf, p, b, a);
    at = a + 4;
  } else if (afi === Afi.IPv6) {
    if (a + 16 > end) return -1;
    buf[p++] = 34;
    p = putAscii(buf, p, formatIPv6(b, a));
    at = a + 16;
  } else return -1;
  if (maskLen >= 0) {
    if (maskLen > AFI_MAX_MASK.get(afi)!) return -1;
    buf[p++] = 47;
    p = putUint(buf, p, maskLen);
  }
  buf[p++] = 34;
  return p;
}

/** Source EID (omitted when AFI 0), ITR-RLOCs and EID prefixes of a Map-Request. */
function putRequest(buf: Uint8Array, p: number, b: Uint8Array, word: number): number {
  const itrs = fieldValue(ITR_RLOC_COUNT, word) + 1;
  const eids = fieldValue(RECORD_COUNT, word);
  if (eids === 0 || at + 2 > end) return -1; // Record Count 0: a warning
  if (u16(b, at) === Afi.None) at += 2;
  else p = putAddress(buf, putBytes(buf, p, SOURCE_EID), b, -1);
  if (p < 0) return -1;
  p = putBytes(buf, p, ITR_RLOCS);
  for (let i = 0; i < itrs && p >= 0; i++) {
    if (i) buf[p++] = 44;
    p = putAddress(buf, p, b, -1);
  }
  if (p < 0) return -1;
  p = putBytes(buf, p, EIDS);
  for (let i = 0; i < eids && p >= 0; i++) {
    if (i) buf[p++] = 44;
    if (at + 2 > end) return -1;
    const maskLen = b[at + 1]!;
    at += 2;
    p = putAddress(buf, p, b, maskLen);
  }
  if (p < 0) return -1;
  buf[p++] = 93;
  return p;
}

/** Key ID, algorithm and Authentication Data, when its length fits the algorithm (else a warning). */
function putAuth(buf: Uint8Array, p: number, b: Uint8Array): number {
  if (at + 4 > end) return -1;
  const len = u16(b, at + 2);
  const alg = AUTH_ALGORITHMS.get(b[at + 1]!);
  if ((alg && len !== alg.macLength && len !== alg.truncatedLength) || at + 4 + len > end) return -1;
  p = putBytes(buf, p, AUTH_RUNS.get(u32(b, at)));
  p = putHexBytes(buf, p, b, at + 4, at + 4 + len);
  buf[p++] = 34;
  at += 4 + len;
  return p;
}

/** `count` records of `kind` (with no referral signatures). */
function putRecords(buf: Uint8Array, p: number, b: Uint8Array, count: number, kind: RecordKind): number {
  p = putBytes(buf, p, RECORDS);
  for (let i = 0; i < count; i++) {
    if (i) buf[p++] = 44;
    if (at + kind.size > end) return -1;
    const ttl = u32(b, at);
    const w1 = u32(b, at + 4);
    const w2 = u16(b, at + 8);
    if (kind.signatures && fieldValue(kind.signatures, w2)) return -1;
    const locators = fieldValue(kind.locators, w1);
    at += kind.size;
    p = putAddress(buf, putBytes(buf, p, RECORD_EID), b, fieldValue(kind.maskLen, w1));
    if (p < 0) return -1;
    p = putUint53(buf, putBytes(buf, p, TTL), ttl);
    p = putBytes(buf, p, kind.runs.get((((w1 & 0xffff) << 16) | w2) >>> 0));
    for (let j = 0; j < locators; j++) {
      if (j) buf[p++] = 44;
      if (at + 6 > end) return -1;
      const key = u32(b, at) * 65536 + (u16(b, at + 4) & LOCATOR_SHOWN);
      at += 6;
      p = putAddress(buf, putBytes(buf, p, RLOC), b, -1);
      if (p < 0) return -1;
      p = putBytes(buf, p, LOCATOR_RUNS.get(key));
      buf[p++] = 125;
    }
    buf[p++] = 93;
    buf[p++] = 125;
  }
  buf[p++] = 93;
  return p;
}

/** An Info-Request's TTL and EID (omitted when AFI 0), and the AFI 0 that ends it. */
function putInfo(buf: Uint8Array, p: number, b: Uint8Array): number {
  if (at + 8 > end) return -1;
  const ttl = u32(b, at);
  const maskLen = b[at + 5]!;
  at += 6;
  p = putUint53(buf, putBytes(buf, p, INFO_TTL), ttl);
  if (u16(b, at) === Afi.None) at += 2;
  else p = putAddress(buf, putBytes(buf, p, EID), b, maskLen);
  // Anything but AFI 0 after the EID is noted.
  if (p < 0 || at + 2 > end || u16(b, at) !== Afi.None) return -1;
  at += 2;
  return p;
}

/** A message of LAYOUTS in b[start, stop): its members from `type` on; -1 for the general path. */
function putMessage(buf: Uint8Array, p: number, b: Uint8Array, start: number, stop: number): number {
  if (stop - start < 12) return -1;
  const l = LAYOUTS[b[start]! >> 4];
  const word = u32(b, start);
  if (!l || word & l.refuse) return -1;
  p = putBytes(buf, p, l.head);
  p = putHex(buf, p, u32(b, start + 4), 8);
  p = putHex(buf, p, u32(b, start + 8), 8);
  buf[p++] = 34;
  p = putBytes(buf, p, l.fields.get((word & l.shown) >>> 0));
  at = start + 12;
  end = stop;
  const count = word & 0xff;
  for (const part of l.parts) {
    if (part === 'request') p = putRequest(buf, p, b, word);
    else if (part === 'auth') p = putAuth(buf, p, b);
    else if (part === 'records') p = putRecords(buf, p, b, count, MAPPING);
    else if (part === 'referrals') p = putRecords(buf, p, b, count, REFERRAL);
    else p = putInfo(buf, p, b);
    if (p < 0) return -1;
  }
  // Bytes left over are `trailing` (or records a Map-Notify-Ack did not count): the general path's.
  return at === stop ? p : -1;
}

/**
 * An ECM without authentication data, whose inner packet (IPv4 without options, or IPv6 without
 * extension headers) is one whole UDP datagram with a message of LAYOUTS, ending the ECM.
 */
function putEcm(buf: Uint8Array, p: number, b: Uint8Array, start: number, stop: number): number {
  const word = u32(b, start);
  if (word & ECM_SECURITY) return -1;
  const q = start + 4;
  let u: number;
  if (b[q] === 0x45) {
    if (stop - q < 28 || b[q + 9] !== 17 || (u16(b, q + 6) & 0xbfff) !== 0 || q + u16(b, q + 2) !== stop) return -1;
    u = q + 20;
  } else if (b[q]! >> 4 === 6) {
    if (stop - q < 48 || b[q + 6] !== 17 || u16(b, q + 4) === 0 || q + 40 + u16(b, q + 4) !== stop) return -1;
    u = q + 40;
  } else return -1;
  if (u16(b, u + 4) !== stop - u) return -1;
  p = putBytes(buf, p, ECM_RUNS.get((word & ECM_SHOWN) >>> 0));
  p = putBytes(buf, p, INNER);
  p = u === q + 20 ? putIPv4(buf, p, b, q + 12) : putAscii(buf, p, formatIPv6(b, q + 8));
  p = putBytes(buf, p, DST);
  p = u === q + 20 ? putIPv4(buf, p, b, q + 16) : putAscii(buf, p, formatIPv6(b, q + 24));
  p = putBytes(buf, p, SPORT);
  p = putUint(buf, p, u16(b, u));
  p = putBytes(buf, p, DPORT);
  p = putUint(buf, p, u16(b, u + 2));
  p = putMessage(buf, p, b, u + 8, stop);
  if (p < 0) return -1;
  buf[p++] = 125;
  return p;
}

/** Writes the frame's line and returns true when it is a control message this writer takes. */
export function writeControlJsonFast(f: Frame, out: OutBuffer): boolean {
  const o = plainIpv4Udp(f, 40);
  if (o < 0) return false;
  const b = f.data;
  const u = o + 20;
  const sport = u16(b, u);
  const dport = u16(b, u + 2);
  // Port 4341 on either side lets the content decide: the general path's.
  if ((sport !== LISP_CONTROL_PORT && dport !== LISP_CONTROL_PORT) || sport === LISP_DATA_PORT || dport === LISP_DATA_PORT) return false;
  const len = u16(b, u + 4);
  if (len < 20 || len > u16(b, o + 2) - 20 || HEAD_ROOM + PER_BYTE * len > out.capacity) return false;
  const l = u + 8;
  const stop = u + len;
  if (looksLikeData(b, l, stop)) return false;
  out.ensure(HEAD_ROOM + PER_BYTE * len);
  const buf = out.buf;
  let p = putPacketHead(f, buf, out.pos, o);
  p = putUint(buf, p, sport);
  p = putUint(buf, putBytes(buf, p, DPORT), dport);
  p = b[l]! >> 4 === MessageType.ECM ? putEcm(buf, p, b, l, stop) : putMessage(buf, p, b, l, stop);
  if (p < 0) return false;
  buf[p++] = 125;
  buf[p++] = 10;
  out.pos = p;
  return true;
}
