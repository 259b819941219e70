// The JSON `ts`: seconds since the epoch with microsecond precision, as the text both the object
// path (via Number, whose shortest form is this text) and the byte path write.

/** Whole microseconds, rounded from the nanoseconds, carried into the seconds. */
export function tsMicros(sec: number, nsec: number): { sec: number; usec: number } {
  let usec = Math.round(nsec / 1000);
  if (usec >= 1e6) {
    sec += 1;
    usec -= 1e6;
  }
  return { sec, usec };
}

/** `sec.uuuuuu` with trailing zeros dropped (a plain integer when there is no fraction). */
export function tsText(sec: number, nsec: number): string {
  const t = tsMicros(sec, nsec);
  if (t.usec === 0) return String(t.sec);
  return `${t.sec}.${String(t.usec).padStart(6, '0').replace(/0+$/, '')}`;
}

/**
 * The number for JSON.stringify. Below 2^33 s (year 2242) doubles are finer than a microsecond, so
 * the shortest form of this number is exactly tsText.
 */
export function tsNumber(sec: number, nsec: number): number {
  return Number(tsText(sec, nsec));
}
