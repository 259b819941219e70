// The whole detail tree of a packet: frame, link, IP, UDP and the LISP message, with byte ranges in
// the frame (the hex pane highlights them).

import type { LispPacket } from '../capture/packets.js';
import { toHex } from '../dissect/addr.js';
import { tcpFlagText } from '../dissect/tcp.js';
import type { AuthResult } from '../dissect/auth.js';
import type { NoteLevel } from '../dissect/cursor.js';
import { ICMP_ERRORS, ICMPV6_ERRORS } from '../dissect/icmp.js';
import type { IcmpError } from '../dissect/types.js';
import { controlTree, dataTree, nestedTree, reliableTree, vxlanTree, withoutRanges, type TreeNode } from './tree.js';
import { arrivalText, epochText } from './time.js';

const LINK_TITLES: ReadonlyMap<number, string> = new Map([
  [0, 'Null/Loopback'],
  [1, 'Ethernet II'],
  [12, 'Raw IP'],
  [14, 'Raw IP'],
  [101, 'Raw IP'],
  [108, 'OpenBSD Loopback'],
  [113, 'Linux cooked capture v1'],
  [228, 'Raw IPv4'],
  [229, 'Raw IPv6'],
  [276, 'Linux cooked capture v2'],
]);

const IPV6_EXTENSIONS: ReadonlyMap<number, string> = new Map([
  [0, 'Hop-by-Hop Options'],
  [43, 'Routing'],
  [44, 'Fragment'],
  [51, 'Authentication Header'],
  [60, 'Destination Options'],
  [135, 'Mobility'],
  [139, 'HIP'],
  [140, 'Shim6'],
]);

function leaf(label: string, start: number, end: number): TreeNode {
  return { label, start, end };
}

/**
 * The tree of a packet; `bytes` are the frame's bytes (for IP options). `frame` names the frame
 * when its number alone does not (`2:17`: frame 17 of the second capture).
 */
