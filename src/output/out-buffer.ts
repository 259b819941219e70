// A large output byte buffer that text, digits and addresses are written straight into: output
// of millions of lines costs no intermediate strings. The `put*` functions write at a position
// and return the next one; hot loops call them on local variables, OutBuffer wraps them.

import { formatIPv6 } from '../dissect/addr.js';

const encoder = new TextEncoder();

const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** The two decimal digits of 0..99, by value * 2: numbers are written two digits at a time. */
const PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i & 1 ? (i >> 1) % 10 : Math.floor(i / 20)));
/** A byte value's decimal digits (up to three, by value * 4) and how many there are. */
const OCTET = new Uint8Array(1024);
const OCTET_LEN = new Uint8Array(256);
for (let v = 0; v < 256; v++) {
  const s = String(v);
  OCTET_LEN[v] = s.length;
  for (let i = 0; i < s.length; i++) OCTET[v * 4 + i] = s.charCodeAt(i);
}

/** ASCII text as bytes, for `putBytes`. */
export function bytesOf(s: string): Uint8Array {
  return encoder.encode(s);
}

export function putBytes(b: Uint8Array, p: number, k: Uint8Array): number {
  // A run of more than a few bytes is one copy; a short one is cheaper byte by byte than the call.
  const n = k.length;
  if (n > 12) {
    b.set(k, p);
    return p + n;
  }
  for (let i = 0; i < n; i++) b[p++] = k[i]!;
  return p;
}

/** Text known to be ASCII. */
export function putAscii(b: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
  return p;
}

/** Decimal digits of n (a non-negative integer below 2^31). */
function digitCount(n: number): number {
  if (n < 100000) return n < 100 ? (n < 10 ? 1 : 2) : n < 1000 ? 3 : n < 10000 ? 4 : 5;
  return n < 10000000 ? (n < 1000000 ? 6 : 7) : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10;
}

/** The last `count` digits of n (below 2^31), ending before `end`, two at a time. */
function putDigitsBefore(b: Uint8Array, end: number, n: number, count: number): void {
  // As a 32-bit integer: a capture's seconds (about 1.7e9) are above V8's small integers and come
  // as doubles, on which `%` is a call to fmod: 10 digits took 95 ns instead of 25.
  n |= 0;
  let q = end;
  while (count >= 2) {
    const d = (n / 100) | 0;
    const r = (n - d * 100) << 1;
    n = d;
    b[--q] = PAIRS[r + 1]!;
    b[--q] = PAIRS[r]!;
    count -= 2;
  }
  if (count) b[--q] = 48 + (n % 10);
}

/** A non-negative integer below 2^31 in decimal. */
export function putUint(b: Uint8Array, p: number, n: number): number {
  n |= 0;
  if (n < 10) {
    b[p] = 48 + n;
    return p + 1;
  }
  const end = p + digitCount(n);
  putDigitsBefore(b, end, n, end - p);
  return end;
}

/** Any non-negative integer below 2^53 in decimal (beyond 2^31, through String: rare). */
export function putUint53(b: Uint8Array, p: number, n: number): number {
  return n > 0x7fffffff ? putAscii(b, p, String(n)) : putUint(b, p, n);
}

/** `width` decimal digits, zero-padded. */
export function putDigits(b: Uint8Array, p: number, n: number, width: number): number {
  const end = p + width;
  putDigitsBefore(b, end, n, width);
  return end;
}

/**
 * A capture time as the JSON `ts` (time.ts's tsText): whole seconds (below 2^53), then the
 * microseconds with their trailing zeros dropped, or none.
 */
export function putTime(b: Uint8Array, p: number, sec: number, usec: number): number {
  return putMicros(b, putUint53(b, p, sec), usec);
}

/** The fraction of a `ts` after its seconds: `.` and the microseconds without trailing zeros, or none. */
export function putMicros(b: Uint8Array, p: number, usec: number): number {
  if (usec === 0) return p;
  b[p] = 46;
  p = putDigits(b, p + 1, usec, 6);
  while (b[p - 1] === 48) p--;
  return p;
}

