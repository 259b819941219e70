// VXLAN (RFC 7348) and its Group Policy extension (VXLAN-GPO / GBP, draft-smith-vxlan-group-policy),
// the data plane of LISP fabrics such as Cisco SD-Access: the VNI is the LISP Instance-ID, the
// Group Policy ID the source's security group. The payload is an Ethernet frame; its IP packet is
// summarised as LISP data's inner packet is.
//
//   0                   1                   2                   3
//   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |G|R|R|R|I|R|R|R|R|D|R|R|A|R|R|R|        Group Policy ID        |   (RFC 7348: flags 8 | reserved 24)
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |          VXLAN Network Identifier (VNI)       |   Reserved    |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import type { Note } from './cursor.js';
import { summarizeIpPacket } from './data.js';
import { decodeLink, LINKTYPE_EN10MB } from './link.js';
import type { Decoded, VxlanMessage } from './types.js';

/** The 16 flag bits of the first word. */
export const VxlanFlag = { G: 0x8000, I: 0x0800, D: 0x0040, A: 0x0008 } as const;

/** Decodes the VXLAN header at bytes[start] and summarises the Ethernet frame and IP packet it carries. */
export function decodeVxlan(bytes: Uint8Array, start = 0, end = bytes.length): Decoded<VxlanMessage | undefined> {
  const notes: Note[] = [];
  if (end - start < 8) {
    notes.push({ offset: 0, message: `truncated VXLAN header: needs 8 bytes, ${Math.max(0, end - start)} left`, level: 'error' });
    return { value: undefined, notes };
  }
  const b = bytes;
  const p = start;
  const flags = (b[p]! << 8) | b[p + 1]!;
  const m: VxlanMessage = {
    type: 'vxlan',
    flags,
    word1Low: (b[p + 2]! << 8) | b[p + 3]!,
    vni: (b[p + 4]! << 16) | (b[p + 5]! << 8) | b[p + 6]!,
    reserved8: b[p + 7]!,
    payload: bytes.subarray(p + 8, end),
  };
  if (!(flags & VxlanFlag.I)) notes.push({ offset: 0, message: 'VXLAN I flag not set: the VNI is not valid (RFC 7348 §5)', level: 'warning' });
  const reserved = flags & ~(VxlanFlag.G | VxlanFlag.I | VxlanFlag.D | VxlanFlag.A);
  if (reserved || (!(flags & VxlanFlag.G) && (flags & (VxlanFlag.D | VxlanFlag.A)))) {
    notes.push({ offset: 0, message: `VXLAN reserved flag bits set (0x${flags.toString(16).padStart(4, '0')})`, level: 'warning' });
  }
  if (end - p === 8) {
    notes.push({ offset: 8, message: 'VXLAN header with no frame after it', level: 'error' });
    return { value: m, notes };
  }
  const frame = bytes.subarray(p + 8, end);
  const link = decodeLink(LINKTYPE_EN10MB, frame);
  m.ethernet = { dst: link.dstMac ?? '', src: link.srcMac ?? '' };
  if (link.etherType !== undefined) m.ethernet.etherType = link.etherType;
  if (link.vlanIds) m.ethernet.vlanIds = link.vlanIds;
  if (link.next === 'truncated') {
    notes.push({ offset: 8, message: `inner Ethernet frame: ${link.notes.join('; ') || 'cut short'}`, level: 'error' });
    return { value: m, notes };
  }
  if (link.next === 'ipv4' || link.next === 'ipv6') {
    const inner = summarizeIpPacket(bytes, p + 8 + link.offset, end, start);
    if (inner) m.inner = inner;
    else notes.push({ offset: 8 + link.offset, message: `inner Ethernet frame says IPv${link.next === 'ipv4' ? 4 : 6} but carries no IP header`, level: 'error' });
  }
  return { value: m, notes };
}

/** The Group Policy extension's fields, when G is set. */
export function vxlanGroupPolicy(m: VxlanMessage): { groupPolicyId: number; dontLearn: boolean; policyApplied: boolean } | undefined {
  if (!(m.flags & VxlanFlag.G)) return undefined;
  return { groupPolicyId: m.word1Low, dontLearn: (m.flags & VxlanFlag.D) !== 0, policyApplied: (m.flags & VxlanFlag.A) !== 0 };
}

/** The set flag letters among G I D A (JSON `flags`). */
export function vxlanFlagLetters(flags: number): string {
  return (['G', 'I', 'D', 'A'] as const).filter((l) => flags & VxlanFlag[l]).join('');
}

export interface VxlanFields {
  vni: number;
  /** Group Policy ID: sets G. */
  groupPolicyId?: number;
  dontLearn?: boolean;
  policyApplied?: boolean;
}

/** A VXLAN header (I set) and the Ethernet frame after it. */
export function encodeVxlan(f: VxlanFields, frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + frame.length);
  let flags = VxlanFlag.I;
  if (f.groupPolicyId !== undefined) flags |= VxlanFlag.G | (f.dontLearn ? VxlanFlag.D : 0) | (f.policyApplied ? VxlanFlag.A : 0);
  out[0] = flags >> 8;
  out[1] = flags & 0xff;
  out[2] = ((f.groupPolicyId ?? 0) >> 8) & 0xff;
  out[3] = (f.groupPolicyId ?? 0) & 0xff;
  out[4] = (f.vni >> 16) & 0xff;
  out[5] = (f.vni >> 8) & 0xff;
  out[6] = f.vni & 0xff;
  out.set(frame, 8);
  return out;
}
