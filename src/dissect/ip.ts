// IPv4 (RFC 791), IPv6 (RFC 8200) and UDP (RFC 768) headers: decoders that bound everything by
// both the captured bytes and the lengths the headers declare, and the matching encoders used by
// the LISP encapsulators, fixtures and the lab.

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './addr.js';
import { u16, u32 } from './bytes.js';

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_DCCP = 33;
export const IPPROTO_UDP = 17;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_SCTP = 132;
export const IPPROTO_MOBILITY = 135;
export const IPPROTO_UDPLITE = 136;
export const IPPROTO_HIP = 139;
export const IPPROTO_SHIM6 = 140;

/** Longest IPv6 extension-header chain we walk; real packets have a handful at most. */
export const MAX_IPV6_EXTENSION_HEADERS = 16;

export interface IpExtensionHeader {
  /** Next Header value that announced this header. */
  type: number;
  offset: number;
  length: number;
}

export interface IpHeader {
  ok: true;
  version: 4 | 6;
  src: string;
  dst: string;
  /** Where the raw addresses sit (4 or 16 bytes): pseudo-headers and reassembly use them. */
  srcOffset: number;
  dstOffset: number;
  headerOffset: number;
  /** IPv4 Protocol, or the IPv6 Next Header that ends the extension-header chain. */
  proto: number;
  /** TTL or Hop Limit. */
  ttl: number;
  /** Type of Service or Traffic Class. */
  tos: number;
  /** IPv6 Flow Label (0 for IPv4). */
  flowLabel: number;
  /** IPv4 Identification, or the IPv6 Fragment header's Identification (0 without one). */
  id: number;
  dontFragment: boolean;
  moreFragments: boolean;
  /** Fragment Offset in 8-octet units, as on the wire. */
  fragmentOffset: number;
  /** MF set or a non-zero offset: the payload is part of a larger datagram. */
  isFragment: boolean;
  /** IPv4 Header Checksum as read and whether it verifies. */
  checksum?: number;
  checksumOk?: boolean;
  /** IPv4 options (IHL > 5). */
  optionsOffset?: number;
  optionsLength?: number;
  /** IPv6 extension headers in order. */
  extensionHeaders?: IpExtensionHeader[];
  /** IPv6: offset of the Fragment header, when there is one. */
  fragmentHeaderOffset?: number;
  /**
   * Length of the whole datagram per the header (IPv4 Total Length, IPv6 40 + Payload Length), or
   * the captured length when the header says 0 (offload, jumbograms).
   */
  totalLength: number;
  payloadOffset: number;
  /** End of the payload in the buffer: the declared end, earlier when the capture was cut. */
  payloadEnd: number;
  /** The capture holds fewer bytes than the header declares (snaplen). */
  truncated: boolean;
  /** Errors found (the header is not what it claims), with byte offsets. */
  notes: string[];
  /** Deviations that still decode (reserved flag, offloaded lengths), with byte offsets. */
  warnings: string[];
}

/** Not decodable as an IP header at all (too short, wrong version, IHL < 5, ...). */
export interface IpMalformed {
  ok: false;
  version: number;
  notes: string[];
}

export type IpDecode = IpHeader | IpMalformed;

/** One's-complement sum of 16-bit words (not yet folded or inverted). */
function sum16(b: Uint8Array, off: number, end: number, acc = 0): number {
  let i = off;
  for (; i + 1 < end; i += 2) acc += (b[i]! << 8) | b[i + 1]!;
  if (i < end) acc += b[i]! << 8;
  return acc;
}

function fold(acc: number): number {
  while (acc > 0xffff) acc = (acc & 0xffff) + Math.floor(acc / 65536);
  return acc;
}

/** RFC 1071 checksum of b[off, end). */
export function internetChecksum(b: Uint8Array, off = 0, end = b.length): number {
  return ~fold(sum16(b, off, end)) & 0xffff;
}

