// The UI's view modules, without a terminal: sessions kept incrementally (filter, sort, eviction),
// column layout, the ladder's drawing, the detail tree's rows and ranges.

import { describe, expect, it } from 'vitest';
import type { Exchange } from '../../src/flows/types.js';
import type { TreeNode } from '../../src/output/tree.js';
import { renderLadder, type Ladder } from '../../src/tui/ladder.js';
import { outcomeText, SessionView } from '../../src/tui/sessions.js';
import { SourceCore, type PacketView, type PendingRows, type Session } from '../../src/tui/source.js';
import { fit, layout, scrollTop, type Column } from '../../src/tui/text.js';
import { defaultExpanded, flattenTree, nodeRange } from '../../src/tui/tree-view.js';

function session(seq: number, o: Partial<Exchange> = {}): Session {
  return {
    seq,
    exchange: { kind: 'resolution', eid: `10.0.0.${seq}/32`, nonce: seq.toString(16).padStart(16, '0'), frames: [{ frame: seq + 1, file: 0 }], start: 1000 + seq, requester: '192.0.2.1', rttMs: 100 - seq, timeToAnswerMs: 100 - seq, retransmissions: 0, outcome: 'answered', ...o },
  };
}

/** The view's rows, as the Sessions pane reads them. */
function rowsOf(v: SessionView): Session[] {
  return Array.from({ length: v.count }, (_, i) => v.row(i)!);
}

/** Pending sessions as a source hands them out, numbered from `from` on. */
function pendingOf(list: Session[], from = list[0]?.seq ?? 0): PendingRows {
  return { from, count: list.length, at: (seq) => list.find((s) => s.seq === seq), list: () => list };
}

describe('SessionView', () => {
  it('filters new sessions as they come, sorts, forgets evicted ones and stops at a paused limit', () => {
    const v = new SessionView();
    const list = Array.from({ length: 10 }, (_, i) => session(i, i % 3 === 0 ? { outcome: 'unanswered', rttMs: null } : {}));
    expect(v.setFilter('outcome == unanswered')).toBeUndefined();
    v.sync(list, 5);
    expect(rowsOf(v).map((r) => r.seq)).toEqual([0, 3]);
    v.sync(list);
    expect(rowsOf(v).map((r) => r.seq)).toEqual([0, 3, 6, 9]);
    expect(v.indexOfSeq(6)).toBe(2);
    expect(v.setFilter('rtt_ms >')).toMatch(/expected a value/);
    v.setFilter('');
    v.sync(list);
    v.setSort('rtt', false);
    expect(rowsOf(v).slice(0, 3).map((r) => r.seq)).toEqual([8, 7, 5]);
    list.push(session(10, { rttMs: 1 }));
    v.sync(list);
    expect(rowsOf(v)[0]!.seq).toBe(10);
    // The source evicted the oldest: they leave the rows too.
    list.splice(0, 4);
    v.sync(list);
    expect(rowsOf(v).some((r) => r.seq < 4)).toBe(false);
    expect(rowsOf(v)).toHaveLength(7);
  });
});

