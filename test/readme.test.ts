// Every example in README.md and docs/*.md is real: each `$ command` line of a fenced block is run
// (the `lispscope` of the line is this clone's bin/lispscope, TZ=UTC, NO_COLOR) and must print the
// lines shown under it and exit with status 0, or the status its `# exit N` comment names.
//
// Matching: the lines shown must come out in order, each whole; a line that is only `...` stands
// for any number of lines (at the end: the rest of the output). A comment line
//   <!-- examples: netns, lab SCENARIO, varies -->
// before a block says how to run its examples: `netns` in a network namespace of their own (`unshare
// -n`, root; for anything that sends packets), `lab S` with `lispscope lab --scenario S` running in
// that namespace (for mn, inject, sniff), `varies` when times, nonces, ports and durations change
// from run to run: those are compared as their kind (a time, a hex number, a duration), and runs of
// spaces and table rules as one. A document's examples run in order in a scratch directory of their
// own (what one writes, the next may read), which holds `pcaps/` and `../shared/` as the clone has
// them; the documents run side by side, so that the CLIs they start use every core.

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SHARED } from './cli/run.js';

interface Example {
  file: string;
  line: number;
  command: string;
  expected: string[];
  exit: number;
  netns: boolean;
  lab?: string;
  varies: boolean;
}

/** A command may go on over several lines while a quote is open or a line ends with a backslash. */
function open(cmd: string): boolean {
  let quote: string | undefined;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(cmd[i - 1]!))) break;
  }
  return quote !== undefined || cmd.endsWith('\\');
}

export function examples(file: string, text: string): Example[] {
  const lines = text.split('\n');
  const out: Example[] = [];
  let directive = '';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const d = /^<!-- examples: (.*) -->$/.exec(l);
    if (d) {
      directive = d[1]!;
      continue;
    }
    if (!l.startsWith('```')) continue;
    // A fenced block: its `$ ` lines are examples.
    const opts = directive.split(',').map((s) => s.trim());
    directive = '';
    const lab = opts.find((o) => o.startsWith('lab '))?.slice(4);
    for (i++; i < lines.length && !lines[i]!.startsWith('```'); ) {
      if (!lines[i]!.startsWith('$ ')) {
        i++;
        continue;
      }
      const line = i + 1;
      let command = lines[i++]!.slice(2);
      while (open(command) && i < lines.length && !lines[i]!.startsWith('```')) command += `\n${lines[i++]!}`;
      const expected: string[] = [];
      while (i < lines.length && !lines[i]!.startsWith('$ ') && !lines[i]!.startsWith('```')) expected.push(lines[i++]!);
      while (expected.length && expected[expected.length - 1] === '') expected.pop();
      const exit = /#\s*exit (\d+)\s*$/.exec(command);
      out.push({ file, line, command, expected, exit: exit ? Number(exit[1]) : 0, netns: opts.includes('netns') || lab !== undefined, ...(lab ? { lab } : {}), varies: opts.includes('varies') });
    }
  }
  return out;
}

/** What changes from run to run, as its kind; table rules and space runs as one. */
export function shape(line: string): string {
  return line
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<timestamp>')
    .replace(/\b\d\d:\d\d:\d\d(\.\d+)?\b/g, '<time>')
    .replace(/\b0x[0-9a-f]+\b/g, '<hex>')
    .replace(/\b\d+(\.\d+)? (ms|s)\b/g, '<duration>')
    .replace(/\b(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})[.:]\d{4,5}\b/g, '$1.<port>')
    .replace(/\bport \d{4,5}\b/g, 'port <port>')
    .replace(/[─┬┴┼┌┐└┘├┤]+/g, '─')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Where the shown lines fail to match the output, or undefined when they match. */
