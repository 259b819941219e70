// The Sessions pane's rows: the engine's exchanges, filtered with the `-Y` display filter over the
// same JSON objects `flows --json` writes, and sorted. Kept incrementally: new sessions are
// filtered as they arrive; a re-sort happens only when the order is not the arrival order.
// Pending sessions (started, not reported yet: a request waiting for its answer, and the ones
// closed behind it) can be tens of thousands and change on every refresh: in start order and
// unfiltered they follow the closed rows, and only the rows shown are read; filtered or sorted
// otherwise, they are taken whole on each refresh and merged into the closed rows. A pending
// session has the seq of the closed one that replaces it, so the selection stays on it.
// In the UI an open exchange's provisional outcome reads `open` (to the filter too: `outcome ==
// open`); `flows` never shows one.

import { compileFilterAmong, FilterError, type Predicate } from '../flows/filter.js';
import { exchangeKind, frameName } from '../output/flows-text.js';
import { exchangeJson } from '../output/json-flows.js';
import type { Paint } from './paint.js';
import type { PendingRows, Session } from './source.js';
import { clock, msText, type Column } from './text.js';

export type SortKey = 'start' | 'kind' | 'eid' | 'requester' | 'rtt' | 'outcome' | 'retx';
export const SORT_KEYS: SortKey[] = ['start', 'kind', 'eid', 'requester', 'rtt', 'outcome', 'retx'];

const OUTCOME_ORDER: Record<string, number> = { 'auth-failed': 0, rejected: 1, unanswered: 2, negative: 3, unacknowledged: 4, answered: 5, open: 6 };

/** The outcome as the UI shows it: `open` while a request waits for its answer. */
export function sessionOutcome(s: Session): string {
  return s.open && s.exchange.outcome === 'unanswered' ? 'open' : s.exchange.outcome;
}

function keyOf(s: Session, k: SortKey): string | number {
  const e = s.exchange;
  switch (k) {
    case 'start':
      return e.start;
    case 'kind':
      return exchangeKind(e);
    case 'eid':
      return e.eid;
    case 'requester':
      return e.requester;
    case 'rtt':
      return e.rttMs ?? Infinity;
    case 'outcome':
      return OUTCOME_ORDER[sessionOutcome(s)] ?? 9;
    case 'retx':
      return e.retransmissions;
  }
}

export class SessionView {
  filterText = '';
  sortKey: SortKey = 'start';
  desc = false;
  private filter: Predicate | undefined;
  /** Reported sessions that pass the filter, sorted. */
  private closed: Session[] = [];
  /** Pending sessions that pass the filter, sorted, when taken whole; `pendingFrom` is where they came from. */
  private pending: Session[] = [];
  private pendingFrom: PendingRows | undefined;
  /** The pending sessions read one by one instead (no filter, in start order): after the closed rows. */
  private lazy: PendingRows | undefined;
  /**
   * The verdict on each pending session looked at (and widened for): the source hands out the
   * same objects on every refresh until they are listed or taken again, and there can be most of
   * a capture of them behind one long-lived exchange.
   */
  private verdicts = new WeakMap<Session, boolean>();
  private merged: Session[] | undefined;
  /** Sessions with seq below this were looked at. */
  private next = 0;
  /** The widest text of each column among the sessions listed so far: columns are as wide as their content. */
  readonly widths: ColumnWidths = { ...NARROWEST };

  constructor(private readonly multi = false) {}

  /** The rows to show: the closed sessions and the pending ones, in one order. */
  get count(): number {
    return this.closed.length + (this.lazy ? this.lazy.count : this.pending.length);
  }

  /** Row `i` (a pending one as it is now; the columns are widened for it). */
  row(i: number): Session | undefined {
    const lazy = this.lazy;
    if (!lazy) {
      if (!this.pending.length) return this.closed[i];
      this.merged ??= mergeSorted(this.closed, this.pending, this.compare);
      return this.merged[i];
    }
    if (i < 0 || i >= this.count) return undefined;
    // Ascending: the closed ones, then the pending ones; descending, the other way round.
    const n = this.desc ? lazy.count : this.closed.length;
    if (this.desc ? i >= n : i < n) return this.closed[this.desc ? i - n : i];
    const s = lazy.at(this.desc ? lazy.from + n - 1 - i : lazy.from + i - n);
    if (s) this.widen(s);
    return s;
  }

