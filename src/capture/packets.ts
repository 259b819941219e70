// From captured frames to LISP packets: link layer, outer IP (with fragment reassembly), UDP, then
// the LISP control or data decoder chosen by port (and by content between 4341 and 4342). TCP
// port 4342 carries the Map-Server reliable transport: its segments are reassembled per direction
// (tcp.ts), cut into messages by Length (ReliableFramer), and every message is reported at the
// frame that completed it, as tshark does: one packet may carry several messages.

import { verifyAuth, verifyAuthAt, verifyMac, type AuthResult } from '../dissect/auth.js';
import { classifyDatagram, type DecodeAs } from '../dissect/classify.js';
import { decodeControl } from '../dissect/control.js';
import type { Note, NoteLevel } from '../dissect/cursor.js';
import { decodeData } from '../dissect/data.js';
import { ecmInnerBytes } from '../dissect/ecm.js';
import { decodeIcmpError, quotesLisp } from '../dissect/icmp.js';
import {
  decodeIp,
  decodeUdp,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  summarizeTransport,
  type IpHeader,
  type UdpHeader,
} from '../dissect/ip.js';
import { decodeLink, type LinkLayer } from '../dissect/link.js';
import { isAuthenticatedType, LISP_CONTROL_PORT, MessageType } from '../dissect/registry.js';
import { decodeReliable, type FramerEvent, reliableBody, ReliableFramer, type ReliableMessage, ReliableType, reliableTypeTitle } from '../dissect/reliable.js';
import type { ControlMessage, DataMessage, IcmpError, MapNotify, UnknownControl, VxlanMessage } from '../dissect/types.js';
import { decodeVxlan } from '../dissect/vxlan.js';
import { Reassembler, type ReassemblyOptions } from './reassembly.js';
import { decodeTcp, tcpFlagText, type TcpHeader } from '../dissect/tcp.js';
import { TcpReassembler, type TcpAddResult, type TcpDirection, type TcpReassemblyOptions } from './tcp.js';
import type { Frame } from './types.js';
import { ipSummary, nonIpSummary } from './other-frames.js';

export interface LispPacket {
  /** 1-based frame index; for a reassembled datagram, the frame of its last fragment (as tshark). */
  frame: number;
  tsSec: number;
  tsNsec: number;
  /** Seconds since the epoch. */
  ts: number;
  /** Original length on the wire. */
  len: number;
  caplen: number;
  link: LinkLayer;
  ip?: IpHeader;
  udp?: UdpHeader;
  /** TCP header of a reliable-transport segment (port 4342). */
  tcp?: TcpHeader;
  /** The LISP message (UDP payload). A view: valid only while the packet is being handled. */
  lisp?: Uint8Array;
  /** Offset of `lisp` in the frame bytes; absent for reassembled datagrams. */
  lispOffset?: number;
  /**
   * Which LISP decoder the ports chose; absent for frames that are not (or cannot be told to be)
   * LISP. `reliable`: TCP port 4342, see `reliable`; `icmp-error`: an ICMP/ICMPv6 error quoting a
   * LISP packet, see `icmp`.
   */
  kind?: 'control' | 'data' | 'reliable' | 'icmp-error' | 'vxlan';
  /** The ports allowed control or data and the bytes decided (see dissect/classify.ts). */
  byContent?: 'control' | 'data';
  control?: ControlMessage;
  data?: DataMessage;
  /**
   * An ICMP error about a LISP packet: `ip` is the error's own IP header (the reporting router or
   * host → the original sender), `icmp.quoted` the packet it quotes; `lisp`/`lispOffset`/`notes`
   * are those of the quoted LISP message.
   */
  icmp?: IcmpError;
  /** VXLAN / VXLAN-GPO (UDP 4789 or `-d udp.port=N,vxlan`): the VNI is the fabric's Instance-ID. */
  vxlan?: VxlanMessage;
  /** Reliable-transport messages this frame completed, in stream order (may be empty when only `frameNotes` say something). */
  reliable?: ReliableEntry[];
  /**
   * Notes about the LISP message, each with its level (error/warning/note), offsets relative to
   * its first byte. For `reliable`, every message's notes, each naming its message (offsets from
   * that message's first byte).
   */
  notes: Note[];
  /** Notes about what lies below LISP (link, IP, UDP, TCP, ICMP), each naming its offset in the frame. */
  frameNotes: FrameNote[];
  /** Frames whose fragments made this datagram. */
  fragments?: number[];
  /**
   * Authentication verdict of the packet's authenticated message, when a key applied (see
   * PacketDecoder's keyFor): the message itself, the one inside an ECM, or the control message
   * inside LISP data.
   */
  auth?: AuthResult;
  /** Verdict on the Map-Server's authentication towards an RTR (ECM with AD Type 2, Map-Notify with R), when a key applied. */
  msRtrAuth?: AuthResult;
  /** One-phrase description of a frame that is not LISP (for `--all`). */
  summary?: string;
}

