// Runs the real CLI (the built bin/lispscope) and captures what it prints.

import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const SHARED = join(ROOT, '../shared/captures');
export const PCAPS = join(ROOT, 'pcaps');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const BIN = join(ROOT, 'bin/lispscope');
const ENV = (env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...process.env, TZ: 'UTC', NO_COLOR: '1', ...env });
// A command that does not end must fail its test, not hang the run.
const LIMITS = { maxBuffer: 1 << 28, timeout: 120_000, killSignal: 'SIGKILL' } as const;

export function lispscope(args: string[], opts: { input?: Buffer; env?: NodeJS.ProcessEnv } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { input: opts.input, env: ENV(opts.env), ...LIMITS });
  if (r.error) throw new Error(`lispscope ${args.join(' ')}: ${r.error.message}`);
  return { code: r.status ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** `lispscope` without blocking, for runs that do not depend on each other (see `eachAtOnce`). */
export function lispscopeAsync(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { env: ENV(opts.env), encoding: 'utf8', ...LIMITS }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(new Error(`lispscope ${args.join(' ')}: ${err.message}`));
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/**
 * `fn` over every item, AT_ONCE at a time, results in the items' order: the CLI's start-up is most
 * of a short run's cost, and side by side the runs use every core.
 */
export async function eachAtOnce<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const AT_ONCE = 4;
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, items.length) }, worker));
  return out;
}

export function jsonLines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l.length)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
