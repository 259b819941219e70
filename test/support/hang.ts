// A decoder may take any time a loaded machine gives it, but not seconds: that is a loop that does
// not advance or work that grows exponentially with nesting, whatever else runs on the cores.

import { expect } from 'vitest';

/** Longer than any load makes a decode of a few hundred bytes take; shorter than a hang. */
export const HANG_MS = 5_000;

/** Runs `f` and fails when it held the thread for seconds. */
export function notHung<T>(f: () => T): T {
  const t0 = performance.now();
  const r = f();
  expect(performance.now() - t0, 'a decode held the thread for seconds').toBeLessThan(HANG_MS);
  return r;
}