/** One reliable-transport message and where it came from. */
export interface ReliableEntry {
  message: ReliableMessage;
  /** Problems inside the message, offsets from its first byte. */
  notes: Note[];
  /** Bytes of the message (its Length). */
  length: number;
  /** Offset of its first byte in its direction of the TCP stream (0 = first byte after the SYN). */
  streamOffset: number;
  /** Frames whose segments carried its bytes, in stream order. */
  frames: number[];
  /** Offset of its first byte in this frame's bytes, when this frame alone carried it. */
  frameOffset?: number;
  /** Verdict on a Registration's Map-Register, when a key applied. */
  auth?: AuthResult;
}

export type { DecodeAs };

/** A note about the layers below LISP; its text names the frame offset it concerns. */
export interface FrameNote {
  level: NoteLevel;
  message: string;
}

export const frameError = (message: string): FrameNote => ({ level: 'error', message });
const leveled = (level: NoteLevel, texts: readonly string[] | undefined): FrameNote[] => (texts ?? []).map((message) => ({ level, message }));

/** Appends `texts` at `level` to `into`: most frames have none, and cost no arrays then. */
function addNotes(into: FrameNote[], level: NoteLevel, texts: readonly string[] | undefined): void {
  if (texts) for (const message of texts) into.push({ level, message });
}

/** Every note of a packet, frame notes first. */
export function packetNotes(p: Pick<LispPacket, 'frameNotes' | 'notes'>): { level: NoteLevel; message: string; offset?: number }[] {
  return [...p.frameNotes, ...p.notes];
}

/** The packet holds bytes that are not what they claim (an error note): what `malformed` means. */
export function isMalformed(p: Pick<LispPacket, 'frameNotes' | 'notes'>): boolean {
  return p.frameNotes.some((n) => n.level === 'error') || p.notes.some((n) => n.level === 'error');
}

/** Whether a packet has a note at `level` or a more serious one. */
export function hasNoteAtLeast(p: Pick<LispPacket, 'frameNotes' | 'notes'>, level: NoteLevel): boolean {
  const rank = (l: NoteLevel) => (l === 'error' ? 2 : l === 'warning' ? 1 : 0);
  const min = rank(level);
  return p.frameNotes.some((n) => rank(n.level) >= min) || p.notes.some((n) => rank(n.level) >= min);
}

export interface PacketDecoderOptions {
  /** Emit frames that are not LISP too (with `summary`). */
  all?: boolean;
  decodeAs?: DecodeAs;
  reassembly?: ReassemblyOptions;
  /** Bounds of TCP reassembly (reliable transport). */
  tcp?: Omit<TcpReassemblyOptions, 'onDrop'>;
  /**
   * The key to verify an authenticated message with, if any. `ms-rtr`: the key between the
   * Map-Server and an RTR, looked up by the packet's addresses (the RTR's).
   */
  keyFor?: (p: LispPacket, m: ControlMessage, role?: 'ms-rtr') => string | undefined;
  /** Told about IP fragments that could not be reassembled and TCP streams that end unfinished. */
  warning?: (message: string) => void;
  /**
   * Frames that need state kept from frame to frame (IP fragments, TCP segments of the reliable
   * transport) are not decoded: `decode` returns undefined and sets `deferred`, and the caller hands
   * them, in order, to one decoder that keeps that state (decoding split over threads).
   */
  deferStateful?: boolean;
}

