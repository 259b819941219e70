// A table drawn as it streams: rows are laid out a block at a time, each block's columns as wide as
// the widest cell seen so far, so that a capture with a million exchanges prints its first rows at
// once and in time proportional to its size (a cli-table3 table is built whole, and its layout cost
// grows faster than its rows). The drawing is cli-table3's compact one: a border, the heading, the
// rows, a border.

/** Visible width of a cell: ANSI colour codes take no room. */
function width(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.includes('\x1b') ? s.replace(/\x1b\[[0-9;]*m/g, '').length : s.length;
}

export class BoxTable {
  private widths: number[];
  private block: string[][] = [];
  private started = false;

  constructor(
    private readonly head: string[],
    private readonly write: (text: string) => void,
    /** Rows laid out together (their widest cells set the columns from then on). */
    private readonly blockRows = 1000,
  ) {
    this.widths = head.map(width);
  }

  push(row: string[]): void {
    this.block.push(row);
    if (this.block.length >= this.blockRows) this.flushBlock();
  }

  /** Prints what is held and the bottom border (without rows: nothing, or the heading when `always`). */
  end(always = false): void {
    this.flushBlock();
    if (!this.started && always) {
      this.started = true;
      this.write([this.border('┌', '┬', '┐'), this.line(this.head)].join('\n'));
    }
    if (this.started) this.write(this.border('└', '┴', '┘'));
  }

  private flushBlock(): void {
    if (this.block.length === 0) return;
    for (const row of this.block) row.forEach((c, i) => (this.widths[i] = Math.max(this.widths[i] ?? 0, width(c))));
    const lines: string[] = [];
    if (!this.started) {
      this.started = true;
      lines.push(this.border('┌', '┬', '┐'), this.line(this.head));
    }
    for (const row of this.block) lines.push(this.line(row));
    this.block = [];
    this.write(lines.join('\n'));
  }

  private border(left: string, mid: string, right: string): string {
    return left + this.widths.map((w) => '─'.repeat(w + 2)).join(mid) + right;
  }

  private line(cells: string[]): string {
    return `│${this.widths.map((w, i) => ` ${cells[i] ?? ''}${' '.repeat(w - width(cells[i] ?? ''))} `).join('│')}│`;
  }
}

/** A whole table at once, its columns as wide as its widest cells (as cli-table3 draws it). */
export function boxTable(head: string[], rows: string[][]): string {
  const out: string[] = [];
  const t = new BoxTable(head, (text) => out.push(text), Infinity);
  for (const row of rows) t.push(row);
  t.end(true);
  return out.join('\n');
}
