// ICMP (RFC 792, RFC 1191, RFC 4884) and ICMPv6 (RFC 4443) error messages that quote a LISP
// packet: Destination Unreachable, Time Exceeded, Packet Too Big, Parameter Problem, Redirect. They
// are the first clue of MTU and reachability trouble: an RLOC that data dies on the way to, a
// Map-Server that answers every Map-Register with port-unreachable. The quoted IP/UDP/LISP is
// decoded as far as it was quoted; running out of quote is expected, not damage.

import { formatIPv4 } from './addr.js';
import { classifyDatagram, type DecodeAs } from './classify.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT, VXLAN_PORT } from './registry.js';
import type { Note } from './cursor.js';
import { decodeIp, decodeUdp, encodeIPv4, encodeIPv6, internetChecksum, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP, transportChecksum, addressBytes } from './ip.js';
import { decodeNested } from './nested.js';
import type { ControlMessage, IcmpError, QuotedPacket } from './types.js';
import { u16 } from './bytes.js';

interface IcmpTypeInfo {
  /** tcpdump's words for the type. */
  title: string;
  /** Short names by code; a code not listed is `<type slug>-<code>`. */
  codes: ReadonlyMap<number, string>;
  slug: string;
}

/** ICMP error types (IANA "ICMP Type Numbers"). */
export const ICMP_ERRORS: ReadonlyMap<number, IcmpTypeInfo> = new Map([
  [
    3,
    {
      title: 'destination unreachable',
      slug: 'unreachable',
      codes: new Map([
        [0, 'net-unreachable'],
        [1, 'host-unreachable'],
        [2, 'protocol-unreachable'],
        [3, 'port-unreachable'],
        [4, 'fragmentation-needed'],
        [5, 'source-route-failed'],
        [6, 'net-unknown'],
        [7, 'host-unknown'],
        [8, 'source-host-isolated'],
        [9, 'net-prohibited'],
        [10, 'host-prohibited'],
        [11, 'net-tos-unreachable'],
        [12, 'host-tos-unreachable'],
        [13, 'admin-prohibited'],
        [14, 'host-precedence-violation'],
        [15, 'precedence-cutoff'],
      ]),
    },
  ],
  [4, { title: 'source quench', slug: 'source-quench', codes: new Map([[0, 'source-quench']]) }],
  [
    5,
    {
      title: 'redirect',
      slug: 'redirect',
      codes: new Map([
        [0, 'redirect-net'],
        [1, 'redirect-host'],
        [2, 'redirect-tos-net'],
        [3, 'redirect-tos-host'],
      ]),
    },
  ],
  [
    11,
    {
      title: 'time exceeded',
      slug: 'time-exceeded',
      codes: new Map([
        [0, 'ttl-exceeded'],
        [1, 'reassembly-time-exceeded'],
      ]),
    },
  ],
  [
    12,
    {
      title: 'parameter problem',
      slug: 'parameter-problem',
      codes: new Map([
        [0, 'parameter-problem'],
        [1, 'missing-option'],
        [2, 'bad-length'],
      ]),
    },
  ],
]);

/** ICMPv6 error types (RFC 4443 §3, IANA "ICMPv6 Parameters"). */
export const ICMPV6_ERRORS: ReadonlyMap<number, IcmpTypeInfo> = new Map([
  [
    1,
    {
      title: 'destination unreachable',
      slug: 'unreachable',
      codes: new Map([
        [0, 'no-route'],
        [1, 'admin-prohibited'],
        [2, 'beyond-scope'],
        [3, 'address-unreachable'],
        [4, 'port-unreachable'],
        [5, 'source-policy-failed'],
        [6, 'reject-route'],
        [7, 'source-routing-error'],
      ]),
    },
  ],
  [2, { title: 'packet too big', slug: 'packet-too-big', codes: new Map([[0, 'packet-too-big']]) }],
  [
    3,
    {
      title: 'time exceeded',
      slug: 'time-exceeded',
      codes: new Map([
        [0, 'hop-limit-exceeded'],
        [1, 'reassembly-time-exceeded'],
      ]),
    },
  ],
  [
    4,
    {
      title: 'parameter problem',
      slug: 'parameter-problem',
      codes: new Map([
        [0, 'erroneous-header-field'],
        [1, 'unrecognized-next-header'],
        [2, 'unrecognized-option'],
      ]),
    },
  ],
]);

