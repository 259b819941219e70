// The whole detail tree of a packet: frame, link, IP, UDP and the LISP message, with byte ranges in
// the frame (the hex pane highlights them).

import type { LispPacket } from '../capture/packets.js';
import { toHex } from '../dissect/addr.js';
import { tcpFlagText } from '../capture/tcp.js';
import { arrivalText, epochText } from './time.js';
import { controlTree, dataTree, reliableTree, withoutRanges, type TreeNode } from './tree.js';

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
  const verdict = (a: NonNullable<LispPacket['auth']>) => (a.ok ? `verified with the key (${a.algorithm})` : `FAILED: ${a.reason}`);
  if (p.control) children.push(controlTree(p.control, base, p.auth ? { authVerdict: verdict(p.auth) } : {}));
  else if (p.data) children.push(dataTree(p.data, base));
  else if (p.reliable) {
    for (const e of p.reliable) {
      const at = e.frameOffset ?? 0;
      const node = reliableTree(e.message, e.length, at, e.auth ? { authVerdict: verdict(e.auth) } : {});
      const kids = node.children!;
      if (e.frames.length !== 1 || e.frames[0] !== p.frame) kids.push(leaf(`[Reassembled from frames ${e.frames.join(', ')}]`, 0, 0));
      for (const n of e.notes) kids.push(leaf(`[Malformed: ${n.message} (message byte ${n.offset})]`, at + n.offset, at + n.offset + 1));
      children.push(e.frameOffset === undefined ? withoutRanges(node) : node);
    }
  } else if (p.summary) children.push(leaf(p.summary, 0, 0));
  for (const n of p.frameNotes) children.push(leaf(`[Malformed: ${n}]`, 0, 0));
  if (!p.reliable) {
    for (const n of p.notes) children.push(leaf(`[Malformed: ${n.message} (LISP byte ${n.offset})]`, base + n.offset, base + n.offset + 1));
  }
  return { label: `Frame ${frame}`, start: 0, end: p.caplen, children };
}
