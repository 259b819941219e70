// Encapsulated Control Message (RFC 9301 §5.8): a 4-byte LISP header, then a whole IPv4/IPv6 +
// UDP packet whose payload is another control message (a Map-Request to a Map-Resolver, a
// Map-Register through an RTR, an ECM forwarded by a DDT node ...).

import { decodeControlAt, encodeControlTo } from './control.js';
import { Cursor, Writer } from './cursor.js';
import { decodeIp, decodeUdp, encodeIPv4, encodeIPv6, encodeUdp, IPPROTO_UDP } from './ip.js';
import { decodeLispSec, encodeLispSec } from './lispsec.js';
import { LIMITS } from './registry.js';
import type { Ecm, EcmInner } from './types.js';

export function decodeEcm(c: Cursor, depth: number): Ecm {
  const m: Ecm = { type: 8, security: false, ddt: false, toEtr: false, toMs: false };
  if (!c.need(4, 'ECM header')) return m;
  const w = c.u32();
  m.security = (w & 0x08000000) !== 0;
  m.ddt = (w & 0x04000000) !== 0;
  m.toEtr = (w & 0x02000000) !== 0;
  m.toMs = (w & 0x01000000) !== 0;
  if (w & 0x00ffffff) m.reserved = w & 0x00ffffff;
  if (m.security) {
    const first = c.remaining > 0 ? c.bytes[c.pos]! >> 4 : 0;
    if (first === 4 || first === 6) {
      // No AD Type is 4x or 6x: this is the inner IP header, sent without the AD the S bit announces.
      c.note(`ECM S bit set but no LISP-SEC Authentication Data: an IPv${first} header follows the ECM header`);
    } else {
      const ad = decodeLispSec(c, 'ecm', 'ECM');
      if (ad) m.lispSec = ad.ad;
      if (!ad?.complete) {
        // Where the inner packet starts is unknown: keep whatever is left as bytes.
        if (c.remaining > 0) m.payload = c.rest();
        return m;
      }
    }
  }

  // Decode over the message itself so the IP/UDP decoders' offsets are message-relative.
  const msg = c.bytes.subarray(c.base, c.end);
  const note = (text: string, at: number) => c.notes.push({ offset: at, message: `ECM inner ${text.replace(/ at byte offset \d+/, '')}` });
  const ipAt = c.pos - c.base;
  const ip = decodeIp(msg, ipAt, msg.length);
  for (const n of ip.notes) note(n, ipAt);
  if (!ip.ok) {
    if (c.remaining > 0) m.payload = c.rest();
    return m;
  }
  if (ip.truncated) {
    c.note(`ECM inner packet cut short: its IP header declares ${ip.totalLength} bytes, ${c.end - c.pos} present`);
  }
  if (ip.proto !== IPPROTO_UDP || ip.isFragment) {
    c.note(`ECM inner packet is not an unfragmented UDP datagram (protocol ${ip.proto})`);
    m.payload = c.rest();
    return m;
  }
  const udp = decodeUdp(msg, ip.payloadOffset, ip.payloadEnd, ip.headerOffset + ip.totalLength);
  for (const n of udp.notes) note(n, ip.payloadOffset);
  if (!udp.ok) {
    m.payload = c.rest();
    return m;
  }
  if (udp.truncated && !ip.truncated) {
    c.note(`ECM inner UDP datagram cut short: UDP Length ${udp.length}, ${ip.payloadEnd - ip.payloadOffset} bytes present`);
  }
  const inner: EcmInner = {
    ipVersion: ip.version,
    src: ip.src,
    dst: ip.dst,
    ttl: ip.ttl,
    sport: udp.srcPort,
    dport: udp.dstPort,
    udpChecksum: udp.checksum,
  };
  m.inner = inner;
  const payloadEnd = c.base + udp.payloadEnd;
  const body = new Cursor(c.bytes, c.base + udp.payloadOffset, payloadEnd, c.base, c.notes);
  if (depth + 1 >= LIMITS.ecmDepth && (c.bytes[body.pos] ?? 0) >> 4 === 8) {
    body.note(`ECM nested deeper than ${LIMITS.ecmDepth} levels: inner ECM not decoded`);
    inner.payload = body.rest();
  } else if (body.remaining > 0) {
    inner.message = decodeControlAt(body, depth + 1);
  } else {
    body.note('ECM inner UDP datagram is empty');
  }
  c.pos = payloadEnd;
  if (c.remaining > 0) m.trailing = c.rest();
  return m;
}

/** The inner LISP message's bytes inside `msg` (an ECM's bytes), if its headers decode. */
export function ecmInnerBytes(msg: Uint8Array): Uint8Array | undefined {
  let at = 4;
  const first = (msg[4] ?? 0) >> 4;
  if (msg.length > 4 && (msg[0]! & 0x08) !== 0 && first !== 4 && first !== 6) {
    // S=1: the LISP-SEC Authentication Data sits between the ECM header and the inner IP header.
    const c = new Cursor(msg, 4, msg.length, 0, []);
    const ad = decodeLispSec(c, 'ecm', 'ECM');
    if (!ad?.complete) return undefined;
    at = c.pos;
  }
  const ip = decodeIp(msg, at, msg.length);
  if (!ip.ok || ip.proto !== IPPROTO_UDP || ip.isFragment) return undefined;
  const udp = decodeUdp(msg, ip.payloadOffset, ip.payloadEnd, ip.headerOffset + ip.totalLength);
  return udp.ok ? msg.subarray(udp.payloadOffset, udp.payloadEnd) : undefined;
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
  if (m.lispSec) encodeLispSec(w, m.lispSec);
  if (m.inner) w.bytes(encodeEcmInner(m.inner));
  if (m.payload) w.bytes(m.payload);
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
