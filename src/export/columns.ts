// A table's columns, declared once: each says its type and how it is read from the row's JSON
// object (the JSON contract's object, as `read`, `flows` and `mappings` print it). The same
// declaration gives the DuckDB and ClickHouse DDL, the schema DuckDB parses each staged line with
// (from_json: one parse per row, in C++) and the SELECT that turns parsed rows into the table's
// columns. Fields the writers gain later reach the `json` column without a change here.

export type ColumnType = 'text' | 'int' | 'double' | 'bool' | 'text[]' | 'int[]' | 'json';

export interface Column {
  name: string;
  type: ColumnType;
  /**
   * Top-level key of the row object the value comes from (default: the column's name). Columns
   * computed from several fields give `sql` and `schema` instead.
   */
  key?: string;
  /** A DuckDB expression over `o` (the parsed row) and `line` (its text). */
  sql?: string;
  /** The from_json structure the expression needs: key → DuckDB type or nested structure. */
  schema?: Record<string, unknown>;
  /**
   * Structure parsed into `d` only for the rows the table's `detail` selects (lists of records and
   * locators: costly to build, and absent from the data packets that are most rows).
   */
  detailSchema?: Record<string, unknown>;
  /**
   * packets: the value for a plain data row (select.ts), an expression over its fields
   * (plain-row.ts); default the field of the column's key, or null when there is none.
   */
  plain?: string;
  /**
   * packets: where the control-row writer (control-row.ts) takes the value as the JSON is written:
   * paths into the row object (`records[].eid`: every record's eid). A scalar column takes the
   * first non-null value of its paths, a list column every value, path after path. Default: the
   * column's key. Says in paths what `sql` says over the parsed row.
   */
  from?: string[];
  /** The same for data packets (`type` data), when they differ. */
  fromData?: string[];
  /** Batch constants (vantage, file, seq) are filled in by the loader, not read from the row. */
  constant?: boolean;
  doc: string;
}

export interface Table {
  name: string;
  /** The column that orders rows in time (ClickHouse ORDER BY and day partitions, Parquet hours). */
  time: string;
  columns: Column[];
  doc: string;
  /** One example query for docs/schema.md. */
  example: string;
  /** Which rows (a condition on `o`) get `d`, the parse of the columns' detailSchema. */
  detail?: string;
}

const DUCK: Record<ColumnType, string> = {
  text: 'VARCHAR',
  int: 'BIGINT',
  double: 'DOUBLE',
  bool: 'BOOLEAN',
  'text[]': 'VARCHAR[]',
  'int[]': 'BIGINT[]',
  json: 'JSON',
};

// ClickHouse 18.16 has no Bool and no Nullable arrays; newer servers accept the same types.
const CLICKHOUSE: Record<ColumnType, string> = {
  text: 'Nullable(String)',
  int: 'Nullable(Int64)',
  double: 'Nullable(Float64)',
  bool: 'Nullable(UInt8)',
  'text[]': 'Array(String)',
  'int[]': 'Array(Int64)',
  json: 'String',
};

/** SQL identifier, quoted (contract names such as `type` and `from` are keywords somewhere). */
export const q = (name: string) => `"${name.replace(/"/g, '""')}"`;
/** ClickHouse quotes identifiers with backquotes. */
export const cq = (name: string) => `\`${name.replace(/`/g, '\\`')}\``;
/** SQL string literal. */
export const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

export function duckType(t: ColumnType): string {
  return DUCK[t];
}

/**
 * JSON text is long and every row's differs: DuckDB's dictionary compression cannot win on it, and
 * trying holds a copy of a row group's text (tens of MiB) and a third of the load's time. ZSTD
 * (storage version 1.2 and later: duck.ts) takes less CPU than FSST and half the room; in a file
 * of an older storage version DuckDB stores the column uncompressed instead.
 */
const DUCK_COMPRESSION: Partial<Record<ColumnType, string>> = { json: ' USING COMPRESSION zstd' };

export function duckDdl(t: Table): string {
  return `CREATE TABLE IF NOT EXISTS ${q(t.name)} (${t.columns.map((c) => `${q(c.name)} ${DUCK[c.type]}${DUCK_COMPRESSION[c.type] ?? ''}`).join(', ')})`;
}

export function clickhouseType(t: Table, c: Column): string {
  // Key columns cannot be Nullable.
  const key = c.name === t.time || c.name === 'vantage' || c.name === 'file';
  return key && c.type === 'double' ? 'Float64' : key && c.type === 'text' ? 'String' : CLICKHOUSE[c.type];
}

/** MergeTree ordered by time and partitioned by day (of the time column, UTC). */
export function clickhouseDdl(t: Table, database: string): string {
  const cols = t.columns.map((c) => `${cq(c.name)} ${clickhouseType(t, c)}`);
  return (
    `CREATE TABLE IF NOT EXISTS ${cq(database)}.${cq(t.name)} (${cols.join(', ')}) ENGINE = MergeTree ` +
    `PARTITION BY toYYYYMMDD(toDateTime(toUInt32(${cq(t.time)}))) ORDER BY (${cq(t.time)}, ${cq('vantage')})`
  );
}

function columnSchema(c: Column): Record<string, unknown> {
  if (c.constant) return {};
  if (c.schema) return c.schema;
  if (c.sql) return {};
  const key = c.key ?? c.name;
  // A JSON column keeps the field's own text.
  return { [key]: c.type === 'json' ? 'JSON' : DUCK[c.type] };
}

/** Two columns may read parts of one object (`inner.type`, `inner.eids`): their structures merge. */
function mergeSchema(into: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(from)) {
    const have = into[k];
    if (isStruct(have) && isStruct(v)) mergeSchema(have, v);
    else if (Array.isArray(have) && Array.isArray(v) && isStruct(have[0]) && isStruct(v[0])) mergeSchema(have[0], v[0]);
    else into[k] = structuredClone(v);
  }
}

const isStruct = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The from_json structure of every field a table's columns read. */
export function parseSchema(t: Table): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of t.columns) mergeSchema(out, columnSchema(c));
  return out;
}

/** The from_json structure of the detail fields (see Column.detailSchema). */
export function detailSchema(t: Table): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of t.columns) if (c.detailSchema) mergeSchema(out, c.detailSchema);
  return out;
}

/** Both structures in one: rows that are nearly all detail rows are parsed once (see Batch.detailRows). */
export function wholeSchema(t: Table): Record<string, unknown> {
  const out = parseSchema(t);
  mergeSchema(out, detailSchema(t));
  return out;
}

/**
 * Each column's DuckDB expression over the parsed row `o`, the line and the batch constants.
 * `jsonAsText`: a json column stays VARCHAR (for ClickHouse, which stores it as a String): the cast
 * to JSON would parse every row's text once more, only to check what our own writers wrote.
 */
export function columnExpr(c: Column, constants: Record<string, string | number>, jsonAsText = false): string {
  const type = c.type === 'json' && jsonAsText ? 'VARCHAR' : DUCK[c.type];
  if (c.constant) {
    const v = constants[c.name];
    if (v === undefined) throw new Error(`no value for the constant column ${c.name}`);
    return `${typeof v === 'number' ? String(v) : lit(v)}::${type}`;
  }
  if (c.sql) return `(${c.sql})::${type}`;
  return `o.${q(c.key ?? c.name)}::${type}`;
}
