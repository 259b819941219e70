// Encapsulated Control Message (RFC 9301 §5.8): a 4-byte LISP header, then a whole IPv4/IPv6 +
// UDP packet whose payload is another control message (a Map-Request to a Map-Resolver, a
// Map-Register through an RTR, an ECM forwarded by a DDT node ...). With S=1 Authentication Data
// sits between the two: LISP-SEC (RFC 9303, AD Type 1), or Open Overlay Router's MS-RTR
// authentication on the Map-Server's ECM to an RTR (AD Type 2; docs/nat-traversal.md).

import { decodeAuth, decodeControlAt, encodeControlTo, encodeMsRtrAuth } from './control.js';
import { Cursor, type NoteLevel, Writer } from './cursor.js';
import { decodeIp, decodeUdp, encodeIPv4, encodeIPv6, encodeUdp, IPPROTO_UDP } from './ip.js';
import { decodeLispSec, encodeLispSec } from './lispsec.js';
import { decodeWord, encodeWord, fieldOf, fieldValue, readStruct } from './field.js';
import { AD_HEADER, ECM_HEADER, type AdHeader } from './fields.js';
import { LIMITS, MessageType, MS_RTR_AD_TYPE } from './registry.js';
import type { Ecm, EcmInner, MsRtrAuth } from './types.js';
import { typeName } from './names.js';

/** The registry's name, for notes. */
const NAME_ECM = typeName(MessageType.ECM);

export function decodeEcm(c: Cursor, depth: number): Ecm {
  const m: Ecm = { type: MessageType.ECM, security: false, ddt: false, toEtr: false, toMs: false };
  if (!c.need(4, 'ECM header')) return m;
  decodeWord(ECM_HEADER, c.u32(), m);
  if (m.security) {
    const first = c.remaining > 0 ? c.bytes[c.pos]! : 0;
    if (first >> 4 === 4 || first >> 4 === 6) {
      // No AD Type is 4x or 6x: this is the inner IP header, sent without the AD the S bit announces.
      c.warn(`ECM S bit set but no LISP-SEC Authentication Data: an IPv${first >> 4} header follows the ECM header`);
    } else if (first === MS_RTR_AD_TYPE) {
      const ad = decodeMsRtrAd(c, NAME_ECM);
      if (!ad) {
        if (c.remaining > 0) m.payload = c.rest();
        return m;
      }
      m.msRtrAuth = ad;
    } else {
      const ad = decodeLispSec(c, 'ecm', NAME_ECM);
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
  const note = (text: string, at: number, level: NoteLevel = 'error') =>
    c.notes.push({ offset: at, message: `ECM inner ${text.replace(/ at byte offset \d+/, '')}`, level });
  const ipAt = c.pos - c.base;
  const ip = decodeIp(msg, ipAt, msg.length);
  for (const n of ip.notes) note(n, ipAt);
  if (ip.ok) for (const n of ip.warnings) note(n, ipAt, 'warning');
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
  if (udp.ok) for (const n of udp.warnings) note(n, ip.payloadOffset, 'warning');
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
    // No real path nests this deep (MR -> DDT -> MS -> ETR is three): crafted, refused as damage.
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

/**
 * OOR's MS-RTR Authentication Data: AD Type (8 bits; OOR's header declares 5) | Reserved (24) |
 * Key ID (16) | Authentication Data Length (16) | Authentication Data.
 */
function decodeMsRtrAd(c: Cursor, name: string): MsRtrAuth | undefined {
  const h: AdHeader = {};
  if (!readStruct(c, AD_HEADER, h, `${name} MS-RTR AD Type`)) return undefined;
  const auth = decodeAuth(c, `${name} MS-RTR`);
  if (!auth) return undefined;
  const ad: MsRtrAuth = { adType: h.adType!, ...auth };
  if (h.reserved) ad.reserved = h.reserved;
  return ad;
}

const SECURITY = fieldOf(ECM_HEADER, 'security');

/** Where the inner IP header starts in `msg` (an ECM's bytes): after the header and any Authentication Data. */
function ecmInnerAt(msg: Uint8Array): number | undefined {
  const first = msg[4] ?? 0;
  if (msg.length <= 4 || !fieldValue(SECURITY, msg[0]! << 24) || first >> 4 === 4 || first >> 4 === 6) return 4;
  const c = new Cursor(msg, 4, msg.length, 0, []);
  if (first === MS_RTR_AD_TYPE) return decodeMsRtrAd(c, NAME_ECM) ? c.pos : undefined;
  const ad = decodeLispSec(c, 'ecm', NAME_ECM);
  return ad?.complete ? c.pos : undefined;
}

/** The inner LISP message's bytes inside `msg` (an ECM's bytes), if its headers decode. */
export function ecmInnerBytes(msg: Uint8Array): Uint8Array | undefined {
  const at = ecmInnerAt(msg);
  if (at === undefined) return undefined;
  const ip = decodeIp(msg, at, msg.length);
  if (!ip.ok || ip.proto !== IPPROTO_UDP || ip.isFragment) return undefined;
  const udp = decodeUdp(msg, ip.payloadOffset, ip.payloadEnd, ip.headerOffset + ip.totalLength);
  return udp.ok ? msg.subarray(udp.payloadOffset, udp.payloadEnd) : undefined;
}

export function encodeEcm(w: Writer, m: Ecm): void {
  w.u32(encodeWord(ECM_HEADER, m));
  if (m.lispSec) encodeLispSec(w, m.lispSec);
  if (m.msRtrAuth) encodeMsRtrAuth(w, m.msRtrAuth);
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