/** Which LISP decoder a UDP datagram goes to (JSON contract, "read"); VXLAN is not LISP here. */
export function classify(sport: number, dport: number, payload: Uint8Array, off: number, end: number, decodeAs?: DecodeAs): 'control' | 'data' | undefined {
  const k = classifyDatagram(sport, dport, payload, off, end, decodeAs)?.kind;
  return k === 'vxlan' ? undefined : k;
}

type KnownControl = Exclude<ControlMessage, UnknownControl>;

function isAuthenticated(m: ControlMessage | undefined): m is KnownControl {
  return !!m && isAuthenticatedType(m.type) && !('unknown' in m);
}

/** Where a Map-Notify's MS-RTR block starts in its `length` bytes (it sits last, before any trailing bytes). */
function msRtrBlockAt(m: MapNotify, length: number): number | undefined {
  const a = m.msRtrAuth;
  if (!a) return undefined;
  return length - (m.trailing?.length ?? 0) - (a.adType !== undefined ? 4 : 0) - 4 - a.authData.length;
}

/**
 * The packet's authenticated message and its bytes (inside an ECM or a data packet when it sits
 * there), and how to check the Map-Server's authentication towards an RTR, when there is one.
 */
function authenticatedMessage(
  p: LispPacket,
  bytes: Uint8Array,
): { m?: ControlMessage; bytes: Uint8Array; msRtr?: (key: string) => AuthResult } | undefined {
  const m = p.control;
  if (m && m.type === MessageType.ECM && 'inner' in m) {
    const innerBytes = ecmInnerBytes(bytes);
    const inner = m.inner?.message;
    const out: { m?: ControlMessage; bytes: Uint8Array; msRtr?: (key: string) => AuthResult } = { bytes: innerBytes ?? new Uint8Array(0) };
    if (isAuthenticated(inner) && innerBytes) out.m = inner;
    const ad = m.msRtrAuth;
    // OOR: the HMAC covers the encapsulated LISP message as sent (docs/nat-traversal.md).
    if (ad && innerBytes) out.msRtr = (key) => verifyMac(innerBytes, ad.algorithmId, ad.authData, key);
    return out.m || out.msRtr ? out : undefined;
  }
  let target: { m: KnownControl; bytes: Uint8Array } | undefined;
  if (isAuthenticated(m)) target = { m, bytes };
  const nested = p.data?.inner?.lisp;
  if (nested?.control && isAuthenticated(nested.control)) {
    target = { m: nested.control, bytes: bytes.subarray(nested.offset, nested.offset + nested.length) };
  }
  if (!target) return undefined;
  const t = target.m;
  if ((t.type === MessageType.MapNotify || t.type === MessageType.MapNotifyAck) && t.msRtrAuth) {
    const at = msRtrBlockAt(t, target.bytes.length)! + (t.msRtrAuth.adType !== undefined ? 4 : 0);
    const whole = target.bytes;
    return { ...target, msRtr: (key) => verifyAuthAt(whole, at, key) };
  }
  return target;
}

/** Per direction of a reliable-transport session: the framer and which frames carried which bytes. */
interface StreamState {
  framer: ReliableFramer;
  /** Delivered stream ranges and their frames, oldest first; pruned below what the framer holds. */
  carried: { start: number; end: number; frame: number }[];
}

interface Drop {
  d: TcpDirection;
  cause: 'segment' | 'bounds' | 'timeout' | 'end';
  reason: string;
  /** Bytes the direction held behind a hole when it was dropped, and the frames that carried them. */
  held: number;
  heldFrames: number[];
}

