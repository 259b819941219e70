// The NDJSON line of an ordinary LISP data packet written straight from the frame bytes. Data
// packets are most of any capture; this lane skips building objects and strings for them. It
// accepts only the plain case (no fragments, options-free outer IPv4, no notes, nothing to verify)
// and otherwise returns false so the general decoder handles the frame. It writes exactly what
// `packetJsonText` writes for the same frame: a property test holds it to that.

import type { Frame } from '../capture/types.js';
import { formatIPv6 } from '../dissect/addr.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT } from '../dissect/registry.js';
import { bytesOf, putAscii, putBytes, putDigits, putHex, putIPv4, putUint, type OutBuffer } from './out-buffer.js';

const PORTS = new Set([6, 17, 33, 132, 136]); // TCP, UDP, DCCP, SCTP, UDP-Lite: ports come first
const FLAGS = Array.from({ length: 32 }, (_, f) => ['N', 'L', 'E', 'V', 'I'].filter((_, k) => (f << 3) & (0x80 >> k)).join(''));

// JSON keys with their punctuation, as bytes.
const FRAME = bytesOf('{"frame":');
const TS = bytesOf(',"ts":');
const LEN = bytesOf(',"len":');
const SRC = bytesOf(',"src":"');
const DST = bytesOf('","dst":"');
const SPORT_Q = bytesOf('","sport":');
const DPORT = bytesOf(',"dport":');
const TYPE_FLAGS = bytesOf(',"type":"data","flags":"');
const NONCE = bytesOf(',"nonce":"');
const MAP_VERSION = bytesOf(',"map_version":{"source":');
const DEST = bytesOf(',"dest":');
const IID = bytesOf(',"iid":');
const LSB = bytesOf(',"lsb":');
const INNER = bytesOf(',"inner":{"src":"');
const PROTO = bytesOf('","proto":');
const SPORT = bytesOf(',"sport":');
const ICMP_TYPE = bytesOf(',"icmp_type":');
const ICMP_CODE = bytesOf(',"icmp_code":');

const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;

/** Offset of an IPv4 header after the link header, or -1. */
function ipv4Offset(f: Frame): number {
  const b = f.data;
  switch (f.linkType) {
    case 1:
      return b.length >= 34 && b[12] === 0x08 && b[13] === 0x00 ? 14 : -1;
    case 12:
    case 14:
    case 101:
    case 228:
      return 0;
    case 113:
      return b.length >= 36 && b[14] === 0x08 && b[15] === 0x00 ? 16 : -1;
    case 276:
      return b.length >= 40 && b[0] === 0x08 && b[1] === 0x00 ? 20 : -1;
    default:
      return -1;
  }
}

