// LISP data-plane header (RFC 9300 §5.3; map-versions RFC 9302; K bits RFC 8061; P bit LISP-GPE
// RFC 9305) and a summary of the encapsulated packet.

import type { Note, NoteLevel } from './cursor.js';
import { fieldBits, fieldOf, fieldValue } from './field.js';
import { DATA_FLAGS, DATA_WORDS, type DataFlagBits } from './fields.js';
import { decodeIp, decodeUdp, IPPROTO_UDP, summarizeTransport } from './ip.js';
import { decodeNested, nestedKind } from './nested.js';
import { LIMITS } from './registry.js';
import type { DataHeader, DataMessage, Decoded, InnerSummary, NestedLisp } from './types.js';

const mask = (key: keyof DataFlagBits) => fieldOf(DATA_FLAGS, key).mask;

/** The flags' masks by letter, from the field table. */
export const DataFlag = {
  N: mask('noncePresent'),
  L: mask('lsbEnabled'),
  E: mask('echoNonceRequest'),
  V: mask('mapVersionPresent'),
  I: mask('instanceIdPresent'),
  P: mask('nextProtocolPresent'),
  K: mask('keyId'),
} as const;

/** The fields after the flags, from the field table (which of them a header has its flags say). */
export const DataField = {
  nonce: fieldOf(DATA_WORDS.nonce, 'nonce'),
  gpeNonce: fieldOf(DATA_WORDS.gpeNonce, 'nonce'),
  nextProtocol: fieldOf(DATA_WORDS.gpeNonce, 'gpeNextProtocol'),
  srcMapVersion: fieldOf(DATA_WORDS.mapVersion, 'srcMapVersion'),
  dstMapVersion: fieldOf(DATA_WORDS.mapVersion, 'dstMapVersion'),
  iid: fieldOf(DATA_WORDS.iidLsb, 'iid'),
  lsb8: fieldOf(DATA_WORDS.iidLsb, 'lsb'),
  lsb32: fieldOf(DATA_WORDS.lsb, 'lsb'),
} as const;

/** The fields whose letters make the JSON contract's `flags` (N L E V I), in wire order. */
const LETTER_FLAGS = DATA_FLAGS.fields.filter((f) => f.json === 'flags');

export interface DataHeaderFields {
  /** 24-bit nonce (16-bit under GPE), when N. */
  nonce?: number;
  srcMapVersion?: number;
  dstMapVersion?: number;
  iid?: number;
  /** Locator-Status-Bits when L (8 bits with I, 32 without). */
  lsb?: number;
  /** K bits: non-zero means the payload is encrypted (RFC 8061). */
  keyId: number;
  /** LISP-GPE Next Protocol, when P. */
  gpeNextProtocol?: number;
}

/** What the flags say the header carries; N with V reads as a nonce (Wireshark does the same). */
export function dataHeaderFields(h: DataHeader): DataHeaderFields {
  const f = h.flags;
  const gpe = (f & DataFlag.P) !== 0;
  const out: DataHeaderFields = { keyId: f & DataFlag.K };
  const F = DataField;
  if (f & DataFlag.N) out.nonce = fieldValue(gpe ? F.gpeNonce : F.nonce, h.word1);
  else if (f & DataFlag.V) {
    out.srcMapVersion = fieldValue(F.srcMapVersion, h.word1);
    out.dstMapVersion = fieldValue(F.dstMapVersion, h.word1);
  }
  if (f & DataFlag.I) {
    out.iid = fieldValue(F.iid, h.word2);
    if (f & DataFlag.L) out.lsb = fieldValue(F.lsb8, h.word2);
  } else if (f & DataFlag.L) out.lsb = fieldValue(F.lsb32, h.word2);
  if (gpe) out.gpeNextProtocol = fieldValue(F.nextProtocol, h.word1);
  return out;
}

/** The set flag letters among N L E V I, in that order (the JSON contract's `flags`). */
export function dataFlagLetters(h: DataHeader): string {
  let s = '';
  for (const f of LETTER_FLAGS) if (h.flags & f.mask) s += f.letter;
  return s;
}

// The fast paths (capture/plain-data.ts and what writes from it) read the header's bytes
// straight-line; these are their reads, and test/dissect/fields.test.ts holds each to the table.

