// The NDJSON line of a plain LISP data packet (see capture/plain-data.ts) written straight from the
// frame bytes, skipping objects and strings. It writes exactly what `packetJsonText` writes for the
// same frame: a property test holds it to that.

import { plainData, PORT_PROTOCOLS, scanPlainData } from '../capture/plain-data.js';
import type { Frame } from '../capture/types.js';
import { LISP_DATA_PORT } from '../dissect/registry.js';
import { DATA_FLAG_LETTERS, DataFlag, dataDstMapVersion, dataIid, dataLsb8, dataSrcMapVersion } from '../dissect/data.js';
import { icmpEchoKind } from '../dissect/ip.js';
import { tcpFlagLetters } from '../dissect/tcp.js';
import { bytesOf, type OutBuffer, putBytes, putHex, putIpDestination, putIpSource, putIPv4, putMicros, putUint, putUint53 } from './out-buffer.js';
import { u16, u32 } from '../dissect/bytes.js';

/** The set flags among NLEVI by flags byte >> 3, as the JSON `flags` field spells them. */
export const DATA_FLAGS = DATA_FLAG_LETTERS;

// The constant runs between the variable parts, as bytes. Runs that depend on a few bits (the LISP
// flags, the inner protocol, TCP flags) are tables of whole runs: a line is a dozen copies, not
// one per key.
const FRAME = bytesOf('{"frame":');
const LEN = bytesOf(',"len":');
const SRC = bytesOf(',"src":"');
const DST = bytesOf('","dst":"');
const SPORT_Q = bytesOf('","sport":');
const SPORT = bytesOf(',"sport":');
const DPORT = bytesOf(',"dport":');
const DEST = bytesOf(',"dest":');
const LSB = bytesOf(',"lsb":');
const INNER = bytesOf(',"inner":{"src":"');
const ICMP_ID = bytesOf(',"icmp_id":');
const ICMP_SEQ = bytesOf(',"icmp_seq":');
const PAYLOAD_LEN = bytesOf(',"payload_len":');

/** What follows a key in the LISP header part when the flags (>> 3) have N, V, I or L. */
const afterWord1 = (f: number) => ((f << 3) & DataFlag.I ? ',"iid":' : (f << 3) & DataFlag.L ? ',"lsb":' : '');
/** From the destination port (4341: plain data is sent to it) to word 1's value, by flags >> 3. */
const HEAD = DATA_FLAG_LETTERS.map((letters, f) => {
  const x = f << 3;
  const w1 = x & DataFlag.N ? ',"nonce":"' : x & DataFlag.V ? ',"map_version":{"source":' : afterWord1(f);
  return bytesOf(`,"dport":${LISP_DATA_PORT},"type":"data","flags":"${letters}"${w1}`);
});
/** After the nonce (closing quote) or the map-versions (closing brace), to word 2's value. */
const AFTER_NONCE = DATA_FLAG_LETTERS.map((_, f) => bytesOf(`"${afterWord1(f)}`));
const AFTER_VERSIONS = DATA_FLAG_LETTERS.map((_, f) => bytesOf(`}${afterWord1(f)}`));
/** `","proto":P,"len":` by protocol. */
const PROTO_LEN = Array.from({ length: 256 }, (_, proto) => bytesOf(`","proto":${proto},"len":`));
/** `,"tcp_flags":"LETTERS"` by flags byte, as tcpFlagLetters writes them. */
const TCP_FLAGS = Array.from({ length: 256 }, (_, f) => bytesOf(`,"tcp_flags":"${tcpFlagLetters(f)}"`));
const ICMP_TYPE = Array.from({ length: 256 }, (_, t) => bytesOf(`,"icmp_type":${t},"icmp_code":`));
const END = bytesOf('}}\n');

const scanned = plainData();

/**
 * Runs that repeat from packet to packet, kept as bytes: the whole seconds of the time (the same
 * for every packet of a second), and the outer addresses (a capture's data packets go between a
 * few pairs of RLOCs).
 */
let tsSec = -1;
let tsRun = bytesOf(',"ts":0');
let addrSrc = -1;
let addrDst = -1;
let addrRun = bytesOf('');

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

/**
 * A packet's line up to its source port's value: `{"frame":N,"ts":T,"len":L,"src":"A","dst":"B","sport":`
 * (outer IPv4 header at `o`), into `buf` from `p`; where it ends.
 */
