// The SELECT that reads staged batch files (see stage.ts) into a table's columns: DuckDB reads the
// lines as two fields (the separator byte never occurs in JSON text), parses each JSON object once
// into the structure the columns need, and projects the columns.

import { columnExpr, detailSchema, lit, parseSchema, q, type ColumnType, type Table } from './columns.js';

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

/** ClickHouse's text form of a column (CSV): booleans as 0/1, arrays as its literals ['a','b']. */
function clickhouseText(name: string, type: ColumnType): string {
  const c = q(name);
  switch (type) {
    case 'bool':
      return `${c}::UTINYINT`;
    case 'json':
      return `${c}::VARCHAR`;
    case 'int[]':
      return `'[' || array_to_string(${c}, ',') || ']'`;
    case 'text[]': {
      // Quotes and backslashes inside elements are escaped; most lists have none (or no element).
      const joined = `array_to_string(${c}, '')`;
      const escaped = `array_to_string(list_transform(${c}, x -> '''' || replace(replace(x, '\\', '\\\\'), '''', '\\''') || ''''), ',')`;
      return (
        `CASE WHEN len(${c}) = 0 THEN '[]' ` +
        `WHEN contains(${joined}, '''') OR contains(${joined}, '\\') THEN '[' || ${escaped} || ']' ` +
        `ELSE '[''' || array_to_string(${c}, ''',''') || ''']' END`
      );
    }
    default:
      return c;
  }
}

export function selectRows(t: Table, paths: string[], constants: { vantage: string; file: string }, flavour: Flavour = 'duckdb'): string {
  const schema = JSON.stringify(parseSchema(t));
  const cols = t.columns.map((c) => `${columnExpr(c, constants)} AS ${q(c.name)}`);
  let from = `(SELECT seq, line, from_json(line, ${lit(schema)}) AS o FROM ${readRows(paths)})`;
  if (t.detail) {
    from = `(SELECT seq, line, o, CASE WHEN ${t.detail} THEN from_json(line, ${lit(JSON.stringify(detailSchema(t)))}) END AS d FROM ${from})`;
  }
  const select = `SELECT ${cols.join(', ')} FROM ${from}`;
  if (flavour === 'duckdb') return select;
  return `SELECT ${t.columns.map((c) => `${clickhouseText(c.name, c.type)} AS ${q(c.name)}`).join(', ')} FROM (${select})`;
}