describe('SessionView with pending sessions', () => {
  it('shows open exchanges after the closed ones, filters them as open, and takes the closed version in their place', () => {
    const v = new SessionView();
    const closed = [session(0), session(1)];
    // Pending: number 2 is still waiting (its outcome provisional), 3 closed behind it.
    let pending = [{ ...session(2, { outcome: 'unanswered', rttMs: null }), open: true }, session(3, { outcome: 'negative' })];
    v.sync(closed, 2, pendingOf(pending));
    expect(rowsOf(v).map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(rowsOf(v).map(outcomeText)).toEqual(['answered', 'answered', 'open', 'negative']);
    expect(v.indexOfSeq(2)).toBe(2);
    // The filter sees the outcome the UI shows.
    v.setFilter('outcome == open');
    v.sync(closed, 2, pendingOf(pending));
    expect(rowsOf(v).map((r) => r.seq)).toEqual([2]);
    v.setFilter('outcome == unanswered');
    v.sync(closed, 2, pendingOf(pending));
    expect(rowsOf(v)).toEqual([]);
    v.setFilter('');
    v.sync(closed, 2, pendingOf(pending));
    // Sorted by RTT, the waiting one (no RTT yet) goes last.
    v.setSort('rtt', false);
    expect(rowsOf(v).map((r) => r.seq)).toEqual([3, 1, 0, 2]);
    // Descending, the pending ones (read one by one) come first.
    v.setSort('start', true);
    expect(rowsOf(v).map((r) => r.seq)).toEqual([3, 2, 1, 0]);
    expect(v.indexOfSeq(2)).toBe(1);
    expect(v.indexOfSeq(0)).toBe(3);
    v.setSort('start', false);
    // It closes unanswered: reported with the same number, the pending list moves on.
    closed.push(session(2, { outcome: 'unanswered', rttMs: null }), session(3, { outcome: 'negative' }));
    pending = [];
    v.sync(closed, 4, pendingOf(pending, 4));
    expect(rowsOf(v).map((r) => r.seq)).toEqual([0, 1, 2, 3]);
    expect(rowsOf(v).map(outcomeText)).toEqual(['answered', 'answered', 'unanswered', 'negative']);
  });
});

describe('text layout', () => {
  it('drops the least important columns first and gives the rest to the flexible one', () => {
    const cols: Column<number>[] = [
      { title: 'a', width: 5, text: String },
      { title: 'b', width: 10, flex: true, text: String },
      { title: 'c', width: 8, drop: 1, text: String },
      { title: 'd', width: 8, drop: 2, text: String },
    ];
    expect(layout(cols, 40).map((c) => `${c.title}${c.width}`)).toEqual(['a5', 'b16', 'c8', 'd8']);
    expect(layout(cols, 30).map((c) => `${c.title}${c.width}`)).toEqual(['a5', 'b15', 'c8']);
    // Columns with a minimum give up width (the widest first) when dropping was not enough.
    const wide: Column<number>[] = [
      { title: 'a', width: 5, text: String },
      { title: 'b', width: 10, flex: true, text: String },
      { title: 'k', width: 18, min: 12, text: String },
      { title: 'o', width: 30, min: 11, text: String },
      { title: 'd', width: 8, drop: 1, text: String },
    ];
    expect(layout(wide, 80).map((c) => `${c.title}${c.width}`)).toEqual(['a5', 'b15', 'k18', 'o30', 'd8']);
    expect(layout(wide, 60).map((c) => `${c.title}${c.width}`)).toEqual(['a5', 'b10', 'k18', 'o24']);
    expect(layout(wide, 50).map((c) => `${c.title}${c.width}`)).toEqual(['a5', 'b10', 'k16', 'o16']);
    expect(layout(wide, 30).map((c) => `${c.title}${c.width}`)).toEqual(['a5', 'b10', 'k12', 'o11']);
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('ab', 4, 'right')).toBe('  ab');
    expect(scrollTop(10, 0, 5, 20)).toBe(6);
    expect(scrollTop(2, 6, 5, 20)).toBe(2);
  });
});

describe('ladder drawing', () => {
  it('draws lanes, arrows both ways with their labels, times and notes within the width', () => {
    const l: Ladder = {
      title: 'registration',
      lanes: [
        { addr: '192.0.2.10', role: 'MN' },
        { addr: '203.0.113.1', role: 'MS' },
      ],
      steps: [
        { ref: { frame: 1, file: 0 }, t: 0, from: 0, to: 1, label: 'Map-Register', short: 'Map-Register' },
        { ref: { frame: 2, file: 0 }, t: 0.005, from: 1, to: 0, label: 'Map-Notify', short: 'Map-Notify', note: 'rtt 5.000 ms' },
      ],
      missing: 0,
    };
    const t = renderLadder(l, 80);
    expect(t.header[0]).toMatch(/^time ms +MN +MS$/);
    expect(t.rows[0]).toMatch(/^ +\+0\.0 +├─+ Map-Register ─+▶│$/);
    expect(t.rows[1]).toMatch(/^ +\+5\.0 +│◀─+ Map-Notify ─+┤ +rtt 5\.000 ms$/);
    for (const r of [...t.header, ...t.rows]) expect(r.length).toBeLessThanOrEqual(80);
    expect(t.notes).toBe(true);
  });
});

