// The terminal UI: four views over one data source.
//   Sessions  the engine's exchanges, open ones included (filter, sort, follow) above the ladder
//             of the selected one
//   Packets   the packets of a session or of the whole capture (filtered as the sessions are),
//             the detail tree and the hex dump
//   Ladder    the sequence diagram of a session
//   Mappings  per EID: RLOCs over time, handovers, peers and their latency
// plus a stats bar, a key line that turns into a prompt or a confirmation, and help. Where the user
// is (focus, selections, scroll positions, prompts) is one state changed by a reducer
// (../ui-state.ts); keys are one table (../keymap.ts) that the help is generated from. Everything
// shown comes from the source and src/tui's view modules, read for the rows on screen.

import { Box, useApp, useInput, useStdout, type Key } from 'ink';
import { useEffect, useMemo, useReducer, useRef, useState } from 'react';
import type { FrameRef, Mapping } from '../../flows/types.js';
import { exchangeKind, frameName } from '../../output/flows-text.js';
import { packetTree } from '../../output/packet-tree.js';
import { ActionError, handoverAction, replayAction, resendAction, resolveAction, type Action } from '../actions.js';
import { bindingFor, navOf, wrap, type KeyContext, type Nav } from '../keymap.js';
import { buildLadder, renderLadder } from '../ladder.js';
import { mappingLines } from '../mappings-view.js';
import { PacketFilter, type FilterProgress } from '../packet-filter.js';
import type { Paint } from '../paint.js';
import { SessionView, SORT_KEYS } from '../sessions.js';
import type { Counters, DataSource, PacketView, PendingRows, Session, SourceStatus } from '../source.js';
import { cut, fit, scrollTop } from '../text.js';
import { allKeys, defaultExpanded, flattenTree, nodeRange } from '../tree-view.js';
import { initialState, PANES, reduce, type Confirm, type UiAction } from '../ui-state.js';
import { Lines } from './Lines.js';
import { DetailPane, helpLength, HelpPane, HexPane, LadderPane, MappingsPane, PacketsPane, SessionsPane, StatsBar, TitleBar, titleBarLines } from './panes.js';

export type { Pane } from '../ui-state.js';

export interface AppProps {
  source: DataSource;
  paint: Paint;
  /** Fixed size (tests); by default the terminal's, following resizes. */
  width?: number;
  height?: number;
  /** Called when the user quits (after the UI unmounted itself). */
  onQuit?: () => void;
  /** Start in follow mode (default: for live and lab sources). */
  follow?: boolean;
  /** Display refresh at most this often (default 100 ms). */
  refreshMs?: number;
  /** A `-Y` filter for the sessions and packets to start with (already checked). */
  filter?: string;
}

interface Snapshot {
  end: number;
  first: number;
  sessions: number;
  /** The sessions started and not reported yet, numbered from `sessions` on. */
  pending: PendingRows;
  counters: Counters;
  status: SourceStatus;
  mappings: readonly Mapping[];
  /** How far the packet filter got, and which filter that is. */
  scan: { filter: PacketFilter; progress: FilterProgress } | undefined;
}

function take(source: DataSource, filter: PacketFilter | undefined): Snapshot {
  const r = source.packetRange();
  return {
    ...r,
    sessions: source.sessions().total,
    pending: source.pending(),
    counters: source.counters(),
    status: source.status(),
    mappings: [...source.mappings()],
    scan: filter ? { filter, progress: filter.progress() } : undefined,
  };
}

/** The source (and the packet filter's scan) as of the last refresh; frozen while paused. */
function useSnapshot(source: DataSource, filter: PacketFilter | undefined, paused: boolean, refreshMs: number): Snapshot {
  const [snap, setSnap] = useState(() => take(source, filter));
  const pausedRef = useRef(paused);
  pausedRef.current = paused;
  useEffect(() => {
    let timer: NodeJS.Timeout | undefined;
    let last = 0;
    const fire = () => {
      timer = undefined;
      last = Date.now();
      if (!pausedRef.current) setSnap(take(source, filter));
    };
    const wake = () => {
      if (!timer) timer = setTimeout(fire, Math.max(0, refreshMs - (Date.now() - last)));
    };
    const off = source.subscribe(wake);
    const offScan = filter?.subscribe(wake);
    return () => {
      off();
      offScan?.();
      if (timer) clearTimeout(timer);
    };
  }, [source, filter, refreshMs]);
  useEffect(() => {
    if (!paused) setSnap(take(source, filter));
  }, [paused, source, filter]);
  return snap;
}

