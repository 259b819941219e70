// `--to x.duckdb`: the tables in one DuckDB database file. Exporting a capture file again replaces
// its rows (same vantage and file), so a re-run does not count packets twice.

import { availableParallelism } from 'node:os';
import { duckDdl, lit, q } from './columns.js';
import { openDuck, run, type Duck } from './duck.js';
import { selectBatch } from './select.js';
import type { InputLabel, Sink } from './sink.js';
import { removeBatch, type Batch } from './stage.js';
import { TABLES } from './tables.js';
import { trace } from './trace.js';

export class DuckDbSink implements Sink {
  private db: Duck | undefined;

  constructor(readonly path: string) {}

  get label(): string {
    return this.path;
  }

  async open(): Promise<void> {
    // A small buffer pool: inserted data goes to the file (or spills), not to memory; rows of 1 KB
    // of JSON each (large Map-Registers) load within it too.
    this.db = await openDuck(this.path, { memoryLimit: '64MB' });
    const c = this.db.connection;
    await run(c, 'SET preserve_insertion_order = false', this.path);
    // One core stays with the reader and flow engine, which run beside DuckDB.
    await run(c, `SET threads = ${Math.max(1, availableParallelism() - 1)}`, this.path);
    // Bulk inserts buffer row groups before writing them (5 by default, ~50 MB each with the JSON
    // text): one at a time keeps memory flat.
    await run(c, 'SET write_buffer_row_group_count = 1', this.path);
    for (const t of TABLES) await run(c, duckDdl(t), `${this.path}: creating table ${t.name}`);
  }

  async beginInput(input: InputLabel, replace: boolean): Promise<void> {
    if (!replace) return;
    const c = this.db!.connection;
    for (const t of TABLES) {
      await run(c, `DELETE FROM ${q(t.name)} WHERE vantage = ${lit(input.vantage)} AND file = ${lit(input.file)}`, `${this.path}: ${t.name}`);
    }
  }

  async load(b: Batch): Promise<void> {
    const t = TABLES.find((x) => x.name === b.table)!;
    await run(this.db!.connection, `INSERT INTO ${q(t.name)} ${selectBatch(t, b)}`, `${this.path}: loading ${t.name}`);
    removeBatch(b);
  }

  async endInput(): Promise<void> {}

  async close(): Promise<void> {
    if (!this.db) return;
    trace('checkpoint');
    await run(this.db.connection, 'CHECKPOINT', this.path);
    trace('checkpointed');
    this.db.close();
    this.db = undefined;
  }
}
