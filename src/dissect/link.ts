// Link layer: finds where the network layer starts in a captured frame and what it is, for the
// LINKTYPE_* values LISP captures come in (tcpdump.org link-layer header types registry).
// Encoders build the same framings for fixtures and the lab.

import { concatBytes, copyBytes, formatMac, parseMac } from './addr.js';
import { u16, u32 } from './bytes.js';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_EN10MB = 1;
/** DLT_RAW as written by some old systems; same content as LINKTYPE_RAW. */
export const LINKTYPE_RAW_12 = 12;
/** DLT_RAW on OpenBSD; same content as LINKTYPE_RAW. */
export const LINKTYPE_RAW_14 = 14;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const LINKTYPE_NAMES: ReadonlyMap<number, string> = new Map([
  [LINKTYPE_NULL, 'NULL'],
  [LINKTYPE_EN10MB, 'EN10MB'],
  [LINKTYPE_RAW_12, 'RAW'],
  [LINKTYPE_RAW_14, 'RAW'],
  [LINKTYPE_RAW, 'RAW'],
  [LINKTYPE_LOOP, 'LOOP'],
  [LINKTYPE_LINUX_SLL, 'LINUX_SLL'],
  [LINKTYPE_IPV4, 'IPV4'],
  [LINKTYPE_IPV6, 'IPV6'],
  [LINKTYPE_LINUX_SLL2, 'LINUX_SLL2'],
]);

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
/** 802.1ad service tag (QinQ outer tag). */
export const ETHERTYPE_QINQ = 0x88a8;
/** Pre-standard QinQ outer tag still used by some switches. */
export const ETHERTYPE_QINQ_OLD = 0x9100;

/** BSD AF_INET everywhere. */
export const AF_INET = 2;
/** AF_INET6 as each capturing OS numbers it: Linux, NetBSD/OpenBSD, FreeBSD, Darwin. */
export const AF_INET6_VALUES: readonly number[] = [10, 24, 28, 30];

/** What follows the link header. */
export type LinkNext =
  | 'ipv4'
  | 'ipv6'
  /** A protocol other than IP (ARP, LLC without SNAP, another address family, ...). */
  | 'non-ip'
  /** A link type we do not decode: the frame stays raw. */
  | 'unknown-linktype'
  /** The frame ends inside the link header. */
  | 'truncated';

export interface LinkLayer {
  linkType: number;
  /** Registry name, or `LINKTYPE_<n>` for link types we do not know. */
  linkName: string;
  next: LinkNext;
  /** Offset of whatever follows the link header (the IP header when next is ipv4/ipv6). */
  offset: number;
  /** Ethernet/SLL protocol of the payload, after VLAN tags and SNAP. */
  etherType?: number;
  /** NULL/LOOP address family, already in the right byte order. */
  family?: number;
  /** VLAN ids, outermost first (802.1Q, 802.1ad and 0x9100 tags, in any stacking). */
  vlanIds?: number[];
  /** EN10MB addresses. */
  srcMac?: string;
  dstMac?: string;
  /** 802.3 frame: LLC header fields (SNAP adds oui/pid). */
  llc?: { dsap: number; ssap: number; control: number; oui?: number; pid?: number };
  /** LINUX_SLL/SLL2: packet type (0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us). */
  packetType?: number;
  /** LINUX_SLL/SLL2: ARPHRD_ type of the interface. */
  arphrd?: number;
  /** LINUX_SLL2: interface index. */
  ifIndex?: number;
  /** Problems with the link header, with byte offsets. */
  notes: string[];
}

function isVlanTpid(t: number): boolean {
  return t === ETHERTYPE_VLAN || t === ETHERTYPE_QINQ || t === ETHERTYPE_QINQ_OLD;
}

