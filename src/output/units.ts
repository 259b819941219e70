// Quantities as every output writes them: times in milliseconds with three decimals (RTTs,
// latencies, offsets), long intervals in seconds, counts with their noun.

/** `5.000 ms`, `293.004 ms`, `3002.117 ms`; '-' for none. */
export function msText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return `${ms.toFixed(3)} ms`;
}

/** An interval between events (a site's registrations): `60.000 s` from a second up, else in ms. */
export function intervalText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  return ms >= 1000 ? `${(ms / 1000).toFixed(3)} s` : msText(ms);
}

/** `1 packet`, `2 packets` (`1 mapping entry`, `2 mapping entries` with `whats`). */
export function plural(n: number, what: string, whats = `${what}s`): string {
  return `${n} ${n === 1 ? what : whats}`;
}