/** Decodes an IPv4 or IPv6 header at `off`, by its version nibble. Never throws. */
export function decodeIp(b: Uint8Array, off = 0, end = b.length): IpDecode {
  if (end - off < 1) return { ok: false, version: 0, notes: [`no IP header at byte offset ${off}`] };
  const v = b[off]! >> 4;
  if (v === 4) return decodeIPv4(b, off, end);
  if (v === 6) return decodeIPv6(b, off, end);
  return { ok: false, version: v, notes: [`IP version ${v} at byte offset ${off} is neither 4 nor 6`] };
}

export function decodeIPv4(b: Uint8Array, off = 0, end = b.length): IpDecode {
  end = Math.min(end, b.length);
  const have = end - off;
  if (have < 20) return { ok: false, version: 4, notes: [`IPv4 header at byte offset ${off} is cut short (${Math.max(have, 0)} of 20 bytes)`] };
  const version = b[off]! >> 4;
  if (version !== 4) return { ok: false, version, notes: [`IP version ${version} at byte offset ${off}, expected 4`] };
  const ihl = b[off]! & 0x0f;
  if (ihl < 5) return { ok: false, version: 4, notes: [`IPv4 IHL ${ihl} at byte offset ${off} is below the minimum 5`] };
  const hlen = ihl * 4;
  if (have < hlen) {
    return { ok: false, version: 4, notes: [`IPv4 header with options at byte offset ${off} is cut short (${have} of ${hlen} bytes)`] };
  }
  const notes: string[] = [];
  const warnings: string[] = [];
  const totalLength = u16(b, off + 2);
  const flagsFrag = u16(b, off + 6);
  const checksum = u16(b, off + 10);
  if (flagsFrag & 0x8000) warnings.push(`IPv4 reserved flag set at byte offset ${off + 6}`);
  const payloadOffset = off + hlen;
  let declaredEnd = off + totalLength;
  if (totalLength < hlen) {
    if (totalLength === 0) {
      // Captured before TCP segmentation offload filled it in: trust the capture.
      warnings.push(`IPv4 Total Length 0 at byte offset ${off + 2} (segmentation offload?); using the captured length`);
      declaredEnd = end;
    } else {
      notes.push(`IPv4 Total Length ${totalLength} at byte offset ${off + 2} is less than the header length ${hlen}`);
      declaredEnd = payloadOffset;
    }
  }
  const moreFragments = (flagsFrag & 0x2000) !== 0;
  const fragmentOffset = flagsFrag & 0x1fff;
  const h: IpHeader = {
    ok: true,
    version: 4,
    src: formatIPv4(b, off + 12),
    dst: formatIPv4(b, off + 16),
    srcOffset: off + 12,
    dstOffset: off + 16,
    headerOffset: off,
    proto: b[off + 9]!,
    ttl: b[off + 8]!,
    tos: b[off + 1]!,
    flowLabel: 0,
    id: u16(b, off + 4),
    dontFragment: (flagsFrag & 0x4000) !== 0,
    moreFragments,
    fragmentOffset,
    isFragment: moreFragments || fragmentOffset !== 0,
    checksum,
    checksumOk: internetChecksum(b, off, off + hlen) === 0,
    totalLength: Math.max(totalLength, declaredEnd - off),
    payloadOffset,
    payloadEnd: Math.min(declaredEnd, end),
    truncated: declaredEnd > end,
    notes,
    warnings,
  };
  if (hlen > 20) {
    h.optionsOffset = off + 20;
    h.optionsLength = hlen - 20;
  }
  return h;
}

function isIPv6OptionLike(nh: number): boolean {
  return (
    nh === IPPROTO_HOPOPTS ||
    nh === IPPROTO_ROUTING ||
    nh === IPPROTO_DSTOPTS ||
    nh === IPPROTO_MOBILITY ||
    nh === IPPROTO_HIP ||
    nh === IPPROTO_SHIM6
  );
}

