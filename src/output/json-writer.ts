// Streaming JSON into an OutBuffer: objects, arrays and values are written as they are visited,
// with no intermediate objects or strings (the NDJSON output of millions of packets).

import type { OutBuffer } from './out-buffer.js';

const TRUE = Uint8Array.of(116, 114, 117, 101);
const FALSE = Uint8Array.of(102, 97, 108, 115, 101);
const NULL = Uint8Array.of(110, 117, 108, 108);

/** True when a string can be written between quotes as is (printable ASCII, no quote or backslash). */
function plain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c > 126 || c === 34 || c === 92) return false;
  }
  return true;
}

export class JsonWriter {
  /** Per open container: has it a member already (so the next one needs a comma)? */
  private readonly filled: boolean[] = [];
  private afterKey = false;

  constructor(readonly out: OutBuffer) {}

  private value(): void {
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const d = this.filled.length - 1;
    if (d < 0) return;
    if (this.filled[d]) {
      this.out.ensure(1);
      this.out.byte(44);
    } else this.filled[d] = true;
  }

  obj(): this {
    this.value();
    this.out.ensure(1);
    this.out.byte(123);
    this.filled.push(false);
    return this;
  }

  end(): this {
    this.filled.pop();
    this.out.ensure(1);
    this.out.byte(125);
    return this;
  }

  arr(): this {
    this.value();
    this.out.ensure(1);
    this.out.byte(91);
    this.filled.push(false);
    return this;
  }

  endArr(): this {
    this.filled.pop();
    this.out.ensure(1);
    this.out.byte(93);
    return this;
  }

  /** A member name (plain ASCII, from our own code); its value must follow. */
  key(k: string): this {
    // Keys are our own short names: they always fit.
    this.value();
    const out = this.out;
    out.ensure(k.length + 3);
    out.byte(34);
    out.ascii(k);
    out.byte(34);
    out.byte(58);
    this.afterKey = true;
    return this;
  }

  str(s: string): this {
    this.value();
    const out = this.out;
    if (s.length + 2 <= out.capacity && plain(s)) {
      out.ensure(s.length + 2);
      out.byte(34);
      out.ascii(s);
      out.byte(34);
    } else out.text(JSON.stringify(s));
    return this;
  }

  num(n: number): this {
    this.value();
    this.out.ensure(24);
    if (Number.isInteger(n) && n >= 0) this.out.uint(n);
    else this.out.ascii(Number.isFinite(n) ? String(n) : 'null');
    return this;
  }

  bool(b: boolean): this {
    this.value();
    this.out.ensure(5);
    this.out.raw(b ? TRUE : FALSE);
    return this;
  }

  null(): this {
    this.value();
    this.out.ensure(4);
    this.out.raw(NULL);
    return this;
  }

  /** A string we produced and know needs no escaping (addresses, slugs, hex). */
  ascii(s: string): this {
    const out = this.out;
    if (s.length + 2 > out.capacity) return this.str(s);
    this.value();
    out.ensure(s.length + 2);
    out.byte(34);
    out.ascii(s);
    out.byte(34);
    return this;
  }

  /** Bytes as a hex string. */
  hex(b: Uint8Array): this {
    const out = this.out;
    if (b.length * 2 + 2 > out.capacity) return this.str(Buffer.from(b).toString('hex'));
    this.value();
    out.ensure(b.length * 2 + 2);
    out.byte(34);
    out.hexBytes(b);
    out.byte(34);
    return this;
  }

  /** Pre-serialised JSON text (the data-packet fast path, tests). */
  rawJson(text: string): this {
    this.value();
    this.out.text(text);
    return this;
  }
}
