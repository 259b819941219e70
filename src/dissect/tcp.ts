// TCP (RFC 9293) header: decoding, encoding and the flags' names. The stream reassembly that
// carries the Map-Server reliable transport is capture's (src/capture/tcp.ts).

import { addressBytes, IPPROTO_TCP, transportChecksum, type AddressInput } from './ip.js';
import { u16, u32 } from './bytes.js';

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/** The flags in wire order, with tshark's name and tcpdump's letter. */
const TCP_FLAGS: readonly { mask: number; name: string; letter: string }[] = [
  { mask: TcpFlag.FIN, name: 'FIN', letter: 'F' },
  { mask: TcpFlag.SYN, name: 'SYN', letter: 'S' },
  { mask: TcpFlag.RST, name: 'RST', letter: 'R' },
  { mask: TcpFlag.PSH, name: 'PSH', letter: 'P' },
  { mask: TcpFlag.ACK, name: 'ACK', letter: '.' },
  { mask: TcpFlag.URG, name: 'URG', letter: 'U' },
  { mask: TcpFlag.ECE, name: 'ECE', letter: 'E' },
  { mask: TcpFlag.CWR, name: 'CWR', letter: 'W' },
];

export interface TcpHeader {
  ok: true;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** Header length in bytes (Data Offset × 4). */
  headerLength: number;
  /** CWR ECE URG ACK PSH RST SYN FIN. */
  flags: number;
  window: number;
  checksum: number;
  urgent: number;
  payloadOffset: number;
  /** End of the captured payload. */
  payloadEnd: number;
  /** Payload length per the IP header (more than captured when the snaplen cut the segment). */
  payloadLength: number;
  truncated: boolean;
  /** Errors found, with byte offsets. */
  notes: string[];
  /** Deviations that still decode (reserved bits set). */
  warnings: string[];
}

export interface TcpMalformed {
  ok: false;
  notes: string[];
}

/**
 * Decodes a TCP header at `off`; `end` is where the captured IP payload ends, `declaredEnd` where
 * the IP header says it ends.
 */
export function decodeTcp(b: Uint8Array, off: number, end: number, declaredEnd = end): TcpHeader | TcpMalformed {
  end = Math.min(end, b.length, declaredEnd);
  if (end - off < 20) return { ok: false, notes: [`TCP header at byte offset ${off} is cut short (${Math.max(end - off, 0)} of 20 bytes)`] };
  const dataOffset = b[off + 12]! >> 4;
  const headerLength = dataOffset * 4;
  if (dataOffset < 5) return { ok: false, notes: [`TCP Data Offset ${dataOffset} at byte offset ${off + 12} is below 5`] };
  if (declaredEnd - off < headerLength) {
    return { ok: false, notes: [`TCP header at byte offset ${off} (${headerLength} bytes with options) exceeds the IP payload`] };
  }
  if (end - off < headerLength) {
    return { ok: false, notes: [`TCP header with options at byte offset ${off} is cut short (${end - off} of ${headerLength} bytes)`] };
  }
  const warnings: string[] = [];
  if (b[off + 12]! & 0x0f) warnings.push(`TCP reserved bits set at byte offset ${off + 12}`);
  return {
    ok: true,
    srcPort: u16(b, off),
    dstPort: u16(b, off + 2),
    seq: u32(b, off + 4),
    ack: u32(b, off + 8),
    headerLength,
    flags: b[off + 13]!,
    window: u16(b, off + 14),
    checksum: u16(b, off + 16),
    urgent: u16(b, off + 18),
    payloadOffset: off + headerLength,
    payloadEnd: end,
    payloadLength: declaredEnd - off - headerLength,
    truncated: end < declaredEnd,
    notes: [],
    warnings,
  };
}

/** `[SYN ACK]`-style flag names, tshark's order. */
export function tcpFlagText(flags: number): string {
  return TCP_FLAGS.filter((f) => flags & f.mask)
    .map((f) => f.name)
    .join(', ');
}

/** TCP flags as tcpdump prints them between brackets: F S R P . U E W in that order (`S.` is SYN-ACK), `none` for 0. */
export function tcpFlagLetters(flags: number): string {
  return TCP_FLAGS.filter((f) => flags & f.mask).map((f) => f.letter).join('') || 'none';
}

export interface TcpFields {
  sport: number;
  dport: number;
  seq: number;
  ack?: number;
  /** Default ACK (PSH too when there is payload), SYN alone when `seq` starts a stream: give them explicitly. */
  flags: number;
  /** Default 65535. */
  window?: number;
  /** Raw options, padded with zeros (End of Option List) to a multiple of 4. */
  options?: Uint8Array;
  /** IP addresses of the pseudo-header (computes the checksum); without them it is 0. */
  checksum?: { src: AddressInput; dst: AddressInput };
}

/** A TCP segment: header and payload. */
export function encodeTcp(f: TcpFields, payload: Uint8Array): Uint8Array {
  const opts = f.options ?? new Uint8Array(0);
  const optLen = (opts.length + 3) & ~3;
  if (optLen > 40) throw new RangeError(`TCP options too long (${opts.length} bytes)`);
  const hlen = 20 + optLen;
  const out = new Uint8Array(hlen + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, f.sport);
  dv.setUint16(2, f.dport);
  dv.setUint32(4, f.seq >>> 0);
  dv.setUint32(8, (f.ack ?? 0) >>> 0);
  out[12] = (hlen / 4) << 4;
  out[13] = f.flags;
  dv.setUint16(14, f.window ?? 65535);
  out.set(opts, 20);
  out.set(payload, hlen);
  if (f.checksum) {
    const src = addressBytes(f.checksum.src);
    const dst = addressBytes(f.checksum.dst);
    dv.setUint16(16, transportChecksum(src, dst, IPPROTO_TCP, out));
  }
  return out;
}
