import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Vitest's default, one worker per core but one, leaves a 2-core machine running one file at a
    // time while most files wait on the processes they spawn (labs, sniffers, tshark, the CLI). Two
    // at least: every file that shares the machine's loopback uses addresses of its own (lab bases
    // 127.0.20-63.0, random 127.100-199.x.y for captures whose filters name them), a private tmux
    // socket, its own ClickHouse database and temporary directory; namespaces are per spawn.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
