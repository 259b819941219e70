// Which LISP decoder a UDP datagram goes to, by its ports and, where the ports leave it open, by its
// content (JSON contract, "read"). Pure: the capture pipeline, the quoted packets of ICMP errors,
// LISP inside LISP data and the Mobile Node's sockets all decide the same way.

import { decodeControl } from './control.js';
import { decodeIp, internetChecksum } from './ip.js';
import { isKnownControlType, LISP_CONTROL_PORT, LISP_DATA_PORT, VXLAN_PORT } from './registry.js';

/** Ports given with `--decode-as`: explicit choices that override every guess. */
export interface DecodeAs {
  control: Set<number>;
  data: Set<number>;
  /** VXLAN / VXLAN-GPO ports besides 4789. */
  vxlan?: Set<number>;
}

export type LispKind = 'control' | 'data' | 'vxlan';

/**
 * Whether `-d` names any port: the lanes that read plain data packets in place (capture/plain-data.ts)
 * stand aside then, since a named port can turn what reads as plain data into something else.
 */
export function namesPorts(decodeAs: DecodeAs | undefined): boolean {
  return !!decodeAs && decodeAs.control.size + decodeAs.data.size + (decodeAs.vxlan?.size ?? 0) > 0;
}

export interface Classification {
  kind: LispKind;
  /**
   * The ports allowed either reading and the bytes decided. `data`: a valid data header and a whole
   * IP packet (what an RTR sends from port 4342); `control`: a known control type.
   */
  byContent?: 'data' | 'control';
}

/**
 * A LISP data header followed by an IPv4/IPv6 packet that fills the rest of the datagram (or is cut
 * only by the capture): a control message never reads this way, its bytes 8.. are not an IP header
 * whose checksum and length agree.
 */
export function looksLikeData(b: Uint8Array, off: number, end: number): boolean {
  if (end - off < 8 + 20) return false;
  const flags = b[off]!;
  // Encrypted (K bits) or LISP-GPE payloads cannot be told from their first bytes.
  if (flags & 0x07) return false;
  // What decodeIp below accepts without a note or warning needs these of IPv4 (a whole header,
  // Total Length reaching the end, a checksum that agrees): checked first, they spare nearly every
  // control message (whose bytes 8.. are a random nonce) building an IP header to throw away.
  const at = off + 8;
  const v = b[at]! >> 4;
  if (v === 4) {
    const hlen = (b[at]! & 15) * 4;
    const total = (b[at + 2]! << 8) | b[at + 3]!;
    if (hlen < 20 || at + hlen > end || total < hlen || at + total < end || internetChecksum(b, at, at + hlen) !== 0) return false;
  } else if (v !== 6) return false;
  const ip = decodeIp(b, at, end);
  if (!ip.ok || ip.notes.length || ip.warnings.length) return false;
  const declaredEnd = ip.headerOffset + ip.totalLength;
  if (declaredEnd !== end && !(declaredEnd > end && ip.truncated)) return false;
  // IPv4 has a header checksum to agree; IPv6 only its Payload Length (never 0 here: see warnings).
  return ip.version === 6 || ip.checksumOk === true;
}

/** A known control type whose message decodes without an error: the bytes read as control. */
function readsAsControl(b: Uint8Array, off: number, end: number): boolean {
  if (!isKnownControlType(b[off]! >> 4)) return false;
  return !decodeControl(b, off, end).notes.some((n) => n.level === 'error');
}

export function classifyDatagram(
  sport: number,
  dport: number,
  b: Uint8Array,
  off: number,
  end: number,
  decodeAs?: DecodeAs,
): Classification | undefined {
  // -d naming 4342 or 4341 itself is the user's word on that port: no guess overrides it.
  for (const p of [sport, dport]) {
    if (p !== LISP_CONTROL_PORT && p !== LISP_DATA_PORT) continue;
    if (decodeAs?.control.has(p)) return { kind: 'control' };
    if (decodeAs?.data.has(p)) return { kind: 'data' };
  }
  const asControl = !!decodeAs?.control.has(sport) || !!decodeAs?.control.has(dport);
  const asData = !!decodeAs?.data.has(sport) || !!decodeAs?.data.has(dport);
  const asVxlan = !!decodeAs?.vxlan?.has(sport) || !!decodeAs?.vxlan?.has(dport);
  const ctl = sport === LISP_CONTROL_PORT || dport === LISP_CONTROL_PORT || asControl;
  const dat = sport === LISP_DATA_PORT || dport === LISP_DATA_PORT || asData;
  if (ctl) {
    // Port 4342 can carry data too: an RTR sends data to a NATed MN from it (to the NAT's port or
    // to 4341). A whole IP packet after 8 bytes settles it, unless the bytes read as a control
    // message just as well; otherwise a known type is control and, where the ports say data as
    // well (4341, or a -d data port: NAT traversal crosses the two), anything else is data.
    const known = end > off && isKnownControlType(b[off]! >> 4);
    if (looksLikeData(b, off, end) && !readsAsControl(b, off, end)) return { kind: 'data', byContent: 'data' };
    if (dat) return known ? { kind: 'control', byContent: 'control' } : { kind: 'data', byContent: 'data' };
    return { kind: 'control' };
  }
  if (dport === LISP_DATA_PORT || asData) return { kind: 'data' };
  if (dport === VXLAN_PORT || asVxlan) return { kind: 'vxlan' };
  return undefined;
}

/** The decoder's kind alone (see classifyDatagram). */
export function classify(sport: number, dport: number, b: Uint8Array, off: number, end: number, decodeAs?: DecodeAs): LispKind | undefined {
  return classifyDatagram(sport, dport, b, off, end, decodeAs)?.kind;
}