export function icmpErrorTypes(version: 4 | 6): ReadonlyMap<number, IcmpTypeInfo> {
  return version === 4 ? ICMP_ERRORS : ICMPV6_ERRORS;
}

/** The short name of an error's type and code. */
export function icmpErrorName(version: 4 | 6, type: number, code: number): string {
  const t = icmpErrorTypes(version).get(type);
  if (!t) return `icmp${version === 6 ? 'v6' : ''}-${type}-${code}`;
  return t.codes.get(code) ?? `${t.slug}-${code}`;
}

/** Whether an ICMP/ICMPv6 type is an error message (one that quotes the packet it is about). */
export function isIcmpError(version: 4 | 6, type: number): boolean {
  return icmpErrorTypes(version).has(type);
}

/** Types whose RFC 4884 Length field sits in byte 5 (ICMP) or byte 4 (ICMPv6), in 32-/64-bit words. */
const RFC4884 = { 4: new Set([3, 11, 12]), 6: new Set([1, 3]) } as const;

export interface IcmpDecode {
  /** Undefined when the message is not an error, or does not quote an IP/UDP datagram. */
  value?: IcmpError;
  /** Problems of the ICMP message and the quoted IP/UDP headers, with offsets from the ICMP message. */
  frameNotes: Note[];
  /** Problems of the quoted LISP message, with offsets from its first byte. */
  notes: Note[];
}

/**
 * Decodes the ICMP (version 4) or ICMPv6 (6) message at b[off, end). `declaredLength` is the
 * ICMP message's length per the IP header (more than captured when the snaplen cut it).
 */
export function decodeIcmpError(b: Uint8Array, off: number, end: number, version: 4 | 6, declaredLength = end - off): IcmpDecode {
  const out: IcmpDecode = { frameNotes: [], notes: [] };
  end = Math.min(end, b.length);
  if (end - off < 8) return out;
  const type = b[off]!;
  const code = b[off + 1]!;
  if (!isIcmpError(version, type)) return out;
  const quotedAt = off + 8;
  // RFC 4884: a non-zero length says how much of the rest is the original datagram (the remainder is extensions).
  let quotedEnd = end;
  let originalLength: number | undefined;
  if (RFC4884[version].has(type)) {
    const words = version === 4 ? b[off + 5]! : b[off + 4]!;
    if (words) {
      originalLength = words * (version === 4 ? 4 : 8);
      quotedEnd = Math.min(end, quotedAt + originalLength);
    }
  }
  const ip = decodeIp(b, quotedAt, quotedEnd);
  if (!ip.ok || ip.proto !== IPPROTO_UDP || ip.fragmentOffset !== 0) return out;
  const quoted: QuotedPacket = {
    ipVersion: ip.version,
    src: ip.src,
    dst: ip.dst,
    proto: ip.proto,
    ttl: ip.ttl,
    id: ip.id,
    totalLength: ip.totalLength,
    quotedLength: Math.min(quotedEnd, b.length) - quotedAt,
    offset: quotedAt - off,
    cut: ip.truncated,
  };
  const e: IcmpError = { version, type, code, name: icmpErrorName(version, type, code), checksum: u16(b, off + 2), length: declaredLength, quoted };
  if (originalLength !== undefined) e.originalLength = originalLength;
  if (version === 4 && type === 3 && code === 4) e.mtu = u16(b, off + 6);
  if (version === 6 && type === 2) e.mtu = ((u16(b, off + 4) << 16) | u16(b, off + 6)) >>> 0;
  if (version === 4 && type === 12) e.pointer = b[off + 4]!;
  if (version === 6 && type === 4) e.pointer = ((u16(b, off + 4) << 16) | u16(b, off + 6)) >>> 0;
  if (version === 4 && type === 5) e.gateway = formatIPv4(b, off + 4);
  const rel = (at: number) => at - off;
  for (const n of ip.notes) out.frameNotes.push({ offset: rel(quotedAt), message: `quoted ${n}`, level: 'error' });
  // The quoted header's own UDP may be cut right after its ports (RFC 792 quotes 8 bytes).
  if (ip.payloadEnd - ip.payloadOffset < 4) {
    out.value = e;
    return out;
  }
  quoted.sport = u16(b, ip.payloadOffset);
  quoted.dport = u16(b, ip.payloadOffset + 2);
  out.value = e;
  if (ip.payloadEnd - ip.payloadOffset < 8) return out;
  const udp = decodeUdp(b, ip.payloadOffset, ip.payloadEnd, ip.headerOffset + ip.totalLength);
  if (!udp.ok) return out;
  quoted.udpLength = udp.length;
  const k = classifyDatagram(udp.srcPort, udp.dstPort, b, udp.payloadOffset, udp.payloadEnd);
  if (!k || k.kind === 'vxlan' || udp.payloadEnd <= udp.payloadOffset) return out;
  // Offsets of the quoted LISP message's notes count from its own first byte, as for any packet's.
  quoted.lisp = decodeNested(k, b, udp.payloadOffset, udp.payloadEnd, udp.payloadOffset, out.notes, 1, ip.truncated || udp.truncated ? 'note' : 'error');
  quoted.lisp.offset = rel(udp.payloadOffset);
  return out;
}

