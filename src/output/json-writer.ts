// Streaming JSON into an OutBuffer: objects, arrays and values are written as they are visited,
// with no intermediate objects or strings (the NDJSON output of millions of packets).

import { putTime, type OutBuffer } from './out-buffer.js';
import { tsMicros, tsNumber, tsText } from './time.js';

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

/** What writes JSON as it is visited: JsonWriter into bytes, ObjectWriter into objects. */
export interface JsonSink {
  obj(): this;
  end(): this;
  arr(): this;
  endArr(): this;
  /** A member name (plain ASCII, from our own code); its value must follow. */
  key(k: string): this;
  str(s: string): this;
  num(n: number): this;
  bool(b: boolean): this;
  null(): this;
  /** A string we produced and know needs no escaping (addresses, slugs, hex). */
  ascii(s: string): this;
  /** Bytes as a hex string. */
  hex(b: Uint8Array): this;
  /** Pre-serialised JSON text (the data-packet fast path, tests). */
  rawJson(text: string): this;
  /** A capture time as the JSON `ts` (time.ts: seconds, microseconds without trailing zeros). */
  time(sec: number, nsec: number): this;
}

export class JsonWriter implements JsonSink {
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

  /** tsText's digits, written as json-fast.ts writes them, without the string. */
  time(sec: number, nsec: number): this {
    const t = tsMicros(sec, nsec);
    if (!(Number.isSafeInteger(t.sec) && t.sec >= 0)) return this.rawJson(tsText(sec, nsec));
    this.value();
    const out = this.out;
    out.ensure(32);
    out.pos = putTime(out.buf, out.pos, t.sec, t.usec);
    return this;
  }
}

/**
 * The same visit building the objects JSON.parse would make of JsonWriter's text, without the text:
 * what the display filters test (every packet of a capture for `read -Y` and the TUI's `/`).
 */
export class ObjectWriter implements JsonSink {
  /** The last value written outside any container. */
  result: unknown;
  private readonly open: (Record<string, unknown> | unknown[])[] = [];
  private name = '';

  private put(v: unknown): this {
    const top = this.open[this.open.length - 1];
    if (top === undefined) this.result = v;
    else if (Array.isArray(top)) top.push(v);
    else top[this.name] = v;
    return this;
  }

  private enter(c: Record<string, unknown> | unknown[]): this {
    this.put(c);
    this.open.push(c);
    return this;
  }

  obj(): this {
    return this.enter({});
  }

  end(): this {
    this.open.pop();
    return this;
  }

  arr(): this {
    return this.enter([]);
  }

  endArr(): this {
    return this.end();
  }

  key(k: string): this {
    this.name = k;
    return this;
  }

  str(s: string): this {
    return this.put(s);
  }

  num(n: number): this {
    // As the text reads back: no minus zero, and null for what JSON has no number for.
    return this.put(Number.isFinite(n) ? n + 0 : null);
  }

  bool(b: boolean): this {
    return this.put(b);
  }

  null(): this {
    return this.put(null);
  }

  ascii(s: string): this {
    return this.put(s);
  }

  hex(b: Uint8Array): this {
    return this.put(Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex'));
  }

  rawJson(text: string): this {
    return this.put(JSON.parse(text));
  }

  time(sec: number, nsec: number): this {
    return this.put(tsNumber(sec, nsec));
  }
}
