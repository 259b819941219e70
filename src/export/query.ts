// `lispscope query DEST "SQL"`: DuckDB over an export, a DuckDB file or a Parquet directory (whose
// tables are views over its files), so that answers need no database server. Rows are streamed a
// chunk at a time.

import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBType, DuckDBValue } from '@duckdb/node-api';
import { duckDdl, lit, q } from './columns.js';
import { duckMessage, openDuck, run, type Duck } from './duck.js';
import { SinkError } from './sink.js';
import { TABLES } from './tables.js';

export interface QueryColumn {
  name: string;
  /** A JSON column: its values are JSON text. */
  json: boolean;
}

/** Plain JSON values: BIGINT as a number when exact (else text), lists as arrays, structs as objects, times as text. */
export function plainValue(v: DuckDBValue): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  const o = v as unknown as { items?: DuckDBValue[]; entries?: Record<string, DuckDBValue> };
  if (Array.isArray(o.items)) return o.items.map(plainValue);
  if (o.entries && typeof o.entries === 'object' && !Array.isArray(o.entries)) {
    return Object.fromEntries(Object.entries(o.entries).map(([k, x]) => [k, plainValue(x)]));
  }
  return String(v);
}

async function openParquetDir(dir: string): Promise<Duck> {
  const duck = await openDuck(':memory:');
  let found = 0;
  for (const t of TABLES) {
    const d = join(dir, t.name);
    if (!existsSync(d) || !hasParquet(d)) {
      // No rows of this table were exported: an empty table with its columns still answers.
      await run(duck.connection, duckDdl(t), `${dir}: ${t.name}`);
      continue;
    }
    found++;
    await run(
      duck.connection,
      `CREATE VIEW ${q(t.name)} AS SELECT * FROM read_parquet(${lit(`${d}/**/*.parquet`)}, hive_partitioning = true, union_by_name = true)`,
      `${dir}: ${t.name}`,
    );
  }
  if (found === 0) {
    duck.close();
    throw new SinkError(`${dir}: no Parquet files of an export (${TABLES.map((t) => `${t.name}/`).join(', ')})`);
  }
  return duck;
}

function hasParquet(dir: string): boolean {
  return readdirSync(dir, { withFileTypes: true }).some((e) => (e.isDirectory() ? hasParquet(join(dir, e.name)) : e.name.endsWith('.parquet')));
}

/** Opens DEST for reading: a DuckDB file (read-only), or a directory of Parquet files. */
export async function openExport(dest: string): Promise<Duck> {
  let st;
  try {
    st = statSync(dest);
  } catch {
    throw new SinkError(`${dest}: no such file or directory`);
  }
  if (st.isDirectory()) return openParquetDir(dest);
  return openDuck(dest, { readOnly: true });
}

/** Runs the SQL; `onColumns` gets the result's columns, then `onRows` each chunk of rows. */
export async function runQuery(
  duck: Duck,
  sql: string,
  onColumns: (cols: QueryColumn[]) => void,
  onRows: (rows: unknown[][]) => void,
): Promise<number> {
  let result;
  try {
    result = await duck.connection.stream(sql);
  } catch (e) {
    throw new SinkError(`query: ${duckMessage(e)}`);
  }
  const names = result.columnNames();
  const types = result.columnTypes();
  onColumns(names.map((name, i) => ({ name, json: isJson(types[i]!) })));
  let n = 0;
  for (;;) {
    let chunk;
    try {
      chunk = await result.fetchChunk();
    } catch (e) {
      throw new SinkError(`query: ${duckMessage(e)}`);
    }
    if (!chunk || chunk.rowCount === 0) break;
    const rows = chunk.getRows().map((r) => r.map(plainValue));
    n += rows.length;
    onRows(rows);
  }
  return n;
}

function isJson(t: DuckDBType): boolean {
  return (t as { alias?: string }).alias === 'JSON';
}
