// What `--all` says about frames that are not LISP, in tcpdump's words, so that the ARP, IPv6
// neighbour discovery and ICMP around a LISP problem read as a tcpdump user expects. Bounds-checked
// reads only: a short frame gets the words that fit.

import { formatIPv4, formatIPv6, formatMac } from '../dissect/addr.js';
import type { IpHeader } from '../dissect/ip.js';
import type { LinkLayer } from '../dissect/link.js';
import { tcpFlagText } from '../dissect/tcp.js';
import { u16 } from '../dissect/bytes.js';

const ETHERTYPE_ARP = 0x0806;

/** A frame whose link layer carries no IP: ARP in tcpdump's words, else the link and its type. */
export function nonIpSummary(link: LinkLayer, b: Uint8Array): string {
  if (link.next !== 'non-ip') return `${link.linkName} frame`;
  if (link.etherType === ETHERTYPE_ARP) return arpSummary(b, link.offset);
  const type = link.etherType === undefined ? '' : `, ethertype 0x${link.etherType.toString(16).padStart(4, '0')}`;
  return `${link.linkName} non-IP frame${type}, length ${b.length - link.offset}`;
}

/** `ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28` (IPv4 over Ethernet; others by opcode). */
function arpSummary(b: Uint8Array, o: number): string {
  const length = b.length - o;
  if (length < 8) return `ARP, truncated, length ${length}`;
  const hlen = b[o + 4]!;
  const plen = b[o + 5]!;
  const op = u16(b, o + 6);
  const ipv4 = u16(b, o) === 1 && u16(b, o + 2) === 0x0800 && hlen === 6 && plen === 4;
  if (!ipv4 || length < 28) return `ARP, hardware type ${u16(b, o)}, opcode ${op}, length ${length}`;
  const sha = formatMac(b, o + 8);
  const spa = formatIPv4(b, o + 14);
  const tpa = formatIPv4(b, o + 24);
  if (op === 1) return `ARP, Request who-has ${tpa} tell ${spa}, length ${length}`;
  if (op === 2) return `ARP, Reply ${spa} is-at ${sha}, length ${length}`;
  return `ARP, opcode ${op}, length ${length}`;
}

const ICMP4: Record<number, string> = { 0: 'echo reply', 8: 'echo request', 11: 'time exceeded', 5: 'redirect', 13: 'time stamp request', 14: 'time stamp reply' };
const UNREACH4: Record<number, string> = { 0: 'net', 1: 'host', 2: 'protocol', 3: 'port', 4: 'need to frag' };
const ICMP6: Record<number, string> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded in-transit',
  4: 'parameter problem',
  128: 'echo request',
  129: 'echo reply',
  130: 'multicast listener query',
  131: 'multicast listener report',
  132: 'multicast listener done',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
  137: 'redirect',
  143: 'multicast listener report v2',
};

/** An IP datagram that is not LISP: ICMP and ICMPv6 in tcpdump's words, UDP and others by protocol. */
export function ipSummary(ip: IpHeader, b: Uint8Array): string {
  const o = ip.payloadOffset;
  const end = Math.min(ip.payloadEnd, b.length);
  // The length the header declares, as tcpdump prints it, also when the capture cut the datagram.
  const length = Math.max(0, ip.headerOffset + ip.totalLength - o);
  if (ip.proto === 1 && end - o >= 4) return icmpSummary(b, o, end, length);
  if (ip.proto === 58 && end - o >= 4) return icmp6Summary(b, o, end, length);
  if (ip.proto === 17) return `UDP, length ${Math.max(0, length - 8)}`;
  if (ip.proto === 6 && end - o >= 20) {
    // Ports and flags, as lispscope names the segments of the reliable transport; length is the payload's.
    const flags = tcpFlagText(((b[o + 12]! & 1) << 8) | b[o + 13]!);
    return `TCP ${u16(b, o)} > ${u16(b, o + 2)}${flags ? ` [${flags}]` : ''}, length ${Math.max(0, length - (b[o + 12]! >> 4) * 4)}`;
  }
  return `ip-proto-${ip.proto} ${length}`;
}

function icmpSummary(b: Uint8Array, o: number, end: number, length: number): string {
  const type = b[o]!;
  const code = b[o + 1]!;
  if ((type === 0 || type === 8) && end - o >= 8) return `ICMP ${ICMP4[type]}, id ${u16(b, o + 4)}, seq ${u16(b, o + 6)}, length ${length}`;
  if (type === 3) {
    // The quoted datagram names what could not be reached.
    const q = o + 8;
    const ihl = end > q ? (b[q]! & 0x0f) * 4 : 0;
    if (end >= q + 20 && ihl >= 20) {
      const dst = formatIPv4(b, q + 16);
      const proto = b[q + 9]!;
      if (code === 3 && (proto === 17 || proto === 6) && end >= q + ihl + 4) {
        return `ICMP ${dst} ${proto === 17 ? 'udp' : 'tcp'} port ${u16(b, q + ihl + 2)} unreachable, length ${length}`;
      }
      if (UNREACH4[code]) return `ICMP ${dst} ${UNREACH4[code]} unreachable, length ${length}`;
    }
    return `ICMP unreachable, code ${code}, length ${length}`;
  }
  if (type === 11) return `ICMP time exceeded in-${code === 0 ? 'transit' : 'reassembly'}, length ${length}`;
  return `ICMP ${ICMP4[type] ?? `type ${type}`}${ICMP4[type] ? '' : `, code ${code}`}, length ${length}`;
}

function icmp6Summary(b: Uint8Array, o: number, end: number, length: number): string {
  const type = b[o]!;
  const name = ICMP6[type] ?? `type ${type}`;
  if ((type === 135 || type === 136) && end - o >= 24) {
    const target = formatIPv6(b, o + 8);
    return `ICMP6, ${name}, ${type === 135 ? 'who has' : 'tgt is'} ${target}, length ${length}`;
  }
  if ((type === 128 || type === 129) && end - o >= 8) return `ICMP6, ${name}, id ${u16(b, o + 4)}, seq ${u16(b, o + 6)}, length ${length}`;
  if (type === 2 && end - o >= 8) return `ICMP6, ${name}, mtu ${((b[o + 4]! << 24) >>> 0) + (b[o + 5]! << 16) + (b[o + 6]! << 8) + b[o + 7]!}, length ${length}`;
  return `ICMP6, ${name}, length ${length}`;
}