/** Lower-case hex of a 32-bit value, zero-padded to `width` digits. */
export function putHex(b: Uint8Array, p: number, n: number, width: number): number {
  const end = p + width;
  for (let q = end; q > p; ) {
    b[--q] = HEX_DIGITS[n & 15]!;
    n >>>= 4;
  }
  return end;
}

/** Hex of src[from, to). */
export function putHexBytes(b: Uint8Array, p: number, src: Uint8Array, from = 0, to = src.length): number {
  for (let i = from; i < to; i++) {
    const v = src[i]!;
    b[p++] = HEX_DIGITS[v >> 4]!;
    b[p++] = HEX_DIGITS[v & 15]!;
  }
  return p;
}

/** One byte value in decimal. */
function putOctet(b: Uint8Array, p: number, v: number): number {
  const at = v * 4;
  const n = OCTET_LEN[v]!;
  b[p] = OCTET[at]!;
  if (n > 1) {
    b[p + 1] = OCTET[at + 1]!;
    if (n > 2) b[p + 2] = OCTET[at + 2]!;
  }
  return p + n;
}

/** Dotted quad straight from packet bytes. */
export function putIPv4(b: Uint8Array, p: number, src: Uint8Array, off: number): number {
  p = putOctet(b, p, src[off]!);
  b[p] = 46;
  p = putOctet(b, p + 1, src[off + 1]!);
  b[p] = 46;
  p = putOctet(b, p + 1, src[off + 2]!);
  b[p] = 46;
  return putOctet(b, p + 1, src[off + 3]!);
}

/** The source address of the IPv4 (`version` 4) or IPv6 header at `ip`. */
export function putIpSource(b: Uint8Array, p: number, src: Uint8Array, ip: number, version: number): number {
  return version === 4 ? putIPv4(b, p, src, ip + 12) : putAscii(b, p, formatIPv6(src, ip + 8));
}

/** The destination address of the IPv4 (`version` 4) or IPv6 header at `ip`. */
export function putIpDestination(b: Uint8Array, p: number, src: Uint8Array, ip: number, version: number): number {
  return version === 4 ? putIPv4(b, p, src, ip + 16) : putAscii(b, p, formatIPv6(src, ip + 24));
}

export class OutBuffer {
  buf: Uint8Array;
  pos = 0;

  /**
   * `sink` returns true when it is done with the bytes (written synchronously), so the buffer can
   * be reused; false makes the next flush continue in another buffer: one `spare` gives back (a
   * buffer of `size` bytes already written out), else a fresh one.
   */
  constructor(
    private readonly sink: (bytes: Uint8Array) => boolean,
    private readonly size = 1 << 20,
    private readonly spare?: () => Uint8Array | undefined,
  ) {
    this.buf = spare?.() ?? new Uint8Array(size);
  }

  /** The most bytes one `ensure` can promise. */
  get capacity(): number {
    return this.size;
  }

  /** Room for n more bytes (n must not exceed the capacity). */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.flush();
  }

  flush(): void {
    if (this.pos === 0) return;
    if (!this.sink(this.buf.subarray(0, this.pos))) this.buf = this.spare?.() ?? new Uint8Array(this.size);
    this.pos = 0;
  }

  /** Any text (UTF-8); a text longer than the buffer is handed to the sink on its own. */
  text(s: string): void {
    if (s.length * 3 > this.size) {
      this.flush();
      this.sink(encoder.encode(s));
      return;
    }
    this.ensure(s.length * 3);
    this.pos += encoder.encodeInto(s, this.buf.subarray(this.pos)).written;
  }

  // The writers below assume `ensure` made room.

  ascii(s: string): void {
    this.pos = putAscii(this.buf, this.pos, s);
  }

  raw(k: Uint8Array): void {
    this.pos = putBytes(this.buf, this.pos, k);
  }

  byte(v: number): void {
    this.buf[this.pos++] = v;
  }

  /** A non-negative integer below 2^53 in decimal. */
  uint(n: number): void {
    this.pos = putUint53(this.buf, this.pos, n);
  }

  hexBytes(src: Uint8Array): void {
    this.pos = putHexBytes(this.buf, this.pos, src);
  }
}