function plural(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
}

function useSize(width?: number, height?: number): { width: number; height: number } {
  const { stdout } = useStdout();
  const get = () => ({ width: width ?? stdout.columns ?? 80, height: height ?? stdout.rows ?? 24 });
  const [size, setSize] = useState(get);
  useEffect(() => {
    if (width !== undefined && height !== undefined) return;
    const on = () => setSize(get());
    stdout.on('resize', on);
    return () => {
      stdout.off('resize', on);
    };
  });
  return width !== undefined && height !== undefined ? { width, height } : size;
}

/** A raw control character as the key Ink would have reported had it come alone. */
function keyOfChar(c: string, key: Key): [string, Key] {
  const plainKey = { ...key, ctrl: false, meta: false, return: false, tab: false, backspace: false, delete: false, escape: false };
  if (c === '\r' || c === '\n') return ['', { ...plainKey, return: true }];
  if (c === '\t') return ['', { ...plainKey, tab: true }];
  if (c === '\x7f' || c === '\b') return ['', { ...plainKey, backspace: true }];
  if (c === '\x1b') return ['', { ...plainKey, escape: true }];
  const code = c.charCodeAt(0);
  if (code > 0 && code < 32) return [String.fromCharCode(code + 96), { ...plainKey, ctrl: true }];
  return [c, { ...plainKey, shift: c !== c.toLowerCase() }];
}

/**
 * Ink hands over what one read of the terminal returned: keys typed quickly (or a paste) come as
 * one string. Outside a prompt every character is a key of its own, except a run of j/k (held keys,
 * counted). In a prompt a run of printable text stays whole (a paste) and control characters
 * (Ctrl-U, Enter, Backspace) act as keys between them. Escape sequences (arrows) stay whole.
 */
function splitKeys(typed: string, key: Key, prompt: boolean): Array<[string, Key]> {
  if (typed.length < 2 || (!prompt && /^[jk]+$/.test(typed)) || key.meta || typed.includes('\u001b')) return [[typed, key]];
  if (!prompt) return [...typed].map((c) => keyOfChar(c, key));
  const out: Array<[string, Key]> = [];
  // eslint-disable-next-line no-control-regex
  for (const m of typed.matchAll(/[\x00-\x1f\x7f]|[^\x00-\x1f\x7f]+/g)) out.push(m[0].length === 1 ? keyOfChar(m[0], key) : [m[0], { ...key, ctrl: false }]);
  return out;
}

/** `464` or `2:464` (frame 464 of the second capture) as a frame reference. */
function parseFrame(text: string, multi: boolean): FrameRef | undefined {
  const m = /^(?:(\d+):)?(\d+)$/.exec(text);
  if (!m) return undefined;
  const frame = Number(m[2]);
  const file = m[1] === undefined ? 0 : Number(m[1]) - 1;
  if (frame < 1 || file < 0 || (!multi && m[1] !== undefined && file !== 0)) return undefined;
  return { file, frame };
}