export function putPacketHead(f: Frame, buf: Uint8Array, p: number, o: number): number {
  const b = f.data;
  p = putBytes(buf, p, FRAME);
  p = putUint(buf, p, f.index);
  const t = frameTime(f);
  if (t.sec !== tsSec) {
    tsSec = t.sec;
    tsRun = bytesOf(`,"ts":${t.sec}`);
  }
  p = putMicros(buf, putBytes(buf, p, tsRun), t.usec);
  p = putBytes(buf, p, LEN);
  p = putUint(buf, p, f.len);
  const src = u32(b, o + 12);
  const dst = u32(b, o + 16);
  if (src !== addrSrc || dst !== addrDst) {
    addrSrc = src;
    addrDst = dst;
    let q = putBytes(buf, p, SRC);
    q = putIPv4(buf, q, b, o + 12);
    q = putBytes(buf, q, DST);
    q = putIPv4(buf, q, b, o + 16);
    q = putBytes(buf, q, SPORT_Q);
    addrRun = buf.slice(p, q);
  }
  return putBytes(buf, p, addrRun);
}

export function writeDataJsonFast(f: Frame, out: OutBuffer): boolean {
  const d = scanned;
  if (!scanPlainData(f, d)) return false;
  const b = f.data;
  const { ip: o, sport, flags, word1: w1, word2: w2, inner: i, innerVersion: innerV, ihl, itotal, proto, fragOffset, mf, end } = d;
  out.ensure(512);
  const buf = out.buf;
  let p = putPacketHead(f, buf, out.pos, o);
  p = putUint(buf, p, sport);
  const fl = flags >> 3;
  p = putBytes(buf, p, HEAD[fl]!);
  if (flags & DataFlag.N) {
    p = putHex(buf, p, w1, 6);
    p = putBytes(buf, p, AFTER_NONCE[fl]!);
  } else if (flags & DataFlag.V) {
    p = putUint(buf, p, dataSrcMapVersion(w1));
    p = putBytes(buf, p, DEST);
    p = putUint(buf, p, dataDstMapVersion(w1));
    p = putBytes(buf, p, AFTER_VERSIONS[fl]!);
  }
  // The key of word 2's value is written: iid (then lsb with L), or lsb alone.
  if (flags & DataFlag.I) {
    p = putUint(buf, p, dataIid(w2));
    if (flags & DataFlag.L) {
      p = putBytes(buf, p, LSB);
      p = putUint(buf, p, dataLsb8(w2));
    }
  } else if (flags & DataFlag.L) p = putUint53(buf, p, w2);
  // scanPlainData accepts only frames with an inner packet.
  p = putBytes(buf, p, INNER);
  p = putIpSource(buf, p, b, i, innerV);
  p = putBytes(buf, p, DST);
  p = putIpDestination(buf, p, b, i, innerV);
  p = putBytes(buf, p, PROTO_LEN[proto]!);
  p = putUint(buf, p, itotal);
  const th = i + ihl;
  const have = Math.min(end, i + itotal) - th;
  // As summarizeIpPacket: tcpdump's "length" (IP payload, less the TCP header, or UDP Length - 8).
  let payloadLen = itotal - ihl;
  if (fragOffset === 0) {
    if (PORT_PROTOCOLS.has(proto) && have >= 4) {
      p = putBytes(buf, p, SPORT);
      p = putUint(buf, p, u16(b, th));
      p = putBytes(buf, p, DPORT);
      p = putUint(buf, p, u16(b, th + 2));
      if (proto === 6 && have >= 14) {
        p = putBytes(buf, p, TCP_FLAGS[b[th + 13]!]!);
        payloadLen = Math.max(0, payloadLen - (b[th + 12]! >> 4) * 4);
      } else if (proto === 17 && have >= 6 && !mf && u16(b, th + 4) >= 8) payloadLen = u16(b, th + 4) - 8;
    } else if ((proto === 1 || proto === 58) && have >= 2) {
      p = putBytes(buf, p, ICMP_TYPE[b[th]!]!);
      p = putUint(buf, p, b[th + 1]!);
      if (have >= 8 && icmpEchoKind(proto, b[th]!)) {
        p = putBytes(buf, p, ICMP_ID);
        p = putUint(buf, p, u16(b, th + 4));
        p = putBytes(buf, p, ICMP_SEQ);
        p = putUint(buf, p, u16(b, th + 6));
      }
    }
  }
  p = putBytes(buf, p, PAYLOAD_LEN);
  p = putUint(buf, p, payloadLen);
  out.pos = putBytes(buf, p, END);
  return true;
}
