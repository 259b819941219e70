// Streaming JSON into an OutBuffer: objects, arrays and values are written as they are visited,
// with no intermediate objects or strings (the NDJSON output of millions of packets).

import { putAscii, putTime, type OutBuffer } from './out-buffer.js';
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

  /**
   * Makes room for a value of up to `n` bytes and the comma before it when one is due: one check
   * of the buffer per value (keys and values are most of what a packet's object is).
   */
  private value(n: number): void {
    this.out.ensure(n + 1);
    if (this.afterKey) {
      this.afterKey = false;
      return;
    }
    const d = this.filled.length - 1;
    if (d < 0) return;
    if (this.filled[d]) this.out.buf[this.out.pos++] = 44;
    else this.filled[d] = true;
  }

  obj(): this {
    this.value(1);
    this.out.buf[this.out.pos++] = 123;
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
    this.value(1);
    this.out.buf[this.out.pos++] = 91;
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
    this.value(k.length + 3);
    const out = this.out;
    out.pos = putQuoted(out.buf, out.pos, k);
    out.buf[out.pos++] = 58;
    this.afterKey = true;
    return this;
  }

  str(s: string): this {
    if (s.length + 2 <= this.out.capacity && plain(s)) return this.quoted(s);
    this.value(0);
    this.out.text(JSON.stringify(s));
    return this;
  }

  num(n: number): this {
    this.value(24);
    if (Number.isInteger(n) && n >= 0) this.out.uint(n);
    else this.out.ascii(Number.isFinite(n) ? String(n) : 'null');
    return this;
  }

  bool(b: boolean): this {
    this.value(5);
    this.out.raw(b ? TRUE : FALSE);
    return this;
  }

  null(): this {
    this.value(4);
    this.out.raw(NULL);
    return this;
  }

  /** A string we produced and know needs no escaping (addresses, slugs, hex). */
  ascii(s: string): this {
    if (s.length + 2 > this.out.capacity) return this.str(s);
    return this.quoted(s);
  }

  /** ASCII that needs no escaping, between quotes (it fits the buffer). */
  private quoted(s: string): this {
    this.value(s.length + 2);
    const out = this.out;
    out.pos = putQuoted(out.buf, out.pos, s);
    return this;
  }

  /** Bytes as a hex string. */
  hex(b: Uint8Array): this {
    const out = this.out;
    if (b.length * 2 + 2 > out.capacity) return this.str(Buffer.from(b).toString('hex'));
    this.value(b.length * 2 + 2);
    out.byte(34);
    out.hexBytes(b);
    out.byte(34);
    return this;
  }

  /** Pre-serialised JSON text (the data-packet fast path, tests). */
  rawJson(text: string): this {
    this.value(0);
    this.out.text(text);
    return this;
  }

  /** tsText's digits, written as json-fast.ts writes them, without the string. */
  time(sec: number, nsec: number): this {
    const t = tsMicros(sec, nsec);
    if (!(Number.isSafeInteger(t.sec) && t.sec >= 0)) return this.rawJson(tsText(sec, nsec));
    this.value(32);
    const out = this.out;
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
  protected readonly open: (Record<string, unknown> | unknown[])[] = [];
  protected name = '';

  protected put(v: unknown): this {
    const top = this.open[this.open.length - 1];
    if (top === undefined) this.result = v;
    else if (Array.isArray(top)) top.push(v);
    else top[this.name] = v;
    return this;
  }

  protected enter(c: Record<string, unknown> | unknown[]): this {
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

/** The member names a pruned object keeps, as a tree (`true`: everything below). */
export type KeptPaths = Map<string, KeptPaths> | true;

/** The tree of dotted paths (`inner.src`, `records.locators.rloc`): arrays are looked through, as the filters do. */
export function keptPaths(paths: readonly string[]): Map<string, KeptPaths> {
  const root = new Map<string, KeptPaths>();
  for (const path of paths) {
    const steps = path.split('.');
    let node: Map<string, KeptPaths> = root;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      const at = node.get(s);
      if (at === true) break;
      if (i === steps.length - 1) {
        node.set(s, true);
        break;
      }
      let next = at;
      if (!next) node.set(s, (next = new Map()));
      node = next;
    }
  }
  return root;
}

/**
 * ObjectWriter for a display filter: only the members on the paths it reads are built (what a
 * filter looks at of a packet is a few of its fields; building all of them, their strings, times
 * and hex, was most of a scan's cost). Every kept path holds what it holds in the whole object;
 * members that are not on a path are left out, their values never computed.
 */
export class PrunedObjectWriter extends ObjectWriter {
  /** Per open container: the paths kept below it. */
  private readonly nodes: KeptPaths[] = [];
  /** The paths kept below the value that comes next (after `key`); undefined: it is left out. */
  private next: KeptPaths | undefined;
  /** Depth of the containers being left out. */
  private skipping = 0;

  constructor(private readonly root: KeptPaths) {
    super();
    this.next = root;
  }

  /** Starts over for another object. */
  reset(): this {
    this.result = undefined;
    this.open.length = 0;
    this.nodes.length = 0;
    this.next = this.root;
    this.skipping = 0;
    return this;
  }

  /** Whether the value that comes next is kept; when it is not, it is consumed. */
  private wanted(): boolean {
    if (this.skipping) return false;
    if (this.next !== undefined) return true;
    // Inside an array, every element is on its array's paths.
    if (Array.isArray(this.open[this.open.length - 1])) {
      this.next = this.nodes[this.nodes.length - 1];
      return true;
    }
    return false;
  }

  protected override put(v: unknown): this {
    this.next = undefined;
    return super.put(v);
  }

  protected override enter(c: Record<string, unknown> | unknown[]): this {
    if (!this.wanted()) {
      this.skipping++;
      return this;
    }
    const node = this.next!;
    super.enter(c);
    this.nodes.push(node);
    this.next = Array.isArray(c) ? node : undefined;
    return this;
  }

  override end(): this {
    if (this.skipping) {
      this.skipping--;
      return this;
    }
    super.end();
    this.nodes.pop();
    this.next = Array.isArray(this.open[this.open.length - 1]) ? this.nodes[this.nodes.length - 1] : undefined;
    return this;
  }

  override key(k: string): this {
    if (this.skipping) return this;
    this.name = k;
    const node = this.nodes[this.nodes.length - 1];
    this.next = node === true ? true : node?.get(k);
    return this;
  }

  override str(s: string): this {
    return this.wanted() ? super.str(s) : this;
  }

  override num(n: number): this {
    return this.wanted() ? super.num(n) : this;
  }

  override bool(b: boolean): this {
    return this.wanted() ? super.bool(b) : this;
  }

  override null(): this {
    return this.wanted() ? super.null() : this;
  }

  override ascii(s: string): this {
    return this.wanted() ? super.ascii(s) : this;
  }

  override hex(b: Uint8Array): this {
    return this.wanted() ? super.hex(b) : this;
  }

  /** Kept whole: more than the paths, never less. */
  override rawJson(text: string): this {
    return this.wanted() ? super.rawJson(text) : this;
  }

  override time(sec: number, nsec: number): this {
    return this.wanted() ? super.time(sec, nsec) : this;
  }
}

/** ASCII between quotes (room made by the caller). */
function putQuoted(b: Uint8Array, p: number, s: string): number {
  b[p] = 34;
  p = putAscii(b, p + 1, s);
  b[p] = 34;
  return p + 1;
}