export function mismatch(expected: string[], actual: string[], varies: boolean): string | undefined {
  const norm = (s: string) => (varies ? shape(s) : s);
  let a = 0;
  for (let e = 0; e < expected.length; e++) {
    const want = expected[e]!;
    if (want.trim() === '...') {
      if (e === expected.length - 1) return undefined;
      const next = norm(expected[e + 1]!);
      while (a < actual.length && norm(actual[a]!) !== next) a++;
      if (a === actual.length) return `"${expected[e + 1]}" never came after line ${e + 1} of the example`;
      continue;
    }
    if (a >= actual.length) return `the output ended before "${want}"`;
    if (norm(actual[a]!) !== norm(want)) return `line ${a + 1} of the output is\n  ${actual[a]}\nnot\n  ${want}`;
    a++;
  }
  return a < actual.length ? `more output than shown, from line ${a + 1}: ${actual[a]}` : undefined;
}

const docs = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const all = docs.flatMap((f) => examples(f, readFileSync(join(ROOT, f), 'utf8')));
const haveShared = existsSync(SHARED);
const netnsWhy = ((): string | undefined => {
  const r = spawnSync('unshare', ['-n', 'ip', 'link', 'set', 'lo', 'up']);
  if (r.error) return `unshare: ${r.error.message}`;
  return r.status === 0 ? undefined : `cannot make a network namespace (root needed): ${r.stderr.toString().trim()}`;
})();

