// `--to clickhouse://user[:password]@host:8123/db`: ClickHouse over HTTP (@clickhouse/client).
// Tables are created when missing (MergeTree ordered by time, partitioned by day), with DDL that
// ClickHouse 18.16 (Debian's) understands and newer servers accept: no DateTime64, no Bool, times
// as Float64 epoch seconds. A batch is turned into ClickHouse's input by the same SELECT the
// DuckDB and Parquet sinks use (DuckDB in memory writes it as CSV), then streamed in one INSERT.

import type { ClickHouseClient } from '@clickhouse/client';
import { createReadStream, rmSync } from 'node:fs';
import { clickhouseDdl, cq, lit } from './columns.js';
import { openDuck, run, type Duck } from './duck.js';
import { selectBatch } from './select.js';
import { CLICKHOUSE_PLAIN_COLUMNS, clickhouseOrigin, clickhousePlainRow } from './clickhouse-row.js';
import { CONTROL_COLUMNS } from './control-row.js';
import type { PlainRowWriter } from './plain-row.js';
import { SinkError, SinkUnavailable, type InputLabel, type Sink } from './sink.js';
import type { Batch } from './stage.js';
import { TABLES } from './tables.js';

/** The columns of a control row (control-row.ts), in its order. */
const CLICKHOUSE_CONTROL_COLUMNS = ['seq', 'vantage', 'file', ...CONTROL_COLUMNS.map((c) => c.name), 'json'];

/** One INSERT of a staged file. */
interface Insert {
  table: string;
  query: string;
  file: string;
}

export interface ClickHouseTarget {
  url: string;
  host: string;
  port: number;
  username: string;
  password: string;
  database: string;
}

/** `clickhouse://user[:password]@host[:port]/db`; the password may come from CLICKHOUSE_PASSWORD instead. */
export function parseClickHouseUrl(dest: string, env: NodeJS.ProcessEnv): ClickHouseTarget {
  let u: URL;
  try {
    u = new URL(dest);
  } catch {
    throw new SinkError(`${dest}: not a valid URL (clickhouse://user@host:8123/db)`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\/+/, '').replace(/\/+$/, ''));
  if (!u.hostname) throw new SinkError(`${dest}: no host (clickhouse://user@host:8123/db)`);
  if (database === '' || database.includes('/')) throw new SinkError(`${dest}: name one database after the host (clickhouse://user@host:8123/db)`);
  if (u.search || u.hash) throw new SinkError(`${dest}: unexpected ${u.search ? 'query' : 'fragment'} in the URL`);
  const port = u.port ? Number(u.port) : 8123;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    url: `http://${u.hostname}:${port}`,
    host,
    port,
    username: decodeURIComponent(u.username) || 'default',
    password: u.password ? decodeURIComponent(u.password) : (env.CLICKHOUSE_PASSWORD ?? ''),
    database,
  };
}

/**
 * The server parses an insert in blocks of this many rows, then squashes them into one block (one
 * part) as before. Its default (1,048,576) parses a batch into columns that grow by doubling, a
 * copy and fresh pages each time: with blocks of 8192 rows an insert took 30% less of the
 * server's CPU (18.16; the merges that follow cost as much again, so 5% of the whole). A setting
 * every version knows.
 */
const INSERT_SETTINGS = { max_insert_block_size: '8192' };

/**
 * A staged file is sent in chunks of this size: each chunk costs a read, a pass through the
 * streams and a socket write, and with the default 64 KiB an upload took 1.7x the CPU.
 */
const UPLOAD_CHUNK = 1 << 20;

/** How long an export waits for ClickHouse to delete an input's earlier rows. */
const MUTATION_WAIT_MS = 10 * 60_000;

/** A ClickHouse string literal (backslash escapes). */
const chLit = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

const UNREACHABLE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|socket hang up|Timeout error|timed out/i;

