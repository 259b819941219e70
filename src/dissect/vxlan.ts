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

import { Cursor, type Note, Writer } from './cursor.js';
import { decodeWord, encodeWord, fieldOf, flagFields, isSet, readStruct, writeStruct } from './field.js';
import { summarizeIpPacket } from './data.js';
import { VXLAN_FLAGS, VXLAN_HEADER, type VxlanFlagBits } from './fields.js';
import { decodeLink, LINKTYPE_EN10MB } from './link.js';
import type { Decoded, VxlanMessage } from './types.js';

const mask = (key: keyof VxlanFlagBits) => fieldOf(VXLAN_FLAGS, key).mask;

/** The flags' masks by letter, from the field table. */
export const VxlanFlag = { G: mask('groupPolicy'), I: mask('vniValid'), D: mask('dontLearn'), A: mask('policyApplied') } as const;

/** The header's fields, from the field table. */
export const VxlanField = {
  flags: fieldOf(VXLAN_HEADER[0]!, 'flags'),
  groupPolicyId: fieldOf(VXLAN_HEADER[1]!, 'groupPolicyId'),
  vni: fieldOf(VXLAN_HEADER[2]!, 'vni'),
  reserved8: fieldOf(VXLAN_HEADER[2]!, 'reserved8'),
  dontLearn: fieldOf(VXLAN_FLAGS, 'dontLearn'),
  policyApplied: fieldOf(VXLAN_FLAGS, 'policyApplied'),
} as const;

/** The flags word as fields. */
export function vxlanFlagBits(flags: number): VxlanFlagBits {
  return decodeWord(VXLAN_FLAGS, flags, {} as VxlanFlagBits);
}

/** Decodes the VXLAN header at bytes[start] and summarises the Ethernet frame and IP packet it carries. */
export function decodeVxlan(bytes: Uint8Array, start = 0, end = bytes.length): Decoded<VxlanMessage | undefined> {
  const notes: Note[] = [];
  const c = new Cursor(bytes, start, end, start, notes);
  const m: VxlanMessage = { type: 'vxlan', flags: 0, groupPolicyId: 0, vni: 0, reserved8: 0, payload: bytes.subarray(Math.min(end, start + 8), end) };
  if (!readStruct(c, VXLAN_HEADER, m, 'VXLAN header')) return { value: undefined, notes };
  const p = start;
  const flags = m.flags;
  const bits = vxlanFlagBits(flags);
  if (!bits.vniValid) notes.push({ offset: 0, message: 'VXLAN I flag not set: the VNI is not valid (RFC 7348 §5)', level: 'warning' });
  if (bits.reserved || (!bits.groupPolicy && (bits.dontLearn || bits.policyApplied))) {
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
  const bits = vxlanFlagBits(m.flags);
  if (!bits.groupPolicy) return undefined;
  return { groupPolicyId: m.groupPolicyId, dontLearn: bits.dontLearn, policyApplied: bits.policyApplied };
}

const FLAGS = flagFields(VXLAN_FLAGS);

/** The set flags' letters, in wire order (JSON `flags`). */
export function vxlanFlagLetters(flags: number): string {
  const bits = vxlanFlagBits(flags);
  let s = '';
  for (const f of FLAGS) if (isSet(f, bits)) s += f.letter;
  return s;
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
  const g = f.groupPolicyId !== undefined;
  const bits: VxlanFlagBits = { groupPolicy: g, vniValid: true, dontLearn: g && f.dontLearn === true, policyApplied: g && f.policyApplied === true };
  const m = { flags: encodeWord(VXLAN_FLAGS, bits), groupPolicyId: f.groupPolicyId ?? 0, vni: f.vni, reserved8: 0 } as VxlanMessage;
  const w = new Writer(8 + frame.length);
  writeStruct(w, VXLAN_HEADER, m);
  return w.bytes(frame).finish();
}
