// What `flows --json` and `mappings --json` write their lines with: JSON text straight into the
// output buffer, in place after what is there, without objects or strings. A writer gives up on a
// string that needs escaping (FAIL: the line takes JSON.stringify of the general path's object)
// and on a line that may not fit (ROOM: written again after a flush).

import { bytesOf, putAscii, putBytes, putTime, putUint, type OutBuffer } from './out-buffer.js';

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

/**
 * `,"name":` as bytes for each name: the keys a writer puts after a line's first. Copied from bytes,
 * a key costs half what it did read from its string a character at a time (some 15 keys a line).
 */
export function keysOf<N extends string>(names: readonly N[]): Record<N, Uint8Array> {
  return Object.fromEntries(names.map((n) => [n, bytesOf(`,"${n}":`)])) as Record<N, Uint8Array>;
}

/** Our own ASCII text (keys, punctuation) as bytes, after a check that the line is still good. */
export function key(b: Uint8Array, p: number, k: Uint8Array): number {
  return p < 0 ? p : putBytes(b, p, k);
}

/** One character of our own (punctuation), after the same check. */
export function char(b: Uint8Array, p: number, c: number): number {
  if (p < 0) return p;
  b[p] = c;
  return p + 1;
}

/** Punctuation, for `char`. */
export const COMMA = 44;
export const OPEN_BRACKET = 91;
export const CLOSE_BRACKET = 93;
export const CLOSE_BRACE = 125;
/** The end of a line's object, and of the line. */
export const END_LINE = bytesOf('}\n');
const NULL = bytesOf('null');
const TRUE = bytesOf('true');
const FALSE = bytesOf('false');

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
  p = char(b, p, OPEN_BRACKET);
  for (let i = 0; i < list.length; i++) {
    if (i) p = char(b, p, COMMA);
    p = str(b, p, list[i]!);
  }
  return char(b, p, CLOSE_BRACKET);
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
      // The whole seconds by a division and floor, not `k % 1e6` (a call to fmod: half the time
      // of a capture time's text). k / 1e6 is within half a unit in the last place of the exact
      // quotient, and below 2^33 those units are under 10^-6: the floor is the right second.
      const sec = Math.floor(k / 1e6);
      return putTime(b, p, sec, k - sec * 1e6);
    }
  }
  return putAscii(b, p, Number.isFinite(n) ? String(n) : 'null');
}

export function numOrNull(b: Uint8Array, p: number, n: number | null): number {
  return n === null ? key(b, p, NULL) : num(b, p, n);
}

export function bool(b: Uint8Array, p: number, v: boolean): number {
  return key(b, p, v ? TRUE : FALSE);
}