export function decodeIPv6(b: Uint8Array, off = 0, end = b.length): IpDecode {
  end = Math.min(end, b.length);
  const have = end - off;
  if (have < 40) return { ok: false, version: 6, notes: [`IPv6 header at byte offset ${off} is cut short (${Math.max(have, 0)} of 40 bytes)`] };
  const version = b[off]! >> 4;
  if (version !== 6) return { ok: false, version, notes: [`IP version ${version} at byte offset ${off}, expected 6`] };
  const notes: string[] = [];
  const warnings: string[] = [];
  const payloadLength = u16(b, off + 4);
  let nh = b[off + 6]!;
  let declaredEnd = off + 40 + payloadLength;
  if (payloadLength === 0 && nh !== IPPROTO_NONE && end > off + 40) {
    // A Jumbo Payload option or an offloaded segment: the captured length is all we have.
    warnings.push(`IPv6 Payload Length 0 at byte offset ${off + 4} with data following; using the captured length`);
    declaredEnd = end;
  }
  const payloadEnd = Math.min(declaredEnd, end);
  const h: IpHeader = {
    ok: true,
    version: 6,
    src: formatIPv6(b, off + 8),
    dst: formatIPv6(b, off + 24),
    srcOffset: off + 8,
    dstOffset: off + 24,
    headerOffset: off,
    proto: nh,
    ttl: b[off + 7]!,
    tos: ((b[off]! & 0x0f) << 4) | (b[off + 1]! >> 4),
    flowLabel: ((b[off + 1]! & 0x0f) << 16) | u16(b, off + 2),
    id: 0,
    dontFragment: false,
    moreFragments: false,
    fragmentOffset: 0,
    isFragment: false,
    totalLength: declaredEnd - off,
    payloadOffset: off + 40,
    payloadEnd,
    truncated: declaredEnd > end,
    notes,
    warnings,
  };
  let p = off + 40;
  let count = 0;
  while (isIPv6OptionLike(nh) || nh === IPPROTO_FRAGMENT || nh === IPPROTO_AH) {
    if (count === MAX_IPV6_EXTENSION_HEADERS) {
      notes.push(`more than ${MAX_IPV6_EXTENSION_HEADERS} IPv6 extension headers; stopped at byte offset ${p}`);
      break;
    }
    if (nh === IPPROTO_HOPOPTS && count > 0) warnings.push(`IPv6 Hop-by-Hop Options header at byte offset ${p} is not first`);
    const fixed = nh === IPPROTO_FRAGMENT ? 8 : 2;
    if (payloadEnd - p < fixed) {
      notes.push(`IPv6 extension header ${nh} at byte offset ${p} runs past the end of the packet`);
      break;
    }
    const len = nh === IPPROTO_FRAGMENT ? 8 : nh === IPPROTO_AH ? (b[p + 1]! + 2) * 4 : (b[p + 1]! + 1) * 8;
    if (p + len > payloadEnd) {
      notes.push(`IPv6 extension header ${nh} at byte offset ${p} (${len} bytes) runs past the end of the packet`);
      break;
    }
    (h.extensionHeaders ??= []).push({ type: nh, offset: p, length: len });
    count++;
    const next = b[p]!;
    if (nh === IPPROTO_FRAGMENT) {
      const fo = u16(b, p + 2);
      h.fragmentHeaderOffset = p;
      h.fragmentOffset = fo >> 3;
      h.moreFragments = (fo & 1) !== 0;
      h.id = u32(b, p + 4);
      h.isFragment = h.moreFragments || h.fragmentOffset !== 0;
      p += len;
      nh = next;
      // What follows is fragment data, not headers, unless this is an atomic fragment (RFC 6946).
      if (h.isFragment) break;
      continue;
    }
    p += len;
    nh = next;
  }
  h.proto = nh;
  h.payloadOffset = p;
  return h;
}

