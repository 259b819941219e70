// Exchanges, mappings and statistics for people: tables (cli-table3) and the handover story.

import Table from 'cli-table3';
import type { Stats } from '../flows/stats.js';
import type { Exchange, Handover, Mapping } from '../flows/types.js';
import { timeOfDay } from './line.js';
import type { Style } from './style.js';

/** Time of day to the millisecond. */
function clock(ts: number): string {
  const us = Math.round(ts * 1e6);
  const sec = Math.floor(us / 1e6);
  return timeOfDay(sec, (us - sec * 1e6) * 1000).slice(0, 12);
}

export function table(head: string[], style: Style): Table.Table {
  return new Table({
    head: head.map((h) => style.dim(h)),
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
      return s.dim('no notify asked');
    case 'rejected':
      return s.bad(`rejected${e.rejectReason ? ` (${e.rejectReason})` : ''}`);
    default:
      return s.bad(e.outcome);
  }
}

/** The kind as people read it: `registration (tcp)` over the reliable transport. */
export function exchangeKind(e: Exchange): string {
  return e.transport ? `${e.kind} (${e.transport})` : e.kind;
}

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v} ms`);

function frameList(e: Exchange, multi: boolean): string {
  const f = e.frames.map((r) => (multi ? `${r.file + 1}:${r.frame}` : String(r.frame)));
  return f.length > 6 ? `${f.slice(0, 5).join(',')},… (${f.length})` : f.join(',');
}

export function exchangesTable(list: Exchange[], style: Style, multi = false): string {
  const t = table(['start', 'kind', 'EID', 'requester', '', 'responder', 'RTT', 'outcome', 'retx', 'frames'], style);
  for (const e of list) {
    t.push([
      clock(e.start),
      exchangeKind(e),
      style.eid(e.eid),
      e.requester,
      e.kind === 'smr' ? '→' : '⇄',
      e.responder ?? '-',
      ms(e.rttMs),
      outcomeText(e, style),
      e.retransmissions ? String(e.retransmissions) : '',
      frameList(e, multi),
    ]);
  }
  return t.toString();
}

function handoverStory(eid: string, h: Handover, style: Style): string[] {
  const lines = [
    `  ${style.type('handover')} at ${clock(h.ts)} (frame ${h.frame.frame}): ${h.from.join(', ')} → ${h.to.join(', ')}`,
  ];
  if (h.peers.length === 0) {
    lines.push(`    no peer was sending to ${eid} in the minute before`);
    return lines;
  }
  const t = table(['peer', 'SMR', 're-resolved', 'data moved', 'latency', 'stale packets'], style);
  const rel = (x: number | undefined) => (x === undefined ? '-' : `+${Math.round((x - h.ts) * 1e6) / 1e3} ms`);
  for (const p of h.peers) {
    t.push([
      p.peer,
      p.smrTs === undefined ? style.bad('none') : rel(p.smrTs),
      rel(p.updatedTs),
      rel(p.firstDataTs),
      p.latencyMs === null ? style.bad('never') : `${p.latencyMs} ms`,
      p.staleDataPackets ? style.bad(String(p.staleDataPackets)) : '0',
    ]);
  }
  lines.push(...t.toString().split('\n').map((l) => `    ${l}`));
  return lines;
}

export function mappingText(m: Mapping, style: Style): string {
  const lines = [style.eid(m.eid)];
  const t = table(['time', 'frame', 'source', 'by', 'RLOCs'], style);
  let prev = '';
  for (const e of m.timeline) {
    const set = e.rlocs.join(', ');
    t.push([clock(e.ts), String(e.frame.frame), e.source, e.by, set === prev || prev === '' ? set : style.type(set)]);
    prev = set;
  }
  lines.push(...t.toString().split('\n').map((l) => `  ${l}`));
  if (m.timelineDropped) lines.push(`  (${m.timelineDropped} more entries not kept)`);
  for (const h of m.handovers) lines.push(...handoverStory(m.eid, h, style));
  return lines.join('\n');
}

export function statsText(s: Stats, style: Style): string {
  const out: string[] = [];
  out.push(
    `${s.frames} frames, ${s.lispPackets} LISP packets (${s.controlPackets} control, ${s.dataPackets} data), ${s.malformedFrames} malformed`,
    `${s.unanswered} unanswered exchange${s.unanswered === 1 ? '' : 's'}, ${s.handovers} handover${s.handovers === 1 ? '' : 's'}`,
    `authentication: ${s.authVerified} verified, ${s.authFailures} failed`,
    '',
  );
  const msg = table(['message', 'count'], style);
  for (const [k, v] of Object.entries(s.messages)) msg.push([k, String(v)]);
  out.push(msg.toString(), '');
  const ex = table(['exchange', 'answered', 'negative', 'unanswered', 'rejected', 'auth-failed', 'no notify asked'], style);
  for (const [k, v] of Object.entries(s.exchanges)) {
    ex.push([k, v.answered ?? 0, v.negative ?? 0, v.unanswered ?? 0, v.rejected ?? 0, v['auth-failed'] ?? 0, v.unacknowledged ?? 0].map(String));
  }
  out.push(ex.toString());
  if (s.resolvers.length) {
    const r = table(['Map-Resolver', 'requests', 'answered', 'negative', 'unanswered', 'retx', 'RTT p50', 'p90', 'p99', 'max'], style);
    for (const x of s.resolvers) {
      r.push([
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
    }
    out.push('', r.toString());
  }
  if (s.sites.length) {
    const t = table(['site', 'EID', 'registrations', 'answered', 'unanswered', 'rejected', 'auth failed', 'interval', 'RLOCs'], style);
    for (const x of s.sites) {
      t.push([
        x.site,
        x.eid,
        String(x.registrations),
        String(x.answered),
        String(x.unanswered),
        String(x.rejected),
        String(x.authFailed),
        ms(x.intervalMs),
        x.rlocs.join(', '),
      ]);
    }
    out.push('', t.toString());
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
