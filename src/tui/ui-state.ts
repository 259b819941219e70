// The terminal UI's own state (what is focused, selected, scrolled, asked) in one object, changed
// only through the actions below. What is shown comes from the data source; this is only where the
// user is in it.

import type { Action as UserAction } from './actions.js';
import type { PacketFilter } from './packet-filter.js';
import type { Session } from './source.js';

export type Pane = 'sessions' | 'packets' | 'detail' | 'hex' | 'ladder' | 'mappings';
export const PANES: Pane[] = ['sessions', 'packets', 'detail', 'hex', 'ladder', 'mappings'];

export interface Prompt {
  label: string;
  text: string;
  error?: string;
  submit(text: string): void;
}

export interface Confirm {
  question: string;
  action: UserAction;
  answer: string;
}

export interface TreeState {
  /** The packet the tree is of. */
  seq: number;
  expanded: Set<string>;
  sel: string;
}

export interface UiState {
  /** Actions applied so far: a render that shows them all may take the next key. */
  version: number;
  pane: Pane;
  paused: boolean;
  follow: boolean;
  /** The help screen, scrolled to `top`. */
  help?: { top: number };
  prompt?: Prompt;
  confirm?: Confirm;
  message?: { text: string; error?: boolean };
  busy: boolean;
  /** Digits typed after `g`: the frame to go to on Enter. */
  goto?: string;
  /** The `-Y` filter over the whole capture's packets, scanned in the background. */
  pfilter?: PacketFilter;

  sessSeq?: number;
  sessTop: number;
  /** The session whose packets are listed (all packets when undefined). */
  scope?: Session;
  /** Where `a` goes back to: the session left for the whole capture. */
  back?: Session;
  /** The packet selected in the whole capture's list (by sequence number). */
  pktSeq?: number;
  /** The packet selected among the session's own. */
  pktIdx: number;
  pktTop: number;
  tree?: TreeState;
  treeTop: number;
  hexTop: number;
  ladSel: number;
  ladTop: number;
  mapSel?: number;
  mapTop: number;
  mapDetailTop: number;
}

export function initialState(o: { follow: boolean; pfilter?: PacketFilter }): UiState {
  return {
    version: 0,
    pane: 'sessions',
    paused: false,
    follow: o.follow,
    busy: false,
    ...(o.pfilter ? { pfilter: o.pfilter } : {}),
    sessTop: 0,
    pktIdx: 0,
    pktTop: 0,
    treeTop: 0,
    hexTop: 0,
    ladSel: 0,
    ladTop: 0,
    mapTop: 0,
    mapDetailTop: 0,
  };
}

export type UiAction =
  | { t: 'pane'; pane: Pane }
  | { t: 'pause' }
  | { t: 'follow'; on: boolean }
  | { t: 'help'; top?: number }
  | { t: 'prompt'; prompt?: Prompt }
  | { t: 'confirm'; confirm?: Confirm }
  | { t: 'message'; message?: UiState['message'] }
  | { t: 'busy'; busy: boolean }
  | { t: 'goto'; digits?: string }
  | { t: 'filter'; pfilter?: PacketFilter; pktSeq?: number }
  | { t: 'session'; seq: number | undefined; top: number }
  | { t: 'sessTop'; top: number }
  /** Into a session's packets (or the whole capture's when `scope` is undefined), at `idx` or `seq`. */
  | { t: 'packets'; scope?: Session; idx?: number; seq?: number; pane: Pane; back?: Session }
  | { t: 'packet'; idx?: number; seq?: number; top: number }
  | { t: 'tree'; tree: TreeState; top?: number }
  | { t: 'hex'; top: number }
  | { t: 'ladder'; sel: number; top: number }
  | { t: 'mapping'; sel?: number; top?: number; detailTop: number };

export function reduce(s: UiState, a: UiAction): UiState {
  return { ...apply(s, a), version: s.version + 1 };
}

function apply(s: UiState, a: UiAction): UiState {
  switch (a.t) {
    case 'pane':
      return { ...s, pane: a.pane };
    case 'pause':
      return { ...s, paused: !s.paused };
    case 'follow':
      return { ...s, follow: a.on };
    case 'help':
      return a.top === undefined ? without(s, 'help') : { ...s, help: { top: a.top } };
    case 'prompt':
      return a.prompt ? { ...s, prompt: a.prompt } : without(s, 'prompt');
    case 'confirm':
      return a.confirm ? { ...s, confirm: a.confirm } : without(s, 'confirm');
    case 'message':
      return a.message ? { ...s, message: a.message } : without(s, 'message');
    case 'busy':
      return { ...s, busy: a.busy };
    case 'goto':
      return a.digits === undefined ? without(s, 'goto') : { ...s, goto: a.digits };
    case 'filter': {
      const next = { ...without(s, 'pfilter'), sessTop: 0, pktTop: 0, ...(a.pfilter ? { pfilter: a.pfilter } : {}) };
      return a.pktSeq === undefined ? next : { ...next, pktSeq: a.pktSeq };
    }
    case 'session':
      return { ...without(s, 'sessSeq'), ...(a.seq === undefined ? {} : { sessSeq: a.seq }), sessTop: a.top, ladSel: 0, ladTop: 0 };
    case 'sessTop':
      return { ...s, sessTop: a.top };
    case 'packets': {
      const base = without(without(without(s, 'scope'), 'tree'), 'back');
      const next: UiState = { ...base, pane: a.pane, pktTop: 0, treeTop: 0, pktIdx: a.idx ?? 0, ...(a.scope ? { scope: a.scope } : {}), ...(a.back ? { back: a.back } : {}) };
      return a.seq === undefined ? next : { ...next, pktSeq: a.seq };
    }
    case 'packet': {
      const next = { ...without(s, 'tree'), pktTop: a.top, treeTop: 0 };
      if (a.idx !== undefined) next.pktIdx = a.idx;
      if (a.seq !== undefined) next.pktSeq = a.seq;
      return next;
    }
    case 'tree':
      return { ...s, tree: a.tree, ...(a.top !== undefined ? { treeTop: a.top } : {}) };
    case 'hex':
      return { ...s, hexTop: a.top };
    case 'ladder':
      return { ...s, ladSel: a.sel, ladTop: a.top };
    case 'mapping':
      return { ...s, ...(a.sel !== undefined ? { mapSel: a.sel } : {}), ...(a.top !== undefined ? { mapTop: a.top } : {}), mapDetailTop: a.detailTop };
  }
}

function without<K extends keyof UiState>(s: UiState, k: K): UiState {
  if (s[k] === undefined) return s;
  const { [k]: _gone, ...rest } = s;
  return rest as UiState;
}