function framesOf(st: StreamState | undefined, start: number, end: number): number[] {
  const out: number[] = [];
  for (const c of st?.carried ?? []) {
    if (c.end <= start || c.start >= end) continue;
    if (out[out.length - 1] !== c.frame) out.push(c.frame);
  }
  return out;
}

export class PacketDecoder {
  readonly reassembler: Reassembler;
  readonly tcp: TcpReassembler;
  /** Directions the TCP reassembler dropped during the current call, handled once its events are. */
  private drops: Drop[] = [];
  /** With deferStateful: the last frame decoded needs the stateful decoder. */
  deferred = false;

  constructor(private readonly opts: PacketDecoderOptions = {}) {
    this.reassembler = new Reassembler({
      ...opts.reassembly,
      onEvict: (frames, reason) => opts.warning?.(`frames ${frames.join(', ')}: IP fragments not reassembled: ${reason}`),
    });
    this.tcp = new TcpReassembler({
      ...opts.tcp,
      onDrop: (d, cause, reason) =>
        this.drops.push({ d, cause, reason, held: d.heldBytes, heldFrames: [...new Set(d.held.map((h) => h.frame))] }),
    });
  }

  /** Decodes one frame; undefined when it is not LISP (and `all` is off) or is a fragment still waiting. */
  decode(f: Frame): LispPacket | undefined {
    this.deferred = false;
    const link = decodeLink(f.linkType, f.data);
    const p: LispPacket = {
      frame: f.index,
      tsSec: f.tsSec,
      tsNsec: f.tsNsec,
      ts: f.tsSec + f.tsNsec / 1e9,
      len: f.len,
      caplen: f.data.length,
      link,
      notes: [],
      frameNotes: [],
    };
    addNotes(p.frameNotes, 'error', f.notes);
    addNotes(p.frameNotes, 'warning', f.warnings);
    addNotes(p.frameNotes, 'error', link.notes);
    if (link.next !== 'ipv4' && link.next !== 'ipv6') {
      if (link.next === 'truncated') return p; // too broken to tell: it may have been LISP
      return this.other(p, nonIpSummary(link, f.data));
    }
    const ip = decodeIp(f.data, link.offset, f.data.length);
    if (!ip.ok) {
      addNotes(p.frameNotes, 'error', ip.notes);
      return p;
    }
    p.ip = ip;
    addNotes(p.frameNotes, 'error', ip.notes);
    addNotes(p.frameNotes, 'warning', ip.warnings);
    if (ip.isFragment) return this.opts.deferStateful ? this.defer() : this.fragment(p, f, ip);
    return this.transport(p, f.data, ip, true);
  }

  /** Reports what is still waiting for fragments (call at the end of the capture). */
  finish(): void {
    this.reassembler.finish();
    this.tcp.finish();
    this.handleDrops(undefined);
  }

  private fragment(p: LispPacket, f: Frame, ip: IpHeader): LispPacket | undefined {
    const r = this.reassembler.add(f.index, p.ts, f.data, ip);
    if (r.status === 'complete') {
      const whole = decodeIp(r.datagram, 0, r.datagram.length);
      if (!whole.ok) return p;
      p.ip = whole;
      p.fragments = r.frames;
      return this.transport(p, r.datagram, whole, false);
    }
    if (r.status === 'failed') this.opts.warning?.(`frames ${r.frames.join(', ')}: IP fragments not reassembled: ${r.reason}`);
    return this.other(p, `IPv${ip.version} fragment (offset ${ip.fragmentOffset * 8}, id 0x${ip.id.toString(16)})`);
  }

