// `export` runs again in a process of its own with one malloc arena (src/cli/one-arena.ts): the
// child gets MALLOC_ARENA_MAX=1 and the parent's Node options, other commands run where they are
// started, and a signal to the waiting process ends the export as it did before.

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { wantsOneArena, withOneArena } from '../../src/cli/one-arena.js';
import { lispscope, PCAPS, ROOT } from './run.js';

const BIN = join(ROOT, 'bin/lispscope');
const tmp = mkdtempSync(join(tmpdir(), 'lispscope-one-arena-'));

/** A Node option that appends each process's MALLOC_ARENA_MAX (or `-`) to `file`. */
function probe(file: string): string {
  const code = `import{appendFileSync}from"node:fs";appendFileSync(${JSON.stringify(file)},(process.env.MALLOC_ARENA_MAX??"-")+"\\n")`;
  return `--import=data:text/javascript,${encodeURIComponent(code)}`;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('export with one malloc arena', () => {
  it('is export on Linux, unless MALLOC_ARENA_MAX is set', () => {
    expect(wantsOneArena(['export', 'a.pcap', '--to', 'x.duckdb'], {}, 'linux')).toBe(true);
    expect(wantsOneArena(['read', 'a.pcap'], {}, 'linux')).toBe(false);
    expect(wantsOneArena(['export', 'a.pcap'], { MALLOC_ARENA_MAX: '4' }, 'linux')).toBe(false);
    expect(wantsOneArena(['export', 'a.pcap'], {}, 'darwin')).toBe(false);
    expect(wantsOneArena([], {}, 'linux')).toBe(false);
  });

  it.runIf(process.platform === 'linux')('runs the export in a child with MALLOC_ARENA_MAX=1 and the same Node options; read runs where it starts', async () => {
    const seen = join(tmp, 'export.txt');
    const r = await run([probe(seen), BIN, 'export', join(PCAPS, 'data.pcap'), '--to', join(tmp, 'a.duckdb')]);
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.stderr).toMatch(/^lispscope: .*data\.pcap \(data\): \d+ packets, /);
    expect(readFileSync(seen, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['-', '1']);
    const read = join(tmp, 'read.txt');
    expect((await run([probe(read), BIN, 'read', join(PCAPS, 'data.pcap')])).code).toBe(0);
    expect(readFileSync(read, 'utf8')).toBe('-\n');
    // A status of the child's is the command's.
    const bad = lispscope(['export', join(tmp, 'missing.pcap'), '--to', join(tmp, 'b.duckdb')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.runIf(process.platform === 'linux')('a process that cannot be started is a one-line error and status 2', async () => {
    const saved = { execPath: process.execPath, arenas: process.env.MALLOC_ARENA_MAX };
    delete process.env.MALLOC_ARENA_MAX;
    process.execPath = join(tmp, 'no-such-node');
    const written: string[] = [];
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => (written.push(String(chunk)), true));
    try {
      expect(await withOneArena(['export', join(PCAPS, 'data.pcap'), '--to', join(tmp, 'd.duckdb')])).toBe(2);
    } finally {
      write.mockRestore();
      process.execPath = saved.execPath;
      if (saved.arenas !== undefined) process.env.MALLOC_ARENA_MAX = saved.arenas;
    }
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^lispscope: export: cannot start its process: .*ENOENT.*\n$/);
  });

  it.runIf(process.platform === 'linux')('SIGTERM to the waiting process ends the export: status 130, staged batches removed', async () => {
    // data.pcap's records over and over: an export that lasts long enough to be stopped.
    const data = readFileSync(join(PCAPS, 'data.pcap'));
    const big = join(tmp, 'big.pcap');
    writeFileSync(big, Buffer.concat([data.subarray(0, 24), ...Array<Buffer>(20_000).fill(data.subarray(24))]));
    const staging = mkdtempSync(join(tmp, 'staging-'));
    const child = spawn(process.execPath, [BIN, 'export', big, '--to', join(tmp, 'c.duckdb')], { env: { ...process.env, TMPDIR: staging }, stdio: 'ignore' });
    let exited = false;
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => ((exited = true), resolve(code))));
    // The child has started exporting once its staging directory is there (no time limit of our
    // own: a loaded machine may take long to start it; the test's timeout catches a hang).
    while (readdirSync(staging).length === 0 && !exited) await new Promise((r) => setTimeout(r, 20));
    expect(exited).toBe(false);
    expect(readdirSync(staging)).toHaveLength(1);
    child.kill('SIGTERM');
    expect(await exit).toBe(130);
    expect(readdirSync(staging)).toEqual([]);
  });
});
