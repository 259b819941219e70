// ICMP errors about our own UDP datagrams (RFC 792, RFC 4443): a host or router that could not
// deliver one sends back an error quoting its IP header and the first bytes of its UDP header.
// The active commands read them from a capture to say "port unreachable from X" where a socket
// would only time out.

import { decodeIp, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDP } from '../dissect/ip.js';

export interface IcmpError {
  /** Who sent the error. */
  from: string;
  /** The datagram it quotes: our address and port, and where it was going. */
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** What went wrong, in words ("port unreachable", "host unreachable" ...). */
  reason: string;
  /** The datagram never reached a socket at its destination: nothing listens there. */
  portUnreachable: boolean;
}

const V4_UNREACHABLE: Record<number, string> = {
  0: 'network unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  4: 'fragmentation needed',
  9: 'network administratively prohibited',
  10: 'host administratively prohibited',
  13: 'communication administratively prohibited',
};

const V6_UNREACHABLE: Record<number, string> = {
  0: 'no route to destination',
  1: 'communication administratively prohibited',
  3: 'address unreachable',
  4: 'port unreachable',
  5: 'source address failed policy',
  6: 'reject route to destination',
};

/** The ICMP(v6) destination-unreachable or too-big error in the IP packet `b` (from `off`), or undefined. */
export function icmpError(b: Uint8Array, off = 0, end = b.length): IcmpError | undefined {
  const ip = decodeIp(b, off, end);
  if (!ip.ok || ip.isFragment) return undefined;
  const o = ip.payloadOffset;
  if (ip.payloadEnd - o < 8) return undefined;
  const type = b[o]!;
  const code = b[o + 1]!;
  let reason: string | undefined;
  if (ip.proto === IPPROTO_ICMP && type === 3) reason = V4_UNREACHABLE[code] ?? `destination unreachable (code ${code})`;
  else if (ip.proto === IPPROTO_ICMPV6 && type === 1) reason = V6_UNREACHABLE[code] ?? `destination unreachable (code ${code})`;
  else if (ip.proto === IPPROTO_ICMPV6 && type === 2) reason = 'packet too big';
  if (!reason) return undefined;
  // The quoted datagram: an IP header and at least 8 bytes of its payload (RFC 792); cut short by design.
  const q = decodeIp(b, o + 8, ip.payloadEnd);
  if (!q.ok || q.proto !== IPPROTO_UDP || q.payloadEnd - q.payloadOffset < 4) return undefined;
  const u = q.payloadOffset;
  return {
    from: ip.src,
    src: q.src,
    sport: (b[u]! << 8) | b[u + 1]!,
    dst: q.dst,
    dport: (b[u + 2]! << 8) | b[u + 3]!,
    reason,
    portUnreachable: (ip.proto === IPPROTO_ICMP && code === 3) || (ip.proto === IPPROTO_ICMPV6 && type === 1 && code === 4),
  };
}

/** "port unreachable from X (nothing listens on Y:P)", "host unreachable (from X)". */
export function icmpErrorText(e: { from: string; dst: string; dport: number; reason: string; portUnreachable: boolean }): string {
  const at = `${e.dst.includes(':') ? `[${e.dst}]` : e.dst}:${e.dport}`;
  if (e.portUnreachable) return `port unreachable from ${e.from} (nothing listens on ${at})`;
  return `${e.reason} from ${e.from} (sending to ${at})`;
}
