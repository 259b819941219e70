// The common LISP control message (Map-Request, Map-Reply, Map-Register, Map-Notify(-Ack),
// Map-Referral, Info-Request, and an ECM carrying one of them), recognised straight from the
// frame bytes: control messages are a fifth of a capture, and the general decoder's objects and
// strings cost them several times what the bytes do. The scan checks everything and notes where
// each part is; the writers (output/json-control-fast.ts, output/line-control-fast.ts) write from
// those offsets alone, each in its own order. Anything unusual (LCAFs, AFI 0 where it is not
// omitted, flags that add parts, trailing bytes, whatever the decoder would note) returns false
// and takes the general path. Property tests hold both writers to the general path's bytes.

import { u16, u32 } from '../dissect/bytes.js';
import { looksLikeData } from '../dissect/classify.js';
import { fieldOf, fieldValue, type Field, type Word } from '../dissect/field.js';
import { ECM_HEADER, INFO, MAP_NOTIFY, MAP_REFERRAL, MAP_REGISTER, MAP_REPLY, MAP_REQUEST, MAPPING_RECORD, REFERRAL_RECORD } from '../dissect/fields.js';
import { AFI_MAX_MASK, Afi, AUTH_ALGORITHMS, controlTypeName, LcafType, LISP_CONTROL_PORT, LISP_DATA_PORT, MessageType } from '../dissect/registry.js';
import { plainIpv4Udp } from './plain-data.js';
import type { Frame } from './types.js';

/** The parts that follow a message's header word and nonce, in wire order. */
export type Part = 'request' | 'auth' | 'records' | 'referrals' | 'info' | 'xtr';

export interface Shape<T = unknown> {
  def: Word<T>;
  /** Flags that bring parts the fast paths leave to the general path. */
  refuse: number;
  parts: readonly Part[];
}

function shape<T>(def: Word<T>, refuse: readonly Extract<keyof T, string>[], parts: readonly Part[]): Shape {
  let r = 0;
  for (const k of refuse) r |= fieldOf(def, k).mask;
  return { def: def as Word<unknown>, refuse: r >>> 0, parts };
}

/** By message type; ECM is its own (scanEcm), and an ECM inside an ECM is the general path's. */
export const SHAPES: (Shape | undefined)[] = [];
SHAPES[MessageType.MapRequest] = shape(MAP_REQUEST, [], ['request', 'xtr']);
SHAPES[MessageType.MapReply] = shape(MAP_REPLY, ['security'], ['records']);
SHAPES[MessageType.MapRegister] = shape(MAP_REGISTER, [], ['auth', 'records', 'xtr']);
SHAPES[MessageType.MapNotify] = shape(MAP_NOTIFY, ['msRtrAuthPresent'], ['auth', 'records', 'xtr']);
SHAPES[MessageType.MapNotifyAck] = shape(MAP_NOTIFY, ['msRtrAuthPresent'], ['auth', 'records', 'xtr']);
SHAPES[MessageType.MapReferral] = shape(MAP_REFERRAL, [], ['referrals']);
SHAPES[MessageType.Info] = shape(INFO, [], ['auth', 'info']);

const ITR_RLOC_COUNT = fieldOf(MAP_REQUEST, 'itrRlocCount');
const MAP_DATA_PRESENT = fieldOf(MAP_REQUEST, 'mapDataPresent').mask;
const RECORD_COUNT = fieldOf(MAP_REQUEST, 'recordCount');
const ECM_SECURITY = fieldOf(ECM_HEADER, 'security').mask;
const INFO_REPLY = fieldOf(INFO, 'reply').mask;
/** The I bit of Map-Register and Map-Notify(-Ack): an xTR-ID and a site-ID end the message. */
const XTR_ID_PRESENT = SHAPES.map((s) => (s && s.parts.includes('xtr') ? fieldOf(s.def as Word<{ xtrIdPresent: boolean }>, 'xtrIdPresent').mask : 0));
/** xTR-ID and site-ID (RFC 9301 §5.6). */
const XTR_SIZE = 16 + 8;

/** A mapping or referral record's header: 10 bytes, its EID's AFI next. */
export interface RecordHeader {
  locators: Field;
  maskLen: Field;
  /** Referrals' signatures: the general path's. */
  signatures: Field | undefined;
}

