// The UI state's reducer on its own: every action is counted, drilling into packets starts them
// afresh, a filter starts the lists at their top with the selected packet as anchor.

import { describe, expect, it } from 'vitest';
import { initialState, reduce } from '../../src/tui/ui-state.js';
import type { Session } from '../../src/tui/source.js';

const session = { seq: 7 } as Session;

describe('UI state', () => {
  it('counts every action (a key waits for the render that shows them all)', () => {
    let s = initialState({ follow: false });
    expect(s.version).toBe(0);
    s = reduce(s, { t: 'pause' });
    s = reduce(s, { t: 'pause' });
    expect(s).toMatchObject({ version: 2, paused: false });
  });

  it('drills into a session\'s packets afresh, and remembers the session `a` goes back to', () => {
    let s = initialState({ follow: false });
    s = reduce(s, { t: 'tree', tree: { seq: 3, expanded: new Set(['1']), sel: '1' }, top: 4 });
    s = reduce(s, { t: 'packets', scope: session, idx: 2, pane: 'detail' });
    expect(s).toMatchObject({ pane: 'detail', scope: session, pktIdx: 2, pktTop: 0, treeTop: 0 });
    expect(s.tree).toBeUndefined();
    s = reduce(s, { t: 'packets', seq: 40, pane: 'packets', back: session });
    expect(s.scope).toBeUndefined();
    expect(s).toMatchObject({ pktSeq: 40, back: session, pane: 'packets' });
  });

  it('a filter starts the lists at their top, keeping the packet selected as the anchor', () => {
    let s = { ...initialState({ follow: false }), sessTop: 5, pktTop: 9 };
    s = reduce(s, { t: 'filter', pktSeq: 12 });
    expect(s).toMatchObject({ sessTop: 0, pktTop: 0, pktSeq: 12 });
    expect(s.pfilter).toBeUndefined();
    s = reduce(s, { t: 'goto', digits: '4' });
    expect(s.goto).toBe('4');
    expect(reduce(s, { t: 'goto' }).goto).toBeUndefined();
  });
});