  private transport(p: LispPacket, bytes: Uint8Array, ip: IpHeader, inFrame: boolean): LispPacket | undefined {
    if (ip.proto === IPPROTO_TCP) {
      const ports = summarizeTransport(ip.proto, bytes, ip.payloadOffset, ip.payloadEnd);
      if (ports.sport === LISP_CONTROL_PORT || ports.dport === LISP_CONTROL_PORT) return this.opts.deferStateful ? this.defer() : this.reliable(p, bytes, ip, inFrame);
    }
    if ((ip.proto === IPPROTO_ICMP && ip.version === 4) || (ip.proto === IPPROTO_ICMPV6 && ip.version === 6)) {
      return this.icmp(p, bytes, ip, inFrame);
    }
    if (ip.proto !== IPPROTO_UDP) return this.other(p, ipSummary(ip, bytes));
    const udp = decodeUdp(bytes, ip.payloadOffset, ip.payloadEnd, ip.headerOffset + ip.totalLength);
    if (!udp.ok) {
      addNotes(p.frameNotes, 'error', udp.notes);
      return p;
    }
    p.udp = udp;
    const c = classifyDatagram(udp.srcPort, udp.dstPort, bytes, udp.payloadOffset, udp.payloadEnd, this.opts.decodeAs);
    if (!c) return this.other(p, ipSummary(ip, bytes));
    addNotes(p.frameNotes, 'error', udp.notes);
    addNotes(p.frameNotes, 'warning', udp.warnings);
    const truncated = udp.truncated || ip.truncated;
    if (truncated) p.frameNotes.push(frameError(`frame truncated by the capture: ${p.caplen} of ${p.len} bytes captured`));
    const lisp = bytes.subarray(udp.payloadOffset, udp.payloadEnd);
    p.kind = c.kind;
    if (c.byContent) p.byContent = c.byContent;
    p.lisp = lisp;
    if (inFrame) p.lispOffset = udp.payloadOffset;
    if (c.kind === 'control') {
      const d = decodeControl(lisp);
      p.control = d.value;
      p.notes = d.notes;
    } else if (c.kind === 'vxlan') {
      const d = decodeVxlan(lisp);
      if (d.value) p.vxlan = d.value;
      p.notes = d.notes;
    } else {
      const d = decodeData(lisp);
      if (d.value) p.data = d.value;
      p.notes = d.notes;
    }
    if (c.byContent === 'data' && p.udp.srcPort === LISP_CONTROL_PORT && p.udp.dstPort !== LISP_CONTROL_PORT) {
      // Worth saying why a datagram from the control port reads as data (an RTR's habit).
      p.notes.unshift({ offset: 0, message: 'from UDP port 4342 but a data header and a whole IP packet: decoded as LISP data (-d udp.port=4342 forces control)', level: 'note' });
    }
    if (this.opts.keyFor) this.verify(p, lisp, truncated);
    return p;
  }

  /** An ICMP/ICMPv6 error: reported when the packet it quotes is LISP by its ports. */
  private icmp(p: LispPacket, bytes: Uint8Array, ip: IpHeader, inFrame: boolean): LispPacket | undefined {
    const declared = ip.headerOffset + ip.totalLength - ip.payloadOffset;
    const d = decodeIcmpError(bytes, ip.payloadOffset, ip.payloadEnd, ip.version, declared);
    const e = d.value;
    if (!e || !quotesLisp(e, this.opts.decodeAs)) {
      return this.other(p, ipSummary(ip, bytes));
    }
    p.kind = 'icmp-error';
    p.icmp = e;
    // Offsets in the ICMP part's notes count from the ICMP message: make them frame offsets in the text.
    for (const n of d.frameNotes) p.frameNotes.push({ level: n.level, message: `ICMP: ${n.message} (at byte offset ${ip.payloadOffset + n.offset})` });
    const q = e.quoted.lisp;
    if (q) {
      const at = ip.payloadOffset + q.offset;
      p.lisp = bytes.subarray(at, at + q.length);
      if (inFrame) p.lispOffset = at;
    }
    p.notes = d.notes;
    return p;
  }