export interface UdpHeader {
  ok: true;
  srcPort: number;
  dstPort: number;
  /** UDP Length field as read. */
  length: number;
  checksum: number;
  payloadOffset: number;
  payloadEnd: number;
  /** The capture holds fewer bytes than the UDP Length says. */
  truncated: boolean;
  /** Errors found, with byte offsets. */
  notes: string[];
  /** Deviations that still decode (a zero Length under jumbograms or offload). */
  warnings: string[];
}

export interface UdpMalformed {
  ok: false;
  notes: string[];
}

/**
 * Decodes a UDP header at `off`. `end` is where the captured IP payload ends, `declaredEnd` where
 * the IP header says it ends (defaults to `end`); the UDP Length must fit the latter.
 */
export function decodeUdp(b: Uint8Array, off: number, end: number, declaredEnd = end): UdpHeader | UdpMalformed {
  end = Math.min(end, b.length, declaredEnd);
  if (end - off < 8) return { ok: false, notes: [`UDP header at byte offset ${off} is cut short (${Math.max(end - off, 0)} of 8 bytes)`] };
  const notes: string[] = [];
  const warnings: string[] = [];
  const length = u16(b, off + 4);
  const room = declaredEnd - off;
  let udpEnd: number;
  if (length === 0 && room > 8) {
    // RFC 2675 jumbograms and offloaded segments carry 0: the IP payload bounds the datagram.
    warnings.push(`UDP Length 0 at byte offset ${off + 4}; using the IP payload length`);
    udpEnd = off + room;
  } else if (length < 8) {
    notes.push(`UDP Length ${length} at byte offset ${off + 4} is below 8`);
    udpEnd = off + 8;
  } else if (length > room) {
    notes.push(`UDP Length ${length} at byte offset ${off + 4} exceeds the IP payload (${room} bytes)`);
    udpEnd = off + room;
  } else {
    udpEnd = off + length;
  }
  return {
    ok: true,
    srcPort: u16(b, off),
    dstPort: u16(b, off + 2),
    length,
    checksum: u16(b, off + 6),
    payloadOffset: off + 8,
    payloadEnd: Math.min(udpEnd, end),
    truncated: udpEnd > end,
    notes,
    warnings,
  };
}

function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, proto: number, length: number): number {
  let acc = sum16(src, 0, src.length) + sum16(dst, 0, dst.length);
  // IPv4 carries a 16-bit length, IPv6 a 32-bit one: summing the two halves covers both.
  acc += Math.floor(length / 65536) + (length & 0xffff) + proto;
  return acc;
}

/** UDP/TCP checksum over a pseudo-header and the segment b[off, end) (checksum field included as is). */
export function transportChecksum(src: Uint8Array, dst: Uint8Array, proto: number, b: Uint8Array, off = 0, end = b.length): number {
  return ~fold(sum16(b, off, end, pseudoHeaderSum(src, dst, proto, end - off))) & 0xffff;
}

/**
 * Checks a UDP checksum against its IP header: true/false, or undefined when it cannot be
 * checked (zero checksum = not computed, or the datagram is not wholly captured).
 */
export function verifyUdpChecksum(b: Uint8Array, ip: IpHeader, udp: UdpHeader): boolean | undefined {
  if (udp.checksum === 0 || udp.truncated || ip.truncated) return undefined;
  const alen = ip.version === 4 ? 4 : 16;
  const src = b.subarray(ip.srcOffset, ip.srcOffset + alen);
  const dst = b.subarray(ip.dstOffset, ip.dstOffset + alen);
  return transportChecksum(src, dst, IPPROTO_UDP, b, udp.payloadOffset - 8, udp.payloadEnd) === 0;
}

