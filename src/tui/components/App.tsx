// The terminal UI: four views over one data source.
//   Sessions  the engine's exchanges, open ones included (filter, sort, follow) above the ladder
//             of the selected one
//   Packets   the packets of a session or of the whole capture (filtered as the sessions are),
//             the detail tree and the hex dump
//   Ladder    the sequence diagram of a session
//   Mappings  per EID: RLOCs over time, handovers, peers and their latency
// plus a stats bar, a key line that turns into a prompt or a confirmation, and help. The App keeps
// only UI state (focus, selections, scroll positions, modal prompts); everything shown comes from
// the source and src/tui's view modules, read for the rows on screen.

import { Box, useApp, useInput, useStdout, type Key } from 'ink';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Mapping } from '../../flows/types.js';
import { exchangeKind } from '../../output/flows-text.js';
import { packetTree } from '../../output/packet-tree.js';
import { ActionError, handoverAction, replayAction, resendAction, resolveAction, type Action } from '../actions.js';
import { buildLadder, renderLadder } from '../ladder.js';
import { mappingLines } from '../mappings-view.js';
import { PacketFilter, type FilterProgress } from '../packet-filter.js';
import type { Paint } from '../paint.js';
import { SessionView, sessionBySeq, SORT_KEYS } from '../sessions.js';
import type { Counters, DataSource, PacketView, Session, SourceStatus } from '../source.js';
import { cut, fit, scrollTop } from '../text.js';
import { allKeys, defaultExpanded, flattenTree, nodeRange } from '../tree-view.js';
import { Lines } from './Lines.js';
import { DetailPane, HelpPane, HexPane, LadderPane, MappingsPane, PacketsPane, SessionsPane, StatsBar, TitleBar } from './panes.js';

export type Pane = 'sessions' | 'packets' | 'detail' | 'hex' | 'ladder' | 'mappings';
const PANES: Pane[] = ['sessions', 'packets', 'detail', 'hex', 'ladder', 'mappings'];

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
  pending: Session[];
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
    pending: source.pendingSessions(),
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

interface Prompt {
  label: string;
  text: string;
  error?: string;
  submit(text: string): void;
}

interface Confirm {
  question: string;
  action: Action;
  answer: string;
}

/**
 * Ink hands over what one read of the terminal returned: keys typed quickly (or a paste) come as one
 * string. Plain characters are keys of their own; a run of j/k stays whole (held keys, counted).
 */
function splitKeys(typed: string, key: Key): Array<[string, Key]> {
  if (typed.length < 2 || /^[jk]+$/.test(typed) || key.ctrl || key.meta || typed.includes('\u001b')) return [[typed, key]];
  return [...typed].map((c): [string, Key] => [c, { ...key, return: c === '\r', tab: c === '\t', shift: c !== c.toLowerCase() }]);
}