export function writeDataJsonFast(f: Frame, out: OutBuffer): boolean {
  if (f.notes?.length) return false;
  const b = f.data;
  const o = ipv4Offset(f);
  if (o < 0 || b.length < o + 36) return false;
  if (b[o] !== 0x45 || b[o + 9] !== 17) return false; // IPv4 without options, UDP
  if ((u16(b, o + 6) & 0xbfff) !== 0) return false; // fragment, or the reserved flag (a note)
  const total = u16(b, o + 2);
  if (total < 36 || o + total > b.length) return false;
  const u = o + 20;
  const sport = u16(b, u);
  const dport = u16(b, u + 2);
  if (dport !== LISP_DATA_PORT || sport === LISP_CONTROL_PORT || sport === LISP_DATA_PORT) return false;
  const udpLen = u16(b, u + 4);
  if (udpLen < 16 || udpLen > total - 20) return false;
  const l = u + 8;
  const end = u + udpLen;
  const flags = b[l]!;
  if (flags & 0x07) return false; // GPE or encrypted
  if ((flags & 0x90) === 0x90 || (flags & 0xa0) === 0x20) return false; // N+V, E without N: notes
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
  if (innerLen > 0) {
    innerV = b[i]! >> 4;
    if (innerV === 4) {
      ihl = (b[i]! & 15) * 4;
      if (innerLen < 20 || ihl < 20 || innerLen < ihl) return false;
      itotal = u16(b, i + 2);
      if (itotal < ihl || u16(b, i + 6) & 0x8000) return false;
      proto = b[i + 9]!;
      fragOffset = u16(b, i + 6) & 0x1fff;
    } else if (innerV === 6) {
      if (innerLen < 40) return false;
      proto = b[i + 6]!;
      if (!PORTS.has(proto) && proto !== 58 && proto !== 1) return false;
      ihl = 40;
      itotal = 40 + u16(b, i + 4);
      if (itotal === 40) return false; // payload length 0: jumbogram handling is the general path's
    } else return false;
  }

  out.ensure(512);
  const buf = out.buf;
  let p = out.pos;
  p = putBytes(buf, p, FRAME);
  p = putUint(buf, p, f.index);
  p = putBytes(buf, p, TS);
  // As tsText: microseconds rounded from the nanoseconds, carried into the seconds.
  let sec = f.tsSec;
  let usec = Math.round(f.tsNsec / 1000);
  if (usec >= 1e6) {
    sec += 1;
    usec -= 1e6;
  }
  p = sec > 0x7fffffff ? putAscii(buf, p, String(sec)) : putUint(buf, p, sec);
  if (usec !== 0) {
    let width = 6;
    while (usec % 10 === 0) {
      usec /= 10;
      width--;
    }
    buf[p++] = 46;
    p = putDigits(buf, p, usec, width);
  }
  p = putBytes(buf, p, LEN);
  p = putUint(buf, p, f.len);
  p = putBytes(buf, p, SRC);
  p = putIPv4(buf, p, b, o + 12);
  p = putBytes(buf, p, DST);
  p = putIPv4(buf, p, b, o + 16);
  p = putBytes(buf, p, SPORT_Q);
  p = putUint(buf, p, sport);
  p = putBytes(buf, p, DPORT);
  p = putUint(buf, p, dport);
  p = putBytes(buf, p, TYPE_FLAGS);
  p = putAscii(buf, p, FLAGS[flags >> 3]!);
  buf[p++] = 34;
  if (flags & 0x80) {
    p = putBytes(buf, p, NONCE);
    p = putHex(buf, p, w1, 6);
    buf[p++] = 34;
  } else if (flags & 0x10) {
    p = putBytes(buf, p, MAP_VERSION);
    p = putUint(buf, p, (w1 >>> 12) & 0xfff);
    p = putBytes(buf, p, DEST);
    p = putUint(buf, p, w1 & 0xfff);
    buf[p++] = 125;
  }
  if (flags & 0x08) {
    p = putBytes(buf, p, IID);
    p = putUint(buf, p, w2 >>> 8);
    if (flags & 0x40) {
      p = putBytes(buf, p, LSB);
      p = putUint(buf, p, w2 & 0xff);
    }
  } else if (flags & 0x40) {
    p = putBytes(buf, p, LSB);
    p = w2 > 0x7fffffff ? putAscii(buf, p, String(w2)) : putUint(buf, p, w2);
  }
  if (innerLen > 0) {
    p = putBytes(buf, p, INNER);
    p = innerV === 4 ? putIPv4(buf, p, b, i + 12) : putAscii(buf, p, formatIPv6(b, i + 8));
    p = putBytes(buf, p, DST);
    p = innerV === 4 ? putIPv4(buf, p, b, i + 16) : putAscii(buf, p, formatIPv6(b, i + 24));
    p = putBytes(buf, p, PROTO);
    p = putUint(buf, p, proto);
    p = putBytes(buf, p, LEN);
    p = putUint(buf, p, itotal);
    const t = i + ihl;
    const tEnd = Math.min(end, i + itotal);
    if (fragOffset === 0) {
      if (PORTS.has(proto) && tEnd - t >= 4) {
        p = putBytes(buf, p, SPORT);
        p = putUint(buf, p, u16(b, t));
        p = putBytes(buf, p, DPORT);
        p = putUint(buf, p, u16(b, t + 2));
      } else if ((proto === 1 || proto === 58) && tEnd - t >= 2) {
        p = putBytes(buf, p, ICMP_TYPE);
        p = putUint(buf, p, b[t]!);
        p = putBytes(buf, p, ICMP_CODE);
        p = putUint(buf, p, b[t + 1]!);
      }
    }
    buf[p++] = 125;
  }
  buf[p++] = 125;
  buf[p++] = 10;
  out.pos = p;
  return true;
}
