// Exchanges, mappings and statistics for people: tables (cli-table3) and the handover story.

import Table from 'cli-table3';
import type { Stats } from '../flows/stats.js';
import type { Exchange, Handover, Mapping } from '../flows/types.js';
import { timeOfDay } from './line.js';
import { BoxTable, boxTable } from './box-table.js';
import type { Style } from './style.js';
import { intervalText, msText as ms } from './units.js';

/** Time of day to the millisecond. */
function clock(ts: number): string {
  const us = Math.round(ts * 1e6);
  const sec = Math.floor(us / 1e6);
  return timeOfDay(sec, (us - sec * 1e6) * 1000).slice(0, 12);
}

/** The warning when the open-exchange cap closed exchanges early (flows, sniff --flows). */
export function capDroppedText(dropped: number): string {
  return `${dropped} exchanges closed early: more than the open-exchange cap at once`;
}

/** An exchange in one line, as `sniff --flows` and `ms --flows` print them on a terminal. */
export function exchangeLine(e: Exchange, style: Style): string {
  const arrow = e.kind === 'smr' ? '→' : '⇄';
  const rtt = e.rttMs === null ? '' : ` ${ms(e.rttMs)}`;
  const outcome = e.outcome === 'answered' ? style.good(e.outcome) : e.outcome === 'negative' || e.outcome === 'unacknowledged' ? e.outcome : style.bad(e.outcome);
  const action = e.action ? ` (${e.action})` : e.rejectReason ? ` (${e.rejectReason})` : '';
  const retx = e.retransmissions ? `, ${e.retransmissions} retransmission${e.retransmissions > 1 ? 's' : ''}` : '';
  const rlocs = e.rlocs?.length ? ` -> [${e.rlocs.join(', ')}]` : '';
  return `${clock(e.start)} ${style.type(exchangeKind(e))} ${style.eid(e.eid)} ${e.requester} ${arrow} ${e.responder ?? '-'}:${rtt} ${outcome}${action}${retx}${rlocs}, frames ${e.frames.map((f) => f.frame).join(',')}`;
}

const dim = (head: string[], style: Style) => head.map((h) => style.dim(h));

