// The panes: each renders what it is given into width × height lines. Selection and scrolling are
// decided by the App; what to show comes from the data source through src/tui's view modules.

import { hasNoteAtLeast, isMalformed, type LispPacket } from '../../capture/packets.js';
import { hexDump } from '../../output/hex.js';
import { packetLine } from '../../output/line.js';
import { PLAIN } from '../../output/style.js';
import type { Mapping } from '../../flows/types.js';
import { stepText, type Ladder, type LadderText } from '../ladder.js';
import { mappingLines, mappingSummary } from '../mappings-view.js';
import { plain, type Paint } from '../paint.js';
import { sessionColumns, type SessionView } from '../sessions.js';
import type { Counters, PacketView, SourceStatus } from '../source.js';
import { clock, fit, headerLine, layout, rowLine as cells, type Column } from '../text.js';
import { treeRowText, type TreeRow } from '../tree-view.js';
import { Box } from 'ink';
import { Lines, rowLine, titleLine } from './Lines.js';

interface Area {
  width: number;
  height: number;
  paint: Paint;
  focused: boolean;
}

export function TitleBar({ width, paint, title, kind, status, flags }: { width: number; paint: Paint; title: string; kind: string; status: SourceStatus; flags: string[] }) {
  const right = `${flags.join(' ')}${flags.length ? '  ' : ''}? help `;
  const left = fit(` lispscope │ ${kind}: ${title} │ ${status.state}: ${status.text}`, Math.max(0, width - plain(right).length - 1));
  const text = `${status.state === 'error' ? paint.fg('red', left) : left} ${right}`;
  return <Lines lines={[paint.inverse(text)]} width={width} height={1} />;
}

export function SessionsPane({ width, height, paint, focused, view, selected, top, multi, follow }: Area & { view: SessionView; selected: number; top: number; multi: boolean; follow: boolean }) {
  const cols = layout(sessionColumns(paint, multi, view.widths), width - 2);
  const total = view.rows.length;
  const filter = view.filterText ? `  filter: ${view.filterText}` : '';
  const right = `sort ${view.sortKey} ${view.desc ? '▼' : '▲'}${follow ? '  follow' : ''}`;
  const lines = [titleLine(paint, `Sessions ${total ? selected + 1 : 0}/${total}${filter}`, width, focused, right), paint.dim(`  ${headerLine(cols)}`)];
  for (let i = top; i < Math.min(total, top + height - 2); i++) lines.push(rowLine(paint, cells(cols, view.rows[i]!), i === selected, focused));
  if (total === 0) lines.push(paint.dim(view.filterText ? '  no session matches the filter' : '  no sessions yet: exchanges appear here as they start'));
  return <Lines lines={lines} width={width} height={height} />;
}

/** What a packet row shows: number, time, the sender (lab), addresses and the summary `read` prints. */
export interface PacketRow {
  view: PacketView | undefined;
  label: string;
}

export function packetInfo(p: LispPacket): string {
  const line = packetLine(p, { style: PLAIN });
  const rest = line.slice(line.indexOf(' ') + 1);
  const info = p.ip ? rest.slice(rest.indexOf(': ') + 2) : rest;
  return info.startsWith('LISP ') ? info.slice(5) : info;
}

export function packetColumns(showSender: boolean): Column<PacketRow>[] {
  const cols: Column<PacketRow>[] = [
    { title: 'No.', width: 7, align: 'right', text: (r) => (r.view ? (r.view.ref.file ? `${r.view.ref.file + 1}:${r.view.ref.frame}` : String(r.view.ref.frame)) : r.label) },
    { title: 'time', width: 12, text: (r) => (r.view ? clock(r.view.packet.ts) : '') },
  ];
  if (showSender) cols.push({ title: 'sender', width: 6, drop: 1, text: (r) => r.view?.sender ?? '' });
  cols.push(
    { title: 'source', width: 15, text: (r) => r.view?.packet.ip?.src ?? '' },
    { title: 'destination', width: 15, text: (r) => r.view?.packet.ip?.dst ?? '' },
    { title: 'info', width: 20, flex: true, text: (r) => (r.view ? packetInfo(r.view.packet) : '(not available)') },
  );
  return cols;
}

function paintPacket(p: Paint, pkt: LispPacket | undefined, text: string): string {
  if (!pkt) return p.dim(text);
  if (isMalformed(pkt)) return p.fg('red', text);
  if (hasNoteAtLeast(pkt, 'warning')) return p.fg('yellow', text);
  if (pkt.control || pkt.reliable) return text;
  if (pkt.data) return p.fg('blue', text);
  return p.dim(text);
}

