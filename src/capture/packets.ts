// From captured frames to LISP packets: link layer, outer IP (with fragment reassembly), UDP, then
// the LISP control or data decoder chosen by port (and by content between 4341 and 4342).

import { verifyAuth, type AuthResult } from '../dissect/auth.js';
import { decodeControl } from '../dissect/control.js';
import type { Note } from '../dissect/cursor.js';
import { decodeData } from '../dissect/data.js';
import { ecmInnerBytes } from '../dissect/ecm.js';
import { decodeIp, decodeUdp, IPPROTO_UDP, type IpHeader, type UdpHeader } from '../dissect/ip.js';
import { decodeLink, type LinkLayer } from '../dissect/link.js';
import { isKnownControlType, LISP_CONTROL_PORT, LISP_DATA_PORT } from '../dissect/registry.js';
import type { ControlMessage, DataMessage } from '../dissect/types.js';
import { Reassembler, type ReassemblyOptions } from './reassembly.js';
import type { Frame } from './types.js';

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
  /** The LISP message (UDP payload). A view: valid only while the packet is being handled. */
  lisp?: Uint8Array;
  /** Offset of `lisp` in the frame bytes; absent for reassembled datagrams. */
  lispOffset?: number;
  /** Which LISP decoder the ports chose; absent for frames that are not (or cannot be told to be) LISP. */
  kind?: 'control' | 'data';
  control?: ControlMessage;
  data?: DataMessage;
  /** Problems inside the LISP message, offsets relative to its first byte. */
  notes: Note[];
  /** Problems below LISP (link, IP, UDP), each naming its offset in the frame. */
  frameNotes: string[];
  /** Frames whose fragments made this datagram. */
  fragments?: number[];
  /** Authentication verdict, when a key applied (see PacketDecoder's keyFor). */
  auth?: AuthResult;
  /** One-phrase description of a frame that is not LISP (for `--all`). */
  summary?: string;
}

export interface DecodeAs {
  control: Set<number>;
  data: Set<number>;
}

export interface PacketDecoderOptions {
  /** Emit frames that are not LISP too (with `summary`). */
  all?: boolean;
  decodeAs?: DecodeAs;
  reassembly?: ReassemblyOptions;
  /** The key to verify an authenticated message with, if any. */
  keyFor?: (p: LispPacket, m: ControlMessage) => string | undefined;
  /** Told about IP fragments that could not be reassembled. */
  warning?: (message: string) => void;
}

type Kind = 'control' | 'data' | undefined;

/** Which LISP decoder a UDP datagram goes to (JSON contract, "read"). */
export function classify(sport: number, dport: number, payload: Uint8Array, off: number, end: number, decodeAs?: DecodeAs): Kind {
  const ctl =
    sport === LISP_CONTROL_PORT || dport === LISP_CONTROL_PORT || !!decodeAs?.control.has(sport) || !!decodeAs?.control.has(dport);
  const dat = dport === LISP_DATA_PORT || !!decodeAs?.data.has(dport) || !!decodeAs?.data.has(sport);
  if (ctl && (sport === LISP_DATA_PORT || dport === LISP_DATA_PORT || dat)) {
    // NAT traversal crosses 4342 and 4341 both ways; some RTRs even send data from 4342.
    return end > off && isKnownControlType(payload[off]! >> 4) ? 'control' : 'data';
  }
  if (ctl) return 'control';
  if (dat) return 'data';
  return undefined;
}

const AUTHENTICATED = new Set([3, 4, 5, 7]);

export class PacketDecoder {
  readonly reassembler: Reassembler;

  constructor(private readonly opts: PacketDecoderOptions = {}) {
    this.reassembler = new Reassembler({
      ...opts.reassembly,
      onEvict: (frames, reason) => opts.warning?.(`frames ${frames.join(', ')}: IP fragments not reassembled: ${reason}`),
    });
  }

  /** Decodes one frame; undefined when it is not LISP (and `all` is off) or is a fragment still waiting. */
  decode(f: Frame): LispPacket | undefined {
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
      frameNotes: f.notes ? [...f.notes, ...link.notes] : link.notes,
    };
    if (link.next !== 'ipv4' && link.next !== 'ipv6') {
      if (link.next === 'truncated') return p; // too broken to tell: it may have been LISP
      return this.other(p, link.next === 'non-ip' ? `${link.linkName} non-IP frame` : `${link.linkName} frame`);
    }
    const ip = decodeIp(f.data, link.offset, f.data.length);
    if (!ip.ok) {
      p.frameNotes = [...p.frameNotes, ...ip.notes];
      return p;
    }
    p.ip = ip;
    if (ip.notes.length) p.frameNotes = [...p.frameNotes, ...ip.notes];
    if (ip.isFragment) return this.fragment(p, f, ip);
    return this.transport(p, f.data, ip, true);
  }

  /** Reports what is still waiting for fragments (call at the end of the capture). */
  finish(): void {
    this.reassembler.finish();
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
    if (ip.proto !== IPPROTO_UDP) return this.other(p, `IPv${ip.version} ${ip.src} > ${ip.dst} protocol ${ip.proto}`);
    const udp = decodeUdp(bytes, ip.payloadOffset, ip.payloadEnd, ip.headerOffset + ip.totalLength);
    if (!udp.ok) {
      p.frameNotes = [...p.frameNotes, ...udp.notes];
      return p;
    }
    p.udp = udp;
    const kind = classify(udp.srcPort, udp.dstPort, bytes, udp.payloadOffset, udp.payloadEnd, this.opts.decodeAs);
    if (!kind) return this.other(p, `UDP ${udp.srcPort} > ${udp.dstPort}`);
    if (udp.notes.length) p.frameNotes = [...p.frameNotes, ...udp.notes];
    if (udp.truncated || ip.truncated) {
      p.frameNotes = [...p.frameNotes, `frame truncated by the capture: ${p.caplen} of ${p.len} bytes captured`];
    }
    const lisp = bytes.subarray(udp.payloadOffset, udp.payloadEnd);
    p.kind = kind;
    p.lisp = lisp;
    if (inFrame) p.lispOffset = udp.payloadOffset;
    if (kind === 'control') {
      const d = decodeControl(lisp);
      p.control = d.value;
      p.notes = d.notes;
      if (this.opts.keyFor) this.verify(p, d.value, lisp, udp.truncated || ip.truncated);
    } else {
      const d = decodeData(lisp);
      if (d.value) p.data = d.value;
      p.notes = d.notes;
    }
    return p;
  }

  /** Verifies the authentication of the message, or of the message an ECM carries (a Map-Register via an RTR). */
  private verify(p: LispPacket, m: ControlMessage, bytes: Uint8Array, truncated: boolean): void {
    let target: { m: ControlMessage; bytes: Uint8Array } | undefined;
    if (AUTHENTICATED.has(m.type) && !('unknown' in m)) target = { m, bytes };
    else if (m.type === 8 && 'inner' in m && m.inner?.message && AUTHENTICATED.has(m.inner.message.type) && !('unknown' in m.inner.message)) {
      const inner = ecmInnerBytes(bytes);
      if (inner) target = { m: m.inner.message, bytes: inner };
    }
    if (!target) return;
    const key = this.opts.keyFor!(p, target.m);
    if (key === undefined) return;
    if (truncated) {
      p.frameNotes = [...p.frameNotes, 'authentication not verified: the message is cut short by the capture'];
      return;
    }
    p.auth = verifyAuth(target.bytes, key);
  }

  private other(p: LispPacket, summary: string): LispPacket | undefined {
    if (!this.opts.all) return undefined;
    p.summary = summary;
    return p;
  }
}