/**
 * Whether the quoted datagram is LISP by its ports (also when not one byte of LISP was quoted, as
 * when a router quotes only the 8 bytes RFC 792 asks for).
 */
export function quotesLisp(e: IcmpError, decodeAs?: DecodeAs): boolean {
  const q = e.quoted;
  if (q.lisp) return true;
  if (q.sport === undefined) return false;
  return [q.sport, q.dport!].some(
    (p) =>
      p === LISP_CONTROL_PORT ||
      p === LISP_DATA_PORT ||
      p === VXLAN_PORT ||
      !!decodeAs?.control.has(p) ||
      !!decodeAs?.data.has(p) ||
      !!decodeAs?.vxlan?.has(p),
  );
}

// ---- encoding (fixtures, the lab) ------------------------------------------------------------

export interface IcmpErrorFields {
  /** The router or host that reports, and who gets the error (the original sender). */
  src: string;
  dst: string;
  type: number;
  code: number;
  /** Fragmentation needed / Packet Too Big. */
  mtu?: number;
  /** The original IP datagram; quoted up to `quote` bytes (default: 548 for ICMP, 1232 for ICMPv6, as routers quote). */
  original: Uint8Array;
  quote?: number;
  ttl?: number;
}

/** A whole IP packet carrying an ICMP or ICMPv6 error (by the address family of `src`). */
export function encodeIcmpError(f: IcmpErrorFields): Uint8Array {
  const v6 = addressBytes(f.src).length === 16;
  const quoteLen = Math.min(f.original.length, f.quote ?? (v6 ? 1232 : 548));
  const msg = new Uint8Array(8 + quoteLen);
  msg[0] = f.type;
  msg[1] = f.code;
  if (f.mtu !== undefined) {
    if (v6) new DataView(msg.buffer).setUint32(4, f.mtu >>> 0);
    else new DataView(msg.buffer).setUint16(6, f.mtu);
  }
  msg.set(f.original.subarray(0, quoteLen), 8);
  const sum = v6
    ? transportChecksum(addressBytes(f.src), addressBytes(f.dst), IPPROTO_ICMPV6, msg)
    : internetChecksum(msg);
  new DataView(msg.buffer).setUint16(2, sum);
  return v6
    ? encodeIPv6({ src: f.src, dst: f.dst, nextHeader: IPPROTO_ICMPV6, hopLimit: f.ttl ?? 64 }, msg)
    : encodeIPv4({ src: f.src, dst: f.dst, proto: IPPROTO_ICMP, ttl: f.ttl ?? 64 }, msg);
}

/**
 * The control message an ICMP error is about, through an ECM to the message it carries (a
 * Map-Request sent to a Map-Resolver), with the nonce that ties it to its exchange; undefined when
 * the quote holds no control message (data, or ports only).
 */
export function quotedMessage(e: IcmpError): { message: ControlMessage; nonce?: bigint; inEcm: boolean } | undefined {
  let m = e.quoted.lisp?.control;
  if (!m) return undefined;
  let inEcm = false;
  while (m.type === 8 && 'inner' in m && m.inner?.message) {
    m = m.inner.message;
    inEcm = true;
  }
  return 'nonce' in m ? { message: m, nonce: m.nonce, inEcm } : { message: m, inEcm };
}