/** The set flag letters by the flags byte's top five bits (N L E V I), as dataFlagLetters gives them. */
export const DATA_FLAG_LETTERS: readonly string[] = Array.from({ length: 32 }, (_, f) => {
  let s = '';
  for (const x of LETTER_FLAGS) if ((f << 3) & x.mask) s += x.letter;
  return s;
});
/** The Instance ID in the word after the nonce or map-versions (with I). */
export const dataIid = (word2: number) => word2 >>> 8;
/** The 8 Locator-Status-Bits beside the Instance ID (with I and L). */
export const dataLsb8 = (word2: number) => word2 & 0xff;
/** Source and Dest Map-Version (with V). */
export const dataSrcMapVersion = (word1: number) => (word1 >>> 12) & 0xfff;
export const dataDstMapVersion = (word1: number) => word1 & 0xfff;

export interface DataDecodeOptions {
  /** Where the enclosing LISP message starts in `bytes` (note offsets count from there); default `start`. */
  base?: number;
  /** Packets around this one (LISP in LISP, ICMP quotes): bounded by LIMITS.nesting. */
  depth?: number;
  /** Level of notes about running out of bytes (see Cursor.cutLevel). */
  cutLevel?: NoteLevel;
}

/**
 * Decodes the 8-byte header at bytes[start] and summarises the inner packet, and decodes LISP the
 * inner packet carries (an inner UDP port 4342 or 4341). `payload` is a view into `bytes`, not a
 * copy: data packets are most of any capture, so nothing is copied here.
 */
