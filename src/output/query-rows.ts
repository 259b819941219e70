// How `query` prints the rows of an SQL result: NDJSON (JSON columns as objects), or tables of a
// few thousand rows each (a table needs its rows to size its columns, and a result can be long).

import { table } from './flows-text.js';
import type { Style } from './style.js';

/** A result column: its name, and whether its values are JSON text. */
export interface RowColumn {
  name: string;
  json: boolean;
}

/** Rows per printed table. */
const TABLE_ROWS = 5000;

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export class QueryRowsPrinter {
  private cols: RowColumn[] = [];
  private pending: unknown[][] = [];

  constructor(
    private readonly json: boolean,
    private readonly style: Style,
    private readonly line: (text: string) => void,
  ) {}

  columns(cols: RowColumn[]): void {
    this.cols = cols;
  }

  rows(rows: unknown[][]): void {
    if (this.json) {
      const cols = this.cols;
      for (const r of rows) {
        const o: Record<string, unknown> = {};
        cols.forEach((c, i) => (o[c.name] = c.json && typeof r[i] === 'string' ? JSON.parse(r[i] as string) : r[i]));
        this.line(JSON.stringify(o));
      }
      return;
    }
    this.pending.push(...rows);
    if (this.pending.length >= TABLE_ROWS) this.printTable();
  }

  /** The end of the result, which had `count` rows. */
  end(count: number): void {
    if (this.json) return;
    this.printTable();
    if (count === 0) this.line(`(no rows; columns: ${this.cols.map((c) => c.name).join(', ')})`);
  }

  private printTable(): void {
    if (!this.pending.length) return;
    const t = table(this.cols.map((c) => c.name), this.style);
    for (const r of this.pending) t.push(r.map(cellText));
    this.line(t.toString());
    this.pending = [];
  }
}
