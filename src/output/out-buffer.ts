// A large output byte buffer that text, digits and addresses are written straight into: output
// of millions of lines costs no intermediate strings. The `put*` functions write at a position
// and return the next one; hot loops call them on local variables, OutBuffer wraps them.

const encoder = new TextEncoder();

const HUNDREDS = Uint8Array.from({ length: 256 }, (_, v) => 48 + Math.floor(v / 100));
const TENS = Uint8Array.from({ length: 256 }, (_, v) => 48 + (Math.floor(v / 10) % 10));
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** ASCII text as bytes, for `putBytes`. */
export function bytesOf(s: string): Uint8Array {
  return encoder.encode(s);
}

export function putBytes(b: Uint8Array, p: number, k: Uint8Array): number {
  for (let i = 0; i < k.length; i++) b[p++] = k[i]!;
  return p;
}

/** Text known to be ASCII. */
export function putAscii(b: Uint8Array, p: number, s: string): number {
  for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
  return p;
}

/** A non-negative integer below 2^31 in decimal. */
export function putUint(b: Uint8Array, p: number, n: number): number {
  let end = p + 1;
  for (let x = 10; x <= n; x *= 10) end++;
  let q = end;
  do {
    b[--q] = 48 + (n % 10);
    n = (n / 10) | 0;
  } while (n > 0);
  return end;
}

/** `width` decimal digits, zero-padded. */
export function putDigits(b: Uint8Array, p: number, n: number, width: number): number {
  const end = p + width;
  for (let q = end; q > p; ) {
    b[--q] = 48 + (n % 10);
    n = (n / 10) | 0;
  }
  return end;
}

/**
 * A capture time as the JSON `ts` (time.ts's tsText): whole seconds (below 2^53), then the
 * microseconds with their trailing zeros dropped, or none.
 */
export function putTime(b: Uint8Array, p: number, sec: number, usec: number): number {
  p = sec > 0x7fffffff ? putAscii(b, p, String(sec)) : putUint(b, p, sec);
  if (usec !== 0) {
    let width = 6;
    while (usec % 10 === 0) {
      usec /= 10;
      width--;
    }
    b[p++] = 46;
    p = putDigits(b, p, usec, width);
  }
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

export function putHexBytes(b: Uint8Array, p: number, src: Uint8Array): number {
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    b[p++] = HEX_DIGITS[v >> 4]!;
    b[p++] = HEX_DIGITS[v & 15]!;
  }
  return p;
}

/** Dotted quad straight from packet bytes. */
export function putIPv4(b: Uint8Array, p: number, src: Uint8Array, off: number): number {
  for (let i = 0; i < 4; i++) {
    const v = src[off + i]!;
    if (i) b[p++] = 46;
    if (v >= 100) b[p++] = HUNDREDS[v]!;
    if (v >= 10) b[p++] = TENS[v]!;
    b[p++] = 48 + (v % 10);
  }
  return p;
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
    this.pos = n > 0x7fffffff ? putAscii(this.buf, this.pos, String(n)) : putUint(this.buf, this.pos, n);
  }

  hexBytes(src: Uint8Array): void {
    this.pos = putHexBytes(this.buf, this.pos, src);
  }
}
