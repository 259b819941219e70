// The text line of a plain LISP data packet (see capture/plain-data.ts) written straight from the
// frame bytes, as json-fast.ts does for NDJSON. It writes exactly what `packetLine` writes for the
// same frame (nothing in such a line is coloured): a property test holds it to that.

import { plainData, PORT_PROTOCOLS, scanPlainData } from '../capture/plain-data.js';
import type { Frame } from '../capture/types.js';
import { DATA_FLAG_LETTERS, DataFlag, dataDstMapVersion, dataIid, dataLsb8, dataSrcMapVersion } from '../dissect/data.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT, VXLAN_PORT } from '../dissect/registry.js';
import { icmpEchoKind, IP_PROTOCOL_NAMES } from '../dissect/ip.js';
import { TcpFlag, tcpFlagLetters } from '../dissect/tcp.js';
import { bytesOf, type OutBuffer, putAscii, putBytes, putDigits, putHex, putIpDestination, putIpSource, putIPv4, putUint, putUint53 } from './out-buffer.js';
import type { LineClock } from './time.js';
import { u16, u32 } from '../dissect/bytes.js';

export interface FastLineOptions {
  numeric: boolean;
  /** The frame number first (-#). */
  number: boolean;
  clock: LineClock;
}

/** `LISP data [NLI]` by the flags' top five bits, as dataFlagLetters writes them. */
const DATA_FLAGS = DATA_FLAG_LETTERS.map((letters) => bytesOf(`LISP data [${letters || '-'}]`));

const NONCE = bytesOf(' nonce 0x');
const MAP_VERSION = bytesOf(' map-version ');
const IID = bytesOf(' iid ');
const LSB = bytesOf(' lsb 0x');
const ARROW = bytesOf(' > ');
const FLAGS = bytesOf('Flags [');
const SEQ = bytesOf('], seq ');
const ACK = bytesOf(', ack ');
const LENGTH = bytesOf(', length ');
const UDP = bytesOf('UDP');
const ICMP = bytesOf('ICMP ');
const ICMP6 = bytesOf('ICMP6, ');
const ECHO_REQUEST = bytesOf('echo request');
const ECHO_REPLY = bytesOf('echo reply');
const ID = bytesOf(', id ');
const TYPE = bytesOf('type ');
const CODE = bytesOf(' code ');
const SEQ_ONLY = bytesOf(', seq ');
const FRAGMENT = bytesOf(' (fragment)');
const TCP_LETTERS = Array.from({ length: 256 }, (_, f) => bytesOf(tcpFlagLetters(f)));

/** Outer ports as packetLine names them without -n. */
const PORT_NAMES = new Map([
  [LISP_DATA_PORT, bytesOf('lisp-data')],
  [LISP_CONTROL_PORT, bytesOf('lisp-control')],
  [VXLAN_PORT, bytesOf('vxlan')],
]);

function putPort(b: Uint8Array, p: number, port: number, numeric: boolean): number {
  const name = numeric ? undefined : PORT_NAMES.get(port);
  return name ? putBytes(b, p, name) : putUint(b, p, port);
}

/** Lower-case hex without leading zeros. */
function putHexMin(b: Uint8Array, p: number, n: number): number {
  let width = 1;
  for (let x = n >>> 4; x; x >>>= 4) width++;
  return putHex(b, p, n, width);
}

/** The time column of a frame's line, unless putLineHead writes it from the clock's cached head (the per-packet formats); the others keep state (or are empty). */
export function lineTime(f: Frame, o: FastLineOptions): string | undefined {
  return o.clock.perPacket ? undefined : o.clock.text(f.tsSec, f.tsNsec);
}

/**
 * A line up to its message: number, time, `IP src.sport > dst.dport: ` (outer IPv4 header at
 * `at`), into `buf` from `p`; where it ends. `time` is lineTime's.
 */
export function putLineHead(f: Frame, buf: Uint8Array, p: number, o: FastLineOptions, time: string | undefined, at: number, sport: number, dport: number): number {
  const b = f.data;
  if (o.number) {
    const label = String(f.index);
    for (let k = label.length; k < 5; k++) buf[p++] = 32;
    p = putAscii(buf, p, label);
    buf[p++] = 32;
    buf[p++] = 32;
  }
  if (time === undefined) {
    p = putAscii(buf, p, o.clock.head(f.tsSec));
    const us = Math.floor(f.tsNsec / 1000);
    p = us > 999_999 ? putAscii(buf, p, String(us)) : putDigits(buf, p, us, 6);
    buf[p++] = 32;
  } else if (time) {
    p = putAscii(buf, p, time);
    buf[p++] = 32;
  }
  buf[p++] = 73; // IP
  buf[p++] = 80;
  buf[p++] = 32;
  p = putIPv4(buf, p, b, at + 12);
  buf[p++] = 46;
  p = putPort(buf, p, sport, o.numeric);
  p = putBytes(buf, p, ARROW);
  p = putIPv4(buf, p, b, at + 16);
  buf[p++] = 46;
  p = putPort(buf, p, dport, o.numeric);
  buf[p++] = 58;
  buf[p++] = 32;
  return p;
}