  /** Sets the `-Y` filter ('' clears it); returns the error message when it does not compile. */
  setFilter(text: string): string | undefined {
    const t = text.trim();
    let f: Predicate | undefined;
    if (t) {
      try {
        // As typed: error columns count from its first character.
        f = compileFilterAmong(text, 'exchange', ['packet']);
      } catch (e) {
        if (e instanceof FilterError) return e.message;
        throw e;
      }
    }
    this.filter = f;
    this.filterText = t;
    Object.assign(this.widths, NARROWEST);
    this.closed = [];
    this.pending = [];
    this.pendingFrom = undefined;
    this.lazy = undefined;
    this.verdicts = new WeakMap();
    this.merged = undefined;
    this.next = 0;
    return undefined;
  }

  setSort(key: SortKey, desc: boolean): void {
    this.sortKey = key;
    this.desc = desc;
    this.sort();
  }

  matches(s: Session): boolean {
    if (!this.filter) return true;
    const o = exchangeJson(s.exchange, this.multi);
    o.outcome = sessionOutcome(s);
    return this.filter(o);
  }

  /**
   * Takes the sessions of `list` not seen yet, up to seq `limit` (a paused display stops there),
   * and `pending`, the source's pending sessions as of that limit (numbered from it on).
   */
  sync(list: readonly Session[], limit = Infinity, pending?: PendingRows): void {
    if (pending !== this.pendingFrom) {
      this.pendingFrom = pending;
      this.takePending();
    }
    this.syncClosed(list, limit);
  }

  private takePending(): void {
    const from = this.pendingFrom;
    this.merged = undefined;
    this.lazy = from && !this.filter && this.sortKey === 'start' ? from : undefined;
    const rows: Session[] = [];
    if (from && !this.lazy) {
      // Each is a copy that never changes (an open one comes as a new copy in a later snapshot).
      for (const s of from.list()) if (this.passes(s, true)) rows.push(s);
      // They come in seq order, which is the order of the default sort.
      if (!isSorted(rows, this.compare)) rows.sort(this.compare);
    }
    this.pending = rows;
  }

  private syncClosed(list: readonly Session[], limit: number): void {
    const oldest = list[0]?.seq ?? 0;
    if (this.closed.length && this.closed.some((r) => r.seq < oldest)) {
      this.closed = this.closed.filter((r) => r.seq >= oldest);
      this.merged = undefined;
    }
    if (this.next < oldest) this.next = oldest;
    // list is in seq order: find where the unseen ones start.
    let i = 0;
    if (list.length && this.next > list[0]!.seq) i = Math.min(list.length, this.next - list[0]!.seq);
    const added: Session[] = [];
    for (; i < list.length; i++) {
      const s = list[i]!;
      if (s.seq >= limit) break;
      this.next = s.seq + 1;
      if (this.passes(s, false)) added.push(s);
      // Listed now: never pending again.
      this.verdicts.delete(s);
    }
    if (!added.length) return;
    this.merged = undefined;
    if (this.sortKey === 'start' && !this.desc) {
      for (const s of added) this.closed.push(s);
      return;
    }
    if (added.length > 1000) {
      this.closed.push(...added);
      this.closed.sort(this.compare);
      return;
    }
    for (const s of added) this.closed.splice(this.insertAt(s), 0, s);
  }

  /** Whether `s` passes the filter; the columns are widened for it the first time. */
  private passes(s: Session, remember: boolean): boolean {
    let ok = this.verdicts.get(s);
    if (ok !== undefined) return ok;
    ok = this.matches(s);
    if (ok) this.widen(s);
    if (remember) this.verdicts.set(s, ok);
    return ok;
  }

  private widen(s: Session): void {
    const w = this.widths;
    const e = s.exchange;
    w.kind = Math.max(w.kind, exchangeKind(e).length);
    w.outcome = Math.max(w.outcome, outcomeText(s).length);
    w.eid = Math.max(w.eid, e.eid.length);
    w.requester = Math.max(w.requester, e.requester.length);
    w.responder = Math.max(w.responder, (e.responder ?? '-').length);
    w.rtt = Math.max(w.rtt, msText(e.rttMs).length);
  }

  private compare = (a: Session, b: Session): number => {
    const x = keyOf(a, this.sortKey);
    const y = keyOf(b, this.sortKey);
    const c = x < y ? -1 : x > y ? 1 : a.seq - b.seq;
    return this.desc ? -c : c;
  };