/** A cli-table3 table in the compact drawing the streamed tables (box-table.ts) share. */
export function table(head: string[], style: Style): Table.Table {
  return new Table({
    head: dim(head, style),
    style: { head: [], border: [], compact: true },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
}

function outcomeText(e: Exchange, s: Style): string {
  switch (e.outcome) {
    case 'answered':
      return s.good('answered');
    case 'negative':
      return `negative${e.action ? ` (${e.action})` : ''}`;
    case 'unacknowledged':
      return s.dim(e.withdraw ? 'withdrawn' : 'no notify asked');
    case 'rejected':
      return s.bad(`rejected${e.rejectReason ? ` (${e.rejectReason})` : ''}`);
    case 'forwarded':
      return s.dim('forwarded');
    case 'reply-only':
      return s.dim('reply-only');
    case 'unreachable':
      return s.bad(`unreachable${e.icmp ? ` (${e.icmp.name} from ${e.icmp.from})` : ''}`);
    default:
      return s.bad(e.outcome);
  }
}

/** The kind as people read it: `registration (tcp)` over the reliable transport. */
export function exchangeKind(e: Exchange): string {
  return e.transport ? `${e.kind} (${e.transport})` : e.kind;
}


/** A frame as people cite it: `464`, or `2:464` (frame 464 of the second capture) with several. */
export function frameName(r: { file: number; frame: number }, multi: boolean): string {
  return multi ? `${r.file + 1}:${r.frame}` : String(r.frame);
}

function frameList(e: Exchange, multi: boolean): string {
  const f = e.frames.map((r) => frameName(r, multi));
  return f.length > 6 ? `${f.slice(0, 5).join(',')},… (${f.length})` : f.join(',');
}

const EXCHANGE_HEAD = ['start', 'kind', 'EID', 'requester', '', 'responder', 'RTT', 'to answer', 'outcome', 'retx', 'frames'];

function exchangeRow(e: Exchange, style: Style, multi: boolean): string[] {
  return [
    clock(e.start),
    exchangeKind(e),
    style.eid(e.eid),
    e.requester,
    e.kind === 'smr' ? '→' : '⇄',
    e.responder ?? '-',
    ms(e.rttMs),
    // Only worth a figure when retransmissions (or the SMR-invoked request) make it differ.
    e.timeToAnswerMs !== null && e.timeToAnswerMs !== e.rttMs ? ms(e.timeToAnswerMs) : '',
    outcomeText(e, style),
    e.retransmissions ? String(e.retransmissions) : '',
    frameList(e, multi),
  ];
}

const MAX_NOTES = 1000;

/**
 * The exchanges as a table that prints as they come (a block of rows at a time), then the notes
 * of the matching (a Map-Reply that does not cover the requested EID ...) under it.
 */
export class ExchangeTableStream {
  private readonly table: BoxTable;
  private readonly notes: string[] = [];
  private moreNotes = 0;

  constructor(
    private readonly style: Style,
    private readonly multi: boolean,
    private readonly write: (text: string) => void,
  ) {
    this.table = new BoxTable(
      EXCHANGE_HEAD.map((h) => style.dim(h)),
      write,
    );
  }

  push(e: Exchange): void {
    this.table.push(exchangeRow(e, this.style, this.multi));
    for (const n of e.notes ?? []) {
      if (this.notes.length >= MAX_NOTES) this.moreNotes++;
      else this.notes.push(`${this.style.bad(`${n.level}:`)} ${exchangeKind(e)} ${e.eid} (frame ${frameList(e, this.multi).split(',')[0]}): ${n.text}`);
    }
  }

  end(): void {
    this.table.end();
    if (this.moreNotes) this.notes.push(`(${this.moreNotes} more notes)`);
    if (this.notes.length) this.write(this.notes.join('\n'));
  }
}

export function exchangesTable(list: Exchange[], style: Style, multi = false): string {
  const out: string[] = [];
  const t = new ExchangeTableStream(style, multi, (text) => out.push(text));
  for (const e of list) t.push(e);
  t.end();
  // An empty list still shows its heading, as the table always did.
  return out.length ? out.join('\n') : table(EXCHANGE_HEAD, style).toString();
}

function handoverStory(eid: string, h: Handover, style: Style, multi: boolean): string[] {
  const baseline =
    h.baseline === 'data-plane'
      ? ' (previous RLOCs from the data plane: the registration before the move is not in the capture)'
      : h.baseline === 'map-reply'
        ? ' (as learned from Map-Replies)'
        : h.baseline === 'publication'
          ? ' (as published to a subscriber)'
          : '';
  const lines = [
    `  ${style.type('handover')} at ${clock(h.ts)} (frame ${frameName(h.frame, multi)}): ${h.from.join(', ')} → ${h.to.join(', ')}${baseline}`,
  ];
  if (h.peers.length === 0) {
    lines.push(`    no peer was sending to ${eid} in the minute before`);
    return lines;
  }
  const rows: string[][] = [];
  const rel = (x: number | undefined) => {
    if (x === undefined) return '-';
    const d = (x - h.ts) * 1000;
    return d < 0 ? `-${ms(-d)}` : `+${ms(d)}`;
  };
  for (const p of h.peers) {
    rows.push([
      p.peer,
      p.smrTs === undefined ? style.bad('none') : rel(p.smrTs),
      rel(p.updatedTs),
      rel(p.firstDataTs),
      p.idle ? style.dim('idle') : p.latencyMs === null ? style.bad('never') : ms(p.latencyMs),
      p.staleDataPackets ? style.bad(String(p.staleDataPackets)) : '0',
    ]);
  }
  const t = boxTable(dim(['peer', 'SMR', 're-resolved', 'data moved', 'latency', 'stale packets'], style), rows);
  lines.push(...t.split('\n').map((l) => `    ${l}`));
  return lines;
}

export function mappingText(m: Mapping, style: Style, multi = false): string {
  const lines = [style.eid(m.eid)];
  const rows: string[][] = [];
  let prev = '';
  for (const e of m.timeline) {
    const set = e.rlocs.join(', ');
    rows.push([clock(e.ts), frameName(e.frame, multi), e.source, e.by, set === prev || prev === '' ? set : style.type(set)]);
    prev = set;
  }
  lines.push(...boxTable(dim(['time', 'frame', 'source', 'by', 'RLOCs'], style), rows).split('\n').map((l) => `  ${l}`));
  if (m.timelineDropped) lines.push(`  (${m.timelineDropped} more entries not kept)`);
  for (const h of m.handovers) lines.push(...handoverStory(m.eid, h, style, multi));
  if (m.noHandover) lines.push(`  ${style.dim(`no handover: ${m.noHandover}`)}`);
  return lines.join('\n');
}

export function statsText(s: Stats, style: Style): string {
  const out: string[] = [];
  out.push(
    `${s.frames} frames, ${s.lispPackets} LISP packets (${s.controlPackets} control, ${s.dataPackets} data), ${s.malformedFrames} malformed, ${s.warningFrames} with warnings, ${s.noteFrames} with notes`,
    `${s.unanswered} unanswered exchange${s.unanswered === 1 ? '' : 's'}, ${s.handovers} handover${s.handovers === 1 ? '' : 's'}`,
    `authentication: ${s.authVerified} verified, ${s.authFailures} failed`,
    '',
  );
  out.push(boxTable(dim(['message', 'count'], style), Object.entries(s.messages).map(([k, v]) => [k, String(v)])), '');
  // Outcome columns for the outcomes that occur (answered, negative and unanswered always).
  const outcomes: [string, string][] = [
    ['answered', 'answered'],
    ['negative', 'negative'],
    ['unanswered', 'unanswered'],
    ['forwarded', 'forwarded'],
    ['unreachable', 'unreachable'],
    ['reply-only', 'reply-only'],
    ['rejected', 'rejected'],
    ['auth-failed', 'auth-failed'],
    ['unacknowledged', 'no notify asked'],
  ];
  const shown = outcomes.filter(([k], i) => i < 3 || Object.values(s.exchanges).some((v) => v[k]));
  const ex = Object.entries(s.exchanges).map(([k, v]) => [k, ...shown.map(([o]) => String(v[o] ?? 0))]);
  out.push(boxTable(dim(['exchange', ...shown.map(([, title]) => title)], style), ex));
  if (s.resolvers.length) {
    const rows = s.resolvers.map((x) => [
      x.resolver,
      String(x.requests),
      String(x.answered),
      String(x.negative),
      `${x.unanswered} (${(x.unansweredRate * 100).toFixed(1)}%)`,
      String(x.retransmissions),
      ms(x.rttP50),
      ms(x.rttP90),
      ms(x.rttP99),
      ms(x.rttMax),
    ]);
    out.push('', boxTable(dim(['Map-Resolver', 'requests', 'answered', 'negative', 'unanswered', 'retx', 'RTT p50', 'p90', 'p99', 'max'], style), rows));
  }
  if (s.sites.length) {
    const rows = s.sites.map((x) => [
      x.xtrIds.length > 1 ? `${x.site} (${x.xtrIds.length} xTR-IDs)` : x.site,
      x.eid,
      String(x.registrations),
      String(x.answered),
      String(x.unanswered),
      String(x.rejected),
      String(x.authFailed),
      intervalText(x.intervalMs),
      x.rlocs.join(', '),
    ]);
    out.push('', boxTable(dim(['site', 'EID', 'registrations', 'answered', 'unanswered', 'rejected', 'auth failed', 'interval', 'RLOCs'], style), rows));
  }
  return out.join('\n');
}

/** The whole analysis of a run, for people: exchanges, every mapping that changed, the counts. */
export function analysisText(exchanges: Exchange[], mappings: Mapping[], stats: Stats, style: Style): string {
  const out = [style.type('Exchanges'), exchangesTable(exchanges, style)];
  const moved = mappings.filter((m) => m.handovers.length > 0);
  if (moved.length) {
    out.push('', style.type('Handovers'));
    for (const m of moved) out.push(mappingText(m, style));
  }
  out.push('', style.type('Statistics'), statsText(stats, style));
  return out.join('\n');
}
