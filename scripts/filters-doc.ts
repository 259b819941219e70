// Writes docs/filters.md from the display-filter field declarations (npm run docs:filters);
// test/docs-filters.test.ts holds the committed file to what this writes.

import { writeFileSync } from 'node:fs';
import { filterDocs } from '../src/output/filter-help.js';

const path = new URL('../../docs/filters.md', import.meta.url);
writeFileSync(path, filterDocs());
process.stdout.write(`wrote ${path.pathname}\n`);
