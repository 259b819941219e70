// `lispscope query DEST "SQL" [--json]`: SQL over an export (src/export/query.ts), as a table or NDJSON.

import { openExport, runQuery as runSql, type QueryColumn } from '../export/query.js';
import { SinkError } from '../export/sink.js';
import { table } from '../output/flows-text.js';
import { chooseStyle } from '../output/style.js';
import { helpText, parseArgs, UsageError, type CommandSpec } from './args.js';
import type { Io } from '../output/io.js';

export const querySpec: CommandSpec = {
  name: 'query',
  summary: 'Run SQL over an export: a DuckDB file or a Parquet directory (tables: packets, exchanges, mappings, handovers, handover_peers, captures; see docs/schema.md).',
  usage: 'lispscope query [options] x.duckdb|dir/ "SQL"',
  example: "lispscope query lisp.duckdb \"select kind, outcome, count(*) from exchanges group by all\"",
  options: [
    { name: 'json', kind: 'flag', help: 'NDJSON output, one object per row (JSON columns as objects)' },
    { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
  ],
};

/** Rows per printed table: a table needs its rows to size its columns. */
const TABLE_ROWS = 5000;

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export async function runQuery(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(querySpec, argv);
  if (a.flags.get('help')) {
    io.out(helpText(querySpec));
    return 0;
  }
  const [dest, sql, extra] = a.positional;
  if (dest === undefined || sql === undefined) throw new UsageError('query: give the export and the SQL (lispscope query x.duckdb "select count(*) from packets")');
  if (extra !== undefined) throw new UsageError(`query: unexpected argument "${extra}" (quote the SQL as one argument)`);
  const json = a.flags.get('json') ?? false;
  const style = chooseStyle(json ? { isTTY: false } : io.stdout, io.env);
  let cols: QueryColumn[] = [];
  let pending: unknown[][] = [];
  const printTable = () => {
    if (!pending.length) return;
    const t = table(cols.map((c) => c.name), style);
    for (const r of pending) t.push(r.map(cellText));
    io.line(t.toString());
    pending = [];
  };
  try {
    const duck = await openExport(dest);
    try {
      const n = await runSql(
        duck,
        sql,
        (c) => (cols = c),
        (rows) => {
          if (json) {
            for (const r of rows) {
              const o: Record<string, unknown> = {};
              cols.forEach((c, i) => (o[c.name] = c.json && typeof r[i] === 'string' ? JSON.parse(r[i] as string) : r[i]));
              io.line(JSON.stringify(o));
            }
            return;
          }
          pending.push(...rows);
          if (pending.length >= TABLE_ROWS) printTable();
        },
      );
      if (!json) {
        printTable();
        if (n === 0) io.line(`(no rows; columns: ${cols.map((c) => c.name).join(', ')})`);
      }
    } finally {
      duck.close();
    }
  } catch (e) {
    if (e instanceof SinkError) throw new UsageError(e.message);
    throw e;
  }
  return 0;
}