/** Walks VLAN tags starting at `off` (which holds the payload after `type`) and classifies the payload. */
function resolveEtherType(b: Uint8Array, off: number, type: number, r: LinkLayer): void {
  while (isVlanTpid(type)) {
    if (b.length - off < 4) {
      r.next = 'truncated';
      r.offset = off;
      r.notes.push(`VLAN tag at byte offset ${off} is cut short (${b.length - off} of 4 bytes)`);
      return;
    }
    (r.vlanIds ??= []).push(u16(b, off) & 0x0fff);
    type = u16(b, off + 2);
    off += 4;
  }
  if (type <= 1500) {
    // An 802.3 length, not an Ethertype: LLC follows.
    decodeLlc(b, off, r);
    return;
  }
  r.offset = off;
  if (type < 1536) {
    r.next = 'non-ip';
    r.notes.push(`type/length ${type} before byte offset ${off} is neither a length nor an Ethertype`);
    return;
  }
  r.etherType = type;
  r.next = type === ETHERTYPE_IPV4 ? 'ipv4' : type === ETHERTYPE_IPV6 ? 'ipv6' : 'non-ip';
}

/** IEEE 802.2 LLC at `off`, with SNAP when DSAP = SSAP = 0xAA and control = UI. */
function decodeLlc(b: Uint8Array, off: number, r: LinkLayer): void {
  if (b.length - off < 3) {
    r.next = 'truncated';
    r.offset = off;
    r.notes.push(`LLC header at byte offset ${off} is cut short`);
    return;
  }
  const dsap = b[off]!;
  const ssap = b[off + 1]!;
  const control = b[off + 2]!;
  r.llc = { dsap, ssap, control };
  if (dsap === 0xaa && ssap === 0xaa && control === 0x03) {
    if (b.length - off < 8) {
      r.next = 'truncated';
      r.offset = off;
      r.notes.push(`SNAP header at byte offset ${off + 3} is cut short`);
      return;
    }
    const oui = (b[off + 3]! << 16) | (b[off + 4]! << 8) | b[off + 5]!;
    const pid = u16(b, off + 6);
    r.llc.oui = oui;
    r.llc.pid = pid;
    // OUI 0 (RFC 1042) and 0x0000f8 (802.1H) carry an Ethertype; other OUIs have their own PIDs.
    if (oui === 0 || oui === 0xf8) resolveEtherType(b, off + 8, pid, r);
    else {
      r.next = 'non-ip';
      r.offset = off + 8;
    }
    return;
  }
  // U-format PDUs have a 1-byte control field, I and S formats 2 bytes.
  r.offset = off + ((control & 3) === 3 ? 3 : 4);
  r.next = 'non-ip';
}

function decodeEthernet(b: Uint8Array, r: LinkLayer): void {
  if (b.length < 14) {
    r.next = 'truncated';
    r.notes.push(`Ethernet header is cut short (${b.length} of 14 bytes)`);
    return;
  }
  r.dstMac = formatMac(b, 0);
  r.srcMac = formatMac(b, 6);
  resolveEtherType(b, 14, u16(b, 12), r);
}

/** Linux cooked header protocol field: mostly an Ethertype, with a few ETH_P_ pseudo values. */
function decodeSllProtocol(b: Uint8Array, off: number, protocol: number, arphrd: number, r: LinkLayer): void {
  if (arphrd === 824) {
    // ARPHRD_NETLINK: the field is a netlink family, not an Ethertype.
    r.offset = off;
    r.next = 'non-ip';
    r.etherType = protocol;
    return;
  }
  if (protocol === 0x0004) return decodeLlc(b, off, r); // ETH_P_802_2
  if (protocol < 1536) {
    // ETH_P_802_3 (Novell raw) and other pseudo protocols.
    r.offset = off;
    r.next = 'non-ip';
    r.etherType = protocol;
    return;
  }
  resolveEtherType(b, off, protocol, r);
}

function fromFamily(af: number, r: LinkLayer): void {
  r.family = af;
  r.offset = 4;
  r.next = af === AF_INET ? 'ipv4' : AF_INET6_VALUES.includes(af) ? 'ipv6' : 'non-ip';
}