export const MAPPING_HEADER: RecordHeader = { locators: fieldOf(MAPPING_RECORD[1]!, 'locatorCount'), maskLen: fieldOf(MAPPING_RECORD[1]!, 'eidMaskLen'), signatures: undefined };
export const REFERRAL_HEADER: RecordHeader = {
  locators: fieldOf(REFERRAL_RECORD[1]!, 'referralCount'),
  maskLen: fieldOf(REFERRAL_RECORD[1]!, 'eidMaskLen'),
  signatures: fieldOf(REFERRAL_RECORD[2]!, 'signatureCount'),
};
const RECORD_SIZE = 10;
const LOCATOR_SIZE = 6;

/** More locators than this in one message (a crafted one) are the general path's. */
const MAX_LOCATORS = 1024;

/**
 * Where things are in the frame; one object is reused for every frame scanned. Addresses are
 * given by the offset of their AFI (IPv4 or IPv6, checked).
 */
export interface PlainControl {
  /** Offset of the outer IPv4 header (source address at +12, destination at +16). */
  ip: number;
  sport: number;
  dport: number;
  /** UDP Length. */
  udpLen: number;
  /** An ECM's header word's offset, or -1; its inner IP header (version 4 or 6) and UDP header. */
  ecm: number;
  innerIp: number;
  innerVersion: number;
  innerUdp: number;
  /** The message (inside the ECM, if any): its type, header word, offset and end. */
  type: number;
  word: number;
  msg: number;
  end: number;
  /** Map-Request: the Source EID (-1 when AFI 0), ITR-RLOCs, and EID prefixes (the mask length is the byte before the AFI). */
  sourceEid: number;
  itrCount: number;
  itrs: Int32Array;
  eidCount: number;
  eids: Int32Array;
  /** Key ID's offset (Map-Register, Map-Notify(-Ack), Info-Request), or -1. */
  auth: number;
  /** Records' headers (a Map-Request's: its map-data, when M is set); record i's locators' headers (their RLOC's AFI at +6) are locators[firstLocator[i], firstLocator[i + 1]). */
  recordCount: number;
  records: Int32Array;
  firstLocator: Int32Array;
  locators: Int32Array;
  /** Map-Request, Map-Register, Map-Notify(-Ack) with the I bit: the xTR-ID's offset (the site-ID follows), else -1. */
  xtr: number;
  /** Info-Request: its TTL's offset, and its EID (-1 when AFI 0; the mask length is at the TTL's offset + 5). */
  info: number;
  infoEid: number;
  /**
   * Info-Reply: the offset of its NAT-Traversal LCAF's ports (MS, then ETR), and its addresses:
   * global ETR RLOC, MS RLOC, private ETR RLOC, then the RTRs' (any of them may be AFI 0).
   */
  nat: number;
  natCount: number;
  natAddresses: Int32Array;
}

export function plainControl(): PlainControl {
  return {
    ip: 0,
    sport: 0,
    dport: 0,
    udpLen: 0,
    ecm: -1,
    innerIp: 0,
    innerVersion: 0,
    innerUdp: 0,
    type: 0,
    word: 0,
    msg: 0,
    end: 0,
    sourceEid: -1,
    itrCount: 0,
    itrs: new Int32Array(32),
    eidCount: 0,
    eids: new Int32Array(256),
    auth: -1,
    recordCount: 0,
    records: new Int32Array(256),
    firstLocator: new Int32Array(257),
    locators: new Int32Array(MAX_LOCATORS),
    xtr: -1,
    info: -1,
    infoEid: -1,
    nat: -1,
    natCount: 0,
    natAddresses: new Int32Array(64),
  };
}

// Reading position and end of the message being scanned (the parts' scanners share them).
let at = 0;
let end = 0;

/** Bytes of an IPv4 or IPv6 address (after its AFI), else -1. */
function addressSize(afi: number): number {
  return afi === Afi.IPv4 ? 4 : afi === Afi.IPv6 ? 16 : -1;
}

/**
 * An IPv4 or IPv6 address at `at` (AFI first), with a mask that fits when `maskLen` is not
 * negative; an EID may be one in an Instance-ID LCAF (RFC 8060 §4.1) whose Length is exactly its
 * IID and address. Its offset, or -1.
 */
function address(b: Uint8Array, maskLen: number, eid: boolean): number {
  if (at + 2 > end) return -1;
  const a = at;
  let afi = u16(b, at);
  let inner = at + 2;
  if (afi === Afi.Lcaf && eid) {
    if (at + 14 > end || b[at + 4] !== LcafType.InstanceId) return -1;
    afi = u16(b, at + 12);
    inner = at + 14;
    if (u16(b, at + 6) !== 6 + addressSize(afi)) return -1;
  }
  const size = addressSize(afi);
  // Any other AFI, a cut address or a mask longer than the address: the general path's (a note).
  if (size < 0 || inner + size > end || maskLen > AFI_MAX_MASK.get(afi)!) return -1;
  at = inner + size;
  return a;
}