export function App({ source, paint, width: fixedW, height: fixedH, onQuit, follow: follow0, refreshMs = 100, filter }: AppProps) {
  const { exit } = useApp();
  const size = useSize(fixedW, fixedH);
  // One line short of the terminal: Ink repaints the whole screen when its output fills it.
  const W = Math.max(40, size.width);
  const H = Math.max(12, fixedH ?? size.height - 1);
  const [pane, setPane] = useState<Pane>('sessions');
  const [paused, setPaused] = useState(false);
  const [follow, setFollow] = useState(follow0 ?? source.kind !== 'file');
  const [help, setHelp] = useState(false);
  const [prompt, setPrompt] = useState<Prompt | undefined>();
  const [confirm, setConfirm] = useState<Confirm | undefined>();
  const [message, setMessage] = useState<{ text: string; error?: boolean } | undefined>();
  const [busy, setBusy] = useState(false);
  // The `/` filter over the packets of the whole capture, scanned in the background.
  const [pfilter, setPfilter] = useState<PacketFilter | undefined>(() => (filter ? new PacketFilter(source, filter) : undefined));
  useEffect(() => () => pfilter?.stop(), [pfilter]);
  const snap = useSnapshot(source, pfilter, paused, refreshMs);

  const view = useMemo(() => {
    const v = new SessionView(source.multiFile);
    if (filter) v.setFilter(filter);
    return v;
  }, [source, filter]);
  view.sync(source.sessions().list, snap.sessions, snap.pending);
  const [sessSeq, setSessSeq] = useState<number | undefined>();
  const [sessTop, setSessTop] = useState(0);

  const [scopeSel, setScope] = useState<Session | undefined>();
  // The session drilled into as it is now: an open one gains its answer and closes meanwhile.
  const scope = scopeSel && (sessionBySeq(source.sessions().list, snap.pending, scopeSel.seq) ?? scopeSel);
  const [pktSeq, setPktSeq] = useState<number | undefined>();
  const [pktIdx, setPktIdx] = useState(0);
  const [pktTop, setPktTop] = useState(0);

  const [tree, setTree] = useState<{ seq: number; expanded: Set<string>; sel: string } | undefined>();
  const [treeTop, setTreeTop] = useState(0);
  const [hexTop, setHexTop] = useState(0);
  const [ladSel, setLadSel] = useState(0);
  const [ladTop, setLadTop] = useState(0);
  const [mapSel, setMapSel] = useState<number | undefined>();
  const [mapTop, setMapTop] = useState(0);
  const [mapDetailTop, setMapDetailTop] = useState(0);

  // ---- layout --------------------------------------------------------------------------------
  const mainH = H - 3;
  const wide = W >= 150;
  const sessH = mainH >= 18 ? Math.ceil(mainH * 0.55) : mainH;
  const previewH = mainH - sessH;
  const pktH = wide ? Math.max(5, Math.floor(mainH * 0.45)) : Math.max(4, Math.floor(mainH * 0.36));
  const lowerH = mainH - pktH;
  const treeH = wide ? lowerH : Math.max(3, Math.ceil(lowerH * 0.55));
  const hexH = wide ? lowerH : lowerH - treeH;
  const hexW = wide ? 68 : W;
  const treeW = wide ? W - hexW - 1 : W;

  // ---- sessions ------------------------------------------------------------------------------
  const rows = view.rows;
  let sessIdx = follow ? rows.length - 1 : view.indexOfSeq(sessSeq);
  if (sessIdx < 0) sessIdx = Math.min(rows.length - 1, 0);
  const session: Session | undefined = rows[sessIdx];
  const sessListH = sessH - 2;
  const sTop = scrollTop(Math.max(0, sessIdx), sessTop, sessListH, rows.length);

  // ---- packets -------------------------------------------------------------------------------
  const inPackets = pane === 'packets' || pane === 'detail' || pane === 'hex';
  const scoped = scope !== undefined;
  const scopeSeqs = useMemo(() => (scope ? scope.exchange.frames.map((f) => source.seqOf(f)) : []), [scope, source, snap]);
  // The whole capture under the filter: its matches so far (a session's own packets are never filtered).
  const scan = pfilter && (snap.scan?.filter === pfilter ? snap.scan.progress : pfilter.progress());
  const filtered = !scoped && pfilter !== undefined && scan !== undefined;
  const count = scoped ? scopeSeqs.length : filtered ? scan.end - scan.first : snap.end - snap.first;
  let pIdx: number;
  if (scoped) pIdx = Math.min(pktIdx, count - 1);
  else if (follow || pktSeq === undefined) pIdx = follow ? count - 1 : 0;
  // The selected packet, or the first match after it while it does not match.
  else if (filtered) pIdx = Math.min(pfilter.lowerBound(pktSeq, scan.end) - scan.first, count - 1);
  else pIdx = Math.min(Math.max(0, pktSeq - snap.first), count - 1);
  pIdx = Math.max(0, pIdx);
  const seqAt = (i: number): number | undefined => (scoped ? scopeSeqs[i] : filtered ? pfilter.at(scan.first + i) : snap.first + i);
  const pSeq = count ? seqAt(pIdx) : undefined;
  const packet: PacketView | undefined = pSeq === undefined ? undefined : source.packet(pSeq);
  const pTop = scrollTop(pIdx, pktTop, pktH - 2, count);

  // ---- detail tree and hex -------------------------------------------------------------------
  const root = useMemo(() => (packet ? packetTree(packet.packet, packet.bytes) : undefined), [packet]);
  const treeState = tree && packet && tree.seq === packet.seq ? tree : root && packet ? { seq: packet.seq, ...(() => { const d = defaultExpanded(root); return { expanded: d.expanded, sel: d.selected }; })() } : undefined;
  const treeRows = root && treeState ? flattenTree(root, treeState.expanded) : [];
  let tIdx = treeState ? treeRows.findIndex((r) => r.key === treeState.sel) : -1;
  if (tIdx < 0) tIdx = 0;
  const tTop = scrollTop(tIdx, treeTop, treeH - 1, treeRows.length);
  const node = treeRows[tIdx]?.node;
  const range = node ? nodeRange(node) : undefined;
  const hexLines = packet ? Math.ceil(packet.bytes.length / 16) : 0;
  const hexFocusLine = range && range.end > range.start ? Math.floor(range.start / 16) : 0;
  const hTop = pane === 'hex' ? Math.max(0, Math.min(hexTop, hexLines - (hexH - 1))) : scrollTop(hexFocusLine, hexTop, hexH - 1, hexLines);

  // ---- ladder --------------------------------------------------------------------------------
  const ladderSession = inPackets && scope ? scope : session;
  const ladder = useMemo(() => {
    if (!ladderSession) return undefined;
    const views = ladderSession.exchange.frames.map((f) => {
      const seq = source.seqOf(f);
      return seq === undefined ? undefined : source.packet(seq);
    });
    return buildLadder(ladderSession, views, source.roles());
  }, [ladderSession, source, snap]);
  const ladderW = W;
  const ladderText = useMemo(() => (ladder ? renderLadder(ladder, ladderW - 2) : undefined), [ladder, ladderW]);
  const ladCount = ladder?.steps.length ?? 0;
  const lIdx = Math.max(0, Math.min(ladSel, ladCount - 1));
  const ladH = pane === 'ladder' ? mainH : previewH;
  const lTop = scrollTop(lIdx, ladTop, ladH - 4, ladCount);

  // ---- mappings ------------------------------------------------------------------------------
  const maps = snap.mappings;
  // Until the user picks one: the first EID that was handed over.
  const mIdx = Math.max(0, Math.min(mapSel ?? Math.max(0, maps.findIndex((m) => m.handovers.length > 0)), maps.length - 1));
  const mTop = scrollTop(mIdx, mapTop, mainH - 1, maps.length);

  // ---- keys ----------------------------------------------------------------------------------
  const quit = () => {
    exit();
    onQuit?.();
  };

  const startAction = (make: () => Action) => {
    if (busy) {
      setMessage({ text: 'an action is still running', error: true });
      return;
    }
    let action: Action;
    try {
      action = make();
    } catch (e) {
      setMessage({ text: (e as Error).message, error: true });
      return;
    }
    const ask = (answer: string) => {
      try {
        setConfirm({ question: action.confirm(answer), action, answer });
        setPrompt(undefined);
      } catch (e) {
        if (!(e instanceof ActionError)) throw e;
        setPrompt((p) => (p ? { ...p, text: answer, error: e.message } : p));
      }
    };
    if (action.prompt) setPrompt({ label: action.prompt.label, text: action.prompt.initial, submit: ask });
    else ask('');
  };

  const runConfirmed = (c: Confirm) => {
    setConfirm(undefined);
    setBusy(true);
    setMessage({ text: 'sending…' });
    c.action.run(c.answer).then(
      (text) => {
        setBusy(false);
        setMessage({ text });
      },
      (e: unknown) => {
        setBusy(false);
        setMessage({ text: (e as Error).message, error: true });
      },
    );
  };

  /** Sets the `-Y` filter of the sessions and of the whole capture's packets; the error when it does not compile. */
  const applyFilter = (text: string): string | undefined => {
    const err = view.setFilter(text);
    if (err) return err;
    view.sync(source.sessions().list, snap.sessions, snap.pending);
    setPfilter(text.trim() ? new PacketFilter(source, text) : undefined);
    // The packet selected stays the anchor: the filtered list selects the first match from it on,
    // the full list (filter cleared) that packet again.
    if (!scoped && pSeq !== undefined) setPktSeq(pSeq);
    setSessTop(0);
    setPktTop(0);
    return undefined;
  };

  const toPackets = (s: Session | undefined, at = 0, focus: Pane = 'packets') => {
    setScope(s);
    setPktIdx(at);
    setPktTop(0);
    setTree(undefined);
    setPane(focus);
  };

  const move = (delta: number, key: Key, input: string) => {
    // Returns the new index for a list of `n` rows at `cur`, `page` rows a screen.
    return (cur: number, n: number, page: number): number => {
      if (n <= 0) return 0;
      let next = cur;
      if (key.home || input === 'g') next = 0;
      else if (key.end || input === 'G') next = n - 1;
      else if (key.pageDown || (key.ctrl && input === 'd')) next = cur + Math.max(1, page - 1);
      else if (key.pageUp || (key.ctrl && input === 'u')) next = cur - Math.max(1, page - 1);
      else next = cur + delta;
      return Math.max(0, Math.min(n - 1, next));
    };
  };

  const isNav = (key: Key, input: string) =>
    key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.home || key.end || input === 'j' || input === 'k' || input === 'g' || input === 'G' || (key.ctrl && (input === 'd' || input === 'u'));

  // The handler of the latest render, whatever Ink last subscribed (its effects may lag a render).
  const handler = useRef<(typed: string, key: Key) => void>(() => undefined);
  // A key acts on the state its render saw: keys typed faster than the screen redraws (a paste, a
  // busy machine) wait for the render that follows the key before them, then run in order.
  const waiting = useRef<Array<[string, Key]>>([]);
  const rendering = useRef(false);
  const [, setKeyTick] = useState(0);
  const typing = useRef(false);
  typing.current = prompt !== undefined;
  const runNext = () => {
    const next = waiting.current.shift();
    if (!next) return;
    // Text for a prompt stays whole (a paste); anything else is one key at a time.
    const [first, ...rest] = typing.current ? [next] : splitKeys(...next);
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
    rendering.current = false;
    runNext();
  });
  handler.current = (typed: string, key: Key) => {
    let input = typed;
    if (confirm) {
      if (input === 'y' || input === 'Y') runConfirmed(confirm);
      else {
        setConfirm(undefined);
        setMessage({ text: 'cancelled: nothing sent' });
      }
      return;
    }
    if (prompt) {
      if (key.escape) setPrompt(undefined);
      else if (key.return) prompt.submit(prompt.text);
      else if (key.backspace || key.delete) setPrompt({ ...prompt, text: prompt.text.slice(0, -1), error: undefined });
      else if (key.ctrl && input === 'u') setPrompt({ ...prompt, text: '', error: undefined });
      else if (input && !key.ctrl && !key.meta && !key.tab) setPrompt({ ...prompt, text: prompt.text + input.replace(/[\r\n]/g, ''), error: undefined });
      return;
    }
    if (help) {
      setHelp(false);
      if (input === 'q') quit();
      return;
    }
    setMessage(undefined);
    if (input === 'q' || (key.ctrl && input === 'c')) return quit();
    if (input === '?') return setHelp(true);
    if (key.tab) {
      const i = PANES.indexOf(pane);
      const next = PANES[(i + (key.shift ? PANES.length - 1 : 1)) % PANES.length]!;
      if (next === 'packets' && !inPackets && session && !scope) setScope(undefined);
      return setPane(next);
    }
    if (input === '1') return setPane('sessions');
    if (input === '2') return setPane('packets');
    if (input === '3') return setPane('ladder');
    if (input === '4') return setPane('mappings');
    if (input === 'f') {
      if (!follow) {
        setPane(inPackets ? (scope ? 'packets' : pane) : pane);
        if (inPackets) setScope(undefined);
      }
      return setFollow(!follow);
    }
    if (input === 'p') return setPaused(!paused);
    if (input === '/') {
      return setPrompt({
        label: 'filter sessions and packets (-Y)',
        text: view.filterText,
        submit: (text) => {
          const err = applyFilter(text);
          if (err) setPrompt((p) => (p ? { ...p, text, error: err } : p));
          else {
            setPrompt(undefined);
            // The whole capture's packets show the filter's effect where they are; else the sessions.
            if (!(inPackets && !scoped)) setPane('sessions');
            // While a filter is set the status line says what it matches; clearing it is said once.
            setMessage(text.trim() ? undefined : { text: 'filter cleared' });
          }
        },
      });
    }
    if (input === 's' || input === 'S') {
      if (input === 's') view.setSort(SORT_KEYS[(SORT_KEYS.indexOf(view.sortKey) + 1) % SORT_KEYS.length]!, view.desc);
      else view.setSort(view.sortKey, !view.desc);
      setSessTop(0);
      return setMessage({ text: `sessions sorted by ${view.sortKey}${view.desc ? ', descending' : ''}` });
    }
    const cur = pane === 'sessions' || pane === 'mappings' ? session : (ladderSession ?? session);
    if (input === 'r') return cur ? startAction(() => resendAction(source, cur)) : setMessage({ text: 'no session selected', error: true });
    if (input === 'R') return cur ? startAction(() => replayAction(source, cur)) : setMessage({ text: 'no session selected', error: true });
    if (input === 'e') return startAction(() => resolveAction(source, cur));
    if (input === 'H') return startAction(() => handoverAction(source));
    if (key.escape) {
      if (pane !== 'sessions') setPane('sessions');
      return;
    }

    // Held keys arrive together ("jjjj"): each counts.
    let delta = key.downArrow ? 1 : key.upArrow ? -1 : 0;
    if (/^[jk]+$/.test(input)) {
      delta = [...input].reduce((n, c) => n + (c === 'j' ? 1 : -1), 0);
      input = 'j';
    }
    const nav = move(delta, key, input);
    switch (pane) {
      case 'sessions': {
        if (key.return) {
          if (session) toPackets(session);
          return;
        }
        if (isNav(key, input)) {
          const next = nav(sessIdx, rows.length, sessListH);
          if (follow && next !== rows.length - 1) setFollow(false);
          setSessSeq(rows[next]?.seq);
          setSessTop(scrollTop(next, sTop, sessListH, rows.length));
          setLadSel(0);
          setLadTop(0);
        }
        return;
      }
      case 'packets': {
        if (key.return) return setPane('detail');
        if (input === 'a') {
          if (scope) toPackets(undefined, 0);
          else if (session) toPackets(session);
          return;
        }
        if (isNav(key, input)) {
          const next = nav(pIdx, count, pktH - 2);
          if (scoped) setPktIdx(next);
          else {
            if (follow && next !== count - 1) setFollow(false);
            setPktSeq(seqAt(next));
          }
          setPktTop(scrollTop(next, pTop, pktH - 2, count));
          setTree(undefined);
          setTreeTop(0);
        }
        return;
      }
      case 'detail': {
        if (!treeState || !root) return;
        const r = treeRows[tIdx];
        const setT = (expanded: Set<string>, sel: string) => setTree({ seq: treeState.seq, expanded, sel });
        if (input === '*') return setT(allKeys(root), treeState.sel);
        if (r && (key.return || key.rightArrow || input === 'l' || key.leftArrow || input === 'h')) {
          const open = key.return ? !r.open : key.rightArrow || input === 'l';
          const ex = new Set(treeState.expanded);
          if (r.hasChildren && open) ex.add(r.key);
          else if (r.hasChildren && r.open) ex.delete(r.key);
          else if (!open && r.key.includes('.')) return setT(ex, r.key.slice(0, r.key.lastIndexOf('.')));
          return setT(ex, r.key);
        }
        if (isNav(key, input)) {
          const next = nav(tIdx, treeRows.length, treeH - 1);
          setT(treeState.expanded, treeRows[next]!.key);
          setTreeTop(scrollTop(next, tTop, treeH - 1, treeRows.length));
        }
        return;
      }
      case 'hex': {
        if (isNav(key, input)) setHexTop(nav(hTop, Math.max(1, hexLines - (hexH - 1) + 1), hexH - 1));
        return;
      }
      case 'ladder': {
        if (key.return) {
          const step = ladder?.steps[lIdx];
          if (step && ladderSession) {
            const at = ladderSession.exchange.frames.findIndex((f) => f.frame === step.ref.frame && f.file === step.ref.file);
            toPackets(ladderSession, Math.max(0, at), 'detail');
          }
          return;
        }
        if (isNav(key, input)) {
          const next = nav(lIdx, ladCount, ladH - 4);
          setLadSel(next);
          setLadTop(scrollTop(next, lTop, ladH - 4, ladCount));
        }
        return;
      }
      case 'mappings': {
        const m = maps[mIdx];
        if (key.return && m) {
          applyFilter(`eid == ${m.eid}`);
          setPane('sessions');
          return setMessage({ text: `sessions of ${m.eid} (/ to change the filter)` });
        }
        if (key.pageDown || key.pageUp || (key.ctrl && (input === 'd' || input === 'u'))) {
          const body = m ? mappingLines(m, 200, paint).length : 0;
          const page = mainH - 2;
          const down = key.pageDown || input === 'd';
          return setMapDetailTop(Math.max(0, Math.min(body - page, mapDetailTop + (down ? page : -page))));
        }
        if (isNav(key, input)) {
          const next = nav(mIdx, maps.length, mainH - 1);
          setMapSel(next);
          setMapTop(scrollTop(next, mTop, mainH - 1, maps.length));
          setMapDetailTop(0);
        }
        return;
      }
    }
  };

  // ---- render --------------------------------------------------------------------------------
  const flags = [follow ? 'FOLLOW' : '', paused ? 'PAUSED' : '', busy ? 'SENDING' : ''].filter(Boolean).map((f) => paint.bold(f));
  const statusLine = (() => {
    if (confirm) return paint.inverse(paint.fg('yellow', fit(` [y/n] ${confirm.question} `, W)));
    if (prompt) {
      const base = ` ${prompt.label}: ${prompt.text}`;
      return `${paint.bold(cut(base, W - 1))}${paint.inverse(' ')}`;
    }
    if (message) return message.error ? paint.fg('red', fit(` ${message.text}`, W)) : paint.fg('green', fit(` ${message.text}`, W));
    const warn = snap.status.warnings[snap.status.warnings.length - 1];
    const warning = warn && snap.status.state !== 'live' ? `warning: ${warn}` : '';
    if (pfilter && scan) {
      const packets = scan.caughtUp ? `${plural(scan.end - scan.first, 'packet')} of ${scan.of.toLocaleString('en-US')} match` : `${plural(scan.end - scan.first, 'packet')} match so far, scanning ${scan.scanned.toLocaleString('en-US')} of ${scan.of.toLocaleString('en-US')}`;
      const line = ` filter ${pfilter.text}: ${plural(view.rows.length, 'session')} match · ${packets}${warning ? ` · ${warning}` : ''}`;
      return paint.fg('cyan', fit(line, W));
    }
    const keys = ' Tab pane · ↵ drill in · Esc back · / filter · s sort · f follow · p pause · r/R resend/replay · e resolve · H handover · ? help · q quit';
    return warning ? paint.fg('yellow', fit(` ${warning}`, W)) : paint.dim(fit(keys, W));
  })();

  const sessionsPane = (h: number, focused: boolean) => (
    <SessionsPane width={W} height={h} paint={paint} focused={focused} view={view} selected={Math.max(0, sessIdx)} top={sTop} multi={source.multiFile} follow={follow} />
  );
  const ladderPane = (h: number, focused: boolean) => (
    <LadderPane width={W} height={h} paint={paint} focused={focused} ladder={ladder} text={ladderText} selected={lIdx} top={lTop} />
  );
  const frameLabel = packet ? `frame ${packet.ref.file ? `${packet.ref.file + 1}:` : ''}${packet.ref.frame}` : '';
  const packetsTitle = scope ? `Packets of ${exchangeKind(scope.exchange)} ${scope.exchange.eid} (a: all)` : 'Packets (a: this session only)';
  const scanNote = filtered && !scan.caughtUp ? `scanning ${Math.floor((scan.scanned / Math.max(1, scan.of)) * 100)}%` : '';

  let main;
  if (help) main = <HelpPane width={W} height={mainH} paint={paint} />;
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
            return { view: seq === undefined ? undefined : source.packet(seq), label: ref ? `${ref.frame}` : `${(seq ?? 0) + 1}` };
          }}
          showSender={source.kind === 'lab'}
          follow={follow && !scoped}
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
  else main = <MappingsPane width={W} height={mainH} paint={paint} focused mappings={maps} selected={mIdx} top={mTop} detailTop={mapDetailTop} />;

  return (
    <Box flexDirection="column" width={W} height={H}>
      <TitleBar width={W} paint={paint} title={source.title} kind={source.kind} status={snap.status} flags={flags} />
      {main}
      {prompt?.error ? (
        <Lines lines={[paint.fg('red', fit(` ✗ ${prompt.error}`, W))]} width={W} height={1} />
      ) : (
        <StatsBar width={W} paint={paint} c={{ ...snap.counters, sessions: snap.counters.sessions + snap.pending.length }} live={source.kind !== 'file'} />
      )}
      <Lines lines={[statusLine]} width={W} height={1} />
    </Box>
  );
}
