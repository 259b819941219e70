// The Sessions pane's rows: the engine's exchanges, filtered with the `-Y` display filter over the
// same JSON objects `flows --json` writes, and sorted. Kept incrementally: new sessions are
// filtered as they arrive; a re-sort happens only when the order is not the arrival order.

import { compileFilter, FilterError, type Predicate } from '../flows/filter.js';
import type { Exchange } from '../flows/types.js';
import { exchangeJson } from '../output/json-flows.js';
import type { Paint } from './paint.js';
import type { Session } from './source.js';
import { clock, msText, type Column } from './text.js';

export type SortKey = 'start' | 'kind' | 'eid' | 'requester' | 'rtt' | 'outcome' | 'retx';
export const SORT_KEYS: SortKey[] = ['start', 'kind', 'eid', 'requester', 'rtt', 'outcome', 'retx'];

const OUTCOME_ORDER: Record<string, number> = { 'auth-failed': 0, unanswered: 1, negative: 2, unacknowledged: 3, answered: 4 };

function keyOf(e: Exchange, k: SortKey): string | number {
  switch (k) {
    case 'start':
      return e.start;
    case 'kind':
      return e.kind;
    case 'eid':
      return e.eid;
    case 'requester':
      return e.requester;
    case 'rtt':
      return e.rttMs ?? Infinity;
    case 'outcome':
      return OUTCOME_ORDER[e.outcome] ?? 9;
    case 'retx':
      return e.retransmissions;
  }
}

export class SessionView {
  rows: Session[] = [];
  filterText = '';
  sortKey: SortKey = 'start';
  desc = false;
  private filter: Predicate | undefined;
  /** Sessions with seq below this were looked at. */
  private next = 0;

  constructor(private readonly multi = false) {}

  /** Sets the `-Y` filter ('' clears it); returns the error message when it does not compile. */
  setFilter(text: string): string | undefined {
    const t = text.trim();
    let f: Predicate | undefined;
    if (t) {
      try {
        // As typed: error columns count from its first character.
        f = compileFilter(text);
      } catch (e) {
        if (e instanceof FilterError) return e.message;
        throw e;
      }
    }
    this.filter = f;
    this.filterText = t;
    this.rows = [];
    this.next = 0;
    return undefined;
  }

  setSort(key: SortKey, desc: boolean): void {
    this.sortKey = key;
    this.desc = desc;
    this.sort();
  }

  matches(s: Session): boolean {
    return !this.filter || this.filter(exchangeJson(s.exchange, this.multi) as never);
  }

  /** Takes the sessions of `list` not seen yet, up to seq `limit` (a paused display stops there). */
  sync(list: readonly Session[], limit = Infinity): void {
    const oldest = list[0]?.seq ?? 0;
    if (this.rows.length && this.rows.some((r) => r.seq < oldest)) this.rows = this.rows.filter((r) => r.seq >= oldest);
    if (this.next < oldest) this.next = oldest;
    // list is in seq order: find where the unseen ones start.
    let i = 0;
    if (list.length && this.next > list[0]!.seq) i = Math.min(list.length, this.next - list[0]!.seq);
    const added: Session[] = [];
    for (; i < list.length; i++) {
      const s = list[i]!;
      if (s.seq >= limit) break;
      this.next = s.seq + 1;
      if (this.matches(s)) added.push(s);
    }
    if (!added.length) return;
    if (this.sortKey === 'start' && !this.desc) {
      for (const s of added) this.rows.push(s);
      return;
    }
    if (added.length > 1000) {
      this.rows.push(...added);
      this.sort();
      return;
    }
    for (const s of added) this.rows.splice(this.insertAt(s), 0, s);
  }

  private compare = (a: Session, b: Session): number => {
    const x = keyOf(a.exchange, this.sortKey);
    const y = keyOf(b.exchange, this.sortKey);
    const c = x < y ? -1 : x > y ? 1 : a.seq - b.seq;
    return this.desc ? -c : c;
  };

  private insertAt(s: Session): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(this.rows[mid]!, s) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private sort(): void {
    this.rows.sort(this.compare);
  }

  indexOfSeq(seq: number | undefined): number {
    if (seq === undefined) return -1;
    if (this.sortKey === 'start') {
      // Arrival order: binary search by seq (reversed when descending).
      let lo = 0;
      let hi = this.rows.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const v = this.rows[mid]!.seq;
        if (v === seq) return mid;
        if (this.desc ? v > seq : v < seq) lo = mid + 1;
        else hi = mid;
      }
      return -1;
    }
    return this.rows.findIndex((r) => r.seq === seq);
  }
}

export function outcomeText(e: Exchange): string {
  if (e.outcome === 'negative') return 'negative';
  if (e.outcome === 'unacknowledged') return 'no notify asked';
  return e.outcome;
}

export function paintOutcome(p: Paint, e: Exchange, cell: string): string {
  switch (e.outcome) {
    case 'answered':
      return p.fg('green', cell);
    case 'negative':
      return p.fg('yellow', cell);
    case 'unanswered':
      return p.fg('red', cell);
    case 'auth-failed':
      return p.bold(p.fg('magenta', cell));
    default:
      return p.dim(cell);
  }
}

/** The Sessions pane's columns, in order; narrow terminals drop the highest `drop` first. */
export function sessionColumns(p: Paint, multi: boolean): Column<Session>[] {
  return [
    { title: 'start', width: 12, text: (s) => clock(s.exchange.start) },
    { title: 'kind', width: 12, text: (s) => s.exchange.kind, paint: (c) => p.fg('cyan', c) },
    { title: 'EID', width: 12, flex: true, text: (s) => s.exchange.eid, paint: (c) => p.fg('yellow', c) },
    { title: 'requester', width: 15, text: (s) => s.exchange.requester },
    { title: '', width: 1, drop: 3, text: (s) => (s.exchange.kind === 'smr' ? '→' : '⇄') },
    { title: 'responder', width: 15, drop: 4, text: (s) => s.exchange.responder ?? '-' },
    { title: 'RTT', width: 8, align: 'right', text: (s) => msText(s.exchange.rttMs) },
    { title: 'outcome', width: 11, text: (s) => outcomeText(s.exchange), paint: (c, s) => paintOutcome(p, s.exchange, c) },
    { title: 'retx', width: 4, drop: 2, align: 'right', text: (s) => (s.exchange.retransmissions ? String(s.exchange.retransmissions) : '') },
    { title: 'frames', width: 12, drop: 5, text: (s) => s.exchange.frames.map((f) => (multi ? `${f.file + 1}:${f.frame}` : String(f.frame))).join(',') },
  ];
}
