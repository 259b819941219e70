// What `flows --json` and `mappings --json` write their lines with: JSON text straight into the
// output buffer, in place after what is there, without objects or strings. A writer gives up on a
// string that needs escaping (FAIL: the line takes JSON.stringify of the general path's object)
// and on a line that may not fit (ROOM: written again after a flush).

import { putAscii, putTime, putUint, type OutBuffer } from './out-buffer.js';

/**
 * Room kept beyond each string checked: keys, punctuation and numbers are written without a check
 * of their own, and all of them together stay well below this.
 */
export const SLACK = 2048;
/** A string needs escaping: the line takes JSON.stringify. */
export const FAIL = -1;
/** The line may not fit in what is left of the buffer. */
export const ROOM = -2;

/** Times as the general path rounds them: to the microsecond. */
export const micros = (t: number) => Math.round(t * 1e6) / 1e6;

/** A line into `b` from `p`: where it ends, or FAIL, or ROOM. */
export type LineWriter<T> = (b: Uint8Array, p: number, v: T, multi: boolean) => number;

/** Writing a line into the output, and (for the tests) as bytes, with `line`; `slow` makes the object JSON.stringify writes instead. */
export function lineFormat<T>(line: LineWriter<T>, slow: (v: T, multi: boolean) => unknown) {
  return {
    /** One NDJSON line (with its newline) into `out`. */
    write(out: OutBuffer, v: T, multi = false): void {
      // Written in place after the buffer's content; pos moves only once the whole line is there.
      let p = line(out.buf, out.pos, v, multi);
      if (p === ROOM && out.pos > 0) {
        out.flush();
        p = line(out.buf, out.pos, v, multi);
      }
      if (p < 0) out.text(JSON.stringify(slow(v, multi)) + '\n');
      else out.pos = p;
    },
    /** The line as bytes, or undefined when it takes JSON.stringify instead (what the tests hold). */
    bytes(v: T, multi = false): Uint8Array | undefined {
      const b = new Uint8Array(1 << 16);
      const n = line(b, 0, v, multi);
      return n < 0 ? undefined : b.slice(0, n);
    },
  };
}

/** Our own ASCII text (keys, punctuation), after a check that the line is still good. */
export function key(b: Uint8Array, p: number, k: string): number {
  return p < 0 ? p : putAscii(b, p, k);
}

/** A string between quotes, when it needs no escaping (printable ASCII, no quote or backslash). */
export function str(b: Uint8Array, p: number, s: string): number {
  if (p < 0) return p;
  if (p + s.length + SLACK > b.length) return ROOM;
  b[p++] = 34;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126 || c === 34 || c === 92) return FAIL;
    b[p++] = c;
  }
  b[p++] = 34;
  return p;
}

export function strings(b: Uint8Array, p: number, list: readonly string[]): number {
  p = key(b, p, '[');
  for (let i = 0; i < list.length; i++) {
    if (i) p = key(b, p, ',');
    p = str(b, p, list[i]!);
  }
  return key(b, p, ']');
}

/** A number as JSON.stringify writes it (null when not finite). */
export function num(b: Uint8Array, p: number, n: number): number {
  if (p < 0) return p;
  if (Number.isInteger(n) && n >= 0 && n <= 0x7fffffff) return putUint(b, p, n);
  // Times and milliseconds are rounded to microseconds: such a number is the double nearest to
  // k / 10^6, and below 2^33 (where doubles lie closer than 10^-6) no shorter decimal than k's
  // digits with a point before the last six (trailing zeros dropped) reads back as it, so that is
  // String's shortest round-trip text, written without making the string.
  if (n >= 0 && n < 2 ** 33) {
    const k = Math.round(n * 1e6);
    if (k / 1e6 === n) {
      const usec = k % 1e6;
      return putTime(b, p, (k - usec) / 1e6, usec);
    }
  }
  return putAscii(b, p, Number.isFinite(n) ? String(n) : 'null');
}

export function numOrNull(b: Uint8Array, p: number, n: number | null): number {
  return n === null ? key(b, p, 'null') : num(b, p, n);
}

export function bool(b: Uint8Array, p: number, v: boolean): number {
  return key(b, p, v ? 'true' : 'false');
}