  private insertAt(s: Session): number {
    let lo = 0;
    let hi = this.closed.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(this.closed[mid]!, s) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private sort(): void {
    this.closed.sort(this.compare);
    this.takePending();
  }

  indexOfSeq(seq: number | undefined): number {
    if (seq === undefined) return -1;
    const lazy = this.lazy;
    if (lazy && seq >= lazy.from && seq < lazy.from + lazy.count) return this.desc ? lazy.from + lazy.count - 1 - seq : this.closed.length + seq - lazy.from;
    const n = this.count;
    if (this.sortKey === 'start') {
      // Arrival order: binary search by seq (reversed when descending).
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        const v = this.row(mid)!.seq;
        if (v === seq) return mid;
        if (this.desc ? v > seq : v < seq) lo = mid + 1;
        else hi = mid;
      }
      return -1;
    }
    for (let i = 0; i < n; i++) if (this.row(i)!.seq === seq) return i;
    return -1;
  }
}

/** Two lists sorted by `compare`, as one. */
function isSorted<T>(a: readonly T[], compare: (x: T, y: T) => number): boolean {
  for (let i = 1; i < a.length; i++) if (compare(a[i - 1]!, a[i]!) > 0) return false;
  return true;
}

function mergeSorted<T>(a: readonly T[], b: readonly T[], compare: (x: T, y: T) => number): T[] {
  const out: T[] = new Array<T>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = compare(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** The outcome as `flows` writes it: a Registration Reject's reason with it. */
export function outcomeText(s: Session): string {
  const o = sessionOutcome(s);
  if (o === 'unacknowledged') return 'no notify asked';
  if (o === 'rejected' && s.exchange.rejectReason) return `rejected (${s.exchange.rejectReason})`;
  return o;
}

export function paintOutcome(p: Paint, s: Session, cell: string): string {
  switch (sessionOutcome(s)) {
    case 'answered':
      return p.fg('green', cell);
    case 'negative':
      return p.fg('yellow', cell);
    case 'unanswered':
    case 'rejected':
      return p.fg('red', cell);
    case 'auth-failed':
      return p.bold(p.fg('magenta', cell));
    case 'open':
      return p.fg('cyan', cell);
    default:
      return p.dim(cell);
  }
}

export interface ColumnWidths {
  kind: number;
  outcome: number;
  eid: number;
  requester: number;
  responder: number;
  rtt: number;
}

/** Before any session: the titles' widths (kind and outcome as wide as their common values). */
const NARROWEST: ColumnWidths = { kind: 12, outcome: 8, eid: 3, requester: 9, responder: 9, rtt: 3 };
/** What a column may be cut down to on a narrow terminal. */
const CUT = { kind: 12, outcome: 8, eid: 10, requester: 9, responder: 9 };

/**
 * The Sessions pane's columns, in order, each as wide as its widest content so far; the frames
 * take what is left. Narrow terminals drop the highest `drop` first, then cut the widest columns
 * back towards CUT.
 */
export function sessionColumns(p: Paint, multi: boolean, widths: ColumnWidths = NARROWEST): Column<Session>[] {
  return [
    { title: 'start', width: 12, text: (s) => clock(s.exchange.start) },
    { title: 'kind', width: widths.kind, min: Math.min(CUT.kind, widths.kind), text: (s) => exchangeKind(s.exchange), paint: (c) => p.fg('cyan', c) },
    { title: 'EID', width: widths.eid, min: Math.min(CUT.eid, widths.eid), text: (s) => s.exchange.eid, paint: (c) => p.fg('yellow', c) },
    { title: 'requester', width: widths.requester, min: Math.min(CUT.requester, widths.requester), text: (s) => s.exchange.requester },
    { title: '', width: 1, drop: 3, text: (s) => (s.exchange.kind === 'smr' ? '→' : '⇄') },
    { title: 'responder', width: widths.responder, min: Math.min(CUT.responder, widths.responder), drop: 4, text: (s) => s.exchange.responder ?? '-' },
    { title: 'RTT', width: widths.rtt, align: 'right', text: (s) => msText(s.exchange.rttMs) },
    { title: 'outcome', width: widths.outcome, min: Math.min(CUT.outcome, widths.outcome), text: (s) => outcomeText(s), paint: (c, s) => paintOutcome(p, s, c) },
    { title: 'retx', width: 4, drop: 2, align: 'right', text: (s) => (s.exchange.retransmissions ? String(s.exchange.retransmissions) : '') },
    { title: 'frames', width: 6, flex: true, drop: 5, text: (s) => s.exchange.frames.map((f) => frameName(f, multi)).join(',') },
  ];
}