export function PacketsPane({
  width,
  height,
  paint,
  focused,
  title,
  filter,
  scanning,
  count,
  selected,
  top,
  row,
  showSender,
  follow,
}: Area & {
  title: string;
  /** The `-Y` filter the rows pass ('' when none); `scanning` says how far its scan got, while it runs. */
  filter: string;
  scanning: string;
  count: number;
  selected: number;
  top: number;
  row: (i: number) => PacketRow;
  showSender: boolean;
  follow: boolean;
}) {
  const cols = layout(packetColumns(showSender), width - 2);
  const right = [scanning, follow ? 'follow' : ''].filter(Boolean).join('  ');
  const lines = [titleLine(paint, `${title} ${count ? selected + 1 : 0}/${count}${filter ? `  filter: ${filter}` : ''}`, width, focused, right), paint.dim(`  ${headerLine(cols)}`)];
  for (let i = top; i < Math.min(count, top + height - 2); i++) {
    const r = row(i);
    lines.push(rowLine(paint, paintPacket(paint, r.view?.packet, cells(cols, r)), i === selected, focused));
  }
  if (count === 0) lines.push(paint.dim(filter ? (scanning ? '  no packet matches the filter yet' : '  no packet matches the filter') : '  no packets yet'));
  return <Lines lines={lines} width={width} height={height} />;
}

export function DetailPane({ width, height, paint, focused, rows, selected, top, frame }: Area & { rows: TreeRow[]; selected: number; top: number; frame: string }) {
  const lines = [titleLine(paint, `Detail ${frame}`, width, focused, focused ? '←/→ collapse/expand  * all' : '')];
  for (let i = top; i < Math.min(rows.length, top + height - 1); i++) {
    lines.push(rowLine(paint, fit(treeRowText(rows[i]!), width - 2), i === selected, focused));
  }
  if (!rows.length) lines.push(paint.dim('  select a packet'));
  return <Lines lines={lines} width={width} height={height} />;
}

export function HexPane({ width, height, paint, focused, bytes, range, top }: Area & { bytes: Uint8Array | undefined; range: { start: number; end: number } | undefined; top: number }) {
  const dump = bytes ? hexDump(bytes, range && range.end > range.start ? range : undefined, (s) => paint.inverse(s)) : [];
  const sel = range && range.end > range.start ? `bytes ${range.start}-${range.end - 1} (${range.end - range.start})` : '';
  const lines = [titleLine(paint, `Hex ${bytes ? `${bytes.length} bytes` : ''}`, width, focused, sel)];
  for (let i = top; i < Math.min(dump.length, top + height - 1); i++) lines.push(` ${dump[i]}`);
  return <Lines lines={lines} width={width} height={height} />;
}

export function LadderPane({ width, height, paint, focused, ladder, text, selected, top }: Area & { ladder: Ladder | undefined; text: LadderText | undefined; selected: number; top: number }) {
  const missing = ladder?.missing ?? 0;
  const lines = [titleLine(paint, `Ladder ${ladder?.title ?? ''}`, width, focused, missing ? `${missing} frame${missing > 1 ? 's' : ''} not available` : '')];
  if (!ladder || !text) {
    lines.push(paint.dim('  select a session'));
    return <Lines lines={lines} width={width} height={height} />;
  }
  lines.push(...text.header.map((h) => paint.bold(`  ${fit(h, width - 2)}`)));
  const room = height - 4;
  for (let i = top; i < Math.min(text.rows.length, top + room); i++) {
    lines.push(rowLine(paint, fit(text.rows[i]!, width - 2), i === selected, focused));
  }
  while (lines.length < height - 1) lines.push('');
  lines.push(paint.dim(fit(`  ${stepText(ladder, selected)}`, width)));
  return <Lines lines={lines} width={width} height={height} />;
}

