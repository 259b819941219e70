// The ladder (sequence diagram) of one exchange: a lane per address (the requester first, then in
// order of appearance), each named by what it is (roles learned from the capture: MN, MS, MR, RTR,
// xTR; else by its part in this exchange: ITR, ETR, peer), and an arrow per packet with the time
// since the first one. The answer carries the exchange's RTT; retransmissions and the SMR-invoked
// request are marked. Over the Map-Server reliable transport (TCP) the arrows are the messages:
// one TCP segment may carry several, of several registrations; those of this one are drawn.

import type { LispPacket, ReliableEntry } from '../capture/packets.js';
import { prefixText } from '../dissect/address.js';
import { isOpaque, rejectReasonSlug, type ReliableMessage, ReliableType, reliableTypeTitle } from '../dissect/reliable.js';
import { messageName } from '../dissect/names.js';
import { isAnswerType, MessageType } from '../dissect/registry.js';
import type { ControlMessage, LispAddress } from '../dissect/types.js';
import { controlView } from '../flows/view.js';
import type { Exchange, FrameRef } from '../flows/types.js';
import { exchangeKind, frameName } from '../output/flows-text.js';
import { roleLabel, type Roles } from './roles.js';
import type { PacketView, Session } from './source.js';
import { center, cut, msText } from './text.js';

export interface LadderLane {
  addr: string;
  role: string;
}

export interface LadderStep {
  ref: FrameRef;
  seq?: number;
  /** Seconds since the exchange's first packet. */
  t: number;
  from: number;
  to: number;
  /** The message's name (messageLabel) and the shorter one drawn on the arrow. */
  label: string;
  short: string;
  note?: string;
}

export interface Ladder {
  title: string;
  lanes: LadderLane[];
  steps: LadderStep[];
  /** Frames of the exchange no longer (or not yet) available. */
  missing: number;
  /** Several captures merged: frames are named FILE:FRAME. */
  multi?: boolean;
}

/** The name of a reliable-transport message, as the draft names it; a Reject with its reason. */
export function reliableLabel(m: ReliableMessage): string {
  if (!isOpaque(m) && m.type === ReliableType.RegistrationReject) return `${reliableTypeTitle(m.type)} (${rejectReasonSlug(m.reason)})`;
  return reliableTypeTitle(m.type);
}

/** A short name for the message a packet carries (the messages, for a reliable-transport segment). */
export function messageLabel(p: LispPacket): string {
  const m = p.control;
  if (!m && p.reliable) return p.reliable.length ? p.reliable.map((e) => reliableLabel(e.message)).join(' + ') : 'TCP segment';
  if (!m) return p.data ? 'data' : (p.summary ?? 'frame');
  return controlLabel(m);
}

/** The message's name, told apart where the ladder needs it: an SMR-invoked request, a probe's reply, a negative reply. */
function controlLabel(m: ControlMessage): string {
  if ('unknown' in m) return `type ${m.type}`;
  switch (m.type) {
    case MessageType.MapRequest:
      return !m.smr && !m.probe && m.smrInvoked ? `${messageName(m)} (s)` : messageName(m);
    case MessageType.MapReply:
      if (m.probe) return 'Probe-Reply';
      return m.records.length && m.records.every((r) => r.locators.length === 0) ? `neg. ${messageName(m)}` : messageName(m);
    case MessageType.ECM:
      return m.inner?.message ? `${messageName(m)} ${controlLabel(m.inner.message)}` : messageName(m);
    case MessageType.SharedExtension:
      return 'Shared-Ext';
    default:
      return messageName(m);
  }
}

/** The label on an arrow: short enough for two neighbouring lanes. */
export function shortLabel(label: string): string {
  return label
    .replace('ECM Map-Request (s)', 'ECM Req (s)')
    .replace('ECM Map-Request', 'ECM Map-Req')
    .replace('ECM Map-Register', 'ECM Register')
    .replace('Map-Request (s)', 'Map-Req (s)')
    .replace('Map-Notify-Ack', 'Notify-Ack')
    .replace(/^Registration Reject /, 'Reject ')
    .replace('Registration ACK', 'Reg. ACK')
    .replace('Mapping Notification', 'Mapping Notif.');
}

/** An EID prefix as text, Instance ID 0 written as none (an ACK may say `[0]` for a Registration's plain prefix, as Cisco IOS does). */
function eidText(eid: LispAddress, maskLen: number): string {
  const plain = eid.kind === 'lcaf' && eid.lcaf.body.kind === 'instance-id' && eid.lcaf.body.iid === 0 ? eid.lcaf.body.address : eid;
  return prefixText(plain, maskLen);
}

