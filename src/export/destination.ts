// DEST of `export --to` and `sniff --export`: `x.duckdb` (a DuckDB file), `dir/` (Parquet files),
// or `clickhouse://user[:password]@host:8123/db` (ClickHouse over HTTP).

import { statSync } from 'node:fs';
import { ClickHouseSink, parseClickHouseUrl } from './clickhouse-sink.js';
import { DuckDbSink } from './duckdb-sink.js';
import { ParquetSink } from './parquet-sink.js';
import { SinkError, type Sink } from './sink.js';

export interface DestinationOptions {
  partition?: 'input' | 'hour';
  env?: NodeJS.ProcessEnv;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function openDestination(dest: string, opts: DestinationOptions = {}): Sink {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(dest)) {
    if (!/^clickhouse:\/\//i.test(dest)) throw new SinkError(`${dest}: unknown destination scheme (clickhouse://user@host:8123/db, x.duckdb or dir/)`);
    if (opts.partition === 'hour') throw new SinkError('--partition hour is for Parquet directories (ClickHouse partitions by day itself)');
    return new ClickHouseSink(parseClickHouseUrl(dest, opts.env ?? process.env));
  }
  if (/\.duckdb$/i.test(dest) || /\.db$/i.test(dest)) {
    if (opts.partition === 'hour') throw new SinkError('--partition hour is for Parquet directories');
    return new DuckDbSink(dest);
  }
  if (dest.endsWith('/') || isDirectory(dest)) return new ParquetSink(dest.replace(/\/+$/, '') || '/', opts.partition ?? 'input');
  throw new SinkError(`${dest}: say what it is: x.duckdb (DuckDB file), dir/ (Parquet files) or clickhouse://user@host:8123/db`);
}
