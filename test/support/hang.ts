// A decoder may take any time a loaded machine gives it, but not seconds: that is a loop that does
// not advance or work that grows exponentially with nesting, whatever else runs on the cores.

import { expect } from 'vitest';
import { OVERRUN } from '../../src/dissect/cursor.js';

/** Longer than any load makes a decode of a few hundred bytes take; shorter than a hang. */
export const HANG_MS = 5_000;

/** Runs `f` and fails when it held the thread for seconds. */
export function notHung<T>(f: () => T): T {
  const t0 = performance.now();
  const r = f();
  expect(performance.now() - t0, 'a decode held the thread for seconds').toBeLessThan(HANG_MS);
  return r;
}

/**
 * Fails when a decoder read past the end of its input: a `need` it missed, which the cursor turns
 * into an error note instead of reading undefined as 0 (searched in whatever the decoder returned).
 */
export function noOverrun<T>(result: T): T {
  const seen = new Set<unknown>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      expect(v.startsWith(OVERRUN), v).toBe(false);
      return;
    }
    if (!v || typeof v !== 'object' || seen.has(v) || ArrayBuffer.isView(v)) return;
    seen.add(v);
    for (const x of Object.values(v)) walk(x);
  };
  walk(result);
  return result;
}
