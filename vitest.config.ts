import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One file at a time: see docs/architecture.md (Tests) for why.
    maxWorkers: 1,
    // Bounds that catch a hang, not a slow machine: a loaded one shared with other work takes minutes.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