/** Source EID (AFI 0 omitted), ITR-RLOCs and EID prefixes of a Map-Request. */
function request(b: Uint8Array, c: PlainControl): boolean {
  const itrs = fieldValue(ITR_RLOC_COUNT, c.word) + 1;
  const eids = fieldValue(RECORD_COUNT, c.word);
  if (eids === 0 || at + 2 > end) return false; // Record Count 0: a warning
  if (u16(b, at) === Afi.None) {
    c.sourceEid = -1;
    at += 2;
  } else if ((c.sourceEid = address(b, -1, true)) < 0) return false;
  for (let i = 0; i < itrs; i++) if ((c.itrs[i] = address(b, -1, false)) < 0) return false;
  c.itrCount = itrs;
  for (let i = 0; i < eids; i++) {
    if (at + 2 > end) return false;
    const maskLen = b[at + 1]!;
    at += 2;
    if ((c.eids[i] = address(b, maskLen, true)) < 0) return false;
  }
  c.eidCount = eids;
  return records(b, c, MAPPING_HEADER, c.word & MAP_DATA_PRESENT ? 1 : 0);
}

/** Key ID, algorithm and Authentication Data, when its length fits the algorithm (else a warning). */
function auth(b: Uint8Array, c: PlainControl): boolean {
  if (at + 4 > end) return false;
  const len = u16(b, at + 2);
  const alg = AUTH_ALGORITHMS.get(b[at + 1]!);
  if ((alg && len !== alg.macLength && len !== alg.truncatedLength) || at + 4 + len > end) return false;
  c.auth = at;
  at += 4 + len;
  return true;
}

/** `count` records of `kind` (with no referral signatures). */
function records(b: Uint8Array, c: PlainControl, kind: RecordHeader, count: number): boolean {
  let n = 0;
  for (let i = 0; i < count; i++) {
    if (at + RECORD_SIZE > end) return false;
    const w1 = u32(b, at + 4);
    if (kind.signatures && fieldValue(kind.signatures, u16(b, at + 8))) return false;
    const locators = fieldValue(kind.locators, w1);
    c.records[i] = at;
    c.firstLocator[i] = n;
    at += RECORD_SIZE;
    if (address(b, fieldValue(kind.maskLen, w1), true) < 0 || n + locators > MAX_LOCATORS) return false;
    for (let j = 0; j < locators; j++) {
      if (at + LOCATOR_SIZE > end) return false;
      c.locators[n++] = at;
      at += LOCATOR_SIZE;
      if (address(b, -1, false) < 0) return false;
    }
  }
  c.firstLocator[count] = n;
  c.recordCount = count;
  return true;
}

/** An RLOC, or AFI 0: its offset, or -1. */
function rlocOrNone(b: Uint8Array): number {
  if (at + 2 > end || u16(b, at) !== Afi.None) return address(b, -1, false);
  at += 2;
  return at - 2;
}

/** An Info-Reply's NAT-Traversal LCAF, when it ends the message. */
function nat(b: Uint8Array, c: PlainControl): boolean {
  if (at + 12 > end || u16(b, at) !== Afi.Lcaf || b[at + 4] !== LcafType.NatTraversal || at + 8 + u16(b, at + 6) !== end) return false;
  c.nat = at + 8;
  at += 12;
  let n = 0;
  while (at < end) {
    if (n === c.natAddresses.length || (c.natAddresses[n++] = rlocOrNone(b)) < 0) return false;
  }
  c.natCount = n;
  return n >= 3;
}

/** An Info-Request's TTL and EID (AFI 0 omitted), and the AFI 0 that ends it; an Info-Reply's, and its NAT-Traversal LCAF. */
function info(b: Uint8Array, c: PlainControl): boolean {
  if (at + 8 > end) return false;
  c.info = at;
  const maskLen = b[at + 5]!;
  at += 6;
  if (u16(b, at) === Afi.None) {
    c.infoEid = -1;
    at += 2;
  } else if ((c.infoEid = address(b, maskLen, true)) < 0) return false;
  c.nat = -1;
  if (c.word & INFO_REPLY) return nat(b, c);
  // Anything but AFI 0 after the EID is noted.
  if (at + 2 > end || u16(b, at) !== Afi.None) return false;
  at += 2;
  return true;
}

