// docs/filters.md is generated from the field declarations: it may not drift from them.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { filterDocs } from '../src/output/filter-help.js';

describe('docs/filters.md', () => {
  it('lists every field with its example, as `npm run docs:filters` writes it', () => {
    const committed = readFileSync(new URL('../docs/filters.md', import.meta.url), 'utf8');
    expect(committed).toBe(filterDocs());
  });
});