// The scratch directories, one per document: pcaps/ and ../shared/ as in the clone, `lispscope` on the PATH.
const base = mkdtempSync(join(tmpdir(), 'lispscope-examples-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
mkdirSync(join(base, 'bin'));
if (haveShared) symlinkSync(join(SHARED, '..'), join(base, 'shared'));
const workOf = new Map(
  docs.map((doc, i) => {
    const work = join(base, `work-${i}`);
    mkdirSync(work);
    symlinkSync(join(ROOT, 'pcaps'), join(work, 'pcaps'));
    return [doc, work];
  }),
);
writeFileSync(join(base, 'bin', 'lispscope'), `#!/bin/sh\nexec '${process.execPath}' '${join(ROOT, 'bin/lispscope')}' "$@"\n`);
chmodSync(join(base, 'bin', 'lispscope'), 0o755);

/** Why an example cannot run here (it fails under CI instead), or undefined. */
function skipWhy(e: Example): string | undefined {
  const why = e.command.includes('../shared/') && !haveShared ? `${SHARED} is missing` : e.netns ? netnsWhy : undefined;
  if (why && process.env.CI === 'true') throw new Error(`${e.file}:${e.line} must run in CI: ${why}`);
  return why;
}

interface Ran {
  status: number | null;
  lines: string[];
}

function run(e: Example): Promise<Ran> {
  // One shell per example; stderr in the same stream, so that the lines keep their order.
  let script = `exec 2>&1\n${e.command}\n`;
  if (e.netns) {
    // The lab says `lab up: ...` on stderr once its scenario passed and it holds: wait for that line
    // (each read waits 60 s at most), or say what it said instead when it ends or is not ready.
    const lab = e.lab
      ? `exec 3< <(exec lispscope lab --scenario ${e.lab} --duration 60 -q 2>&1 >/dev/null)\nlab=$!\n` +
        `up=\nwhile IFS= read -r -t 60 -u 3 said; do [[ $said == 'lab up: '* ]] && { up=1; break; }; last=$said; [[ $said == 'lab not ready: '* ]] && break; done\n` +
        `if [[ -z $up ]]; then echo "the lab did not come up: \${last:-it said nothing}"; kill $lab 2>/dev/null; exit 99; fi\n`
      : '';
    script = `exec 2>&1\nip link set lo up\n${lab}${e.command}\nrc=$?\n${e.lab ? 'kill $lab 2>/dev/null; wait $lab\n' : ''}exit $rc\n`;
  }
  const argv = e.netns ? ['unshare', ['-n', 'bash', '-c', script]] : ['bash', ['-c', script]];
  const child = spawn(argv[0] as string, argv[1] as string[], {
    cwd: workOf.get(e.file),
    env: { ...process.env, TZ: 'UTC', NO_COLOR: '1', PATH: `${join(base, 'bin')}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 120_000,
  });
  const out: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  return new Promise((resolve) => {
    const done = (status: number | null) => {
      const lines = Buffer.concat(out).toString('utf8').split('\n');
      while (lines.length && lines[lines.length - 1] === '') lines.pop();
      resolve({ status, lines });
    };
    child.on('error', (err) => {
      out.push(Buffer.from(`\n${err.message}\n`));
      done(null);
    });
    child.on('close', done);
  });
}

/** How many documents run their examples at a time: enough for both cores, few enough for the labs. */
const DOCUMENTS_AT_ONCE = 3;

/**
 * Starts every document's examples, in order within a document, DOCUMENTS_AT_ONCE documents at a
 * time (the longest first: it bounds the whole); each example's promise settles when it has run.
 */
function runAll(list: Example[]): Map<Example, Promise<Ran>> {
  const byDoc = new Map<string, Example[]>();
  for (const e of list) byDoc.set(e.file, [...(byDoc.get(e.file) ?? []), e]);
  const queue = [...byDoc.values()].sort((a, b) => b.length - a.length);
  const settle = new Map<Example, (r: Ran) => void>();
  const results = new Map(list.map((e) => [e, new Promise<Ran>((resolve) => settle.set(e, resolve))] as const));
  const worker = async (): Promise<void> => {
    for (let chain = queue.shift(); chain; chain = queue.shift()) {
      for (const e of chain) settle.get(e)!(await run(e));
    }
  };
  for (let i = 0; i < DOCUMENTS_AT_ONCE; i++) void worker();
  return results;
}

describe('the examples of the README and docs/', () => {
  it('are there: in the README, and in the reference of every command', () => {
    expect(all.filter((e) => e.file === 'README.md').length).toBeGreaterThanOrEqual(6);
    for (const cmd of ['read', 'flows', 'mappings', 'stats', 'sniff', 'lab', 'mn', 'replay', 'inject', 'help', 'completion']) {
      expect(all.some((e) => new RegExp(`^lispscope ${cmd}\\b`).test(e.command)), cmd).toBe(true);
    }
    // Each example of lispscope shows at least one line of what it prints.
    for (const e of all) if (e.command.startsWith('lispscope ')) expect(e.expected.length, `${e.file}:${e.line}`).toBeGreaterThan(0);
  });

  const named = (list: Example[], why: (e: Example) => string = () => '') =>
    list.map((e) => [`${e.file}:${e.line}: ${e.command.split('\n')[0]}${why(e)}`, e] as const);
  const runnable = all.filter((e) => skipWhy(e) === undefined);
  const skipped = all.filter((e) => skipWhy(e) !== undefined);
  if (skipped.length) it.skip.each(named(skipped, (e) => ` (skipped: ${skipWhy(e)})`))('%s', () => {});
  let ran: Map<Example, Promise<Ran>>;
  beforeAll(() => {
    ran = runAll(runnable);
  });
  // An example waits for those before it in its document, and for documents ahead in the queue.
  it.each(named(runnable))('%s', { timeout: 600_000 }, async (_, e) => {
    const r = await ran.get(e)!;
    const wrong = mismatch(e.expected, r.lines, e.varies);
    if (wrong && UPDATE) {
      const shown = updated(e.expected, r.lines);
      if (shown) {
        updates.push({ e, shown });
        return;
      }
    }
    expect(wrong, `${e.file}:${e.line}\n${r.lines.join('\n')}`).toBeUndefined();
    expect(r.status, `${e.file}:${e.line}: exit status`).toBe(e.exit);
  });
});

// UPDATE_EXAMPLES=1 npx vitest run test/readme.test.ts rewrites what the examples show with what the
// commands print now, keeping the shown lines' length and their `...` elisions; an example whose
// elided shape no longer fits still fails, to be edited by hand.
const UPDATE = process.env.UPDATE_EXAMPLES === '1';
const updates: { e: Example; shown: string[] }[] = [];

/** The lines an example should show now: as many as it showed, `...` where it had them. */
function updated(expected: string[], actual: string[]): string[] | undefined {
  const dots = expected.map((l, i) => (l.trim() === '...' ? i : -1)).filter((i) => i >= 0);
  if (dots.length === 0) return actual;
  // Only `...` at the end (the rest of the output) or a head, a `...` and the tail are rewritten.
  if (dots.length === 1 && dots[0] === expected.length - 1) return [...actual.slice(0, expected.length - 1), expected[expected.length - 1]!];
  if (dots.length === 1) {
    const head = dots[0]!;
    const tail = expected.length - head - 1;
    if (actual.length < head + tail) return undefined;
    return [...actual.slice(0, head), expected[head]!, ...actual.slice(actual.length - tail)];
  }
  return undefined;
}

afterAll(() => {
  if (!UPDATE || updates.length === 0) return;
  const byFile = new Map<string, { e: Example; shown: string[] }[]>();
  for (const u of updates) byFile.set(u.e.file, [...(byFile.get(u.e.file) ?? []), u]);
  for (const [file, list] of byFile) {
    const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
    // From the bottom up, so that the line numbers above stay right.
    for (const { e, shown } of list.sort((a, b) => b.e.line - a.e.line)) {
      const first = e.line - 1 + e.command.split('\n').length;
      lines.splice(first, e.expected.length, ...shown);
    }
    writeFileSync(join(ROOT, file), lines.join('\n'));
  }
});

describe('the README', () => {
  it('is a front page: at most 15 KB, the two commands in its first block, links to docs/ that exist (or are being written)', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(15 * 1024);
    const first = /```sh\n([^]*?)```/.exec(readme)![1]!;
    expect(first).toMatch(/^npm start .*\nnpm test /);
    for (const m of readme.matchAll(/\]\((docs\/[\w-]+\.md)\)/g)) {
      // docs/filters.md is the display-filter reference, written with the filter engine.
      if (m[1] !== 'docs/filters.md') expect(existsSync(join(ROOT, m[1]!)), m[1]).toBe(true);
    }
  });
});

describe('the example checker', () => {
  it('matches whole lines in order, `...` for any lines, and shapes what varies', () => {
    expect(mismatch(['a', '...', 'd'], ['a', 'b', 'c', 'd'], false)).toBeUndefined();
    expect(mismatch(['a', '...'], ['a', 'b'], false)).toBeUndefined();
    expect(mismatch(['a'], ['a', 'b'], false)).toMatch(/more output than shown/);
    expect(mismatch(['a', 'x'], ['a', 'b'], false)).toMatch(/line 2 of the output is/);
    expect(mismatch(['a', '...', 'z'], ['a', 'b'], false)).toMatch(/"z" never came/);
    expect(mismatch(['10:00:00.000001 nonce 0x01 in 1.5 ms 127.0.0.1.40000'], ['23:59:59.999999 nonce 0xffee in 12.25 ms 127.0.0.1.54321'], true)).toBeUndefined();
    expect(mismatch(['127.0.1.2 answered'], ['127.0.1.3 answered'], true)).toMatch(/line 1/);
    const ex = examples('x.md', '<!-- examples: lab register, varies -->\n```\n$ lispscope mn resolve 10.2.0.7 # exit 1\nline\n$ echo \'a\nb\'\na\n```\n');
    expect(ex).toMatchObject([
      { command: 'lispscope mn resolve 10.2.0.7 # exit 1', expected: ['line'], exit: 1, netns: true, lab: 'register', varies: true },
      { command: "echo 'a\nb'", expected: ['a'], exit: 0 },
    ]);
  });
});
