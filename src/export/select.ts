// The SELECT that reads staged batch files (see stage.ts) into a table's columns: DuckDB reads the
// lines as two fields (the separator byte never occurs in JSON text), parses each JSON object once
// into the structure the columns need, and projects the columns.

import { columnExpr, detailSchema, duckType, lit, parseSchema, q, wholeSchema, type Column, type ColumnType, type Table } from './columns.js';
import { CONTROL_COLUMNS, CONTROL_NULL } from './control-row.js';
import { PLAIN_FIELDS, PLAIN_NULL } from './plain-row.js';
import type { Batch } from './stage.js';

/** Engines that read the rows afterwards may want other types (ClickHouse: no BOOLEAN, JSON as text). */
export type Flavour = 'duckdb' | 'clickhouse';

// A row is at most a 64 KiB datagram's JSON (a few hundred KiB): DuckDB's line limit is set well
// above that. The read buffer is no larger than the limit: DuckDB's allocator gives back what a
// task allocated beyond 8 MB (duck.ts), so 8 MB buffers were fresh memory, faulted in page by
// page, for every buffer read, where 2 MB ones are reused (duck.ts's single arena keeps that from
// growing the peak).
const MAX_LINE = 2 << 20;

function readCsv(paths: string[], fields: [string, string][], extra = '', delim = 1): string {
  const columns = fields.map(([name, type]) => `${lit(name)}: ${lit(type)}`).join(', ');
  return (
    `read_csv([${paths.map(lit).join(', ')}], columns = {${columns}}, delim = chr(${delim}), quote = '', escape = '', ` +
    `header = false, auto_detect = false, new_line = '\\n', max_line_size = ${MAX_LINE}, buffer_size = ${MAX_LINE}${extra})`
  );
}

export function readRows(paths: string[]): string {
  return readCsv(paths, [
    ['seq', 'BIGINT'],
    ['line', 'VARCHAR'],
  ]);
}

/** Plain data rows (plain-row.ts): typed fields, missing ones spelled \N. */
export function readPlainRows(paths: string[]): string {
  return readCsv(paths, [['seq', 'BIGINT'], ...PLAIN_FIELDS], `, nullstr = ${lit(PLAIN_NULL)}`);
}

/** Control rows (control-row.ts): the packets columns' values, tab-separated, then the JSON. */
export function readControlRows(paths: string[]): string {
  const fields: [string, string][] = CONTROL_COLUMNS.map((c) => [c.name, duckType(c.type)]);
  return readCsv(paths, [['seq', 'BIGINT'], ...fields, ['line', 'VARCHAR']], `, nullstr = ${lit(CONTROL_NULL)}`, 9);
}

/** A column's value in a control row: the field of its name; the JSON from the line. */
function controlExpr(c: Column, constants: Record<string, string | number>, jsonAsText: boolean): string {
  if (c.constant) return columnExpr(c, constants, jsonAsText);
  if (c.type === 'json') return `line::${jsonAsText ? 'VARCHAR' : duckType(c.type)}`;
  return q(c.name);
}

const PLAIN_NAMES = new Set(PLAIN_FIELDS.map(([name]) => name));

/** A column's value in a plain data row: its `plain` expression, the field of its name, or null. */
function plainExpr(c: Column, constants: Record<string, string | number>, jsonAsText: boolean): string {
  if (c.constant) return columnExpr(c, constants, jsonAsText);
  const key = c.key ?? c.name;
  const e = c.plain ?? (c.name === 'seq' ? 'seq' : PLAIN_NAMES.has(key) ? q(key) : 'NULL');
  return `(${e})::${c.type === 'json' && jsonAsText ? 'VARCHAR' : duckType(c.type)}`;
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

/**
 * The table's rows from staged JSON rows (`paths`), plain data rows and control rows (`plain`,
 * `control`: packets only).
 * `detailRows`: the JSON rows are (nearly) all rows the table's `detail` selects, and each is
 * parsed once, whole, rather than once for every row and again for its detail.
 */
export function selectRows(
  t: Table,
  paths: string[],
  constants: { vantage: string; file: string },
  flavour: Flavour = 'duckdb',
  plain: string[] = [],
  detailRows = false,
  control: string[] = [],
): string {
  const parts: string[] = [];
  const jsonAsText = flavour === 'clickhouse';
  if (plain.length > 0) parts.push(`SELECT ${t.columns.map((c) => `${plainExpr(c, constants, jsonAsText)} AS ${q(c.name)}`).join(', ')} FROM ${readPlainRows(plain)}`);
  if (control.length > 0) parts.push(`SELECT ${t.columns.map((c) => `${controlExpr(c, constants, jsonAsText)} AS ${q(c.name)}`).join(', ')} FROM ${readControlRows(control)}`);
  if (paths.length > 0 || (plain.length === 0 && control.length === 0)) {
    const whole = t.detail !== undefined && detailRows;
    const schema = JSON.stringify(whole ? wholeSchema(t) : parseSchema(t));
    const cols = t.columns.map((c) => `${columnExpr(c, constants, jsonAsText)} AS ${q(c.name)}`);
    let from = `(SELECT seq, line, from_json(line, ${lit(schema)}) AS o FROM ${readRows(paths)})`;
    if (whole) from = `(SELECT seq, line, o, o AS d FROM ${from})`;
    else if (t.detail) {
      from = `(SELECT seq, line, o, CASE WHEN ${t.detail} THEN from_json(line, ${lit(JSON.stringify(detailSchema(t)))}) END AS d FROM ${from})`;
    }
    parts.push(`SELECT ${cols.join(', ')} FROM ${from}`);
  }
  const select = parts.join(' UNION ALL ');
  if (flavour === 'duckdb') return select;
  return `SELECT ${t.columns.map((c) => `${clickhouseText(c.name, c.type)} AS ${q(c.name)}`).join(', ')} FROM (${select})`;
}

/** The rows of staged batches of one table. */
export function selectBatches(t: Table, batches: Batch[], constants: { vantage: string; file: string }, flavour: Flavour = 'duckdb'): string {
  const files = (k: 'path' | 'plain' | 'control') => batches.map((b) => b[k]).filter((p): p is string => p !== undefined);
  return selectRows(t, files('path'), constants, flavour, files('plain'), batches.every((b) => b.detailRows), files('control'));
}

export function selectBatch(t: Table, b: Batch, flavour: Flavour = 'duckdb'): string {
  return selectBatches(t, [b], b, flavour);
}
