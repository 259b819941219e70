// Runs the real CLI (the built bin/lispscope) and captures what it prints.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const SHARED = join(ROOT, '../shared/captures');
export const PCAPS = join(ROOT, 'pcaps');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function lispscope(args: string[], opts: { input?: Buffer; env?: NodeJS.ProcessEnv } = {}): Run {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/lispscope'), ...args], {
    input: opts.input,
    env: { ...process.env, TZ: 'UTC', NO_COLOR: '1', ...opts.env },
    maxBuffer: 1 << 28,
    // A command that does not end must fail its test, not hang the run.
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  if (r.error) throw new Error(`lispscope ${args.join(' ')}: ${r.error.message}`);
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

export function jsonLines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l.length)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
