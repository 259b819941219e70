// Rows on their way to a database: each table's rows are written as lines `seq \x01 json` into a
// batch file under a private temporary directory (packets mostly as their columns' values with
// the JSON: plain data in plain-row.ts, the others in control-row.ts), and a batch is handed over
// when it reaches its size (or when asked: end of input, or every second live). Memory holds one
// output buffer per table and kind; the capture is never held. The JSON of a row is what the
// NDJSON writers produce, so the database sees exactly what `read --json` and `flows --json` print.

import { closeSync, ftruncateSync, mkdtempSync, openSync, renameSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { OutBuffer } from '../output/out-buffer.js';
import { SinkError } from './sink.js';
import type { TableName } from './tables.js';

/** One staged batch of rows of one table of one input: JSON rows, (packets) plain data rows, control rows, or several. */
export interface Batch {
  table: TableName;
  /** `seq \x01 json` lines (a batch has this file, the next, or both). */
  path?: string;
  /** Plain data packets' rows (see plain-row.ts). */
  plain?: string;
  /** Other packets' rows as their columns' values (see control-row.ts). */
  control?: string;
  rows: number;
  bytes: number;
  /**
   * packets: its JSON rows are nearly all control messages (plain data packets are plain rows;
   * JSON rows are what control rows could not carry), so every JSON row is worth parsing whole
   * (select.ts).
   */
  detailRows?: boolean;
  /** The input's labels (batch constants). */
  vantage: string;
  file: string;
  /** Takes a file of the batch once it is read (its stager writes later batches over it); default: removes it. */
  done?: (path: string) => void;
}

const remove = (path: string) => rmSync(path, { force: true });

/** Done with a batch: its files are removed, or written over by its stager's next batches. */
export function removeBatch(b: Batch): void {
  for (const p of [b.path, b.plain, b.control]) if (p !== undefined) (b.done ?? remove)(p);
}

/** DuckDB's row group size. */
export const ROW_GROUP_ROWS = 122_880;

const SEPARATOR = 1;
const NEWLINE = 10;

/** One file of a batch being written; opened with its first bytes. */
class StageFile {
  readonly out: OutBuffer;
  private fd = -1;
  path: string | undefined;
  bytes = 0;
  /** Written over an earlier batch's file, which is cut to this batch's bytes when it closes. */
  private reused = false;

  constructor(private readonly name: () => StagePath) {
    this.out = new OutBuffer((b) => {
      try {
        if (this.fd < 0) {
          const f = this.name();
          this.path = f.path;
          this.reused = f.reused;
          this.fd = openSync(this.path, f.reused ? 'r+' : 'w');
        }
        writeSync(this.fd, b);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        throw new SinkError(`${dirname(this.path!)}: cannot stage rows (${err.code ?? err.message}); set TMPDIR to a directory with room`);
      }
      this.bytes += b.length;
      return true;
    }, 1 << 18);
  }

  get size(): number {
    return this.bytes + this.out.pos;
  }

  /** Flushes and closes; returns the file written (none if it got no bytes). */
  close(): string | undefined {
    this.out.flush();
    const path = this.fd < 0 ? undefined : this.path;
    if (this.fd >= 0) {
      if (this.reused) ftruncateSync(this.fd, this.bytes);
      closeSync(this.fd);
    }
    this.fd = -1;
    this.path = undefined;
    this.bytes = 0;
    return path;
  }
}

/** Rows of one kind being staged: JSON rows, or (packets) plain data rows or control rows. */
class Part {
  rows = 0;
  constructor(
    readonly file: StageFile,
    readonly kind: 'path' | 'plain' | 'control',
  ) {}
}

class TableStage {
  private readonly json: Part;
  private plain: Part | undefined;
  private control: Part | undefined;
  /** Rows staged for this table over the whole input (JSON and plain rows share the numbering). */
  seq = 0;
  /** packets: plain data packets are staged as plain rows (see Batch.detailRows). */
  plainRows = false;

  constructor(
    private readonly stager: Stager,
    readonly table: TableName,
  ) {
    this.json = new Part(new StageFile(() => stager.nextPath(table)), 'path');
  }

  /** Where JSON rows are written. */
  get out(): OutBuffer {
    return this.json.file.out;
  }

  /**
   * Starts a JSON row: its number (the next, or `seq` when the caller knows the row's place and
   * rows come out of order), then the separator; the caller writes the JSON.
   */
  begin(seq?: number): void {
    this.seq++;
    const out = this.json.file.out;
    out.ensure(24);
    out.uint(seq ?? this.seq);
    out.byte(SEPARATOR);
  }

  /** Ends a JSON row (`lineEnded`: its writer wrote the newline); hands the batch over when it is full. */
  end(lineEnded = false): void {
    if (!lineEnded) {
      const out = this.json.file.out;
      out.ensure(1);
      out.byte(NEWLINE);
    }
    this.ended(this.json);
  }

  /** Starts a plain data row (its number; the caller writes the fields and the line's end). */
  beginPlain(): OutBuffer {
    this.plain ??= new Part(new StageFile(() => this.stager.nextPath(`${this.table}-plain`)), 'plain');
    return this.numbered(this.plain);
  }

  /** Ends a plain row (its writer ended the line). */
  endPlain(): void {
    this.ended(this.plain!);
  }

  /** Starts a control row (control-row.ts): its number; the caller writes the rest and the line's end. */
  beginControl(): OutBuffer {
    this.control ??= new Part(new StageFile(() => this.stager.nextPath(`${this.table}-control`)), 'control');
    return this.numbered(this.control);
  }

  /** Ends a control row. */
  endControl(): void {
    this.ended(this.control!);
  }

  private numbered(part: Part): OutBuffer {
    this.seq++;
    const out = part.file.out;
    out.ensure(24);
    out.uint(this.seq);
    return out;
  }

  private get parts(): Part[] {
    const parts = [this.json];
    if (this.plain) parts.push(this.plain);
    if (this.control) parts.push(this.control);
    return parts;
  }

  private ended(part: Part): void {
    part.rows++;
    if (this.stager.together) {
      let rows = 0;
      let bytes = 0;
      for (const p of this.parts) {
        rows += p.rows;
        bytes += p.file.size;
      }
      if (rows >= this.stager.batchRows || bytes >= this.stager.batchBytes) this.cut();
    } else if (part.rows >= this.stager.batchRows || part.file.size >= this.stager.batchBytes) this.cutParts([part]);
  }

  /** One batch of the parts' rows. */
  private cutParts(parts: Part[]): void {
    const batch: Batch = { table: this.table, rows: 0, bytes: 0, vantage: this.stager.vantage, file: this.stager.file, done: this.stager.recycle };
    if (this.plainRows) batch.detailRows = true;
    for (const part of parts) {
      if (part.rows === 0) continue;
      batch.bytes += part.file.size;
      batch.rows += part.rows;
      batch[part.kind] = part.file.close()!;
      part.rows = 0;
    }
    if (batch.rows > 0) this.stager.onBatch(batch);
  }

  /** Hands over what is staged. */
  cut(): void {
    const parts = this.parts;
    if (this.stager.together) this.cutParts(parts);
    else for (const p of parts) this.cutParts([p]);
  }

  /** A new input: numbering starts again. */
  reset(): void {
    this.cut();
    this.seq = 0;
  }
}

export interface StagerOptions {
  /** A batch is handed over once it holds this many bytes (default 8 MiB)... */
  batchBytes?: number;
  /**
   * ...or this many rows (default a DuckDB row group, 122,880: an insert of whole row groups is
   * written straight to the database file, with nothing left over to merge or rewrite).
   */
  batchRows?: number;
  /**
   * A table's JSON and plain rows go in one batch (live: one insert per table per second, which
   * ClickHouse makes one part of) rather than a batch of each kind.
   */
  together?: boolean;
  /**
   * Stage in memory (/dev/shm) when it has room and TMPDIR does not say otherwise: a file export
   * holds a few batches at a time, and writing them to a disk only for DuckDB to read them back
   * within seconds made the reader wait on the disk. A live export keeps batches on disk: it may
   * hold up to --export-buffer of them while its database is away.
   */
  inMemory?: boolean;
  onBatch: (b: Batch) => void;
}

/** Free space /dev/shm must have for the staging to go there (batches are up to 128 MiB: about four at once, and SPARE_FILES kept). */
const SHM_ROOM = 1 << 30;

/**
 * Files of batches already read that the stager keeps to write its next batches over. A new file's
 * pages are allocated and zeroed as it is written, and freed when it is removed: writing 500 MB of
 * batches (the bench capture stages 476 MB) that was 0.15 s of the main thread's system time,
 * half of what the writes took. Batches are read before the next ones are staged, so a few suffice.
 */
const SPARE_FILES = 3;

/** Where a batch file goes, and whether a file is there already to be written over. */
interface StagePath {
  path: string;
  reused: boolean;
}

/** Where the staging directory goes. */
function stagingRoot(inMemory: boolean): string {
  if (!inMemory || process.env.TMPDIR) return tmpdir();
  try {
    const s = statfsSync('/dev/shm');
    if (s.bavail * s.bsize >= SHM_ROOM) return '/dev/shm';
  } catch {
    // No /dev/shm (not Linux): the temporary directory.
  }
  return tmpdir();
}

export class Stager {
  readonly dir: string;
  readonly batchBytes: number;
  readonly batchRows: number;
  readonly together: boolean;
  readonly onBatch: (b: Batch) => void;
  vantage = '';
  file = '';
  private n = 0;
  private readonly stages = new Map<TableName, TableStage>();
  /** Files of batches read, for the next batches (see SPARE_FILES). */
  private readonly spare: string[] = [];
  private disposed = false;

  constructor(opts: StagerOptions) {
    const root = stagingRoot(opts.inMemory ?? false);
    try {
      this.dir = mkdtempSync(join(root, 'lispscope-export-'));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new SinkError(`${root}: cannot make a staging directory (${err.code ?? err.message}); set TMPDIR to a directory with room`);
    }
    this.batchBytes = opts.batchBytes ?? 8 << 20;
    this.batchRows = opts.batchRows ?? ROW_GROUP_ROWS;
    this.together = opts.together ?? false;
    this.onBatch = opts.onBatch;
  }

  /**
   * A new batch file: a spare one renamed when there is one (every batch has a path of its own, so
   * nothing that read a file by its name sees an earlier batch's rows there).
   */
  nextPath(table: string): StagePath {
    const path = join(this.dir, `${table}-${++this.n}.rows`);
    const spare = this.spare.pop();
    if (spare !== undefined) {
      try {
        renameSync(spare, path);
        return { path, reused: true };
      } catch {
        remove(spare);
      }
    }
    return { path, reused: false };
  }

  /** A batch file that has been read (Batch.done): kept to be written over, or removed. */
  readonly recycle = (path: string): void => {
    if (this.disposed || this.spare.length >= SPARE_FILES) remove(path);
    else this.spare.push(path);
  };

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
    this.disposed = true;
    this.spare.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
