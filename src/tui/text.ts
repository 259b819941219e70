// Fitting plain text into columns: every pane lays out plain strings to the exact width, then paints.

/** Cuts `s` to `w` characters (an ellipsis marks the cut) and pads it to `w`. */
export function fit(s: string, w: number, align: 'left' | 'right' = 'left'): string {
  if (w <= 0) return '';
  const t = s.length > w ? (w > 1 ? `${s.slice(0, w - 1)}…` : s.slice(0, w)) : s;
  return align === 'right' ? t.padStart(w) : t.padEnd(w);
}

/**
 * Cuts `s` to `w` characters from the left, keeping its end: a path keeps its file name and as
 * many whole directories as fit (`…/pcaps/mn-handover.pcapng`).
 */
export function cutLeft(s: string, w: number): string {
  if (s.length <= w) return s;
  if (w <= 1) return s.slice(s.length - Math.max(0, w));
  const tail = s.slice(s.length - (w - 1));
  const slash = tail.indexOf('/');
  return `…${slash > 0 && slash < tail.length - 1 ? tail.slice(slash) : tail}`;
}

/** Cuts without padding. */
export function cut(s: string, w: number): string {
  return s.length > w ? (w > 1 ? `${s.slice(0, w - 1)}…` : s.slice(0, Math.max(0, w))) : s;
}

export function center(s: string, w: number): string {
  const t = cut(s, w);
  const left = Math.floor((w - t.length) / 2);
  return ' '.repeat(left) + t + ' '.repeat(w - t.length - left);
}

/** Time of day to the millisecond, local zone (as `flows` prints it). */
export function clock(ts: number): string {
  const ms = Math.round(ts * 1000);
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(ms % 1000).padStart(3, '0')}`;
}

// Durations as every output writes them (3 decimals in ms).
export { msText } from '../output/units.js';

export interface Column<T> {
  title: string;
  width: number;
  /** Takes the width left over (one column). */
  flex?: boolean;
  /** Dropped first when the terminal is narrow: higher numbers go first. */
  drop?: number;
  align?: 'left' | 'right';
  /** Cut down to this width when the columns do not fit even after the droppable ones went (its text is then cut). */
  min?: number;
  text(row: T): string;
  /** Paints the fitted cell. */
  paint?(cell: string, row: T): string;
}

/** The columns that fit `width` (one space between), with the flex column widened to fill it. */
export function layout<T>(cols: Column<T>[], width: number): Column<T>[] {
  let list = [...cols];
  const total = (l: Column<T>[]) => l.reduce((n, c) => n + c.width, 0) + Math.max(0, l.length - 1);
  while (total(list) > width) {
    const victim = list.filter((c) => c.drop !== undefined).sort((a, b) => b.drop! - a.drop!)[0];
    if (!victim) break;
    list = list.filter((c) => c !== victim);
  }
  for (let over = total(list) - width; over > 0; ) {
    // The widest of the columns that can give some up gives one.
    const shrink = list.filter((c) => c.min !== undefined && c.width > c.min).sort((a, b) => b.width - b.min! - (a.width - a.min!))[0];
    if (!shrink) break;
    list = list.map((c) => (c === shrink ? { ...c, width: c.width - 1 } : c));
    over--;
  }
  const spare = width - total(list);
  const flex = list.find((c) => c.flex);
  if (flex && spare > 0) list = list.map((c) => (c === flex ? { ...c, width: c.width + spare } : c));
  return list;
}

export function headerLine<T>(cols: Column<T>[]): string {
  return cols.map((c) => fit(c.title, c.width, c.align)).join(' ');
}

export function rowLine<T>(cols: Column<T>[], row: T): string {
  return cols
    .map((c) => {
      const cell = fit(c.text(row), c.width, c.align);
      return c.paint ? c.paint(cell, row) : cell;
    })
    .join(' ');
}

/** The first row to show so that `sel` stays visible in `height` rows. */
export function scrollTop(sel: number, top: number, height: number, count: number): number {
  if (height <= 0 || count <= 0) return 0;
  let t = top;
  if (sel < t) t = sel;
  if (sel >= t + height) t = sel - height + 1;
  return Math.max(0, Math.min(t, Math.max(0, count - height)));
}