export function decodeData(bytes: Uint8Array, start = 0, end = bytes.length, opts: DataDecodeOptions = {}): Decoded<DataMessage | undefined> {
  const notes: Note[] = [];
  const base = opts.base ?? start;
  const cutLevel = opts.cutLevel ?? 'error';
  const at = (o: number) => start - base + o;
  if (end - start < 8) {
    notes.push({ offset: at(0), message: `truncated LISP data header: needs 8 bytes, ${Math.max(0, end - start)} left`, level: cutLevel });
    return { value: undefined, notes };
  }
  const b = bytes;
  const p = start;
  const header: DataHeader = {
    flags: b[p]!,
    word1: (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!,
    word2: ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0,
  };
  const msg: DataMessage = { type: 'data', header, payload: bytes.subarray(p + 8, end) };
  const f = header.flags;
  if ((f & DataFlag.N) && (f & DataFlag.V)) notes.push({ offset: at(0), message: 'N and V both set (invalid): read as a nonce', level: 'warning' });
  if ((f & DataFlag.E) && !(f & DataFlag.N)) notes.push({ offset: at(0), message: 'E set without N (invalid)', level: 'warning' });
  if (end - p === 8) {
    notes.push({ offset: at(8), message: 'LISP data header with no packet after it', level: cutLevel });
    return { value: msg, notes };
  }
  if (f & DataFlag.K) return { value: msg, notes }; // encrypted payload: nothing to read
  if (f & DataFlag.P) {
    const np = header.word1 & 0xff;
    if (np !== 1 && np !== 2) return { value: msg, notes }; // GPE carrying Ethernet/NSH/...: not IP
  }
  const inner = summarizeIpPacket(bytes, p + 8, end, base);
  if (inner) {
    msg.inner = inner;
    const lisp = decodeInnerLisp(bytes, inner, end, base, notes, (opts.depth ?? 0) + 1, cutLevel);
    if (lisp) inner.lisp = lisp;
  } else {
    notes.push({ offset: at(8), message: `inner packet is not IPv4/IPv6 (first byte 0x${b[p + 8]!.toString(16).padStart(2, '0')})`, level: 'error' });
    const k = misplacedIpHeader(bytes, p, end);
    if (k !== undefined) {
      notes.push({
        offset: at(k),
        message: `a complete IP packet starts here: the sender's LISP data header is ${k} byte${k > 1 ? 's' : ''} long instead of 8`,
        level: 'note',
      });
    }
  }
  return { value: msg, notes };
}

/** Where (1..7) a header-checksummed IPv4 or exactly-sized IPv6 packet starts that fills the rest. */
function misplacedIpHeader(b: Uint8Array, start: number, end: number): number | undefined {
  for (let k = 1; k < 8; k++) {
    const ip = decodeIp(b, start + k, end);
    if (!ip.ok || ip.headerOffset + ip.totalLength !== end) continue;
    if (ip.version === 6 || ip.checksumOk) return k;
  }
  return undefined;
}

/**
 * Addresses, protocol, ports, ICMP echo / TCP fields of the encapsulated packet at bytes[start];
 * undefined when it is not IP. Offsets in the result count from `base`.
 */
export function summarizeIpPacket(bytes: Uint8Array, start: number, end: number, base = 0): InnerSummary | undefined {
  const ip = decodeIp(bytes, start, end);
  if (!ip.ok) return undefined;
  const s: InnerSummary = {
    ipVersion: ip.version,
    src: ip.src,
    dst: ip.dst,
    proto: ip.proto,
    len: ip.totalLength,
    ttl: ip.ttl,
    ipOffset: start - base,
    ipHeaderLength: ip.payloadOffset - start,
    id: ip.id,
  };
  if (ip.isFragment) s.fragment = true;
  // What the headers say the IP payload is, not what was captured (tcpdump's "length").
  const ipPayload = Math.max(0, ip.headerOffset + ip.totalLength - ip.payloadOffset);
  s.payloadLen = ipPayload;
  if (ip.fragmentOffset === 0) {
    // Only the fields the captured bytes hold are set.
    const t = summarizeTransport(ip.proto, bytes, ip.payloadOffset, ip.payloadEnd);
    Object.assign(s, t);
    if (t.tcpHeaderLength !== undefined) s.payloadLen = Math.max(0, ipPayload - t.tcpHeaderLength);
    if (ip.proto === IPPROTO_UDP && t.udpLength !== undefined && t.udpLength >= 8 && !ip.isFragment) s.payloadLen = t.udpLength - 8;
  }
  return s;
}

/**
 * LISP inside the inner packet: an inner UDP port 4342 (control, or data by content) or 4341 (data
 * in data). What it decodes to is noted with offsets from `base`, like the enclosing message.
 */
function decodeInnerLisp(
  bytes: Uint8Array,
  inner: InnerSummary,
  end: number,
  base: number,
  notes: Note[],
  depth: number,
  cutLevel: NoteLevel,
): NestedLisp | undefined {
  if (inner.proto !== IPPROTO_UDP || inner.fragment || inner.sport === undefined) return undefined;
  const udpAt = base + inner.ipOffset + inner.ipHeaderLength;
  const ip = decodeIp(bytes, base + inner.ipOffset, end);
  if (!ip.ok) return undefined;
  const udp = decodeUdp(bytes, udpAt, ip.payloadEnd, ip.headerOffset + ip.totalLength);
  if (!udp.ok) return undefined;
  const kind = nestedKind(udp.srcPort, udp.dstPort, bytes, udp.payloadOffset, udp.payloadEnd);
  if (!kind) return undefined;
  if (depth >= LIMITS.nesting) {
    notes.push({ offset: udp.payloadOffset - base, message: `LISP nested deeper than ${LIMITS.nesting} levels: not decoded`, level: 'error' });
    return undefined;
  }
  // A quote that ends inside the inner packet ends its LISP message too.
  const cut = ip.truncated || udp.truncated ? cutLevel : 'error';
  return decodeNested(kind, bytes, udp.payloadOffset, udp.payloadEnd, base, notes, depth, cut);
}

export function encodeData(h: DataHeader, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  out[0] = h.flags;
  out[1] = (h.word1 >>> 16) & 0xff;
  out[2] = (h.word1 >>> 8) & 0xff;
  out[3] = h.word1 & 0xff;
  out[4] = (h.word2 >>> 24) & 0xff;
  out[5] = (h.word2 >>> 16) & 0xff;
  out[6] = (h.word2 >>> 8) & 0xff;
  out[7] = h.word2 & 0xff;
  out.set(payload, 8);
  return out;
}

/** Builds a header from named fields (the MN, lab and fixtures speak in these). */
export function dataHeader(o: {
  nonce?: number;
  echoNonce?: boolean;
  mapVersion?: { source: number; dest: number };
  iid?: number;
  lsb?: number;
}): DataHeader {
  let flags = 0;
  let word1 = 0;
  let word2 = 0;
  const F = DataField;
  if (o.nonce !== undefined) {
    flags |= DataFlag.N;
    word1 = fieldBits(F.nonce, o.nonce);
    if (o.echoNonce) flags |= DataFlag.E;
  } else if (o.mapVersion) {
    flags |= DataFlag.V;
    word1 = fieldBits(F.srcMapVersion, o.mapVersion.source) | fieldBits(F.dstMapVersion, o.mapVersion.dest);
  }
  if (o.lsb !== undefined) flags |= DataFlag.L;
  if (o.iid !== undefined) {
    flags |= DataFlag.I;
    word2 = (fieldBits(F.iid, o.iid) | fieldBits(F.lsb8, o.lsb ?? 0)) >>> 0;
  } else {
    word2 = fieldBits(F.lsb32, o.lsb ?? 0);
  }
  return { flags, word1, word2 };
}
