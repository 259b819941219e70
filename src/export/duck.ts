// Opening DuckDB (a database file, or in memory to transform batches and read Parquet), with its
// failures as one line each.

import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { SinkError } from './sink.js';

/**
 * DuckDB's module, loaded on first use: every other command would pay its start-up (a native library
 * of 70 MB), and an installation without it (an optional dependency) still runs everything else.
 */
async function duckdb(): Promise<typeof import('@duckdb/node-api')> {
  // One jemalloc arena instead of DuckDB's two: its queries run on whichever libuv thread is free,
  // and memory one arena kept was of no use to the next query on the other. Read once, when the
  // library loads; a user's own setting stays.
  process.env.DUCKDB_JE_MALLOC_CONF ??= 'narenas:1';
  try {
    return await import('@duckdb/node-api');
  } catch (e) {
    throw new SinkError(`DuckDB is not installed (npm i @duckdb/node-api): ${(e as Error).message.split('\n')[0]}`);
  }
}

export type DuckConnection = DuckDBConnection;

export interface Duck {
  connection: DuckConnection;
  close(): void;
}

/** The first line of a DuckDB error, without its class prefix ("IO Error: ..."). */
export function duckMessage(e: unknown): string {
  const m = ((e as Error).message ?? String(e)).split('\n')[0]!;
  return m.replace(/^[A-Za-z ]*Error: /, '');
}

/** The storage format of database files DuckDB creates (see openDuck). */
export const STORAGE_VERSION = 'v1.2.0';

export async function openDuck(path: string, opts: { readOnly?: boolean; memoryLimit?: string; keepFreed?: boolean } = {}): Promise<Duck> {
  const config: Record<string, string> = {};
  if (opts.readOnly) config.access_mode = 'READ_ONLY';
  if (opts.memoryLimit) config.memory_limit = opts.memoryLimit;
  // Files it creates use the storage format of DuckDB 1.2 (February 2025), which the json column's
  // ZSTD compression needs (columns.ts): DuckDB 1.2 and later open them, and files of an older
  // format keep theirs.
  config.storage_compatibility_version = STORAGE_VERSION;
  // Its allocator returns freed memory in the background instead of keeping it per thread, and
  // after every task that allocated more than a few MiB (by default it keeps up to 128 MiB, and
  // loading a batch frees tens of MiB of text at once).
  // (`keepFreed`: small batches every second, where giving memory back each time costs more.)
  config.allocator_background_threads = 'true';
  if (!opts.keepFreed) {
    config.allocator_flush_threshold = '8MB';
    config.allocator_bulk_deallocation_flush_threshold = '8MB';
  }
  let instance: DuckDBInstance;
  try {
    instance = await (await duckdb()).DuckDBInstance.create(path, config);
  } catch (e) {
    const m = duckMessage(e);
    if (/Could not set lock/i.test(m)) throw new SinkError(`${path}: in use by another process (DuckDB allows one writer)`);
    if (/not a valid DuckDB database|invalid database file|Unsupported database/i.test(m)) throw new SinkError(`${path}: not a DuckDB database file`);
    throw new SinkError(`${path}: cannot open: ${m}`);
  }
  const connection = await instance.connect();
  return {
    connection,
    close() {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Runs one statement; DuckDB's error becomes one line naming what was being done. */
export async function run(c: DuckConnection, sql: string, what: string): Promise<void> {
  try {
    await c.run(sql);
  } catch (e) {
    throw new SinkError(`${what}: ${duckMessage(e)}`);
  }
}