  /** A TCP segment to or from port 4342: reassembly, framing, and the messages it completes. */
  private reliable(p: LispPacket, bytes: Uint8Array, ip: IpHeader, inFrame: boolean): LispPacket | undefined {
    const tcp = decodeTcp(bytes, ip.payloadOffset, ip.payloadEnd, ip.headerOffset + ip.totalLength);
    if (!tcp.ok) {
      addNotes(p.frameNotes, 'error', tcp.notes);
      return p;
    }
    p.tcp = tcp;
    const before = p.frameNotes.length;
    const frameNotes = [...p.frameNotes, ...leveled('error', tcp.notes), ...leveled('warning', tcp.warnings)];
    const r = this.tcp.add(p.frame, p.ts, bytes, ip, tcp);
    const d = r.direction;
    let st = d.app as StreamState | undefined;
    if (!st && (r.events.length > 0 || !d.closed)) {
      const offset = r.events[0]?.offset ?? d.next;
      st = { framer: new ReliableFramer({ synced: d.synced && offset === 0, offset }), carried: [] };
      d.app = st;
    }
    const found: FramerEvent[] = [];
    for (const e of r.events) {
      if (!st) break;
      if (e.kind === 'data') {
        st.carried.push({ start: e.offset, end: e.offset + e.data.length, frame: e.frame });
        found.push(...st.framer.push(e.data));
      } else {
        frameNotes.push(frameError(`TCP ${d.name}: stream bytes ${e.offset}-${e.offset + e.length} lost: ${e.reason}`));
        found.push(...st.framer.gap(e.length));
      }
    }
    const entries: ReliableEntry[] = [];
    for (const e of found) {
      if (e.kind === 'message') entries.push(this.reliableEntry(p, e.offset, e.bytes, st, r, tcp, inFrame));
      else frameNotes.push(frameError(this.skippedText(d, st, e)));
    }
    if (st) {
      const from = st.framer.heldFrom;
      while (st.carried.length > 0 && st.carried[0]!.end <= from) st.carried.shift();
    }
    p.frameNotes = frameNotes;
    this.handleDrops(p);
    // A segment that completes nothing and shows no problem is plain TCP (like tshark's "segment of a PDU").
    if (entries.length === 0 && p.frameNotes.length === before) return this.other(p, this.segmentSummary(tcp, r, st));
    p.kind = 'reliable';
    p.reliable = entries;
    for (const e of entries) {
      const name = `${reliableTypeTitle(e.message.type)} ${e.message.messageId}`;
      for (const n of e.notes) p.notes.push({ offset: n.offset, message: `${name}: ${n.message}`, level: n.level });
      if (e.auth && (!p.auth || (p.auth.ok && !e.auth.ok))) p.auth = e.auth;
    }
    return p;
  }

  private reliableEntry(
    p: LispPacket,
    offset: number,
    bytes: Uint8Array,
    st: StreamState | undefined,
    r: TcpAddResult,
    tcp: TcpHeader,
    inFrame: boolean,
  ): ReliableEntry {
    const d = decodeReliable(bytes);
    const e: ReliableEntry = {
      message: d.value,
      notes: d.notes,
      length: bytes.length,
      streamOffset: offset,
      frames: framesOf(st, offset, offset + bytes.length),
    };
    const segEnd = r.segmentOffset + (tcp.payloadEnd - tcp.payloadOffset);
    if (inFrame && e.frames.length === 1 && e.frames[0] === p.frame && offset >= r.segmentOffset && offset + bytes.length <= segEnd) {
      e.frameOffset = tcp.payloadOffset + (offset - r.segmentOffset);
    }
    const m = d.value;
    if (this.opts.keyFor && m.type === ReliableType.Registration && 'mapRegister' in m && m.mapRegister.type === MessageType.MapRegister && !('unknown' in m.mapRegister)) {
      const key = this.opts.keyFor(p, m.mapRegister);
      if (key !== undefined) e.auth = verifyAuth(reliableBody(bytes), key);
    }
    return e;
  }

