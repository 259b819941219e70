// The SELECT that reads staged batch files (see stage.ts) into a table's columns: DuckDB reads the
// lines as two fields (the separator byte never occurs in JSON text), parses each JSON object once
// into the structure the columns need, and projects the columns.

import { columnExpr, detailSchema, lit, parseSchema, q, type Table } from './columns.js';

/** Engines that read the rows afterwards may want other types (ClickHouse: no BOOLEAN, JSON as text). */
export type Flavour = 'duckdb' | 'clickhouse';

// A row is at most a 64 KiB datagram's JSON (a few hundred KiB): DuckDB's line limit is set well
// above that (its read buffer must hold several lines).
const MAX_LINE = 2 << 20;

export function readRows(paths: string[]): string {
  return (
    `read_csv([${paths.map(lit).join(', ')}], columns = {'seq': 'BIGINT', 'line': 'VARCHAR'}, delim = chr(1), quote = '', escape = '', ` +
    `header = false, auto_detect = false, new_line = '\\n', max_line_size = ${MAX_LINE}, buffer_size = ${4 * MAX_LINE})`
  );
}

export function selectRows(t: Table, paths: string[], constants: { vantage: string; file: string }, flavour: Flavour = 'duckdb'): string {
  const schema = JSON.stringify(parseSchema(t));
  const cols = t.columns.map((c) => {
    let e = columnExpr(c, constants);
    if (flavour === 'clickhouse') {
      if (c.type === 'bool') e = `(${e})::UTINYINT`;
      if (c.type === 'json') e = `(${e})::VARCHAR`;
    }
    return `${e} AS ${q(c.name)}`;
  });
  let from = `(SELECT seq, line, from_json(line, ${lit(schema)}) AS o FROM ${readRows(paths)})`;
  if (t.detail) {
    from = `(SELECT seq, line, o, CASE WHEN ${t.detail} THEN from_json(line, ${lit(JSON.stringify(detailSchema(t)))}) END AS d FROM ${from})`;
  }
  return `SELECT ${cols.join(', ')} FROM ${from}`;
}