export function App({ source, paint, width: fixedW, height: fixedH, onQuit, follow: follow0, refreshMs = 100, filter }: AppProps) {
  const { exit } = useApp();
  const size = useSize(fixedW, fixedH);
  // One line short of the terminal: Ink repaints the whole screen when its output fills it.
  const W = Math.max(40, size.width);
  const H = Math.max(12, fixedH ?? size.height - 1);
  const [st, apply] = useReducer(reduce, undefined, () =>
    initialState({ follow: follow0 ?? source.kind !== 'file', ...(filter ? { pfilter: new PacketFilter(source, filter) } : {}) }),
  );
  // Counted, so that the next key waits for the render that shows every action dispatched.
  const sent = useRef(0);
  const dispatch = (a: UiAction) => {
    sent.current++;
    apply(a);
  };
  const { pane, follow, paused, pfilter } = st;
  useEffect(() => () => pfilter?.stop(), [pfilter]);
  const snap = useSnapshot(source, pfilter, paused, refreshMs);
  const multi = source.multiFile;

  const view = useMemo(() => {
    const v = new SessionView(multi);
    if (filter) v.setFilter(filter);
    return v;
  }, [source, filter]);
  view.sync(source.sessions().list, snap.sessions, snap.pending);

  // The session drilled into as it is now: an open one gains its answer and closes meanwhile.
  const scope = st.scope && (source.sessionAt(st.scope.seq) ?? st.scope);

  // ---- the frame: title and key lines grow to two lines rather than cut what matters -------------
  const flags = [follow ? 'FOLLOW' : '', paused ? 'PAUSED' : '', st.busy ? 'SENDING' : ''].filter(Boolean).map((f) => paint.bold(f));
  const title = titleBarLines(W, paint, source.title, source.kind, snap.status, flags);

  // ---- sessions ------------------------------------------------------------------------------
  const sessCount = view.count;
  let sessIdx = follow ? sessCount - 1 : view.indexOfSeq(st.sessSeq);
  if (sessIdx < 0) sessIdx = Math.min(sessCount - 1, 0);
  const session: Session | undefined = view.row(sessIdx);

  // ---- packets -------------------------------------------------------------------------------
  const inPackets = pane === 'packets' || pane === 'detail' || pane === 'hex';
  const scoped = scope !== undefined;
  const scopeSeqs = useMemo(() => (scope ? scope.exchange.frames.map((f) => source.seqOf(f)) : []), [scope, source, snap]);
  // The whole capture under the filter: its matches so far (a session's own packets are never filtered).
  const scan = pfilter && (snap.scan?.filter === pfilter ? snap.scan.progress : pfilter.progress());
  const filtered = !scoped && pfilter !== undefined && scan !== undefined;
  const count = scoped ? scopeSeqs.length : filtered ? scan.end - scan.first : snap.end - snap.first;
  let pIdx: number;
  if (scoped) pIdx = Math.min(st.pktIdx, count - 1);
  else if (follow || st.pktSeq === undefined) pIdx = follow ? count - 1 : 0;
  // The selected packet, or the first match after it while it does not match.
  else if (filtered) pIdx = Math.min(pfilter.lowerBound(st.pktSeq, scan.end) - scan.first, count - 1);
  else pIdx = Math.min(Math.max(0, st.pktSeq - snap.first), count - 1);
  pIdx = Math.max(0, pIdx);
  const seqAt = (i: number): number | undefined => (scoped ? scopeSeqs[i] : filtered ? pfilter.at(scan.first + i) : snap.first + i);
  const pSeq = count ? seqAt(pIdx) : undefined;
  const packet: PacketView | undefined = pSeq === undefined ? undefined : source.packet(pSeq);
  const frameLabel = packet ? `frame ${frameName(packet.ref, multi)}` : '';

  // ---- status line (prompt, question, message or keys): one or two lines -----------------------
  const scanNote = filtered && !scan.caughtUp ? `scanning ${Math.floor((scan.scanned / Math.max(1, scan.of)) * 100)}%` : '';
  const statusLines = ((): string[] => {
    const two = (text: string, colour: (s: string) => string) => wrap(text, W - 1).slice(0, 2).map((l) => colour(fit(` ${l}`, W)));
    if (st.confirm) return two(`[y/n] ${st.confirm.question}`, (s) => paint.inverse(paint.fg('yellow', s)));
    if (st.prompt) {
      const base = ` ${st.prompt.label}: ${st.prompt.text}`;
      // The end of what is typed stays in sight.
      return [`${paint.bold(base.length > W - 1 ? `…${base.slice(base.length - (W - 2))}` : base)}${paint.inverse(' ')}`];
    }
    if (st.goto !== undefined) return [paint.bold(fit(` go to frame: ${st.goto}${paint.inverse(' ')}   (Enter: go, Esc: cancel)`, W))];
    if (st.message) return two(st.message.text, (s) => paint.fg(st.message!.error ? 'red' : 'green', s));
    const warn = snap.status.warnings[snap.status.warnings.length - 1];
    const warning = warn && snap.status.state !== 'live' ? `warning: ${warn}` : '';
    if (pfilter && scan) {
      const packets = scan.caughtUp ? `${plural(scan.end - scan.first, 'packet')} of ${scan.of.toLocaleString('en-US')} match` : `${plural(scan.end - scan.first, 'packet')} match so far, scanning ${scan.scanned.toLocaleString('en-US')} of ${scan.of.toLocaleString('en-US')}`;
      return two(`filter ${pfilter.text}: ${plural(sessCount, 'session')} match · ${packets}${warning ? ` · ${warning}` : ''}`, (s) => paint.fg('cyan', s));
    }
    if (warning) return two(warning, (s) => paint.fg('yellow', s));
    return two('Tab pane · ↵ drill in · Esc back · / filter · g go to frame · s sort · f follow · p pause · r/R resend/replay · e resolve · H handover · ? help · q quit', paint.dim);
  })();

  // ---- layout --------------------------------------------------------------------------------
  const mainH = H - title.length - 1 - statusLines.length;
  const wide = W >= 150;
  const sessH = mainH >= 18 ? Math.ceil(mainH * 0.55) : mainH;
  const previewH = mainH - sessH;
  const pktH = wide ? Math.max(5, Math.floor(mainH * 0.45)) : Math.max(4, Math.floor(mainH * 0.36));
  const lowerH = mainH - pktH;
  const treeH = wide ? lowerH : Math.max(3, Math.ceil(lowerH * 0.55));
  const hexH = wide ? lowerH : lowerH - treeH;
  const hexW = wide ? 68 : W;
  const treeW = wide ? W - hexW - 1 : W;
  const sessListH = sessH - 2;
  const sTop = scrollTop(Math.max(0, sessIdx), st.sessTop, sessListH, sessCount);
  const pTop = scrollTop(pIdx, st.pktTop, pktH - 2, count);

  // ---- detail tree and hex -------------------------------------------------------------------
  const root = useMemo(() => (packet ? packetTree(packet.packet, packet.bytes, frameName(packet.ref, multi)) : undefined), [packet, multi]);
  const treeState =
    st.tree && packet && st.tree.seq === packet.seq
      ? st.tree
      : root && packet
        ? (() => {
            const d = defaultExpanded(root);
            return { seq: packet.seq, expanded: d.expanded, sel: d.selected };
          })()
        : undefined;
  const treeRows = root && treeState ? flattenTree(root, treeState.expanded) : [];
  let tIdx = treeState ? treeRows.findIndex((r) => r.key === treeState.sel) : -1;
  if (tIdx < 0) tIdx = 0;
  const tTop = scrollTop(tIdx, st.treeTop, treeH - 1, treeRows.length);
  const node = treeRows[tIdx]?.node;
  const range = node ? nodeRange(node) : undefined;
  const hexLines = packet ? Math.ceil(packet.bytes.length / 16) : 0;
  const hexFocusLine = range && range.end > range.start ? Math.floor(range.start / 16) : 0;
  const hTop = pane === 'hex' ? Math.max(0, Math.min(st.hexTop, hexLines - (hexH - 1))) : scrollTop(hexFocusLine, st.hexTop, hexH - 1, hexLines);

  // ---- ladder --------------------------------------------------------------------------------
  const ladderSession = inPackets && scope ? scope : session;
  const ladder = useMemo(() => {
    if (!ladderSession) return undefined;
    const views = ladderSession.exchange.frames.map((f) => {
      const seq = source.seqOf(f);
      return seq === undefined ? undefined : source.packet(seq);
    });
    return buildLadder(ladderSession, views, source.roles(), multi);
  }, [ladderSession, source, snap, multi]);
  const ladderText = useMemo(() => (ladder ? renderLadder(ladder, W - 2) : undefined), [ladder, W]);
  const ladCount = ladder?.steps.length ?? 0;
  const lIdx = Math.max(0, Math.min(st.ladSel, ladCount - 1));
  const ladH = pane === 'ladder' ? mainH : previewH;
  const lTop = scrollTop(lIdx, st.ladTop, ladH - 4, ladCount);

  // ---- mappings ------------------------------------------------------------------------------
  const maps = snap.mappings;
  // Until the user picks one: the first EID that was handed over.
  const mIdx = Math.max(0, Math.min(st.mapSel ?? Math.max(0, maps.findIndex((m) => m.handovers.length > 0)), maps.length - 1));
  const mTop = scrollTop(mIdx, st.mapTop, mainH - 1, maps.length);

  // ---- what keys do --------------------------------------------------------------------------
  const say = (text: string, error = false) => dispatch({ t: 'message', message: { text, ...(error ? { error } : {}) } });

  const startAction = (make: () => Action) => {
    if (st.busy) return say('an action is still running', true);
    let action: Action;
    try {
      action = make();
    } catch (e) {
      return say((e as Error).message, true);
    }
    const ask = (answer: string) => {
      try {
        dispatch({ t: 'confirm', confirm: { question: action.confirm(answer), action, answer } });
        dispatch({ t: 'prompt' });
      } catch (e) {
        if (!(e instanceof ActionError)) throw e;
        const p = promptRef.current;
        if (p) dispatch({ t: 'prompt', prompt: { ...p, text: answer, error: e.message } });
      }
    };
    if (action.prompt) dispatch({ t: 'prompt', prompt: { label: action.prompt.label, text: action.prompt.initial, submit: ask } });
    else ask('');
  };

  const runConfirmed = (c: Confirm) => {
    dispatch({ t: 'confirm' });
    dispatch({ t: 'busy', busy: true });
    say('sending…');
    c.action.run(c.answer).then(
      (text) => {
        dispatch({ t: 'busy', busy: false });
        say(text);
      },
      (e: unknown) => {
        dispatch({ t: 'busy', busy: false });
        say((e as Error).message, true);
      },
    );
  };

  /** Sets the `-Y` filter of the sessions and of the whole capture's packets; the error when it does not compile. */
  const applyFilter = (text: string): string | undefined => {
    const err = view.setFilter(text);
    if (err) return err;
    view.sync(source.sessions().list, snap.sessions, snap.pending);
    // The packet selected stays the anchor: the filtered list selects the first match from it on,
    // the full list (filter cleared) that packet again.
    dispatch({ t: 'filter', ...(text.trim() ? { pfilter: new PacketFilter(source, text) } : {}), ...(!scoped && pSeq !== undefined ? { pktSeq: pSeq } : {}) });
    return undefined;
  };

  /** The new index for a list of `n` rows at `cur`, `page` rows a screen. */
  const moved = (nav: Nav, cur: number, n: number, page: number): number => {
    if (n <= 0) return 0;
    let next = cur;
    if (nav.to === 'first') next = 0;
    else if (nav.to === 'last') next = n - 1;
    else if (nav.page) next = cur + nav.page * Math.max(1, page - 1);
    else next = cur + (nav.delta ?? 0);
    return Math.max(0, Math.min(n - 1, next));
  };

  /** Goes to frame `text` of the capture: its packet in the whole capture's list. */
  const goToFrame = (text: string) => {
    const ref = parseFrame(text.trim(), multi);
    if (!ref) return say(`go to frame: "${text}" is not a frame number${multi ? ' (FILE:FRAME with several files, e.g. 2:17)' : ''}`, true);
    const seq = source.seqOf(ref);
    if (seq === undefined) return say(`frame ${frameName(ref, multi)} is not in the capture${source.kind === 'file' ? '' : ' (or no longer kept)'}`, true);
    if (follow) dispatch({ t: 'follow', on: false });
    dispatch({ t: 'packets', seq, pane: 'packets', ...(scope ? { back: scope } : {}) });
    if (filtered && scan.caughtUp && pfilter.at(pfilter.lowerBound(seq)) !== seq) say(`frame ${frameName(ref, multi)} does not match the filter: the first match after it is selected`);
  };

  const ctx: KeyContext = {
    pane,
    quit: () => {
      exit();
      onQuit?.();
    },
    showHelp: () => dispatch({ t: 'help', top: 0 }),
    switchPane: (p) => dispatch({ t: 'pane', pane: p }),
    cyclePane: (back) => {
      const i = PANES.indexOf(pane);
      dispatch({ t: 'pane', pane: PANES[(i + (back ? PANES.length - 1 : 1)) % PANES.length]! });
    },
    toggleFollow: () => {
      // Following shows the newest packets of the whole capture, not a session's.
      if (!follow && inPackets && scope) dispatch({ t: 'packets', pane: 'packets' });
      dispatch({ t: 'follow', on: !follow });
    },
    togglePause: () => dispatch({ t: 'pause' }),
    openFilter: () =>
      dispatch({
        t: 'prompt',
        prompt: {
          label: 'filter sessions and packets (-Y)',
          text: view.filterText,
          submit: (text) => {
            const err = applyFilter(text);
            const p = promptRef.current;
            if (err) {
              if (p) dispatch({ t: 'prompt', prompt: { ...p, text, error: err } });
              return;
            }
            dispatch({ t: 'prompt' });
            // The whole capture's packets show the filter's effect where they are; else the sessions.
            if (!(inPackets && !scoped)) dispatch({ t: 'pane', pane: 'sessions' });
            // While a filter is set the status line says what it matches; clearing it is said once.
            if (!text.trim()) say('filter cleared');
          },
        },
      }),
    sort: (reverse) => {
      if (reverse) view.setSort(view.sortKey, !view.desc);
      else view.setSort(SORT_KEYS[(SORT_KEYS.indexOf(view.sortKey) + 1) % SORT_KEYS.length]!, view.desc);
      dispatch({ t: 'sessTop', top: 0 });
      say(`sessions sorted by ${view.sortKey}${view.desc ? ', descending' : ''}`);
    },
    act: (what) => {
      const cur = pane === 'sessions' || pane === 'mappings' ? session : (ladderSession ?? session);
      if (what === 'resolve') return startAction(() => resolveAction(source, cur));
      if (what === 'handover') return startAction(() => handoverAction(source));
      if (!cur) return say('no session selected', true);
      startAction(() => (what === 'resend' ? resendAction(source, cur) : replayAction(source, cur)));
    },
    escape: () => {
      if (pane !== 'sessions') dispatch({ t: 'pane', pane: 'sessions' });
    },
    startGoto: () => {
      ctx.move({ to: 'first' });
      dispatch({ t: 'goto', digits: '' });
    },
    move: (nav) => {
      switch (pane) {
        case 'sessions': {
          const next = moved(nav, sessIdx, sessCount, sessListH);
          if (follow && next !== sessCount - 1) dispatch({ t: 'follow', on: false });
          dispatch({ t: 'session', seq: view.row(next)?.seq, top: scrollTop(next, sTop, sessListH, sessCount) });
          return;
        }
        case 'packets': {
          const next = moved(nav, pIdx, count, pktH - 2);
          const top = scrollTop(next, pTop, pktH - 2, count);
          if (scoped) return dispatch({ t: 'packet', idx: next, top });
          if (follow && next !== count - 1) dispatch({ t: 'follow', on: false });
          const seq = seqAt(next);
          return dispatch({ t: 'packet', ...(seq !== undefined ? { seq } : {}), top });
        }
        case 'detail': {
          if (!treeState) return;
          const next = moved(nav, tIdx, treeRows.length, treeH - 1);
          return dispatch({ t: 'tree', tree: { ...treeState, sel: treeRows[next]!.key }, top: scrollTop(next, tTop, treeH - 1, treeRows.length) });
        }
        case 'hex':
          return dispatch({ t: 'hex', top: moved(nav, hTop, Math.max(1, hexLines - (hexH - 1) + 1), hexH - 1) });
        case 'ladder': {
          const next = moved(nav, lIdx, ladCount, ladH - 4);
          return dispatch({ t: 'ladder', sel: next, top: scrollTop(next, lTop, ladH - 4, ladCount) });
        }
        case 'mappings': {
          const m = maps[mIdx];
          if (nav.page) {
            // A page scrolls the selected mapping's story.
            const body = m ? mappingLines(m, 200, paint, multi).length : 0;
            const page = mainH - 2;
            return dispatch({ t: 'mapping', detailTop: Math.max(0, Math.min(body - page, st.mapDetailTop + nav.page * page)) });
          }
          const next = moved(nav, mIdx, maps.length, mainH - 1);
          return dispatch({ t: 'mapping', sel: next, top: scrollTop(next, mTop, mainH - 1, maps.length), detailTop: 0 });
        }
      }
    },
    enter: () => {
      switch (pane) {
        case 'sessions':
          if (session) dispatch({ t: 'packets', scope: session, pane: 'packets' });
          return;
        case 'packets':
          return dispatch({ t: 'pane', pane: 'detail' });
        case 'detail':
          return ctx.tree('toggle');
        case 'ladder': {
          const step = ladder?.steps[lIdx];
          if (step && ladderSession) {
            const at = ladderSession.exchange.frames.findIndex((f) => f.frame === step.ref.frame && f.file === step.ref.file);
            dispatch({ t: 'packets', scope: ladderSession, idx: Math.max(0, at), pane: 'detail' });
          }
          return;
        }
        case 'mappings': {
          const m = maps[mIdx];
          if (!m) return;
          applyFilter(`eid == ${m.eid}`);
          dispatch({ t: 'pane', pane: 'sessions' });
          return say(`sessions of ${m.eid} (/ to change the filter)`);
        }
      }
    },
    toggleAll: () => {
      if (scope) {
        // Every packet, on the frame that was selected in the session.
        return dispatch({ t: 'packets', ...(pSeq !== undefined ? { seq: pSeq } : {}), pane: 'packets', back: scope });
      }
      const back = st.back ?? session;
      if (!back) return;
      // Back to the session's own packets, on the same frame when it is one of them.
      const at = pSeq === undefined ? -1 : back.exchange.frames.findIndex((f) => source.seqOf(f) === pSeq);
      dispatch({ t: 'packets', scope: back, idx: Math.max(0, at), pane: 'packets' });
    },
    tree: (op) => {
      if (!treeState || !root) return;
      const r = treeRows[tIdx];
      if (op === 'all') return dispatch({ t: 'tree', tree: { ...treeState, expanded: allKeys(root) } });
      if (!r) return;
      const open = op === 'toggle' ? !r.open : op === 'open';
      const ex = new Set(treeState.expanded);
      if (r.hasChildren && open) ex.add(r.key);
      else if (r.hasChildren && r.open) ex.delete(r.key);
      else if (!open && r.key.includes('.')) return dispatch({ t: 'tree', tree: { ...treeState, expanded: ex, sel: r.key.slice(0, r.key.lastIndexOf('.')) } });
      dispatch({ t: 'tree', tree: { ...treeState, expanded: ex, sel: r.key } });
    },
  };

  // The handler of the latest render, whatever Ink last subscribed (its effects may lag a render).
  const promptRef = useRef(st.prompt);
  promptRef.current = st.prompt;
  const handler = useRef<(typed: string, key: Key) => void>(() => undefined);
  handler.current = (input: string, key: Key) => {
    if (st.confirm) {
      if (input === 'y' || input === 'Y') runConfirmed(st.confirm);
      else {
        dispatch({ t: 'confirm' });
        say('cancelled: nothing sent');
      }
      return;
    }
    const p = st.prompt;
    if (p) {
      if (key.escape) dispatch({ t: 'prompt' });
      else if (key.return) p.submit(p.text);
      else if (key.backspace || key.delete) dispatch({ t: 'prompt', prompt: { ...p, text: p.text.slice(0, -1), error: undefined } as typeof p });
      else if (key.ctrl && input === 'u') dispatch({ t: 'prompt', prompt: { ...p, text: '', error: undefined } as typeof p });
      else if (input && !key.ctrl && !key.meta && !key.tab) dispatch({ t: 'prompt', prompt: { ...p, text: p.text + input.replace(/[\r\n]/g, ''), error: undefined } as typeof p });
      return;
    }
    if (st.help) {
      // The help scrolls when it is longer than the screen; any other key closes it.
      const nav = navOf(input, key);
      const len = helpLength(W);
      if (nav && len > mainH - 1) {
        const page = mainH - 2;
        const top = nav.to === 'first' ? 0 : nav.to === 'last' ? len : st.help.top + (nav.page ? nav.page * page : (nav.delta ?? 0));
        return dispatch({ t: 'help', top: Math.max(0, Math.min(len - (mainH - 1), top)) });
      }
      dispatch({ t: 'help' });
      if (input === 'q') ctx.quit();
      return;
    }
    if (st.goto !== undefined) {
      // After g: digits (and ':' with several files) name a frame; Enter goes there.
      if (/^[\d:]+$/.test(input) && !key.ctrl) return dispatch({ t: 'goto', digits: st.goto + input });
      if (key.backspace || key.delete) return dispatch({ t: 'goto', digits: st.goto.slice(0, -1) });
      dispatch({ t: 'goto' });
      if (key.return && st.goto !== '') return goToFrame(st.goto);
      if (key.escape) return;
    }
    if (st.message) dispatch({ t: 'message' });
    bindingFor(input, key, pane)?.run(ctx, input, key);
  };

  // A key acts on the state its render saw: keys typed faster than the screen redraws (a paste, a
  // busy machine) wait for the render that follows the key before them, then run in order.
  const waiting = useRef<Array<[string, Key]>>([]);
  const rendering = useRef(false);
  const [, setKeyTick] = useState(0);
  const runNext = () => {
    const next = waiting.current.shift();
    if (!next) return;
    const [first, ...rest] = splitKeys(next[0], next[1], promptRef.current !== undefined);
    waiting.current.unshift(...rest);
    rendering.current = true;
    setKeyTick((t) => t + 1);
    handler.current(...first!);
  };
  useInput((typed, key) => {
    waiting.current.push([typed, key]);
    if (!rendering.current) runNext();
  });
  useEffect(() => {
    // A render before the last key's actions took effect: the next key waits for theirs.
    if (st.version < sent.current) return;
    rendering.current = false;
    runNext();
  });

  // ---- render --------------------------------------------------------------------------------
  const sessionsPane = (h: number, focused: boolean) => (
    <SessionsPane width={W} height={h} paint={paint} focused={focused} view={view} selected={Math.max(0, sessIdx)} top={sTop} multi={multi} follow={follow} done={snap.status.state === 'done'} />
  );
  const ladderPane = (h: number, focused: boolean) => (
    <LadderPane width={W} height={h} paint={paint} focused={focused} ladder={ladder} text={ladderText} selected={lIdx} top={lTop} />
  );
  const packetsTitle = scope ? `Packets of ${exchangeKind(scope.exchange)} ${scope.exchange.eid} (a: all)` : 'Packets (a: this session only)';

  let main;
  if (st.help) main = <HelpPane width={W} height={mainH} paint={paint} top={st.help.top} />;
  else if (pane === 'sessions') {
    main = (
      <Box flexDirection="column">
        {sessionsPane(sessH, true)}
        {previewH > 0 ? ladderPane(previewH, false) : null}
      </Box>
    );
  } else if (inPackets) {
    const detail = <DetailPane width={treeW} height={treeH} paint={paint} focused={pane === 'detail'} rows={treeRows} selected={tIdx} top={tTop} frame={frameLabel} />;
    const hex = <HexPane width={hexW} height={hexH} paint={paint} focused={pane === 'hex'} bytes={packet?.bytes} range={range} top={hTop} />;
    main = (
      <Box flexDirection="column">
        <PacketsPane
          width={W}
          height={pktH}
          paint={paint}
          focused={pane === 'packets'}
          title={packetsTitle}
          filter={filtered ? pfilter.text : ''}
          scanning={scanNote}
          count={count}
          selected={pIdx}
          top={pTop}
          row={(i) => {
            const seq = seqAt(i);
            const ref = scoped ? scope!.exchange.frames[i] : undefined;
            return { view: seq === undefined ? undefined : source.packet(seq), label: ref ? frameName(ref, multi) : `${(seq ?? 0) + 1}` };
          }}
          showSender={source.kind === 'lab'}
          follow={follow && !scoped}
          multi={multi}
        />
        {wide ? (
          <Box flexDirection="row">
            {detail}
            <Box width={1} />
            {hex}
          </Box>
        ) : (
          <Box flexDirection="column">
            {detail}
            {hex}
          </Box>
        )}
      </Box>
    );
  } else if (pane === 'ladder') main = ladderPane(mainH, true);
  else main = <MappingsPane width={W} height={mainH} paint={paint} focused mappings={maps} selected={mIdx} top={mTop} detailTop={st.mapDetailTop} multi={multi} />;

  return (
    <Box flexDirection="column" width={W} height={H}>
      <TitleBar width={W} lines={title} />
      {main}
      {st.prompt?.error ? (
        <Lines lines={[paint.fg('red', fit(` ✗ ${cut(st.prompt.error, W - 4)}`, W))]} width={W} height={1} />
      ) : (
        <StatsBar width={W} paint={paint} c={{ ...snap.counters, sessions: snap.counters.sessions + snap.pending.count }} live={source.kind !== 'file'} />
      )}
      <Lines lines={statusLines} width={W} height={statusLines.length} />
    </Box>
  );
}