  private skippedText(d: TcpDirection, st: StreamState | undefined, e: Extract<FramerEvent, { kind: 'skipped' }>): string {
    const frames = framesOf(st, e.offset, e.offset + e.length);
    const carried = frames.length ? ` (frames ${frames.join(', ')})` : '';
    return `TCP ${d.name}: stream bytes ${e.offset}-${e.offset + e.length} skipped${carried}: ${e.reason}`;
  }

  /** Reports what dropped directions left unfinished: on the packet when its segment ended them, else as warnings. */
  private handleDrops(p: LispPacket | undefined): void {
    const drops = this.drops;
    this.drops = [];
    for (const { d, cause, reason, held, heldFrames } of drops) {
      const st = d.app as StreamState | undefined;
      const texts: string[] = [];
      if (st) for (const e of st.framer.end(reason)) texts.push(this.skippedText(d, st, e));
      if (held > 0) {
        texts.push(`TCP ${d.name}: ${held} bytes waiting behind a hole (frames ${heldFrames.join(', ')}) dropped when the stream ${reason}`);
      }
      d.app = undefined;
      for (const t of texts) {
        if (cause === 'segment' && p) p.frameNotes = [...p.frameNotes, frameError(t)];
        else this.opts.warning?.(t);
      }
    }
  }

  private segmentSummary(tcp: TcpHeader, r: TcpAddResult, st: StreamState | undefined): string {
    const len = tcp.payloadLength;
    let s = `TCP [${tcpFlagText(tcp.flags)}] seq ${tcp.seq}, ${len} byte${len === 1 ? '' : 's'}`;
    if (r.payload === 'held') s += ', early: held until the bytes before it arrive';
    else if (r.payload === 'old') s += ', retransmission';
    else if (r.payload === 'delivered' && st && st.framer.held > 0) {
      const declared = st.framer.pendingLength;
      s += `, part of a reliable-transport message (${st.framer.held}${declared !== undefined ? ` of ${declared}` : ''} bytes so far)`;
    }
    return s;
  }

  /**
   * Verifies the authentication of the message, of the message an ECM carries (a Map-Register via
   * an RTR), or of the control message inside LISP data (a Map-Notify an RTR hands on); and the
   * Map-Server's authentication towards an RTR (OOR's ECM AD Type 2, a Map-Notify with R).
   */
  private verify(p: LispPacket, bytes: Uint8Array, truncated: boolean): void {
    const target = authenticatedMessage(p, bytes);
    if (!target) return;
    const keyFor = this.opts.keyFor!;
    const key = target.m && keyFor(p, target.m);
    const rtr = target.msRtr;
    const rtrKey = rtr && keyFor(p, target.m ?? p.control!, 'ms-rtr');
    if (key === undefined && rtrKey === undefined) return;
    if (truncated) {
      p.frameNotes.push({ level: 'note', message: 'authentication not verified: the message is cut short by the capture' });
      return;
    }
    if (key !== undefined && target.m) {
      const m = target.m;
      const msRtrAt = (m.type === MessageType.MapNotify || m.type === MessageType.MapNotifyAck) && !('unknown' in m) ? msRtrBlockAt(m, target.bytes.length) : undefined;
      p.auth = verifyAuth(target.bytes, key, msRtrAt);
    }
    if (rtrKey !== undefined && rtr) p.msRtrAuth = rtr(rtrKey);
  }

  private defer(): undefined {
    this.deferred = true;
    return undefined;
  }

  private other(p: LispPacket, summary: string): LispPacket | undefined {
    if (!this.opts.all) return undefined;
    p.summary = summary;
    return p;
  }
}

/** Whether a shown packet is one `--fail-on` names. */
export function packetFails(failOn: ReadonlySet<string>, p: LispPacket): boolean {
  if (failOn.has('warning') && hasNoteAtLeast(p, 'warning')) return true;
  if (failOn.has('malformed') && isMalformed(p)) return true;
  if (failOn.has('auth-failed') && ((p.auth && !p.auth.ok) || (p.msRtrAuth && !p.msRtrAuth.ok) || p.reliable?.some((e) => e.auth && !e.auth.ok))) return true;
  return false;
}
