// Encapsulated Control Message (RFC 9301 §5.8): a 4-byte LISP header, then a whole IPv4/IPv6 +
// UDP packet whose payload is another control message (a Map-Request to a Map-Resolver, a
// Map-Register through an RTR, an ECM forwarded by a DDT node ...).

import { decodeControlAt, encodeControlTo } from './control.js';
import { Cursor, Writer } from './cursor.js';
import { decodeIp, decodeUdp, encodeIPv4, encodeIPv6, encodeUdp, IPPROTO_UDP } from './ip.js';
import { LIMITS } from './registry.js';
import type { Ecm, EcmInner } from './types.js';

export function decodeEcm(c: Cursor, depth: number): Ecm {
  const m: Ecm = {
    type: 8,
    security: false,
    ddt: false,
    toEtr: false,
    toMs: false,
    inner: { ipVersion: 4, src: '', dst: '', ttl: 0, sport: 0, dport: 0, udpChecksum: 0 },
  };
  if (!c.need(4, 'ECM header')) return m;
  const w = c.u32();
  m.security = (w & 0x08000000) !== 0;
  m.ddt = (w & 0x04000000) !== 0;
  m.toEtr = (w & 0x02000000) !== 0;
  m.toMs = (w & 0x01000000) !== 0;
  if (w & 0x00ffffff) m.reserved = w & 0x00ffffff;

  // IP/UDP notes name byte offsets: decode over the message itself so they are message-relative.
  const msg = c.bytes.subarray(c.base, c.end);
  const ip = decodeIp(msg, c.pos - c.base, msg.length);
  for (const n of ip.notes) c.notes.push({ offset: c.pos - c.base, message: `ECM inner ${n}` });
  if (!ip.ok) {
    m.inner.payload = c.rest();
    return m;
  }
  if (ip.truncated) {
    c.note(`ECM inner packet cut short: its IP header declares ${ip.totalLength} bytes, ${c.end - c.pos} present`);
  }
  m.inner.ipVersion = ip.version;
  m.inner.src = ip.src;
  m.inner.dst = ip.dst;
  m.inner.ttl = ip.ttl;
  if (ip.proto !== IPPROTO_UDP || ip.isFragment) {
    c.note(`ECM inner packet is not an unfragmented UDP datagram (protocol ${ip.proto})`);
    c.pos = c.base + ip.payloadOffset;
    m.inner.payload = c.rest();
    return m;
  }
  const udp = decodeUdp(msg, ip.payloadOffset, ip.payloadEnd, ip.headerOffset + ip.totalLength);
  for (const n of udp.notes) c.notes.push({ offset: ip.payloadOffset, message: `ECM inner ${n}` });
  if (!udp.ok) {
    c.pos = c.base + ip.payloadOffset;
    m.inner.payload = c.rest();
    return m;
  }
  if (udp.truncated && !ip.truncated) {
    c.note(`ECM inner UDP datagram cut short: UDP Length ${udp.length}, ${ip.payloadEnd - ip.payloadOffset} bytes present`);
  }
  m.inner.sport = udp.srcPort;
  m.inner.dport = udp.dstPort;
  m.inner.udpChecksum = udp.checksum;
  const payloadStart = c.base + udp.payloadOffset;
  const payloadEnd = c.base + udp.payloadEnd;
  const inner = new Cursor(c.bytes, payloadStart, payloadEnd, c.base, c.notes);
  if (depth + 1 >= LIMITS.ecmDepth && (c.bytes[inner.pos] ?? 0) >> 4 === 8) {
    inner.note(`ECM nested deeper than ${LIMITS.ecmDepth} levels: inner ECM not decoded`);
    m.inner.payload = inner.rest();
  } else if (inner.remaining > 0) {
    m.inner.message = decodeControlAt(inner, depth + 1);
  } else {
    inner.note('ECM inner UDP datagram is empty');
  }
  c.pos = payloadEnd;
  if (c.remaining > 0) m.trailing = c.rest();
  return m;
}

export function encodeEcm(w: Writer, m: Ecm): void {
  w.u32(
    (8 << 28) |
      (m.security ? 0x08000000 : 0) |
      (m.ddt ? 0x04000000 : 0) |
      (m.toEtr ? 0x02000000 : 0) |
      (m.toMs ? 0x01000000 : 0) |
      ((m.reserved ?? 0) & 0x00ffffff),
  );
  w.bytes(encodeEcmInner(m.inner));
}

function encodeEcmInner(i: EcmInner): Uint8Array {
  let payload: Uint8Array;
  if (i.message) {
    const inner = new Writer();
    encodeControlTo(inner, i.message);
    payload = inner.finish();
  } else {
    payload = i.payload ?? new Uint8Array(0);
  }
  const udp = encodeUdp(i.sport, i.dport, payload, { checksum: i.udpChecksum });
  return i.ipVersion === 4
    ? encodeIPv4({ src: i.src, dst: i.dst, proto: IPPROTO_UDP, ttl: i.ttl }, udp)
    : encodeIPv6({ src: i.src, dst: i.dst, nextHeader: IPPROTO_UDP, hopLimit: i.ttl }, udp);
}