export function packetTree(p: LispPacket, bytes: Uint8Array, frame: string = String(p.frame)): TreeNode {
  const children: TreeNode[] = [];
  children.push({
    label: `Frame ${frame}: ${p.len} bytes on wire, ${p.caplen} bytes captured`,
    start: 0,
    end: p.caplen,
    children: [
      // The zone of the packet lines (local), said, and the epoch time that needs no zone.
      leaf(`Arrival Time: ${arrivalText(p.tsSec, p.tsNsec)}`, 0, 0),
      leaf(`Epoch Arrival Time: ${epochText(p.tsSec, p.tsNsec)}`, 0, 0),
      leaf(`Link type: ${p.link.linkName} (${p.link.linkType})`, 0, 0),
    ],
  });
  const l = p.link;
  const linkKids: TreeNode[] = [];
  if (l.srcMac) linkKids.push(leaf(`Source: ${l.srcMac}, Destination: ${l.dstMac}`, 0, 12));
  if (l.vlanIds?.length) linkKids.push(leaf(`VLAN IDs: ${l.vlanIds.join(', ')}`, 12, l.offset - 2));
  if (l.etherType !== undefined) linkKids.push(leaf(`Type: 0x${l.etherType.toString(16).padStart(4, '0')}`, l.offset - 2, l.offset));
  if (l.family !== undefined) linkKids.push(leaf(`Address family: ${l.family}`, 0, 4));
  children.push({ label: LINK_TITLES.get(l.linkType) ?? l.linkName, start: 0, end: l.offset, children: linkKids });
  const reassembled = p.fragments !== undefined;
  if (p.ip) {
    const ip = p.ip;
    const ipKids = [
      leaf(`Source: ${ip.src}`, ip.srcOffset, ip.srcOffset + (ip.version === 4 ? 4 : 16)),
      leaf(`Destination: ${ip.dst}`, ip.dstOffset, ip.dstOffset + (ip.version === 4 ? 4 : 16)),
      leaf(`${ip.version === 4 ? 'TTL' : 'Hop Limit'}: ${ip.ttl}`, 0, 0),
      leaf(`Protocol: ${ip.proto}`, 0, 0),
      leaf(`Total Length: ${ip.totalLength}`, 0, 0),
    ];
    if (ip.version === 4) ipKids.push(leaf(`Identification: 0x${ip.id.toString(16).padStart(4, '0')}`, 0, 0));
    if (ip.optionsOffset !== undefined && !reassembled) {
      const end = ip.optionsOffset + ip.optionsLength!;
      ipKids.push(leaf(`Options: ${ip.optionsLength} bytes (${toHex(bytes, ip.optionsOffset, end)})`, ip.optionsOffset, end));
    }
    for (const e of ip.extensionHeaders ?? []) {
      const name = IPV6_EXTENSIONS.get(e.type) ?? 'Extension header';
      ipKids.push(leaf(`${name} (${e.type}): ${e.length} bytes`, reassembled ? 0 : e.offset, reassembled ? 0 : e.offset + e.length));
    }
    if (p.fragments) ipKids.push(leaf(`Reassembled from frames ${p.fragments.join(', ')}`, 0, 0));
    children.push({
      label: `Internet Protocol Version ${ip.version}, Src: ${ip.src}, Dst: ${ip.dst}`,
      start: reassembled ? 0 : ip.headerOffset,
      end: reassembled ? 0 : ip.payloadOffset,
      children: ipKids,
    });
  }
  if (p.udp) {
    const u = p.udp;
    const at = reassembled ? 0 : u.payloadOffset - 8;
    children.push({
      label: `User Datagram Protocol, Src Port: ${u.srcPort}, Dst Port: ${u.dstPort}`,
      start: at,
      end: reassembled ? 0 : u.payloadOffset,
      children: [
        leaf(`Length: ${u.length}`, at + 4, at + 6),
        leaf(`Checksum: 0x${u.checksum.toString(16).padStart(4, '0')}${u.checksum === 0 ? ' (none)' : ''}`, at + 6, at + 8),
      ],
    });
  }
  if (p.tcp) {
    const t = p.tcp;
    const at = reassembled ? 0 : t.payloadOffset - t.headerLength;
    const span = (o: number, n: number) => (reassembled ? [0, 0] : [at + o, at + o + n]) as [number, number];
    children.push({
      label: `Transmission Control Protocol, Src Port: ${t.srcPort}, Dst Port: ${t.dstPort}, Seq: ${t.seq}, Ack: ${t.ack}, Len: ${t.payloadLength}`,
      start: at,
      end: reassembled ? 0 : t.payloadOffset,
      children: [
        leaf(`Sequence Number: ${t.seq}`, ...span(4, 4)),
        leaf(`Acknowledgment Number: ${t.ack}`, ...span(8, 4)),
        leaf(`Header Length: ${t.headerLength} bytes`, ...span(12, 1)),
        leaf(`Flags: 0x${t.flags.toString(16).padStart(3, '0')} (${tcpFlagText(t.flags) || 'none'})`, ...span(13, 1)),
        leaf(`Window: ${t.window}`, ...span(14, 2)),
        leaf(`Checksum: 0x${t.checksum.toString(16).padStart(4, '0')}`, ...span(16, 2)),
      ],
    });
  }
  const base = p.lispOffset ?? 0;
  const verdict = (a: AuthResult | undefined) => a && (a.ok ? `verified with the key (${a.algorithm})` : `FAILED: ${a.reason}`);
  const opts = { authVerdict: verdict(p.auth), msRtrVerdict: verdict(p.msRtrAuth) };
  let lispNode: TreeNode | undefined;
  if (p.control) lispNode = controlTree(p.control, base, opts);
  else if (p.data) lispNode = dataTree(p.data, base, opts);
  else if (p.vxlan) lispNode = vxlanTree(p.vxlan, base);
  else if (p.icmp) {
    const t = icmpTree(p, p.icmp, reassembled);
    children.push(t.node);
    lispNode = t.lisp;
  }
  else if (p.reliable) {
    for (const e of p.reliable) {
      const at = e.frameOffset ?? 0;
      const node = reliableTree(e.message, e.length, at, e.auth ? { authVerdict: verdict(e.auth) } : {});
      const kids = node.children!;
      if (e.frames.length !== 1 || e.frames[0] !== p.frame) kids.push(leaf(`[Reassembled from frames ${e.frames.join(', ')}]`, 0, 0));
      for (const n of e.notes) attachNote(node, at + n.offset, expertLabel(n.level, `${n.message} (message byte ${n.offset})`));
      children.push(e.frameOffset === undefined ? withoutRanges(node) : node);
    }
  } else if (p.summary) children.push(leaf(p.summary, 0, 0));
  if (lispNode && !p.icmp) children.push(lispNode);
  if (p.byContent) {
    const why = p.byContent === 'data' ? 'a data header and a whole IP packet' : 'a known control message type';
    (lispNode?.children ?? children).unshift(leaf(`[Decoded as ${p.byContent} by content: the ports allow either, the bytes are ${why}]`, base, base));
  }
  for (const n of p.frameNotes) children.push(leaf(expertLabel(n.level, n.message), 0, 0));
  if (!p.reliable) {
    for (const n of p.notes) {
      const text = expertLabel(n.level, `${n.message} (LISP byte ${n.offset})`);
      if (lispNode) attachNote(lispNode, base + n.offset, text);
      else children.push(leaf(text, base + n.offset, base + n.offset + 1));
    }
  }
  return { label: `Frame ${frame}`, start: 0, end: p.caplen, children };
}