describe('detail tree rows', () => {
  it('opens the LISP message first; a group over bits stands for its children\'s bytes', () => {
    const root: TreeNode = {
      label: 'Frame 1',
      start: 0,
      end: 60,
      children: [
        { label: 'Internet Protocol Version 4', start: 0, end: 20, children: [{ label: 'Source', start: 12, end: 16 }] },
        {
          label: 'Locator/ID Separation Protocol (Map-Request)',
          start: 28,
          end: 60,
          children: [{ label: 'Flags: S', start: 28, end: 28, children: [{ label: 'S: Set', start: 28, end: 32 }] }],
        },
      ],
    };
    const d = defaultExpanded(root);
    expect(d.selected).toBe('1');
    const rows = flattenTree(root, d.expanded);
    expect(rows.map((r) => r.key)).toEqual(['0', '1', '1.0']);
    expect(nodeRange(rows[2]!.node)).toEqual({ start: 28, end: 32 });
  });
});

/** A source fed exchanges by hand, as the engine reports them (order `close`). */
class HandSource extends SourceCore {
  protected decodeAt(): PacketView | undefined {
    return undefined;
  }

  report(e: Exchange, startIndex: number): void {
    this.addExchange(e, startIndex);
  }
}

describe('sessions held behind a long-lived one', () => {
  it('are handed out as the same objects on every refresh, and listed as those', () => {
    const source = new HandSource();
    const [s0, s1, s2] = [session(0), session(1), session(2)];
    // 1 and 2 close while 0 is still open: held, in seq order whatever order they closed in.
    source.report(s2.exchange, 2);
    source.report(s1.exchange, 1);
    const first = source.pendingSessions();
    expect(first.map((s) => s.seq)).toEqual([1, 2]);
    const again = source.pendingSessions();
    expect(again[0]).toBe(first[0]);
    expect(again[1]).toBe(first[1]);
    // Read one by one: 0 is still open (in the engine: this source has none), 1 and 2 held.
    const rows = source.pending();
    expect([rows.from, rows.count]).toEqual([0, 3]);
    expect([0, 1, 2].map((seq) => rows.at(seq))).toEqual([undefined, first[0], first[1]]);
    source.report(s0.exchange, 0);
    const { list, total } = source.sessions();
    expect(total).toBe(3);
    expect(list.map((s) => s.exchange)).toEqual([s0.exchange, s1.exchange, s2.exchange]);
    expect(list[1]).toBe(first[0]);
    expect(source.sessionAt(1)).toBe(first[0]);
    expect(source.pending().count).toBe(0);
    expect(source.pendingSessions()).toEqual([]);
  });

  it('are matched by a view once, while pending, not again on a later refresh or once listed', () => {
    let reads = 0;
    const counted = (s: Session): Session => ({ ...s, exchange: new Proxy(s.exchange, { get: (t, k) => (reads++, Reflect.get(t, k)) }) });
    const v = new SessionView();
    expect(v.setFilter('outcome == negative')).toBeUndefined();
    const closed = [session(0)];
    const held = [counted(session(1, { outcome: 'negative' })), counted(session(2))];
    v.sync(closed, 1, pendingOf(held));
    expect(rowsOf(v).map((r) => r.seq)).toEqual([1]);
    const afterFirst = reads;
    expect(afterFirst).toBeGreaterThan(0);
    // A later refresh: a new array, the same sessions.
    v.sync(closed, 1, pendingOf([...held]));
    v.sync([...closed, ...held], 3, pendingOf([], 3));
    expect(rowsOf(v).map((r) => r.seq)).toEqual([1]);
    expect(reads - afterFirst).toBe(0);
  });
});