/** The EID prefixes a reliable-transport message is about. */
function reliableEids(m: ReliableMessage): string[] {
  if (isOpaque(m)) return [];
  switch (m.type) {
    case ReliableType.Registration:
      return m.mapRegister.type === MessageType.MapRegister && !('unknown' in m.mapRegister) ? m.mapRegister.records.map((r) => eidText(r.eid, r.eidMaskLen)) : [];
    case ReliableType.RegistrationAck:
    case ReliableType.RegistrationReject:
      return [eidText(m.eid, m.eidMaskLen)];
    case ReliableType.MappingNotification:
      return [eidText(m.record.eid, m.record.eidMaskLen)];
    default:
      return [];
  }
}

/**
 * The messages of a reliable-transport registration among those of its frames: its Registration
 * (by Message ID) names its EID prefixes; the messages about them are its retransmissions, the
 * ACKs or Rejects, the Mapping Notifications (as the flow engine matches them).
 */
function registrationMessages(e: Exchange, packets: (PacketView | undefined)[]): (entries: ReliableEntry[]) => ReliableEntry[] {
  const eids = new Set<string>();
  for (const v of packets) {
    const own = v?.packet.reliable?.find((x) => x.message.type === ReliableType.Registration && x.message.messageId === e.messageId);
    if (own) for (const x of reliableEids(own.message)) eids.add(x);
    if (eids.size) break;
  }
  if (!eids.size) eids.add(e.eid);
  return (entries) => {
    const mine = entries.filter((x) => reliableEids(x.message).some((eid) => eids.has(eid)));
    return mine.length ? mine : entries;
  };
}

function isAnswer(p: LispPacket): boolean {
  const v = controlView(p);
  if (!v || 'unknown' in v.m) return false;
  return isAnswerType(v.m.type, v.m.type === MessageType.Info && v.m.reply);
}

/** The part an address plays in this exchange when no role was learned for it. */
function localRoles(e: Exchange): Map<string, string> {
  const m = new Map<string, string>();
  const req: Record<string, string> = { registration: 'xTR', resolution: 'ITR', smr: 'xTR', 'rloc-probe': 'ITR', 'nat-info': 'xTR', referral: 'MR' };
  const resp: Record<string, string> = { registration: 'MS', resolution: 'ETR', smr: 'peer', 'rloc-probe': 'ETR', 'nat-info': 'MS', referral: 'DDT node' };
  m.set(e.requester, req[e.kind] ?? '');
  if (e.via) m.set(e.via, 'MR');
  if (e.responder && !m.has(e.responder)) m.set(e.responder, resp[e.kind] ?? '');
  return m;
}

export function buildLadder(s: Session, packets: (PacketView | undefined)[], roles: Roles, multi = false): Ladder {
  const e = s.exchange;
  const local = localRoles(e);
  const lanes: LadderLane[] = [];
  const lane = (addr: string, guess?: string): number => {
    let i = lanes.findIndex((l) => l.addr === addr);
    if (i < 0) {
      i = lanes.push({ addr, role: roleLabel(roles, addr) ?? local.get(addr) ?? guess ?? '' }) - 1;
    }
    return i;
  };
  lane(e.requester);
  const steps: LadderStep[] = [];
  let missing = 0;
  let t0: number | undefined;
  let answered = false;
  const requests = new Set<string>();
  const mine = e.transport === 'tcp' ? registrationMessages(e, packets) : undefined;
  for (const v of packets) {
    const p = v?.packet;
    if (!v || !p?.ip) {
      missing++;
      continue;
    }
    t0 ??= p.ts;
    if (mine && p.reliable?.length) {
      // An arrow per message of this registration in the segment.
      const from = lane(p.ip.src);
      const to = lane(p.ip.dst);
      for (const x of mine(p.reliable)) {
        const label = reliableLabel(x.message);
        const step: LadderStep = { ref: v.ref, seq: v.seq, t: p.ts - t0, from, to, label, short: shortLabel(label) };
        const type = x.message.type;
        if ((type === 18 || type === 19) && !answered) {
          answered = true;
          if (e.rttMs !== null) step.note = `rtt ${msText(e.rttMs)}`;
        } else if (type === 17) {
          const key = `${p.ip.src} ${reliableEids(x.message).join(' ')}`;
          if (requests.has(key)) step.note = 'retransmission';
          requests.add(key);
        }
        steps.push(step);
      }
      continue;
    }
    const cv = controlView(p);
    let guessTo: string | undefined;
    const outer = p.control;
    if (outer && !('unknown' in outer) && outer.type === MessageType.ECM) guessTo = outer.toMs ? 'MS' : outer.toEtr ? 'ETR' : 'MR';
    const from = lane(p.ip.src);
    const to = lane(p.ip.dst, guessTo);
    const label = messageLabel(p);
    const step: LadderStep = { ref: v.ref, seq: v.seq, t: p.ts - t0, from, to, label, short: shortLabel(label) };
    if (cv && !('unknown' in cv.m)) {
      const m = cv.m;
      if (!answered && isAnswer(p)) {
        answered = true;
        if (e.rttMs !== null) step.note = `rtt ${msText(e.rttMs)}`;
      } else if (!isAnswer(p)) {
        // The same request again from the same sender: a retransmission.
        const key = `${p.ip.src} ${'nonce' in m ? m.nonce : ''} ${m.type}`;
        if (requests.has(key)) step.note = 'retransmission';
        requests.add(key);
        if (e.kind === 'smr' && m.type === MessageType.MapRequest && m.smrInvoked && e.invokedMs !== undefined && !steps.some((x) => x.note?.startsWith('SMR-invoked'))) {
          step.note = `SMR-invoked +${msText(e.invokedMs)}`;
        }
      }
    }
    steps.push(step);
  }
  const arrow = e.kind === 'smr' ? '→' : '⇄';
  const id = e.messageId !== undefined ? `  message id ${e.messageId}` : '';
  const title = `${exchangeKind(e)} ${e.eid}  ${e.requester} ${arrow} ${e.responder ?? '-'}  nonce 0x${e.nonce}${id}`;
  return { title, lanes, steps, missing, ...(multi ? { multi } : {}) };
}