function fromVersionNibble(b: Uint8Array, r: LinkLayer): void {
  r.offset = 0;
  if (b.length === 0) {
    r.next = 'truncated';
    r.notes.push('empty frame');
    return;
  }
  const v = b[0]! >> 4;
  if (v === 4) r.next = 'ipv4';
  else if (v === 6) r.next = 'ipv6';
  else {
    r.next = 'non-ip';
    r.notes.push(`raw IP frame has IP version ${v} at byte offset 0`);
  }
}

/** Decodes the link header of a frame of the given LINKTYPE. Never throws. */
export function decodeLink(linkType: number, data: Uint8Array): LinkLayer {
  const r: LinkLayer = {
    linkType,
    linkName: LINKTYPE_NAMES.get(linkType) ?? `LINKTYPE_${linkType}`,
    next: 'truncated',
    offset: 0,
    notes: [],
  };
  const b = data;
  switch (linkType) {
    case LINKTYPE_EN10MB:
      decodeEthernet(b, r);
      break;
    case LINKTYPE_LINUX_SLL:
      if (b.length < 16) {
        r.notes.push(`Linux cooked header is cut short (${b.length} of 16 bytes)`);
        break;
      }
      r.packetType = u16(b, 0);
      r.arphrd = u16(b, 2);
      decodeSllProtocol(b, 16, u16(b, 14), r.arphrd, r);
      break;
    case LINKTYPE_LINUX_SLL2:
      if (b.length < 20) {
        r.notes.push(`Linux cooked v2 header is cut short (${b.length} of 20 bytes)`);
        break;
      }
      r.ifIndex = u32(b, 4);
      r.arphrd = u16(b, 8);
      r.packetType = b[10]!;
      decodeSllProtocol(b, 20, u16(b, 0), r.arphrd, r);
      break;
    case LINKTYPE_NULL: {
      if (b.length < 4) {
        r.notes.push(`NULL header is cut short (${b.length} of 4 bytes)`);
        break;
      }
      // Written in the capturing host's byte order: a value that only fits after swapping is big-endian.
      let af = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
      if (af > 0xffff) af = u32(b, 0);
      fromFamily(af, r);
      break;
    }
    case LINKTYPE_LOOP:
      if (b.length < 4) {
        r.notes.push(`LOOP header is cut short (${b.length} of 4 bytes)`);
        break;
      }
      fromFamily(u32(b, 0), r);
      break;
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_12:
    case LINKTYPE_RAW_14:
      fromVersionNibble(b, r);
      break;
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6: {
      const want = linkType === LINKTYPE_IPV4 ? 4 : 6;
      r.next = want === 4 ? 'ipv4' : 'ipv6';
      if (b.length === 0) {
        r.next = 'truncated';
        r.notes.push('empty frame');
      } else if (b[0]! >> 4 !== want) {
        r.notes.push(`link type ${r.linkName} but IP version ${b[0]! >> 4} at byte offset 0`);
      }
      break;
    }
    default:
      r.next = 'unknown-linktype';
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// Encoders

export type VlanTag = number | { id: number; pcp?: number; dei?: boolean; tpid?: number };

export interface LinkEncodeOptions {
  /** EN10MB: tags outermost first; a bare number is a VLAN id with TPID 0x8100. */
  vlans?: VlanTag[];
  /** EN10MB: 802.3 length + LLC/SNAP (RFC 1042) instead of Ethernet II. */
  snap?: boolean;
  /** EN10MB: pad short frames to the 60-byte minimum, as NICs do. */
  pad?: boolean;
  /** EN10MB source MAC, also the LINUX_SLL/SLL2 link-layer address. */
  src?: string;
  /** EN10MB destination MAC. */
  dst?: string;
  /** Ethertype/SLL protocol; default from the IP version nibble of l3. */
  etherType?: number;
  /** NULL/LOOP address family; default 2 for IPv4 and, for IPv6, 30 (NULL, as macOS) or 24 (LOOP, as OpenBSD). */
  family?: number;
  /** NULL: byte order of the capturing host; default 'le'. */
  hostEndian?: 'le' | 'be';
  /** LINUX_SLL/SLL2 packet type; default 0 (to us). */
  packetType?: number;
  /** LINUX_SLL/SLL2 ARPHRD_ type; default 1 (Ethernet). */
  arphrd?: number;
  /** LINUX_SLL2 interface index; default 1. */
  ifIndex?: number;
}

const DEFAULT_SRC = '02:00:00:00:00:01';
const DEFAULT_DST = '02:00:00:00:00:02';

function mac(s: string): Uint8Array {
  const m = parseMac(s);
  if (!m) throw new RangeError(`bad MAC address ${s}`);
  return m;
}

function be16(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}

function be32(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

/** Builds a frame of `linkType` around the network-layer bytes `l3`. */
export function encodeLink(linkType: number, l3: Uint8Array, opts: LinkEncodeOptions = {}): Uint8Array {
  const v6 = l3.length > 0 && l3[0]! >> 4 === 6;
  const etherType = opts.etherType ?? (v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4);
  const srcMac = mac(opts.src ?? DEFAULT_SRC);
  switch (linkType) {
    case LINKTYPE_EN10MB: {
      const tags = (opts.vlans ?? []).map((t) => {
        const tag = typeof t === 'number' ? { id: t } : t;
        const tci = ((tag.pcp ?? 0) << 13) | (tag.dei ? 0x1000 : 0) | (tag.id & 0x0fff);
        return { tpid: tag.tpid ?? ETHERTYPE_VLAN, tci };
      });
      // 802.3 + SNAP: the length of the LLC payload stands where the Ethertype would.
      const payload = opts.snap ? concatBytes(...[Uint8Array.of(0xaa, 0xaa, 0x03, 0, 0, 0), be16(etherType), l3]) : l3;
      // Each TPID takes the place of the type field; the tag's TCI and the next type follow it.
      const types = [...tags.map((t) => t.tpid), opts.snap ? payload.length : etherType];
      const parts = [mac(opts.dst ?? DEFAULT_DST), srcMac, be16(types[0]!)];
      tags.forEach((t, i) => parts.push(be16(t.tci), be16(types[i + 1]!)));
      parts.push(payload);
      let frame = concatBytes(...parts);
      if (opts.pad && frame.length < 60) {
        const padded = new Uint8Array(60);
        padded.set(frame);
        frame = padded;
      }
      return frame;
    }
    case LINKTYPE_LINUX_SLL: {
      const addr = new Uint8Array(8);
      addr.set(srcMac);
      return concatBytes(...[be16(opts.packetType ?? 0), be16(opts.arphrd ?? 1), be16(6), addr, be16(etherType), l3]);
    }
    case LINKTYPE_LINUX_SLL2: {
      const addr = new Uint8Array(8);
      addr.set(srcMac);
      return concatBytes(...[
        be16(etherType),
        be16(0),
        be32(opts.ifIndex ?? 1),
        be16(opts.arphrd ?? 1),
        Uint8Array.of(opts.packetType ?? 0, 6),
        addr,
        l3,
      ]);
    }
    case LINKTYPE_NULL: {
      const af = opts.family ?? (v6 ? 30 : AF_INET);
      const h = be32(af);
      if ((opts.hostEndian ?? 'le') === 'le') h.reverse();
      return concatBytes(...[h, l3]);
    }
    case LINKTYPE_LOOP:
      return concatBytes(...[be32(opts.family ?? (v6 ? 24 : AF_INET)), l3]);
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_12:
    case LINKTYPE_RAW_14:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      return copyBytes(l3);
    default:
      throw new RangeError(`cannot encode link type ${linkType}`);
  }
}
