// `export` runs in a process of its own, started with glibc's malloc limited to one arena. glibc
// gives each thread that allocates an arena of its own and keeps what the arena's busiest moment
// needed: DuckDB runs each batch's INSERT on whichever of libuv's four threads is free, so four
// arenas each grew to hold a batch's vectors, beside those of V8's helper threads (~35 MB of
// arenas at the export's peak, ~26 MB still held once the database closed). glibc reads the limit
// only when the process starts, and Node 20 cannot replace its own process (execve), so the
// command is started again with MALLOC_ARENA_MAX=1: this process waits for it (~7 MB of its own).
// Measured on the bench capture (docs/benchmarks.md, rss36): the peak 287 -> 262 MiB (medians of
// 14 alternated runs), the CPU time within the noise (this process's start-up, ~0.06 s, added).

import { spawn } from 'node:child_process';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Whether `argv` is run again with one arena: `export` on Linux, unless MALLOC_ARENA_MAX is set
 * already (by us, or by a user who wants another value).
 */
export function wantsOneArena(argv: readonly string[], env: NodeJS.ProcessEnv, platform: NodeJS.Platform): boolean {
  return platform === 'linux' && argv[0] === 'export' && env.MALLOC_ARENA_MAX === undefined;
}

/**
 * Runs `argv` (this script's arguments) in a new process with one malloc arena, when wantsOneArena
 * says so: the promise of its exit status (a child killed by a signal kills this process by the
 * same signal; 2 when it cannot be started). Undefined: run the command here.
 */
export function withOneArena(argv: readonly string[]): Promise<number> | undefined {
  if (!wantsOneArena(argv, process.env, process.platform)) return undefined;
  // The same Node options (--import, --cpu-prof, ...) and script.
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, MALLOC_ARENA_MAX: '1' },
  });
  // A signal sent to this process alone is the child's too; a terminal's Ctrl-C reaches both, and
  // export's handler stays installed for the second one (export.ts).
  const forward = (signal: NodeJS.Signals) => void child.kill(signal);
  for (const s of SIGNALS) process.on(s, forward);
  return new Promise((resolve) => {
    // Not started at all (no process to spare): one line, as any other error, and exit status 2.
    child.once('error', (e) => {
      for (const s of SIGNALS) process.off(s, forward);
      process.stderr.write(`lispscope: export: cannot start its process: ${e.message}\n`);
      resolve(2);
    });
    child.once('exit', (code, signal) => {
      for (const s of SIGNALS) process.off(s, forward);
      if (signal) process.kill(process.pid, signal);
      resolve(code ?? 1);
    });
  });
}
