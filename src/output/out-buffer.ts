// A large output byte buffer that text, digits and addresses are written straight into: output
// of millions of lines costs no intermediate strings.

const encoder = new TextEncoder();

/** ASCII text as bytes, for `raw`. */
export function bytesOf(s: string): Uint8Array {
  return encoder.encode(s);
}

export class OutBuffer {
  buf: Uint8Array;
  pos = 0;

  /**
   * `sink` returns true when it is done with the bytes (written synchronously), so the buffer can
   * be reused; false makes the next flush use a fresh buffer.
   */
  constructor(
    private readonly sink: (bytes: Uint8Array) => boolean,
    private readonly size = 1 << 20,
  ) {
    this.buf = new Uint8Array(size);
  }

  /** Room for n more bytes (n must not exceed the buffer size). */
  ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.flush();
  }

  flush(): void {
    if (this.pos === 0) return;
    if (!this.sink(this.buf.subarray(0, this.pos))) this.buf = new Uint8Array(this.size);
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

  /** Text known to be ASCII (keys, numbers, addresses). */
  ascii(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  byte(v: number): void {
    this.buf[this.pos++] = v;
  }

  /** Bytes prepared once (JSON keys and punctuation). */
  raw(k: Uint8Array): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < k.length; i++) b[p++] = k[i]!;
    this.pos = p;
  }

  /** A non-negative integer below 2^53 in decimal. */
  uint(n: number): void {
    if (n < 10) {
      this.buf[this.pos++] = 48 + n;
      return;
    }
    if (n > 0x7fffffff) {
      this.ascii(String(n));
      return;
    }
    const b = this.buf;
    let digits = 1;
    for (let x = 10; x <= n; x *= 10) digits++;
    let p = this.pos + digits;
    this.pos = p;
    for (let x = n; x > 0; x = (x / 10) | 0) b[--p] = 48 + (x % 10);
  }

  /** `width` decimal digits, zero-padded (fractions of a second). */
  digits(n: number, width: number): void {
    const b = this.buf;
    let p = this.pos + width;
    this.pos = p;
    for (let i = 0; i < width; i++) {
      b[--p] = 48 + (n % 10);
      n = (n / 10) | 0;
    }
  }

  /** Lower-case hex, zero-padded to `width` digits. */
  hex(n: number, width: number): void {
    const b = this.buf;
    let p = this.pos + width;
    this.pos = p;
    for (let i = 0; i < width; i++) {
      const d = n & 15;
      b[--p] = d < 10 ? 48 + d : 87 + d;
      n >>>= 4;
    }
  }

  /** Dotted quad straight from packet bytes. */
  ipv4(src: Uint8Array, off: number): void {
    this.uint(src[off]!);
    this.buf[this.pos++] = 46;
    this.uint(src[off + 1]!);
    this.buf[this.pos++] = 46;
    this.uint(src[off + 2]!);
    this.buf[this.pos++] = 46;
    this.uint(src[off + 3]!);
  }
}
