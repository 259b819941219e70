// Every key of the terminal UI in one table: what it matches, where it acts, what it does, and the
// line the help screen shows for it (the help is generated from this table, so it cannot drift).

import type { Key } from 'ink';
import type { Pane } from './ui-state.js';

/** A move in a list: by rows, a page, or to an end. */
export interface Nav {
  delta?: number;
  page?: 1 | -1;
  to?: 'first' | 'last';
}

/** What keys may do; the App implements it over its state and the source. */
export interface KeyContext {
  readonly pane: Pane;
  quit(): void;
  showHelp(): void;
  switchPane(p: Pane): void;
  cyclePane(back: boolean): void;
  toggleFollow(): void;
  togglePause(): void;
  openFilter(): void;
  sort(reverse: boolean): void;
  act(what: 'resend' | 'replay' | 'resolve' | 'handover'): void;
  escape(): void;
  /** `g`: the first row, and digits typed next name a frame to go to. */
  startGoto(): void;
  move(nav: Nav): void;
  enter(): void;
  toggleAll(): void;
  tree(op: 'open' | 'close' | 'toggle' | 'all'): void;
}

export interface Binding {
  /** The keys as the help names them. */
  keys: string;
  help: string;
  /** Where it acts (everywhere when absent). */
  panes?: Pane[];
  match(input: string, key: Key): boolean;
  run(c: KeyContext, input: string, key: Key): void;
}

const PACKET_PANES: Pane[] = ['packets', 'detail', 'hex'];

/** The move a navigation key asks for, if it is one; a run of j/k (held keys) counts each. */
export function navOf(input: string, key: Key): Nav | undefined {
  if (key.upArrow) return { delta: -1 };
  if (key.downArrow) return { delta: 1 };
  if (key.pageDown || (key.ctrl && input === 'd')) return { page: 1 };
  if (key.pageUp || (key.ctrl && input === 'u')) return { page: -1 };
  if (key.home) return { to: 'first' };
  if (key.end || input === 'G') return { to: 'last' };
  if (!key.ctrl && !key.meta && /^[jk]+$/.test(input)) return { delta: [...input].reduce((n, c) => n + (c === 'j' ? 1 : -1), 0) };
  return undefined;
}

const is = (...chars: string[]) => (input: string, key: Key) => !key.ctrl && !key.meta && chars.includes(input);

export const KEYMAP: Binding[] = [
  { keys: 'Tab / Shift-Tab', help: 'next / previous pane: Sessions, Packets, Detail, Hex, Ladder, Mappings', match: (_, k) => k.tab, run: (c, _, k) => c.cyclePane(k.shift) },
  {
    keys: '1 2 3 4',
    help: 'Sessions, Packets, Ladder, Mappings',
    match: is('1', '2', '3', '4'),
    run: (c, i) => c.switchPane((['sessions', 'packets', 'ladder', 'mappings'] as const)[Number(i) - 1]!),
  },
  {
    keys: '↑↓ j k',
    help: 'move; PgUp/PgDn, Ctrl-U/Ctrl-D a page; Home first, G/End last',
    match: (i, k) => navOf(i, k) !== undefined,
    run: (c, i, k) => c.move(navOf(i, k)!),
  },
  { keys: 'g', help: 'the first row; g then a frame number (2:17 with several files) and Enter: go to that frame', match: is('g'), run: (c) => c.startGoto() },
  {
    keys: 'Enter',
    help: 'drill in: session → its packets → detail tree (expand/collapse); ladder step → that packet; mapping → its sessions',
    match: (_, k) => k.return,
    run: (c) => c.enter(),
  },
  { keys: 'Esc', help: 'back to Sessions', match: (_, k) => k.escape, run: (c) => c.escape() },
  {
    keys: '← → h l',
    help: 'detail tree: collapse / expand',
    panes: ['detail'],
    match: (i, k) => k.leftArrow || k.rightArrow || is('h', 'l')(i, k),
    run: (c, i, k) => c.tree(k.rightArrow || i === 'l' ? 'open' : 'close'),
  },
  { keys: '*', help: 'detail tree: expand everything', panes: ['detail'], match: is('*'), run: (c) => c.tree('all') },
  {
    keys: 'a',
    help: "packets: every packet of the capture / back to the session's own, on the same frame",
    panes: PACKET_PANES,
    match: is('a'),
    run: (c) => c.toggleAll(),
  },
  { keys: '/', help: 'filter sessions and packets (-Y): kind == smr || outcome == open, type == map-reply', match: is('/'), run: (c) => c.openFilter() },
  { keys: 's / S', help: 'sort sessions by the next column / reverse the order', match: is('s', 'S'), run: (c, i) => c.sort(i === 'S') },
  { keys: 'f', help: 'follow: keep the newest session and packet selected', match: is('f'), run: (c) => c.toggleFollow() },
  { keys: 'p', help: 'pause the display (the capture goes on underneath)', match: is('p'), run: (c) => c.togglePause() },
  { keys: 'r', help: "re-send the selected session's request (asks first)", match: is('r'), run: (c) => c.act('resend') },
  { keys: 'R', help: 'replay the selected session to a target you type (asks first)', match: is('R'), run: (c) => c.act('replay') },
  { keys: 'e', help: 'resolve an EID through a Map-Resolver (asks first)', match: is('e'), run: (c) => c.act('resolve') },
  { keys: 'H', help: 'lab: hand the Mobile Node over to its other RLOC (asks first)', match: is('H'), run: (c) => c.act('handover') },
  { keys: '?', help: 'this help', match: is('?'), run: (c) => c.showHelp() },
  { keys: 'q, Ctrl-C', help: 'quit', match: (i, k) => is('q')(i, k) || (k.ctrl && i === 'c'), run: (c) => c.quit() },
];

/** The first binding for a key in `pane`. */
export function bindingFor(input: string, key: Key, pane: Pane): Binding | undefined {
  return KEYMAP.find((b) => (!b.panes || b.panes.includes(pane)) && b.match(input, key));
}

/** The help screen's lines: each key and its description, wrapped to `width`. */
export function helpLines(width: number): Array<{ keys: string; text: string }> {
  const keyW = 16;
  const textW = Math.max(20, width - keyW - 3);
  const out: Array<{ keys: string; text: string }> = [];
  for (const b of KEYMAP) wrap(b.help, textW).forEach((t, i) => out.push({ keys: i === 0 ? b.keys : '', text: t }));
  return out;
}

/** Words into lines of at most `w` characters (a longer word is cut). */
export function wrap(text: string, w: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    if (!cur) cur = word;
    else if (cur.length + 1 + word.length <= w) cur += ` ${word}`;
    else {
      lines.push(cur);
      cur = word;
    }
    while (cur.length > w) {
      lines.push(cur.slice(0, w));
      cur = cur.slice(w);
    }
  }
  if (cur || !lines.length) lines.push(cur);
  return lines;
}
