// Shared by the UI tests.

import type { DataSource } from '../../src/tui/source.js';

/** Resolves when `test` holds, checked on every change the source reports. */
export function until(source: DataSource, test: () => boolean, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (test()) return resolve();
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out; status: ${source.status().text}`));
    }, ms);
    const off = source.subscribe(() => {
      if (!test()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}
