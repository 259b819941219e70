// `--to dir/`: Parquet files written by DuckDB's COPY, one per table per input
// (`dir/TABLE/VANTAGE--FILE-HASH.parquet`), or with `--partition hour` one per table per input per
// hour in Hive layout (`dir/TABLE/hour=2024-05-01T10/VANTAGE--FILE-HASH-N-K.parquet`), which Spark, Trino,
// ClickHouse, pandas and `lispscope query` read as one table. Batches wait on disk until their
// input (or hour) is complete; DuckDB then reads them once into the file.

import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { lit, q } from './columns.js';
import { openDuck, run, type Duck } from './duck.js';
import { selectBatches } from './select.js';
import { SinkError, type InputLabel, type Sink } from './sink.js';
import { removeBatch, type Batch } from './stage.js';
import { TABLES } from './tables.js';

/** A name that is safe as a file name and in a glob. */
export function fileSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_') || '_';
}

/**
 * Rows per Parquet row group. The writer holds a whole row group, uncompressed, until it is full:
 * at DuckDB's default (122,880) the packets' JSON text alone took some 120 MB more memory than at a
 * quarter of it, for files 8% smaller. Still far above what readers need to skip row groups by
 * their statistics.
 */
const PARQUET_ROW_GROUP = 30_720;

/** Hour of an epoch-seconds column, UTC, as Hive partitions spell it. */
const hourOf = (col: string) => `strftime(make_timestamp((floor(${q(col)}) * 1000000)::BIGINT), '%Y-%m-%dT%H')`;

export class ParquetSink implements Sink {
  readonly holdsBatches = true;
  private db: Duck | undefined;
  private readonly pending = new Map<string, Batch[]>();
  /** Writes of the current input so far (file names of later writes must differ). */
  private writes = 0;

  constructor(
    readonly dir: string,
    readonly partition: 'input' | 'hour',
  ) {}

  get label(): string {
    return this.dir;
  }

  async open(): Promise<void> {
    try {
      mkdirSync(this.dir, { recursive: true });
      for (const t of TABLES) mkdirSync(join(this.dir, t.name), { recursive: true });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new SinkError(`${this.dir}: cannot create the directory (${err.code ?? err.message})`);
    }
    this.db = await openDuck(':memory:', { memoryLimit: '128MB' });
    await run(this.db.connection, 'SET preserve_insertion_order = false', this.dir);
    // Each writing thread holds a row group (with its JSON text) until it is full: one thread, so
    // a capture of any size fits in the memory limit.
    await run(this.db.connection, 'SET threads = 1', this.dir);
  }

  /** A live capture's files carry its start time: they add to those of earlier captures. */
  private started = '';

  /** VANTAGE--NAME-HASH: the hash of the whole path keeps a.pcap of two directories apart. */
  private base(input: InputLabel): string {
    let h = 0x811c9dc5;
    for (let i = 0; i < input.file.length; i++) h = Math.imul(h ^ input.file.charCodeAt(i), 0x01000193);
    return `${fileSafe(input.vantage)}--${fileSafe(basename(input.file))}-${(h >>> 0).toString(16).padStart(8, '0')}${this.started}`;
  }

  async beginInput(input: InputLabel, replace: boolean): Promise<void> {
    this.writes = 0;
    this.started = replace ? '' : `-${new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}`;
    if (!replace) return;
    // Exporting a capture file again replaces its files.
    const base = this.base(input);
    for (const t of TABLES) {
      const d = join(this.dir, t.name);
      for (const f of walk(d)) if (basename(f).startsWith(`${base}.`) || basename(f).startsWith(`${base}-`)) rmSync(f, { force: true });
    }
  }

  async load(b: Batch): Promise<void> {
    const list = this.pending.get(b.table) ?? [];
    list.push(b);
    this.pending.set(b.table, list);
  }

  async endInput(input: InputLabel, final: boolean): Promise<void> {
    const base = this.base(input);
    const k = this.writes++;
    for (const t of TABLES) {
      const batches = this.pending.get(t.name);
      if (!batches?.length) continue;
      this.pending.delete(t.name);
      const select = selectBatches(t, batches, input);
      const what = `${this.dir}: writing ${t.name}`;
      if (this.partition === 'hour') {
        const target = join(this.dir, t.name);
        await run(
          this.db!.connection,
          `COPY (SELECT *, ${hourOf(t.time)} AS hour FROM (${select})) TO ${lit(target)} ` +
            `(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP}, PARTITION_BY (hour), FILENAME_PATTERN ${lit(`${base}-${k}-{i}`)}, OVERWRITE_OR_IGNORE)`,
          what,
        );
      } else {
        // Live without hourly files: one file per stop, numbered after the first.
        const name = final && k === 0 ? `${base}.parquet` : `${base}-${k}.parquet`;
        await run(this.db!.connection, `COPY (${select}) TO ${lit(join(this.dir, t.name, name))} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE ${PARQUET_ROW_GROUP})`, what);
      }
      for (const b of batches) removeBatch(b);
    }
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }
}

function walk(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries.flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}