function timeText(t: number): string {
  const ms = t * 1000;
  return ms < 10_000 ? `+${ms.toFixed(1)}` : `+${(ms / 1000).toFixed(2)}s`;
}

export interface LadderText {
  header: string[];
  rows: string[];
  /** Whether the rows carry the notes (else show stepText for the selected step). */
  notes: boolean;
}

/** One line about a step: frame, full message name, note. */
export function stepText(l: Ladder, i: number): string {
  const s = l.steps[i];
  if (!s) return '';
  const from = l.lanes[s.from]!;
  const to = l.lanes[s.to]!;
  const who = (x: LadderLane) => (x.role ? `${x.role} ${x.addr}` : x.addr);
  return `frame ${frameName(s.ref, l.multi ?? false)}: ${s.label} ${who(from)} → ${who(to)}${s.note ? ` · ${s.note}` : ''}`;
}

/** The ladder drawn into `width` columns: two header lines (roles, addresses) and a row per step. */
export function renderLadder(l: Ladder, width: number): LadderText {
  const timeW = 9;
  const n = Math.max(1, l.lanes.length);
  // Notes (RTT, retransmission) get a column when the lanes keep room for an address; else they
  // are shown for the selected step only (stepText).
  let noteW = 22;
  let spacing = Math.floor((width - timeW - noteW) / n);
  if (spacing < 16) {
    noteW = 0;
    spacing = Math.floor((width - timeW) / n);
  }
  spacing = Math.max(6, Math.min(24, spacing));
  const x = (i: number) => timeW + Math.floor(spacing / 2) + i * spacing;
  const lineW = Math.min(width, timeW + n * spacing + noteW);
  const blank = () => {
    const a = Array<string>(lineW).fill(' ');
    for (let i = 0; i < l.lanes.length; i++) if (x(i) < lineW) a[x(i)] = '│';
    return a;
  };
  const put = (a: string[], at: number, s: string) => {
    for (let k = 0; k < s.length && at + k < a.length; k++) if (at + k >= 0) a[at + k] = s[k]!;
  };
  const header = ['', ''].map((_, h) => {
    const a = Array<string>(lineW).fill(' ');
    if (h === 0) put(a, 0, 'time ms');
    l.lanes.forEach((ln, i) => {
      const text = center(h === 0 ? ln.role : ln.addr, spacing - 1);
      put(a, x(i) - Math.floor((spacing - 1) / 2), text);
    });
    return a.join('').trimEnd();
  });
  const rows = l.steps.map((s) => {
    const a = blank();
    put(a, 0, timeText(s.t).padStart(timeW - 1));
    const xa = x(s.from);
    const xb = x(s.to);
    if (xa === xb) {
      put(a, xa + 1, `↺ ${s.label}`);
    } else {
      const right = xb > xa;
      const lo = Math.min(xa, xb);
      const hi = Math.max(xa, xb);
      for (let k = lo + 1; k < hi; k++) a[k] = '─';
      a[xa] = right ? '├' : '┤';
      a[right ? hi - 1 : lo + 1] = right ? '▶' : '◀';
      const room = hi - lo - 5;
      if (room >= 3) {
        const label = ` ${cut(room >= s.label.length ? s.label : s.short, room)} `;
        put(a, lo + 2 + Math.floor((room + 2 - label.length) / 2), label);
      }
    }
    if (s.note && noteW) put(a, timeW + n * spacing, ` ${cut(s.note, noteW - 1)}`);
    return a.join('').trimEnd();
  });
  return { header, rows, notes: noteW > 0 };
}
