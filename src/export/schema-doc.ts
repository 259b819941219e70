// docs/schema.md, written from the table declarations themselves (a test holds the file to it), so
// the reference cannot drift from what `export` writes.

import { clickhouseType, duckType } from './columns.js';
import { TABLES } from './tables.js';

export function schemaMarkdown(): string {
  const out: string[] = [
    '# Export schema',
    '',
    '<!-- Written by `node dist/scripts/schema-doc.js > docs/schema.md` from src/export/tables.ts; test/export/schema.test.ts checks it. -->',
    '',
    'What `lispscope export` and `sniff --export` write (see [export.md](export.md)): the same six tables in',
    'DuckDB, Parquet and ClickHouse. Every table starts with `vantage`, `file` and `seq`, and ends with `json`:',
    'the whole object as the NDJSON output prints it (the JSON contract: see the README), so',
    'fields added to the output later are in `json` at once (`json->>\'$.field\'` in DuckDB,',
    '`visitParamExtractString(json, \'field\')` or `JSONExtract*` in ClickHouse).',
    '',
    'Times are seconds since the epoch as DOUBLE (ClickHouse: Float64, which its 18.16 release can',
    'partition on; `to_timestamp(ts)` in DuckDB, `toDateTime(ts)` in ClickHouse). ClickHouse has no',
    'boolean before 21.12: booleans are `UInt8` there. Lists are never null (empty instead), other',
    'columns are null where the field does not apply. Every query below runs with `lispscope query`.',
    '',
  ];
  for (const t of TABLES) {
    out.push(`## \`${t.name}\``, '', t.doc, '', '| column | DuckDB | ClickHouse | meaning |', '|---|---|---|---|');
    for (const c of t.columns) out.push(`| \`${c.name}\` | ${duckType(c.type)} | ${clickhouseType(t, c)} | ${c.doc.replace(/\|/g, '\\|')} |`);
    out.push('', `ClickHouse: MergeTree ordered by (\`${t.time}\`, \`vantage\`), partitioned by the day of \`${t.time}\` (UTC).`, '', '```sql', t.example, '```', '');
  }
  return out.join('\n');
}