const EXPERT: Record<NoteLevel, string> = { error: 'Error/Malformed', warning: 'Warning/Protocol', note: 'Note/Protocol' };

/** A note as tshark shows expert info. */
export function expertLabel(level: NoteLevel, text: string): string {
  return `[Expert Info (${EXPERT[level]}): ${text}]`;
}

/**
 * Hangs a note under the deepest node whose bytes hold `offset` (the field it concerns, as
 * Wireshark attaches expert info to a field), or under `root` when none does.
 */
export function attachNote(root: TreeNode, offset: number, label: string): void {
  let at = root;
  for (;;) {
    // Not into a child spanning the same bytes: those are the bits of one field (flags).
    const next = at.children?.find((c) => c.start <= offset && offset < c.end && (c.start > at.start || c.end < at.end));
    if (!next) break;
    at = next;
  }
  // A leaf becomes a subtree holding its note.
  (at.children ??= []).push({ label, start: offset, end: Math.min(offset + 1, Math.max(at.end, offset + 1)) });
}

/** The ICMP error, the IP/UDP header it quotes and the quoted LISP message, with frame ranges. */
function icmpTree(p: LispPacket, e: IcmpError, reassembled: boolean): { node: TreeNode; lisp?: TreeNode } {
  const at = reassembled || !p.ip ? 0 : p.ip.payloadOffset;
  const r = (o: number, n: number): [number, number] => (reassembled ? [0, 0] : [at + o, at + o + n]);
  const v6 = e.version === 6;
  const info = (v6 ? ICMPV6_ERRORS : ICMP_ERRORS).get(e.type);
  const kids: TreeNode[] = [
    leaf(`Type: ${e.type} (${info?.title ?? 'unknown'})`, ...r(0, 1)),
    leaf(`Code: ${e.code} (${e.name})`, ...r(1, 1)),
    leaf(`Checksum: 0x${e.checksum.toString(16).padStart(4, '0')}`, ...r(2, 2)),
  ];
  if (e.mtu !== undefined) kids.push(leaf(`MTU: ${e.mtu}`, ...(v6 ? r(4, 4) : r(6, 2))));
  if (e.pointer !== undefined) kids.push(leaf(`Pointer: ${e.pointer}`, ...(v6 ? r(4, 4) : r(4, 1))));
  if (e.gateway !== undefined) kids.push(leaf(`Gateway Address: ${e.gateway}`, ...r(4, 4)));
  if (e.originalLength !== undefined) kids.push(leaf(`Length of original datagram: ${e.originalLength} (RFC 4884)`, ...(v6 ? r(4, 1) : r(5, 1))));
  const q = e.quoted;
  const qa = q.offset;
  const srcLen = q.ipVersion === 4 ? 4 : 16;
  kids.push({
    label: `Internet Protocol Version ${q.ipVersion}, Src: ${q.src}, Dst: ${q.dst} (quoted, ${q.quotedLength} of ${q.totalLength} bytes)`,
    start: r(qa, 0)[0],
    end: r(qa, q.ipVersion === 4 ? 20 : 40)[1],
    children: [
      leaf(`${q.ipVersion === 4 ? 'Time to Live' : 'Hop Limit'}: ${q.ttl}`, ...r(qa + (q.ipVersion === 4 ? 8 : 7), 1)),
      leaf(`Source Address: ${q.src}`, ...r(qa + (q.ipVersion === 4 ? 12 : 8), srcLen)),
      leaf(`Destination Address: ${q.dst}`, ...r(qa + (q.ipVersion === 4 ? 16 : 24), srcLen)),
    ],
  });
  if (q.sport !== undefined) {
    const ua = q.lisp ? q.lisp.offset - 8 : qa + (q.ipVersion === 4 ? 20 : 40);
    kids.push({
      label: `User Datagram Protocol, Src Port: ${q.sport}, Dst Port: ${q.dport} (quoted)`,
      start: r(ua, 0)[0],
      end: r(ua, Math.min(8, q.quotedLength))[1],
      children: [leaf(`Source Port: ${q.sport}`, ...r(ua, 2)), leaf(`Destination Port: ${q.dport}`, ...r(ua + 2, 2))],
    });
  }
  let lisp: TreeNode | undefined;
  if (q.lisp) {
    const node = nestedTree(q.lisp, at);
    lisp = reassembled ? withoutRanges(node) : node;
    kids.push(lisp);
  }
  if (q.cut) kids.push(leaf(`[The quote ends after ${q.quotedLength} of the original ${q.totalLength} bytes]`, 0, 0));
  const node: TreeNode = {
    label: `Internet Control Message Protocol${v6 ? ' v6' : ''}, ${info?.title ?? `type ${e.type}`} (${e.name})`,
    start: r(0, 0)[0],
    end: reassembled ? 0 : p.caplen,
    children: kids,
  };
  return lisp ? { node, lisp } : { node };
}