/** ClickHouse's and the network's errors as one line each. */
export function clickhouseError(t: ClickHouseTarget, e: unknown, what: string): Error {
  const err = e as Error & { code?: string; type?: string };
  const where = `clickhouse ${t.host}:${t.port}`;
  const first = (err.message ?? String(e)).split('\n')[0]!;
  // Old servers say "Code: 81, e.displayText() = DB::Exception: ...", new ones "Code: 81. DB::Exception: ...".
  const code = err.code ?? /^Code: (\d+)/.exec(first)?.[1];
  const msg = first.replace(/, e\.what\(\) = .*$/, '').replace(/^Code: \d+[,.] (e\.displayText\(\) = )?DB::Exception: /, '').replace(/ \(version [^)]*\)$/, '');
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return new SinkError(`${where}: unknown host`);
  if (UNREACHABLE.test(err.code ?? '') || UNREACHABLE.test(msg)) return new SinkUnavailable(`${where}: unreachable (${err.code ?? msg})`);
  switch (code) {
    case '192': // UNKNOWN_USER
    case '193': // WRONG_PASSWORD
    case '194': // REQUIRED_PASSWORD
    case '516': // AUTHENTICATION_FAILED
      return new SinkError(`${where}: bad credentials for user "${t.username}" (${msg})`);
    case '81': // UNKNOWN_DATABASE
      return new SinkError(`${where}: database "${t.database}" does not exist (CREATE DATABASE ${t.database} first)`);
    case '497': // ACCESS_DENIED
      return new SinkError(`${where}: user "${t.username}" may not ${what} (${msg})`);
  }
  return new SinkError(`${where}: ${what}: ${msg}`);
}

export class ClickHouseSink implements Sink {
  private client: ClickHouseClient | undefined;
  private duck: Duck | undefined;

  constructor(readonly target: ClickHouseTarget) {}

  get label(): string {
    return `clickhouse://${this.target.username}@${this.target.host}:${this.target.port}/${this.target.database}`;
  }

  async open(): Promise<void> {
    const t = this.target;
    // Loaded on first use, as DuckDB is (duck.ts): an optional dependency the other commands do not load.
    let client: typeof import('@clickhouse/client');
    try {
      client = await import('@clickhouse/client');
    } catch (e) {
      throw new SinkError(`the ClickHouse client is not installed (npm i @clickhouse/client): ${(e as Error).message.split('\n')[0]}`);
    }
    const { ClickHouseLogLevel, createClient } = client;
    this.client = createClient({
      url: t.url,
      username: t.username,
      password: t.password,
      database: t.database,
      request_timeout: 60_000,
      // Failures reach the user as one line (clickhouseError), not as the client's log.
      log: { level: ClickHouseLogLevel.OFF },
      // The server is old enough to reject settings it does not know: send none but INSERT_SETTINGS.
      clickhouse_settings: {},
    });
    try {
      // A query in the database: tells a missing database and bad credentials apart.
      const rs = await this.client.query({ query: 'SELECT 1', format: 'JSONEachRow' });
      await rs.json();
    } catch (e) {
      throw clickhouseError(t, e, 'connect');
    }
    for (const table of TABLES) {
      try {
        await this.client.command({ query: clickhouseDdl(table, t.database) });
      } catch (e) {
        throw clickhouseError(t, e, `create table ${table.name}`);
      }
    }
    this.duck = await openDuck(':memory:', { memoryLimit: '256MB', keepFreed: true });
  }

