// Rows on their way to a database: each table's rows are written as lines `seq \x01 json` into a
// batch file under a private temporary directory, and a batch is handed over when it reaches its
// size (or when asked: end of input, or every second live). Memory holds one output buffer per
// table; the capture is never held. The JSON of a row is what the NDJSON writers produce, so the
// database sees exactly what `read --json` and `flows --json` print.

import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutBuffer } from '../output/out-buffer.js';
import type { TableName } from './tables.js';

/** One staged file of rows of one table of one input. */
export interface Batch {
  table: TableName;
  path: string;
  rows: number;
  bytes: number;
  /** The input's labels (batch constants). */
  vantage: string;
  file: string;
}

const SEPARATOR = 1;
const NEWLINE = 10;

class TableStage {
  readonly out: OutBuffer;
  private fd = -1;
  private path = '';
  rows = 0;
  bytes = 0;
  /** Rows staged for this table over the whole input. */
  seq = 0;

  constructor(
    private readonly stager: Stager,
    readonly table: TableName,
  ) {
    this.out = new OutBuffer((b) => {
      this.open();
      writeSync(this.fd, b);
      this.bytes += b.length;
      return true;
    }, 1 << 18);
  }

  private open(): void {
    if (this.fd >= 0) return;
    this.path = this.stager.nextPath(this.table);
    this.fd = openSync(this.path, 'w');
  }

  /** Starts a row: its number, then the separator; the caller writes the JSON. */
  begin(): void {
    this.seq++;
    this.out.ensure(24);
    this.out.uint(this.seq);
    this.out.byte(SEPARATOR);
  }

  /** Ends a row; hands the batch over when it is full. */
  end(): void {
    this.out.ensure(1);
    this.out.byte(NEWLINE);
    this.rows++;
    if (this.bytes + this.out.pos >= this.stager.batchBytes) this.cut();
  }

  /** Closes the batch file (if it holds rows) and hands it over. */
  cut(): void {
    if (this.rows === 0) return;
    this.out.flush();
    closeSync(this.fd);
    const batch: Batch = { table: this.table, path: this.path, rows: this.rows, bytes: this.bytes, vantage: this.stager.vantage, file: this.stager.file };
    this.fd = -1;
    this.rows = 0;
    this.bytes = 0;
    this.stager.onBatch(batch);
  }

  /** A new input: numbering starts again. */
  reset(): void {
    this.cut();
    this.seq = 0;
  }
}

export interface StagerOptions {
  /** A batch is handed over once it holds this many bytes (default 8 MiB). */
  batchBytes?: number;
  onBatch: (b: Batch) => void;
}

export class Stager {
  readonly dir: string;
  readonly batchBytes: number;
  readonly onBatch: (b: Batch) => void;
  vantage = '';
  file = '';
  private n = 0;
  private readonly stages = new Map<TableName, TableStage>();

  constructor(opts: StagerOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'lispscope-export-'));
    this.batchBytes = opts.batchBytes ?? 8 << 20;
    this.onBatch = opts.onBatch;
  }

  nextPath(table: string): string {
    return join(this.dir, `${table}-${++this.n}.rows`);
  }

  stage(table: TableName): TableStage {
    let s = this.stages.get(table);
    if (!s) {
      s = new TableStage(this, table);
      this.stages.set(table, s);
    }
    return s;
  }

  /** A row whose JSON is a string (exchanges, mappings: already objects). */
  text(table: TableName, json: string): void {
    const s = this.stage(table);
    s.begin();
    s.out.text(json);
    s.end();
  }

  /** Rows of the next input carry these labels; numbering starts again. */
  input(vantage: string, file: string): void {
    for (const s of this.stages.values()) s.reset();
    this.vantage = vantage;
    this.file = file;
  }

  /** Hands over every partly filled batch. */
  cutAll(): void {
    for (const s of this.stages.values()) s.cut();
  }

  /** Removes the staging directory (batches not loaded yet go with it). */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