const scanned = plainData();

export function writeDataLineFast(f: Frame, out: OutBuffer, o: FastLineOptions): boolean {
  const d = scanned;
  if (!scanPlainData(f, d)) return false;
  const b = f.data;
  const { ip: at, sport, dport, flags, word1: w1, word2: w2, inner: i, innerVersion: innerV, ihl, itotal, proto, fragOffset, mf, end } = d;
  const time = lineTime(f, o);
  out.ensure(512 + (time?.length ?? 0));
  const buf = out.buf;
  let p = putLineHead(f, buf, out.pos, o, time, at, sport, dport);
  p = putBytes(buf, p, DATA_FLAGS[flags >> 3]!);
  if (flags & DataFlag.N) {
    p = putBytes(buf, p, NONCE);
    p = putHex(buf, p, w1, 6);
  } else if (flags & DataFlag.V) {
    p = putBytes(buf, p, MAP_VERSION);
    p = putUint(buf, p, dataSrcMapVersion(w1));
    buf[p++] = 47;
    p = putUint(buf, p, dataDstMapVersion(w1));
  }
  if (flags & DataFlag.I) {
    p = putBytes(buf, p, IID);
    p = putUint(buf, p, dataIid(w2));
    if (flags & DataFlag.L) {
      p = putBytes(buf, p, LSB);
      p = putHexMin(buf, p, dataLsb8(w2));
    }
  } else if (flags & DataFlag.L) {
    p = putBytes(buf, p, LSB);
    p = putHexMin(buf, p, w2);
  }
  buf[p++] = 58;
  buf[p++] = 32;

  // The inner packet, as innerSummary: addresses (and ports), then what it is and tcpdump's length.
  const t = i + ihl;
  const have = Math.min(end, i + itotal) - t;
  const first = fragOffset === 0;
  const ports = first && PORT_PROTOCOLS.has(proto) && have >= 4;
  p = putIpSource(buf, p, b, i, innerV);
  if (ports) {
    buf[p++] = 46;
    p = putUint(buf, p, u16(b, t));
  }
  p = putBytes(buf, p, ARROW);
  p = putIpDestination(buf, p, b, i, innerV);
  if (ports) {
    buf[p++] = 46;
    p = putUint(buf, p, u16(b, t + 2));
  }
  buf[p++] = 58;
  buf[p++] = 32;
  let len = itotal - ihl;
  if (first && proto === 6 && have >= 14) {
    const tcpFlags = b[t + 13]!;
    len = Math.max(0, len - (b[t + 12]! >> 4) * 4);
    p = putBytes(buf, p, FLAGS);
    p = putBytes(buf, p, TCP_LETTERS[tcpFlags]!);
    p = putBytes(buf, p, SEQ);
    p = putUint53(buf, p, u32(b, t + 4));
    if (tcpFlags & TcpFlag.ACK) {
      p = putBytes(buf, p, ACK);
      p = putUint53(buf, p, u32(b, t + 8));
    }
  } else if (first && proto === 17 && ports) {
    if (have >= 6 && !mf && u16(b, t + 4) >= 8) len = u16(b, t + 4) - 8;
    p = putBytes(buf, p, UDP);
  } else if (first && (proto === 1 || proto === 58) && have >= 2) {
    const type = b[t]!;
    p = putBytes(buf, p, proto === 58 ? ICMP6 : ICMP);
    const echo = icmpEchoKind(proto, type);
    if (echo) {
      p = putBytes(buf, p, echo === 'request' ? ECHO_REQUEST : ECHO_REPLY);
      if (have >= 8) {
        p = putBytes(buf, p, ID);
        p = putUint(buf, p, u16(b, t + 4));
        p = putBytes(buf, p, SEQ_ONLY);
        p = putUint(buf, p, u16(b, t + 6));
      }
    } else {
      p = putBytes(buf, p, TYPE);
      p = putUint(buf, p, type);
      p = putBytes(buf, p, CODE);
      p = putUint(buf, p, b[t + 1]!);
    }
  } else {
    const name = IP_PROTOCOL_NAMES.get(proto)?.tcpdump;
    if (name === undefined) p = putUint(buf, putAscii(buf, p, 'proto '), proto);
    else p = putAscii(buf, p, name);
  }
  p = putBytes(buf, p, LENGTH);
  p = putUint(buf, p, len);
  if (mf || fragOffset !== 0) p = putBytes(buf, p, FRAGMENT);
  buf[p++] = 10;
  out.pos = p;
  return true;
}
