// The ladder (sequence diagram) of one exchange: a lane per address (the requester first, then in
// order of appearance), each named by what it is (roles learned from the capture: MN, MS, MR, RTR,
// xTR; else by its part in this exchange: ITR, ETR, peer), and an arrow per packet with the time
// since the first one. The answer carries the exchange's RTT; retransmissions and the SMR-invoked
// request are marked.

import type { LispPacket } from '../capture/packets.js';
import { controlView } from '../flows/view.js';
import type { Exchange, FrameRef } from '../flows/types.js';
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
}

/** A short name for the message a packet carries. */
export function messageLabel(p: LispPacket): string {
  const m = p.control;
  if (!m) return p.data ? 'data' : p.reliable ? 'reliable' : (p.summary ?? 'frame');
  if ('unknown' in m) return `type ${m.type}`;
  switch (m.type) {
    case 1:
      return m.smr ? 'SMR' : m.probe ? 'RLOC-probe' : m.smrInvoked ? 'Map-Request (s)' : 'Map-Request';
    case 2:
      if (m.probe) return 'Probe-Reply';
      return m.records.length && m.records.every((r) => r.locators.length === 0) ? 'neg. Map-Reply' : 'Map-Reply';
    case 3:
      return 'Map-Register';
    case 4:
      return 'Map-Notify';
    case 5:
      return 'Map-Notify-Ack';
    case 6:
      return 'Map-Referral';
    case 7:
      return m.reply ? 'Info-Reply' : 'Info-Request';
    case 8: {
      const inner = m.inner?.message;
      if (!inner) return 'ECM';
      const fake = { ...p, control: inner } as LispPacket;
      return `ECM ${messageLabel(fake)}`;
    }
    case 15:
      return 'Shared-Ext';
  }
}

/** The label on an arrow: short enough for two neighbouring lanes. */
export function shortLabel(label: string): string {
  return label
    .replace('ECM Map-Request (s)', 'ECM Req (s)')
    .replace('ECM Map-Request', 'ECM Map-Req')
    .replace('ECM Map-Register', 'ECM Register')
    .replace('Map-Request (s)', 'Map-Req (s)')
    .replace('Map-Notify-Ack', 'Notify-Ack');
}

const ANSWERS = new Set([2, 4, 5, 6]);

function isAnswer(p: LispPacket): boolean {
  const v = controlView(p);
  if (!v || 'unknown' in v.m) return false;
  return ANSWERS.has(v.m.type) || (v.m.type === 7 && v.m.reply);
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

export function buildLadder(s: Session, packets: (PacketView | undefined)[], roles: Roles): Ladder {
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
  for (const v of packets) {
    const p = v?.packet;
    if (!v || !p?.ip) {
      missing++;
      continue;
    }
    t0 ??= p.ts;
    const cv = controlView(p);
    let guessTo: string | undefined;
    const outer = p.control;
    if (outer && !('unknown' in outer) && outer.type === 8) guessTo = outer.toMs ? 'MS' : outer.toEtr ? 'ETR' : 'MR';
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
        if (e.kind === 'smr' && m.type === 1 && m.smrInvoked && e.invokedMs !== undefined && !steps.some((x) => x.note?.startsWith('SMR-invoked'))) {
          step.note = `SMR-invoked +${msText(e.invokedMs)}`;
        }
      }
    }
    steps.push(step);
  }
  const arrow = e.kind === 'smr' ? '→' : '⇄';
  const title = `${e.kind} ${e.eid}  ${e.requester} ${arrow} ${e.responder ?? '-'}  nonce 0x${e.nonce}`;
  return { title, lanes, steps, missing };
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
  return `frame ${s.ref.file ? `${s.ref.file + 1}:` : ''}${s.ref.frame}: ${s.label} ${who(from)} → ${who(to)}${s.note ? ` · ${s.note}` : ''}`;
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