  /**
   * A capture file exported again replaces its rows. ClickHouse deletes are mutations: they rewrite
   * the table's parts, asynchronously. So only rows that are there are deleted (a first export
   * costs one count per table), and the export waits until the mutations are done: rows inserted
   * after a mutation was made are never touched by it, but queries would see both until then.
   */
  async beginInput(input: InputLabel, replace: boolean): Promise<void> {
    if (!replace) return;
    const where = `${cq('vantage')} = ${chLit(input.vantage)} AND ${cq('file')} = ${chLit(input.file)}`;
    const db = cq(this.target.database);
    const mutated: string[] = [];
    for (const t of TABLES) {
      const n = await this.value(`SELECT count() AS n FROM ${db}.${cq(t.name)} WHERE ${where}`, `count ${t.name}`);
      if (Number(n) === 0) continue;
      try {
        await this.client!.command({ query: `ALTER TABLE ${db}.${cq(t.name)} DELETE WHERE ${where}` });
      } catch (e) {
        throw clickhouseError(this.target, e, `delete the earlier rows of ${input.file} from ${t.name}`);
      }
      mutated.push(t.name);
    }
    if (mutated.length === 0) return;
    const pending = `SELECT count() AS n FROM system.mutations WHERE database = ${chLit(this.target.database)} AND table IN (${mutated.map(chLit).join(', ')}) AND is_done = 0`;
    const deadline = Date.now() + MUTATION_WAIT_MS;
    for (let wait = 50; Number(await this.value(pending, 'wait for the deletes')) > 0; wait = Math.min(wait * 2, 1000)) {
      if (Date.now() > deadline) throw new SinkError(`${this.label}: the earlier rows of ${input.file} are still being deleted after ${MUTATION_WAIT_MS / 60_000} minutes (system.mutations)`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }

  /** The first column of a one-row query. */
  private async value(query: string, what: string): Promise<unknown> {
    try {
      const rs = await this.client!.query({ query, format: 'JSONEachRow' });
      const rows = await rs.json<Record<string, unknown>>();
      return Object.values(rows[0] ?? {})[0];
    } catch (e) {
      throw clickhouseError(this.target, e, what);
    }
  }

  /** Plain data rows come written as ClickHouse's TabSeparated rows (clickhouse-row.ts). */
  plainRows(input: InputLabel): PlainRowWriter {
    return clickhousePlainRow(input);
  }

  /** Control rows come as TabSeparated rows too, with the input's vantage and file. */
  controlOrigin(input: InputLabel): Uint8Array {
    return clickhouseOrigin(input);
  }

  /**
   * Batches are pipelined: DuckDB prepares one while ClickHouse takes the one before. An insert
   * that failed is kept and sent again before the next batch, so the loader's retry of that next
   * batch loses nothing. Plain data rows go as they were staged; the other rows as CSV, which
   * DuckDB writes from the same SELECT as for the other sinks (ClickHouse parses CSV several
   * times faster than JSONEachRow).
   */
  async load(b: Batch): Promise<void> {
    const t = TABLES.find((x) => x.name === b.table)!;
    const db = cq(this.target.database);
    const csv = b.path === undefined ? undefined : `${b.path}.ch`;
    if (csv !== undefined) {
      await run(
        this.duck!.connection,
        `COPY (${selectBatch(t, { ...b, plain: undefined, control: undefined }, 'clickhouse')}) TO ${lit(csv)} (FORMAT csv, HEADER false, NULLSTR '\\N')`,
        `preparing ${t.name} for ClickHouse`,
      );
    }
    try {
      await this.settle();
    } catch (e) {
      // The batch stays as it was staged, for the loader to try again.
      if (csv !== undefined) rmSync(csv, { force: true });
      throw e;
    }
    // From here the inserts own the files.
    const inserts: Insert[] = [];
    if (b.plain !== undefined) {
      const columns = CLICKHOUSE_PLAIN_COLUMNS.map(cq).join(', ');
      inserts.push({ table: t.name, query: `INSERT INTO ${db}.${cq(t.name)} (${columns}) FORMAT TabSeparated`, file: b.plain });
    }
    if (b.control !== undefined) {
      const columns = CLICKHOUSE_CONTROL_COLUMNS.map(cq).join(', ');
      inserts.push({ table: t.name, query: `INSERT INTO ${db}.${cq(t.name)} (${columns}) FORMAT TabSeparated`, file: b.control });
    }
    if (csv !== undefined) {
      rmSync(b.path!, { force: true });
      inserts.push({ table: t.name, query: `INSERT INTO ${db}.${cq(t.name)} FORMAT CSV`, file: csv });
    }
    const flight = { inserts, promise: Promise.resolve() };
    flight.promise = this.send(flight.inserts);
    flight.promise.catch(() => undefined); // seen by settle()
    this.inFlight = flight;
  }

  private inFlight: { inserts: Insert[]; promise: Promise<void> } | undefined;

  /** Sends the inserts in order; each sent one leaves the list (a retry sends the rest). */
  private async send(inserts: Insert[]): Promise<void> {
    while (inserts.length > 0) {
      const i = inserts[0]!;
      await this.insert(i);
      rmSync(i.file, { force: true });
      inserts.shift();
    }
  }

  /** Waits for the inserts in flight; one that failed is sent again (and throws if it fails again). */
  private async settle(): Promise<void> {
    const f = this.inFlight;
    if (!f) return;
    try {
      await f.promise;
    } catch {
      f.promise = this.send(f.inserts);
      await f.promise;
    }
    this.inFlight = undefined;
  }

  private async insert({ table, query, file }: Insert): Promise<void> {
    try {
      const r = await this.client!.exec({ query, values: createReadStream(file, { highWaterMark: UPLOAD_CHUNK }), clickhouse_settings: INSERT_SETTINGS });
      r.stream.resume();
      await new Promise<void>((resolve, reject) => {
        r.stream.on('end', resolve);
        r.stream.on('error', reject);
      });
    } catch (e) {
      throw clickhouseError(this.target, e, `insert into ${table}`);
    }
  }

  async endInput(): Promise<void> {
    await this.settle();
  }

  async close(): Promise<void> {
    for (const i of this.inFlight?.inserts ?? []) rmSync(i.file, { force: true });
    this.inFlight = undefined;
    this.duck?.close();
    this.duck = undefined;
    await this.client?.close();
    this.client = undefined;
  }
}
