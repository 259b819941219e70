// The layering docs/architecture.md states, checked on every import of src/: each folder imports
// only the folders its row lists (arrows point down the pipeline, never back up).

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './cli/run.js';

/** The table of docs/architecture.md: folder → the folders it may import. */
function table(): Map<string, Set<string>> {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const rows = new Map<string, Set<string>>();
  for (const m of doc.matchAll(/^\| `src\/(\w+)\/` \| ([^|]+) \|$/gm)) {
    const may = m[2]!.trim();
    rows.set(m[1]!, new Set(may === 'nothing of ours' ? [] : may === 'everything above' ? [...rows.keys()] : may.split(/,\s*/)));
  }
  return rows;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [join(dir, e.name)] : []));
}

describe('layering', () => {
  it('every import of src/ follows the table of docs/architecture.md', () => {
    const rows = table();
    expect([...rows.keys()]).toEqual(['dissect', 'capture', 'flows', 'mn', 'output', 'export', 'tui', 'cli']);
    const wrong: string[] = [];
    for (const file of files(join(ROOT, 'src'))) {
      const folder = relative(join(ROOT, 'src'), file).split('/')[0]!;
      const may = rows.get(folder);
      // A folder the table does not have yet is not checked; what the table's folders import is.
      if (!may) continue;
      for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.\.\/)+(\w+)\//g)) {
        const target = m[2]!;
        if (target !== folder && !may.has(target)) wrong.push(`${relative(ROOT, file)} imports src/${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
