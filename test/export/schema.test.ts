// docs/schema.md is the tables' own description, and every example query in it runs.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schemaMarkdown } from '../../src/export/schema-doc.js';
import { TABLES } from '../../src/export/tables.js';
import { PCAPS, ROOT } from '../cli/run.js';
import { cli } from './support.js';

describe('docs/schema.md', () => {
  it('is written from the table declarations (node dist/scripts/schema-doc.js > docs/schema.md)', () => {
    expect(readFileSync(join(ROOT, 'docs/schema.md'), 'utf8')).toBe(schemaMarkdown());
  });

  it("has an example query per table, and each runs on an export of the handover story", async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'lispscope-schema-')), 'x.duckdb');
    expect((await cli(['export', join(PCAPS, 'mn-handover.pcapng'), '--to', db])).code).toBe(0);
    for (const t of TABLES) {
      const r = await cli(['query', db, t.example]);
      expect(r.stderr, t.example).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).not.toContain('(no rows');
    }
  });
});
