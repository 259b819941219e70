import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Files whose tests time what happens on the wire or on a terminal (loopback sockets, live capture,
// labs, signals, tmux, key timing): they run one at a time, after the others, so that another test
// file's load never races their waits. Everything else runs a file per core.
const serial = [
  'test/readme.test.ts',
  'test/capture/live.test.ts',
  'test/cli/{backpressure,lab,mn,ms,raw,replay,sniff,sniff-promiscuous,sniff-tcpdump,start}.test.ts',
  'test/export/live.test.ts',
  'test/mn/{components,lab}.test.ts',
  'test/tui/{app,e2e,keys,sources}.test.ts',
];

export default defineConfig({
  test: {
    // A file per child process (vitest's default, said here because it matters): a test that crashes
    // native code takes down its own file's process, not every file's.
    pool: 'forks',
    // Bounds that catch a hang, not a slow machine: a loaded one shared with other work takes minutes.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'parallel',
          include: ['test/**/*.test.ts'],
          exclude: serial,
          maxWorkers: Math.max(2, availableParallelism()),
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'serial', include: serial, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
