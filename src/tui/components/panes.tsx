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
import type { Counters, PacketView, Session, SourceStatus } from '../source.js';
import { frameName } from '../../output/flows-text.js';
import { helpLines, wrap } from '../keymap.js';
import { clock, cutLeft, fit, headerLine, layout, rowLine as cells, type Column } from '../text.js';
import { treeRowText, type TreeRow } from '../tree-view.js';
import { Box } from 'ink';
import { Lines, rowLine, titleLine } from './Lines.js';

interface Area {
  width: number;
  height: number;
  paint: Paint;
  focused: boolean;
}

/**
 * The title bar: source, title and status. A long title (a path) is shortened from the left, so its
 * file name stays; when even then the status would not fit, it goes on a second line. Never cut:
 * "loading 40%" and errors stay in sight at 80 columns.
 */
export function titleBarLines(width: number, paint: Paint, title: string, kind: string, status: SourceStatus, flags: string[]): string[] {
  const right = `${flags.join(' ')}${flags.length ? '  ' : ''}? help `;
  const rightW = plain(right).length;
  const head = ` lispscope │ ${kind}: `;
  const tail = ` │ ${status.state}: ${status.text}`;
  const room = width - rightW - 1 - head.length - tail.length;
  const colour = (s: string) => (status.state === 'error' ? paint.fg('red', s) : s);
  if (room >= Math.min(title.length, 24)) {
    const left = fit(`${head}${cutLeft(title, room)}${tail}`, width - rightW - 1);
    return [paint.inverse(`${colour(left)} ${right}`)];
  }
  const first = fit(`${head}${cutLeft(title, Math.max(1, width - rightW - 1 - head.length))}`, width - rightW - 1);
  const second = wrap(`${status.state}: ${status.text}`, width - 2).slice(0, 2).map((l) => paint.inverse(colour(fit(` ${l}`, width))));
  return [paint.inverse(`${first} ${right}`), ...second];
}

export function TitleBar({ width, lines }: { width: number; lines: string[] }) {
  return <Lines lines={lines} width={width} height={lines.length} />;
}

export function SessionsPane({
  width,
  height,
  paint,
  focused,
  view,
  selected,
  top,
  multi,
  follow,
  done,
}: Area & { view: SessionView; selected: number; top: number; multi: boolean; follow: boolean; done: boolean }) {
  const total = view.count;
  // Read before the layout: a pending row widens its columns as it is read.
  const rows: (Session | undefined)[] = [];
  for (let i = top; i < Math.min(total, top + height - 2); i++) rows.push(view.row(i));
  const cols = layout(sessionColumns(paint, multi, view.widths), width - 2);
  const filter = view.filterText ? `  filter: ${view.filterText}` : '';
  const right = `sort ${view.sortKey} ${view.desc ? '▼' : '▲'}${follow ? '  follow' : ''}`;
  const lines = [titleLine(paint, `Sessions ${total ? selected + 1 : 0}/${total}${filter}`, width, focused, right), paint.dim(`  ${headerLine(cols)}`)];
  // A pending session no longer kept (a live source evicts the oldest) leaves its row empty.
  rows.forEach((s, k) => lines.push(s ? rowLine(paint, cells(cols, s), top + k === selected, focused) : ''));
  const none = view.filterText
    ? '  no session matches the filter'
    : done
      ? '  no exchanges in this capture: no request met its answer or went unanswered (2: its packets)'
      : '  no sessions yet: exchanges appear here as they start';
  if (total === 0) lines.push(paint.dim(fit(none, width)));
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

/** The packet list's columns, as wide as the rows they show (`rows`: those on screen). */
export function packetColumns(showSender: boolean, multi: boolean, rows: PacketRow[] = []): Column<PacketRow>[] {
  const widest = (title: string, f: (r: PacketRow) => string, cut?: number) => {
    const w = Math.max(title.length, ...rows.map((r) => f(r).length));
    return cut === undefined ? { width: w } : { width: w, min: Math.min(w, cut) };
  };
  const no = (r: PacketRow) => (r.view ? frameName(r.view.ref, multi) : r.label);
  const src = (r: PacketRow) => r.view?.packet.ip?.src ?? '';
  const dst = (r: PacketRow) => r.view?.packet.ip?.dst ?? '';
  const cols: Column<PacketRow>[] = [
    { title: 'No.', align: 'right', text: no, ...widest('No.', no) },
    { title: 'time', width: 12, text: (r) => (r.view ? clock(r.view.packet.ts) : '') },
  ];
  if (showSender) cols.push({ title: 'sender', width: 6, drop: 1, text: (r) => r.view?.sender ?? '' });
  cols.push(
    { title: 'source', text: src, ...widest('source', src, 15) },
    { title: 'destination', text: dst, ...widest('destination', dst, 15) },
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
  multi,
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
  multi: boolean;
}) {
  const rows: PacketRow[] = [];
  for (let i = top; i < Math.min(count, top + height - 2); i++) rows.push(row(i));
  const cols = layout(packetColumns(showSender, multi, rows), width - 2);
  const right = [scanning, follow ? 'follow' : ''].filter(Boolean).join('  ');
  const lines = [titleLine(paint, `${title} ${count ? selected + 1 : 0}/${count}${filter ? `  filter: ${filter}` : ''}`, width, focused, right), paint.dim(`  ${headerLine(cols)}`)];
  rows.forEach((r, k) => lines.push(rowLine(paint, paintPacket(paint, r.view?.packet, cells(cols, r)), top + k === selected, focused)));
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

export function MappingsPane({
  width,
  height,
  paint,
  focused,
  mappings,
  selected,
  top,
  detailTop,
  multi,
}: Area & { mappings: readonly Mapping[]; selected: number; top: number; detailTop: number; multi: boolean }) {
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
  const body = m ? mappingLines(m, detailW - 1, paint, multi) : [];
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

/** The help, generated from the keymap, wrapped to the width and scrolled to `top`. */
export function HelpPane({ width, height, paint, top }: { width: number; height: number; paint: Paint; top: number }) {
  const body = [
    ...helpLines(width).map((l) => `  ${paint.bold(fit(l.keys, 16))} ${l.text}`),
    '',
    ...wrap('Actions send only to the address shown or typed in the prompt, never to multicast or broadcast.', width - 4).map((l) => paint.dim(`  ${l}`)),
  ];
  const room = height - 1;
  const more = body.length > room;
  const from = Math.max(0, Math.min(top, body.length - room));
  const lines = [titleLine(paint, more ? 'Keys (↑↓ PgUp PgDn scroll, any other key closes this help)' : 'Keys (any key closes this help)', width, true, more ? `${from + 1}-${Math.min(body.length, from + room)}/${body.length}` : '')];
  lines.push(...body.slice(from, from + room));
  return <Lines lines={lines} width={width} height={height} />;
}

/** Lines in the help screen (for scrolling it). */
export function helpLength(width: number): number {
  return helpLines(width).length + 2;
}