/**
 * With the I bit, the xTR-ID and site-ID that end the message (anything else is noted); a
 * Map-Notify of no records counted is the general path's, which may read records from them.
 */
function xtr(c: PlainControl): boolean {
  c.xtr = -1;
  if (!(c.word & XTR_ID_PRESENT[c.type]!)) return true;
  if (at + XTR_SIZE !== end || (c.recordCount === 0 && c.type !== MessageType.MapRequest)) return false;
  c.xtr = at;
  at += XTR_SIZE;
  return true;
}

/** A message of SHAPES in b[start, stop). */
function message(b: Uint8Array, c: PlainControl, start: number, stop: number): boolean {
  if (stop - start < 12) return false;
  const type = b[start]! >> 4;
  const s = SHAPES[type];
  const word = u32(b, start);
  if (!s || word & s.refuse) return false;
  c.type = type;
  c.word = word;
  c.msg = start;
  c.end = stop;
  at = start + 12;
  end = stop;
  for (const part of s.parts) {
    const ok =
      part === 'request'
        ? request(b, c)
        : part === 'auth'
          ? auth(b, c)
          : part === 'records'
            ? records(b, c, MAPPING_HEADER, word & 0xff)
            : part === 'referrals'
              ? records(b, c, REFERRAL_HEADER, word & 0xff)
              : part === 'info'
                ? info(b, c)
                : xtr(c);
    if (!ok) return false;
  }
  // Bytes left over are `trailing` (or records a Map-Notify-Ack did not count): the general path's.
  return at === stop;
}

/**
 * An ECM without authentication data, whose inner packet (IPv4 without options, or IPv6 without
 * extension headers) is one whole UDP datagram with a message of SHAPES, ending the ECM.
 */
function ecm(b: Uint8Array, c: PlainControl, start: number, stop: number): boolean {
  if (u32(b, start) & ECM_SECURITY) return false;
  const q = start + 4;
  let u: number;
  if (b[q] === 0x45) {
    if (stop - q < 28 || b[q + 9] !== 17 || (u16(b, q + 6) & 0xbfff) !== 0 || q + u16(b, q + 2) !== stop) return false;
    u = q + 20;
  } else if (b[q]! >> 4 === 6) {
    if (stop - q < 48 || b[q + 6] !== 17 || u16(b, q + 4) === 0 || q + 40 + u16(b, q + 4) !== stop) return false;
    u = q + 40;
  } else return false;
  if (u16(b, u + 4) !== stop - u) return false;
  c.ecm = start;
  c.innerIp = q;
  c.innerVersion = b[q]! >> 4;
  c.innerUdp = u;
  return message(b, c, u + 8, stop);
}

/** Fills `c` and returns true when `f` is a common control message. */
export function scanPlainControl(f: Frame, c: PlainControl): boolean {
  const o = plainIpv4Udp(f, 40);
  if (o < 0) return false;
  const b = f.data;
  const u = o + 20;
  const sport = u16(b, u);
  const dport = u16(b, u + 2);
  // Port 4341 on either side lets the content decide: the general path's.
  if ((sport !== LISP_CONTROL_PORT && dport !== LISP_CONTROL_PORT) || sport === LISP_DATA_PORT || dport === LISP_DATA_PORT) return false;
  const len = u16(b, u + 4);
  if (len < 20 || len > u16(b, o + 2) - 20) return false;
  const l = u + 8;
  const stop = u + len;
  if (looksLikeData(b, l, stop)) return false;
  c.ip = o;
  c.sport = sport;
  c.dport = dport;
  c.udpLen = len;
  c.auth = -1;
  if (b[l]! >> 4 !== MessageType.ECM) {
    c.ecm = -1;
    return message(b, c, l, stop);
  }
  return ecm(b, c, l, stop);
}

/** The `type` the JSON object of the scanned message itself carries (an Info's says request or reply). */
export function plainMessageType(c: PlainControl): string {
  return controlTypeName({ type: c.type, reply: c.type === MessageType.Info && (c.word & INFO_REPLY) !== 0 });
}

const ECM_TYPE = controlTypeName({ type: MessageType.ECM });

/** The `type` of the scanned packet's JSON object: an ECM's, not the message it carries. */
export function plainControlType(c: PlainControl): string {
  return c.ecm >= 0 ? ECM_TYPE : plainMessageType(c);
}