export interface TransportSummary {
  sport?: number;
  dport?: number;
  icmpType?: number;
  icmpCode?: number;
  /** ICMP/ICMPv6 echo request and reply (types 8/0, 128/129): Identifier and Sequence Number. */
  icmpId?: number;
  icmpSeq?: number;
  /** TCP flags byte (CWR..FIN). */
  tcpFlags?: number;
  tcpSeq?: number;
  tcpAck?: number;
  /** TCP Data Offset in bytes. */
  tcpHeaderLength?: number;
  /** UDP Length field. */
  udpLength?: number;
}

/** Upper-layer protocols by number: Wireshark's name and tcpdump's. */
export const IP_PROTOCOL_NAMES: ReadonlyMap<number, { name: string; tcpdump: string }> = new Map([
  [IPPROTO_ICMP, { name: 'ICMP', tcpdump: 'ICMP' }],
  [IPPROTO_TCP, { name: 'TCP', tcpdump: 'TCP' }],
  [IPPROTO_UDP, { name: 'UDP', tcpdump: 'UDP' }],
  [IPPROTO_ICMPV6, { name: 'ICMPv6', tcpdump: 'ICMP6' }],
]);

/**
 * Echo request or reply (RFC 792 types 8/0, RFC 4443 §4 types 128/129), whose next 4 bytes are
 * Identifier and Sequence Number; undefined for other types.
 */
export function icmpEchoKind(proto: number, type: number): 'request' | 'reply' | undefined {
  if (proto === IPPROTO_ICMP) return type === 8 ? 'request' : type === 0 ? 'reply' : undefined;
  if (proto === IPPROTO_ICMPV6) return type === 128 ? 'request' : type === 129 ? 'reply' : undefined;
  return undefined;
}