export function MappingsPane({ width, height, paint, focused, mappings, selected, top, detailTop }: Area & { mappings: readonly Mapping[]; selected: number; top: number; detailTop: number }) {
  const listW = Math.min(34, Math.max(22, Math.floor(width * 0.3)));
  const detailW = width - listW - 1;
  const list = [titleLine(paint, `Mappings ${mappings.length ? selected + 1 : 0}/${mappings.length}`, listW, focused)];
  for (let i = top; i < Math.min(mappings.length, top + height - 1); i++) {
    const m = mappings[i]!;
    const text = fit(`${m.handovers.length ? '▲ ' : '  '}${mappingSummary(m)}`, listW - 2);
    list.push(rowLine(paint, m.handovers.length ? paint.fg('yellow', text) : text, i === selected, focused));
  }
  if (!mappings.length) list.push(paint.dim('  no mappings yet'));
  const m = mappings[selected];
  const body = m ? mappingLines(m, detailW - 1, paint) : [];
  const detail = [titleLine(paint, m ? `RLOC timeline of ${m.eid}` : 'RLOC timeline', detailW, false, body.length > height - 1 ? 'PgUp/PgDn scroll' : '')];
  detail.push(...body.slice(detailTop, detailTop + height - 1).map((l) => ` ${l}`));
  return (
    <Box flexDirection="row" width={width} height={height}>
      <Lines lines={list} width={listW} height={height} />
      <Box width={1} />
      <Lines lines={detail} width={detailW} height={height} />
    </Box>
  );
}

export function StatsBar({ width, paint, c, live }: { width: number; paint: Paint; c: Counters; live: boolean }) {
  const n = (v: number) => v.toLocaleString('en-US');
  const bad = (v: number) => (v ? paint.fg('red', n(v)) : n(v));
  const wide = width >= 110;
  const items: [string, string][] = [
    [wide ? 'packets' : 'pkts', n(c.frames)],
    ['LISP', n(c.lisp)],
    ['drops', bad(c.drops)],
    [wide ? 'unanswered' : 'unansw', bad(c.unanswered)],
    [wide ? 'auth failures' : 'auth-fail', bad(c.authFailures)],
    ['malformed', bad(c.malformed)],
    [wide ? 'sessions' : 'sess', n(c.sessions)],
    [wide ? 'handovers' : 'handov', n(c.handovers)],
  ];
  if (c.duplicates) items.push(['dups', n(c.duplicates)]);
  if (live && (c.evictedPackets || c.evictedSessions)) items.push(['evicted', `${n(c.evictedPackets)}/${n(c.evictedSessions)}`]);
  // Drop items from the end until the plain text fits.
  let shown = items;
  const plainLen = (l: [string, string][]) => l.reduce((k, [a, b]) => k + a.length + plain(b).length + 3, 1);
  while (shown.length > 1 && plainLen(shown) > width) shown = shown.slice(0, -1);
  const text = ` ${shown.map(([a, b]) => `${paint.dim(a)} ${b}`).join(paint.dim(' · '))}`;
  return <Lines lines={[text]} width={width} height={1} />;
}

export const HELP: [string, string][] = [
  ['Tab / Shift-Tab', 'next / previous pane: Sessions, Packets, Detail, Hex, Ladder, Mappings'],
  ['1 2 3 4', 'Sessions, Packets, Ladder, Mappings'],
  ['↑↓ j k', 'move; PgUp/PgDn, Ctrl-U/Ctrl-D a page; g/Home first, G/End last'],
  ['Enter', 'drill in: session → its packets → detail tree (expand/collapse);'],
  ['', 'ladder step → that packet; mapping → its sessions'],
  ['Esc', 'back to Sessions'],
  ['← → h l', 'detail tree: collapse / expand (* expands everything)'],
  ['a', 'Packets: the selected session\'s packets / every packet'],
  ['/', 'filter sessions and packets (-Y): kind == smr || outcome == open, type == map-reply'],
  ['s / S', 'sort sessions by the next column / reverse the order'],
  ['f', 'follow: keep the newest session and packet selected'],
  ['p', 'pause the display (the capture goes on underneath)'],
  ['r', 're-send the selected session\'s request (asks first)'],
  ['R', 'replay the selected session to a target you type (asks first)'],
  ['e', 'resolve an EID through a Map-Resolver (asks first)'],
  ['H', 'lab: hand the Mobile Node over to its other RLOC (asks first)'],
  ['?', 'this help'],
  ['q, Ctrl-C', 'quit'],
];

export function HelpPane({ width, height, paint }: { width: number; height: number; paint: Paint }) {
  const lines = [titleLine(paint, 'Keys (any key closes this help)', width, true)];
  for (const [k, v] of HELP) lines.push(`  ${paint.bold(fit(k, 16))} ${fit(v, Math.max(0, width - 19))}`);
  lines.push('');
  lines.push(paint.dim(fit('  Actions send only to the address shown or typed in the prompt, never to multicast or broadcast.', width)));
  return <Lines lines={lines} width={width} height={height} />;
}
