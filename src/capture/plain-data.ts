// The plain LISP data packet, recognised straight from the frame bytes: Ethernet/raw/cooked IPv4
// without options, unfragmented, UDP to 4341 (not from 4341/4342), a LISP data header without
// GPE, K bits or invalid flag combinations, and an IPv4 (options allowed) or extension-free IPv6
// inner packet. Data packets are most of any capture; for these the general decoder's objects are
// not needed (JSON output, the flow engine). Anything else returns false and takes the general
// path. Property tests hold both paths to the same results.

import { DataFlag } from '../dissect/data.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT } from '../dissect/registry.js';
import type { Frame } from './types.js';
import { LINKTYPE_EN10MB, LINKTYPE_IPV4, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW, LINKTYPE_RAW_12, LINKTYPE_RAW_14 } from '../dissect/link.js';
import { u16 } from '../dissect/bytes.js';

/** Where things are in the frame; one object is reused for every frame scanned. */
export interface PlainData {
  /** Offset of the outer IPv4 header (source address at +12, destination at +16). */
  ip: number;
  sport: number;
  dport: number;
  /** LISP header flags byte and its two following words. */
  flags: number;
  word1: number;
  word2: number;
  /** Offset and length of the inner packet (0 length: none). */
  inner: number;
  innerLen: number;
  /** 4 or 6 (0 when there is no inner packet). */
  innerVersion: number;
  /** Inner header length, total length, protocol, fragment offset. */
  ihl: number;
  itotal: number;
  proto: number;
  fragOffset: number;
  /** IPv4 More Fragments of the inner packet. */
  mf: boolean;
  /** End of the UDP payload. */
  end: number;
}

export function plainData(): PlainData {
  return { ip: 0, sport: 0, dport: 0, flags: 0, word1: 0, word2: 0, inner: 0, innerLen: 0, innerVersion: 0, ihl: 0, itotal: 0, proto: 0, fragOffset: 0, mf: false, end: 0 };
}

/** Protocols whose ports come first (TCP, UDP, DCCP, SCTP, UDP-Lite). */
export const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);

/** Offset of an IPv4 header after the link header, or -1. */
function ipv4Offset(f: Frame): number {
  const b = f.data;
  switch (f.linkType) {
    case LINKTYPE_EN10MB:
      return b.length >= 34 && b[12] === 0x08 && b[13] === 0x00 ? 14 : -1;
    case LINKTYPE_RAW_12:
    case LINKTYPE_RAW_14:
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
      return 0;
    case LINKTYPE_LINUX_SLL:
      return b.length >= 36 && b[14] === 0x08 && b[15] === 0x00 ? 16 : -1;
    case LINKTYPE_LINUX_SLL2:
      return b.length >= 40 && b[0] === 0x08 && b[1] === 0x00 ? 20 : -1;
    default:
      return -1;
  }
}

/**
 * Offset of the outer IPv4 header of a frame without notes that carries, whole, an unfragmented
 * UDP datagram in IPv4 without options, at least `min` bytes of it (IPv4 header included); or -1.
 */
export function plainIpv4Udp(f: Frame, min: number): number {
  if (f.notes?.length || f.warnings?.length) return -1;
  const b = f.data;
  const o = ipv4Offset(f);
  if (o < 0 || b.length < o + min) return -1;
  if (b[o] !== 0x45 || b[o + 9] !== 17) return -1; // IPv4 without options, UDP
  if ((u16(b, o + 6) & 0xbfff) !== 0) return -1; // fragment, or the reserved flag (a note)
  const total = u16(b, o + 2);
  if (total < min || o + total > b.length) return -1;
  return o;
}

/** Fills `d` and returns true when `f` is a plain data packet. */
export function scanPlainData(f: Frame, d: PlainData): boolean {
  const o = plainIpv4Udp(f, 36);
  if (o < 0) return false;
  const b = f.data;
  const total = u16(b, o + 2);
  const u = o + 20;
  const sport = u16(b, u);
  const dport = u16(b, u + 2);
  if (dport !== LISP_DATA_PORT || sport === LISP_CONTROL_PORT || sport === LISP_DATA_PORT) return false;
  const udpLen = u16(b, u + 4);
  if (udpLen < 16 || udpLen > total - 20) return false;
  const l = u + 8;
  const end = u + udpLen;
  const flags = b[l]!;
  const { N, E, V, P, K } = DataFlag;
  if (flags & (P | K)) return false; // GPE or encrypted
  if ((flags & (N | V)) === (N | V) || (flags & (N | E)) === E) return false; // N+V, E without N: notes
  const w1 = (b[l + 1]! << 16) | (b[l + 2]! << 8) | b[l + 3]!;
  const w2 = ((b[l + 4]! << 24) | (b[l + 5]! << 16) | (b[l + 6]! << 8) | b[l + 7]!) >>> 0;

  // Inner packet: IPv4 (options allowed) or IPv6 without extension headers, else the general path.
  const i = l + 8;
  const innerLen = end - i;
  let innerV = 0;
  let ihl = 0;
  let itotal = 0;
  let proto = 0;
  let fragOffset = 0;
  let mf = false;
  // A header with nothing after it is an error note: the general path's.
  if (innerLen <= 0) return false;
  {
    innerV = b[i]! >> 4;
    if (innerV === 4) {
      ihl = (b[i]! & 15) * 4;
      if (innerLen < 20 || ihl < 20 || innerLen < ihl) return false;
      itotal = u16(b, i + 2);
      if (itotal < ihl || u16(b, i + 6) & 0x8000) return false;
      proto = b[i + 9]!;
      fragOffset = u16(b, i + 6) & 0x1fff;
      mf = (u16(b, i + 6) & 0x2000) !== 0;
    } else if (innerV === 6) {
      if (innerLen < 40) return false;
      proto = b[i + 6]!;
      if (!PORT_PROTOCOLS.has(proto) && proto !== 58 && proto !== 1) return false;
      ihl = 40;
      itotal = 40 + u16(b, i + 4);
      if (itotal === 40) return false; // payload length 0: jumbogram handling is the general path's
    } else return false;
    // LISP inside (inner UDP port 4341 or 4342) is decoded by the general path.
    if (proto === 17 && fragOffset === 0 && !mf && innerLen >= ihl + 4) {
      const ips = u16(b, i + ihl);
      const ipd = u16(b, i + ihl + 2);
      if (ips === LISP_DATA_PORT || ips === LISP_CONTROL_PORT || ipd === LISP_DATA_PORT || ipd === LISP_CONTROL_PORT) return false;
    }
  }

  d.ip = o;
  d.sport = sport;
  d.dport = dport;
  d.flags = flags;
  d.word1 = w1;
  d.word2 = w2;
  d.inner = i;
  d.innerLen = innerLen;
  d.innerVersion = innerV;
  d.ihl = ihl;
  d.itotal = itotal;
  d.proto = proto;
  d.fragOffset = fragOffset;
  d.mf = mf;
  d.end = end;
  return true;
}
