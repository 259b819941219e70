// `lispscope query DEST "SQL" [--json]`: SQL over an export (src/export/query.ts), printed as tables or NDJSON (output/query-rows.ts).

import { openExport, runQuery as runSql } from '../export/query.js';
import { SinkError } from '../export/sink.js';
import { QueryRowsPrinter } from '../output/query-rows.js';
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
  const printer = new QueryRowsPrinter(json, style, (text) => io.line(text));
  try {
    const duck = await openExport(dest);
    try {
      const n = await runSql(
        duck,
        sql,
        (c) => printer.columns(c),
        (rows) => printer.rows(rows),
      );
      printer.end(n);
    } finally {
      duck.close();
    }
  } catch (e) {
    if (e instanceof SinkError) throw new UsageError(e.message);
    throw e;
  }
  return 0;
}
