// The README's examples are real output: every `$ lispscope read|flows|mappings|stats ...` shown
// there is run here on the same files (from the project root, TZ=UTC, NO_COLOR) and its output
// compared line by line with the README, up to a line that is only "..." (the README elides the
// rest) or the end of the example. Examples that need root, a network or a lab run are not of
// these commands and are not checked here.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, SHARED } from './cli/run.js';

interface Example {
  command: string;
  expected: string[];
  line: number;
}

/** The examples of file-reading commands, with the lines the README shows for each. */
function examples(readme: string): Example[] {
  const lines = readme.split('\n');
  const out: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^\$ (lispscope (?:read|flows|mappings|stats) .*)$/.exec(lines[i]!);
    if (!m) continue;
    const expected: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith('$ ') && !lines[j]!.startsWith('```') && lines[j]!.trim() !== '...') expected.push(lines[j++]!);
    out.push({ command: m[1]!, expected, line: i + 1 });
  }
  return out;
}

const all = examples(readFileSync(join(ROOT, 'README.md'), 'utf8'));
const haveShared = existsSync(SHARED);

describe('README examples', () => {
  it('has examples of the file commands to check', () => {
    expect(all.length).toBeGreaterThanOrEqual(10);
  });

  it.each(all.map((e) => [`line ${e.line}: ${e.command}`, e] as const))('%s', (_, e) => {
    if (e.command.includes('../shared/') && !haveShared) return;
    // The README's shell line as written (quotes, globs), with our binary in place of the installed one.
    const r = spawnSync('bash', ['-c', e.command.replace(/^lispscope /, `'${process.execPath}' '${join(ROOT, 'bin/lispscope')}' `)], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, TZ: 'UTC', NO_COLOR: '1' },
      timeout: 60_000,
    });
    const got = `${r.stdout}${r.stderr}`.split('\n');
    expect(got.slice(0, e.expected.length)).toEqual(e.expected);
  });
});