/** Ports, ICMP type/code/echo fields or TCP header fields of an upper-layer header at b[off, end), as far as captured. */
export function summarizeTransport(proto: number, b: Uint8Array, off: number, end: number): TransportSummary {
  end = Math.min(end, b.length);
  const s: TransportSummary = {};
  const have = end - off;
  switch (proto) {
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
    case IPPROTO_SCTP:
    case IPPROTO_DCCP:
      if (have >= 4) {
        s.sport = u16(b, off);
        s.dport = u16(b, off + 2);
      }
      if (proto === IPPROTO_UDP && have >= 6) s.udpLength = u16(b, off + 4);
      if (proto === IPPROTO_TCP && have >= 14) {
        s.tcpSeq = u32(b, off + 4);
        s.tcpAck = u32(b, off + 8);
        s.tcpHeaderLength = (b[off + 12]! >> 4) * 4;
        s.tcpFlags = b[off + 13]!;
      }
      break;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
      if (have >= 2) {
        s.icmpType = b[off]!;
        s.icmpCode = b[off + 1]!;
        if (have >= 8 && icmpEchoKind(proto, s.icmpType)) {
          s.icmpId = u16(b, off + 4);
          s.icmpSeq = u16(b, off + 6);
        }
      }
      break;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Encoders

export type AddressInput = string | Uint8Array;

function addr(a: AddressInput, size: 4 | 16): Uint8Array {
  const bytes = typeof a === 'string' ? (size === 4 ? parseIPv4(a) : parseIPv6(a)) : a;
  if (!bytes || bytes.length !== size) throw new RangeError(`not an IPv${size === 4 ? 4 : 6} address: ${String(a)}`);
  return bytes;
}

/** 4 bytes for an IPv4 address, 16 for IPv6 (strings are tried as IPv4 first). */
export function addressBytes(a: AddressInput): Uint8Array {
  if (typeof a !== 'string') return a;
  const b = parseIPv4(a) ?? parseIPv6(a);
  if (!b) throw new RangeError(`not an IP address: ${a}`);
  return b;
}

export interface IPv4Fields {
  src: AddressInput;
  dst: AddressInput;
  proto: number;
  /** Default 64. */
  ttl?: number;
  id?: number;
  tos?: number;
  df?: boolean;
  mf?: boolean;
  /** The reserved ("evil") flag bit. */
  reservedFlag?: boolean;
  /** In 8-octet units. */
  fragmentOffset?: number;
  /** Raw options; padded with End-of-Options-List to a multiple of 4 (at most 40 bytes). */
  options?: Uint8Array;
  /** Overrides the computed Total Length (to craft broken packets). */
  totalLength?: number;
  /** Overrides the computed Header Checksum. */
  checksum?: number;
}

export function encodeIPv4(h: IPv4Fields, payload: Uint8Array): Uint8Array {
  const opts = h.options ?? new Uint8Array(0);
  const optLen = (opts.length + 3) & ~3;
  if (optLen > 40) throw new RangeError(`IPv4 options too long (${opts.length} bytes)`);
  const hlen = 20 + optLen;
  const total = hlen + payload.length;
  if (total > 0xffff && h.totalLength === undefined) throw new RangeError(`IPv4 datagram too long (${total} bytes)`);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out[0] = 0x40 | (hlen / 4);
  out[1] = h.tos ?? 0;
  dv.setUint16(2, h.totalLength ?? total);
  dv.setUint16(4, h.id ?? 0);
  const flags = (h.reservedFlag ? 0x8000 : 0) | (h.df ? 0x4000 : 0) | (h.mf ? 0x2000 : 0);
  dv.setUint16(6, flags | ((h.fragmentOffset ?? 0) & 0x1fff));
  out[8] = h.ttl ?? 64;
  out[9] = h.proto;
  out.set(addr(h.src, 4), 12);
  out.set(addr(h.dst, 4), 16);
  out.set(opts, 20);
  dv.setUint16(10, h.checksum ?? internetChecksum(out, 0, hlen));
  out.set(payload, hlen);
  return out;
}

export type IPv6ExtensionSpec =
  /** Hop-by-Hop, Routing, Destination Options, Mobility, HIP, Shim6: body after Next Header and Hdr Ext Len. */
  | { type: 0 | 43 | 60 | 135 | 139 | 140; data?: Uint8Array }
  | { type: 44; fragmentOffset: number; more: boolean; id: number }
  /** Authentication Header: SPI, sequence number and ICV (the bytes after the reserved field). */
  | { type: 51; data: Uint8Array };

export interface IPv6Fields {
  src: AddressInput;
  dst: AddressInput;
  /** Upper-layer protocol (the Next Header of the last extension header). */
  nextHeader: number;
  /** Default 64. */
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  extensionHeaders?: IPv6ExtensionSpec[];
  /** Overrides the computed Payload Length. */
  payloadLength?: number;
}

function extensionBytes(e: IPv6ExtensionSpec, next: number): Uint8Array {
  if (e.type === IPPROTO_FRAGMENT) {
    const out = new Uint8Array(8);
    const dv = new DataView(out.buffer);
    out[0] = next;
    dv.setUint16(2, ((e.fragmentOffset & 0x1fff) << 3) | (e.more ? 1 : 0));
    dv.setUint32(4, e.id >>> 0);
    return out;
  }
  if (e.type === IPPROTO_AH) {
    const len = (4 + e.data.length + 7) & ~7;
    const out = new Uint8Array(len);
    out[0] = next;
    out[1] = len / 4 - 2;
    out.set(e.data, 4);
    return out;
  }
  const body = e.data ?? new Uint8Array(0);
  const len = (2 + body.length + 7) & ~7;
  const out = new Uint8Array(len);
  out[0] = next;
  out[1] = len / 8 - 1;
  out.set(body, 2);
  const pad = len - 2 - body.length;
  if ((e.type === IPPROTO_HOPOPTS || e.type === IPPROTO_DSTOPTS) && pad > 0) {
    // Options headers must stay a valid option list: Pad1 for one byte, PadN otherwise.
    const at = 2 + body.length;
    if (pad === 1) out[at] = 0;
    else {
      out[at] = 1;
      out[at + 1] = pad - 2;
    }
  }
  return out;
}

export function encodeIPv6(h: IPv6Fields, payload: Uint8Array): Uint8Array {
  const exts = h.extensionHeaders ?? [];
  const parts: Uint8Array[] = [];
  exts.forEach((e, i) => parts.push(extensionBytes(e, i + 1 < exts.length ? exts[i + 1]!.type : h.nextHeader)));
  const extLen = parts.reduce((n, p) => n + p.length, 0);
  const plen = extLen + payload.length;
  if (plen > 0xffff && h.payloadLength === undefined) throw new RangeError(`IPv6 payload too long (${plen} bytes)`);
  const out = new Uint8Array(40 + plen);
  const dv = new DataView(out.buffer);
  const tc = h.trafficClass ?? 0;
  dv.setUint32(0, ((6 << 28) | ((tc & 0xff) << 20) | ((h.flowLabel ?? 0) & 0xfffff)) >>> 0);
  dv.setUint16(4, h.payloadLength ?? plen);
  out[6] = exts.length > 0 ? exts[0]!.type : h.nextHeader;
  out[7] = h.hopLimit ?? 64;
  out.set(addr(h.src, 16), 8);
  out.set(addr(h.dst, 16), 24);
  let o = 40;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  out.set(payload, o);
  return out;
}

export interface UdpEncodeOptions {
  /**
   * A literal checksum to write (0, the default, means none), or the IP addresses of the
   * pseudo-header to compute it from (IPv4 or IPv6 by address size).
   */
  checksum?: number | { src: AddressInput; dst: AddressInput };
  /** Overrides the UDP Length field. */
  length?: number;
}

export function encodeUdp(sport: number, dport: number, payload: Uint8Array, opts: UdpEncodeOptions = {}): Uint8Array {
  const out = new Uint8Array(8 + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, sport);
  dv.setUint16(2, dport);
  dv.setUint16(4, opts.length ?? (out.length > 0xffff ? 0 : out.length));
  out.set(payload, 8);
  const c = opts.checksum ?? 0;
  if (typeof c === 'number') {
    dv.setUint16(6, c);
  } else {
    const src = addressBytes(c.src);
    const dst = addressBytes(c.dst);
    if (src.length !== dst.length) throw new RangeError('UDP pseudo-header addresses of different families');
    const sum = transportChecksum(src, dst, IPPROTO_UDP, out);
    // A computed 0 is sent as all ones: 0 means "no checksum" (RFC 768, RFC 8200 §8.1).
    dv.setUint16(6, sum === 0 ? 0xffff : sum);
  }
  return out;
}

export interface IpUdpFields {
  src: AddressInput;
  dst: AddressInput;
  sport: number;
  dport: number;
  /** Default 64. */
  ttl?: number;
  id?: number;
  tos?: number;
  df?: boolean;
  /** Default true: compute the UDP checksum; false writes 0. */
  udpChecksum?: boolean;
}

/** A complete IPv4 or IPv6 (by address family) UDP datagram. */
export function encodeIpUdp(f: IpUdpFields, payload: Uint8Array): Uint8Array {
  const src = addressBytes(f.src);
  const dst = addressBytes(f.dst);
  const udp = encodeUdp(f.sport, f.dport, payload, { checksum: f.udpChecksum === false ? 0 : { src, dst } });
  if (src.length === 4) {
    const h: IPv4Fields = { src, dst, proto: IPPROTO_UDP, ttl: f.ttl ?? 64, id: f.id ?? 0, tos: f.tos ?? 0 };
    if (f.df !== undefined) h.df = f.df;
    return encodeIPv4(h, udp);
  }
  return encodeIPv6({ src, dst, nextHeader: IPPROTO_UDP, hopLimit: f.ttl ?? 64, trafficClass: f.tos ?? 0 }, udp);
}
