// The NDJSON line of a plain LISP data packet (see capture/plain-data.ts) written straight from the
// frame bytes, skipping objects and strings. It writes exactly what `packetJsonText` writes for the
// same frame: a property test holds it to that.

import { plainData, PORT_PROTOCOLS, scanPlainData } from '../capture/plain-data.js';
import type { Frame } from '../capture/types.js';
import { formatIPv6 } from '../dissect/addr.js';
import { DATA_FLAG_LETTERS, DataFlag, dataDstMapVersion, dataIid, dataLsb8, dataSrcMapVersion } from '../dissect/data.js';
import { icmpEchoKind } from '../dissect/ip.js';
import { tcpFlagLetters } from '../dissect/tcp.js';
import { bytesOf, putAscii, putBytes, putHex, putIPv4, putTime, putUint, type OutBuffer } from './out-buffer.js';

/** The set flags among NLEVI by flags byte >> 3, as the JSON `flags` field spells them. */
export const DATA_FLAGS = DATA_FLAG_LETTERS;

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
const ICMP_ID = bytesOf(',"icmp_id":');
const ICMP_SEQ = bytesOf(',"icmp_seq":');
const TCP_FLAGS = bytesOf(',"tcp_flags":"');
const PAYLOAD_LEN = bytesOf(',"payload_len":');
/** TCP flag letters by flags byte, as tcpFlagLetters writes them. */
const TCP_LETTERS = Array.from({ length: 256 }, (_, f) => bytesOf(tcpFlagLetters(f)));

const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;

const scanned = plainData();

/** A frame's time as `ts` prints it (see tsText); one object, reused. */
const time = { sec: 0, usec: 0 };

/** Microseconds rounded from the nanoseconds, carried into the seconds. */
export function frameTime(f: Frame): { readonly sec: number; readonly usec: number } {
  time.sec = f.tsSec;
  time.usec = Math.round(f.tsNsec / 1000);
  if (time.usec >= 1e6) {
    time.sec += 1;
    time.usec -= 1e6;
  }
  return time;
}

export function writeDataJsonFast(f: Frame, out: OutBuffer): boolean {
  const d = scanned;
  if (!scanPlainData(f, d)) return false;
  const b = f.data;
  const { ip: o, sport, dport, flags, word1: w1, word2: w2, inner: i, innerLen, innerVersion: innerV, ihl, itotal, proto, fragOffset, mf, end } = d;
  out.ensure(512);
  const buf = out.buf;
  let p = out.pos;
  p = putBytes(buf, p, FRAME);
  p = putUint(buf, p, f.index);
  p = putBytes(buf, p, TS);
  const t = frameTime(f);
  p = putTime(buf, p, t.sec, t.usec);
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
  p = putAscii(buf, p, DATA_FLAGS[flags >> 3]!);
  buf[p++] = 34;
  if (flags & DataFlag.N) {
    p = putBytes(buf, p, NONCE);
    p = putHex(buf, p, w1, 6);
    buf[p++] = 34;
  } else if (flags & DataFlag.V) {
    p = putBytes(buf, p, MAP_VERSION);
    p = putUint(buf, p, dataSrcMapVersion(w1));
    p = putBytes(buf, p, DEST);
    p = putUint(buf, p, dataDstMapVersion(w1));
    buf[p++] = 125;
  }
  if (flags & DataFlag.I) {
    p = putBytes(buf, p, IID);
    p = putUint(buf, p, dataIid(w2));
    if (flags & DataFlag.L) {
      p = putBytes(buf, p, LSB);
      p = putUint(buf, p, dataLsb8(w2));
    }
  } else if (flags & DataFlag.L) {
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
    const have = tEnd - t;
    // As summarizeIpPacket: tcpdump's "length" (IP payload, less the TCP header, or UDP Length - 8).
    let payloadLen = itotal - ihl;
    if (fragOffset === 0) {
      if (PORT_PROTOCOLS.has(proto) && have >= 4) {
        p = putBytes(buf, p, SPORT);
        p = putUint(buf, p, u16(b, t));
        p = putBytes(buf, p, DPORT);
        p = putUint(buf, p, u16(b, t + 2));
        if (proto === 6 && have >= 14) {
          p = putBytes(buf, p, TCP_FLAGS);
          p = putBytes(buf, p, TCP_LETTERS[b[t + 13]!]!);
          buf[p++] = 34;
          payloadLen = Math.max(0, payloadLen - (b[t + 12]! >> 4) * 4);
        } else if (proto === 17 && have >= 6 && !mf && u16(b, t + 4) >= 8) payloadLen = u16(b, t + 4) - 8;
      } else if ((proto === 1 || proto === 58) && have >= 2) {
        p = putBytes(buf, p, ICMP_TYPE);
        p = putUint(buf, p, b[t]!);
        p = putBytes(buf, p, ICMP_CODE);
        p = putUint(buf, p, b[t + 1]!);
        if (have >= 8 && icmpEchoKind(proto, b[t]!)) {
          p = putBytes(buf, p, ICMP_ID);
          p = putUint(buf, p, u16(b, t + 4));
          p = putBytes(buf, p, ICMP_SEQ);
          p = putUint(buf, p, u16(b, t + 6));
        }
      }
    }
    p = putBytes(buf, p, PAYLOAD_LEN);
    p = putUint(buf, p, payloadLen);
    buf[p++] = 125;
  }
  buf[p++] = 125;
  buf[p++] = 10;
  out.pos = p;
  return true;
}
