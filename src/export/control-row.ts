// Packets other than plain data (control messages, mostly) staged as their columns' values
// beside their JSON, so that neither DuckDB nor ClickHouse parses the JSON to fill the columns.
// The values are taken as the JSON writer writes the row (ColumnTap): the columns are those of the
// packets table, each read at the paths its declaration gives (`from`, tables.ts), so they are the
// values from_json reads from the same text. One row format serves both databases: tab-separated
// fields, NULL as \N, lists as ['a','b'] (ClickHouse's TabSeparated; DuckDB casts the same text to
// its lists), then the JSON. A row whose values that format cannot carry as they are (an LCAF
// address where a string goes, a null in a list, a backslash or control character) is left to
// the JSON path: `fields` says so, and the caller stages the row's JSON as before.

import { JsonWriter, type JsonSink } from '../output/json-writer.js';
import { bytesOf, OutBuffer, putTime } from '../output/out-buffer.js';
import { tsMicros } from '../output/time.js';
import type { Column, ColumnType } from './columns.js';
import { PACKETS } from './tables.js';

/** The packets columns a control row carries, in its order (after `seq`; the JSON text ends it). */
export const CONTROL_COLUMNS: Column[] = PACKETS.columns.filter((c) => !c.constant && c.name !== 'seq' && c.type !== 'json');

/** The text of a missing value (read_csv's nullstr; TabSeparated's NULL). */
export const CONTROL_NULL = '\\N';

/** A capture time as the JSON writes it: kept as its parts, written with the writer's digits. */
class Time {
  constructor(
    readonly sec: number,
    readonly nsec: number,
  ) {}
}

type Value = string | number | boolean | null | Time;

/** A place in the row object: its members, its elements, and the paths that end here. */
interface Node {
  keys: Map<string, Node>;
  elem: Node | undefined;
  /** Indexes of the paths that end here. */
  ends: number[];
}

const node = (): Node => ({ keys: new Map(), elem: undefined, ends: [] });

/** `records[].locators[].rloc` → the trie's leaf, made as needed. */
function addPath(root: Node, path: string, index: number): void {
  let n = root;
  for (const part of path.split('.')) {
    const list = part.endsWith('[]');
    const key = list ? part.slice(0, -2) : part;
    let k = n.keys.get(key);
    if (!k) n.keys.set(key, (k = node()));
    n = k;
    if (list) n = n.elem ??= node();
  }
  n.ends.push(index);
}

/** A column's paths as indexes into the tap's values. */
interface Field {
  type: ColumnType;
  list: boolean;
  paths: number[];
  dataPaths: number[];
}

const PATHS: string[] = [];
const ROOT = node();
const pathIndex = new Map<string, number>();

function indexOf(path: string): number {
  let i = pathIndex.get(path);
  if (i === undefined) {
    i = PATHS.push(path) - 1;
    pathIndex.set(path, i);
    addPath(ROOT, path, i);
  }
  return i;
}

const FIELDS: Field[] = CONTROL_COLUMNS.map((c) => {
  const paths = (c.from ?? [c.key ?? c.name]).map(indexOf);
  return { type: c.type, list: c.type.endsWith('[]'), paths, dataPaths: c.fromData?.map(indexOf) ?? paths };
});
const TYPE_PATH = indexOf('type');

/** The fields' buffer, and how much of it their text may take (each value written after a check of ROOM takes less than the rest). */
const FIELDS_BUFFER = 1 << 16;
const ROOM = FIELDS_BUFFER - 1024;
const TAB = 9;
const NEWLINE = 10;
const QUOTE = 39;
const NUL = bytesOf(CONTROL_NULL);
const TRUE = 49;
const FALSE = 48;

/**
 * A JsonSink that writes the row's JSON into its own buffer and keeps the values at the columns'
 * paths. One per recorder; `start` before each row, `fields` after it. Nothing is allocated per
 * row: values are a list per path, linked through arrays and cleared by starting a new row.
 */
export class ColumnTap implements JsonSink {
  private readonly json: JsonWriter;
  private readonly scratch: OutBuffer;
  /** Bytes of a row larger than the scratch buffer, flushed before its end. */
  private spilled: Uint8Array[] = [];
  /** The row's values in the order written, each linked to the next of its path. */
  private readonly value: Value[] = [];
  private readonly next: number[] = [];
  private count = 0;
  /** Per path: its first and last value (valid when `rowOf` is this row). */
  private readonly first: number[] = PATHS.map(() => -1);
  private readonly last: number[] = PATHS.map(() => -1);
  private readonly rowOf: number[] = PATHS.map(() => -1);
  private row = 0;
  /** The open containers' nodes (undefined: nothing below is read) and whether each is an array. */
  private readonly nodes: (Node | undefined)[] = [];
  private readonly arrays: boolean[] = [];
  private depth = 0;
  /** The node of the member whose key was written last. */
  private member: Node | undefined;
  /** A value the row format cannot carry as it is, at a path a column reads. */
  private odd = false;
  /** The fields' text, written by `fields`. */
  private readonly out: OutBuffer;

  constructor() {
    this.scratch = new OutBuffer((b) => {
      this.spilled.push(b.slice());
      return true;
    }, 1 << 16);
    this.json = new JsonWriter(this.scratch);
    // Fields are short (addresses, numbers); a row whose fields outgrow ROOM goes the JSON way,
    // so the buffer never fills.
    this.out = new OutBuffer(() => {
      throw new Error('control-row fields overflowed their buffer');
    }, FIELDS_BUFFER);
  }

  start(): void {
    this.row++;
    this.count = 0;
    this.spilled = [];
    this.scratch.pos = 0;
    this.odd = false;
    this.depth = 0;
    this.member = ROOT;
  }

  /** The node of the value about to be written. */
  private here(): Node | undefined {
    const d = this.depth;
    if (d === 0 || !this.arrays[d - 1]) return this.member;
    return this.nodes[d - 1]?.elem;
  }

  private scalar(v: Value): void {
    const n = this.here();
    if (n === undefined) return;
    for (const p of n.ends) {
      const i = this.count++;
      this.value[i] = v;
      this.next[i] = -1;
      if (this.rowOf[p] !== this.row) {
        this.rowOf[p] = this.row;
        this.first[p] = i;
      } else this.next[this.last[p]!] = i;
      this.last[p] = i;
    }
  }

  /** The first value of a path in this row, or -1. */
  private head(p: number): number {
    return this.rowOf[p] === this.row ? this.first[p]! : -1;
  }

  /** A container (or a value no column can take: bytes, raw text) where a path ends makes the row odd. */
  private opaque(): Node | undefined {
    const n = this.here();
    if (n !== undefined && n.ends.length > 0) this.odd = true;
    return n;
  }

  private enter(array: boolean): void {
    const n = this.opaque();
    this.nodes[this.depth] = n;
    this.arrays[this.depth++] = array;
  }

  obj(): this {
    this.json.obj();
    this.enter(false);
    return this;
  }

  end(): this {
    this.json.end();
    this.depth--;
    return this;
  }

  arr(): this {
    this.json.arr();
    this.enter(true);
    return this;
  }

  endArr(): this {
    this.json.endArr();
    this.depth--;
    return this;
  }

  key(k: string): this {
    this.json.key(k);
    this.member = this.depth === 0 ? undefined : this.nodes[this.depth - 1]?.keys.get(k);
    return this;
  }

  str(s: string): this {
    this.json.str(s);
    this.scalar(s);
    return this;
  }

  ascii(s: string): this {
    this.json.ascii(s);
    this.scalar(s);
    return this;
  }

  num(n: number): this {
    this.json.num(n);
    // What the JSON text says: a non-finite number is written as null.
    this.scalar(Number.isFinite(n) ? n : null);
    return this;
  }

  bool(b: boolean): this {
    this.json.bool(b);
    this.scalar(b);
    return this;
  }

  null(): this {
    this.json.null();
    this.scalar(null);
    return this;
  }

  hex(b: Uint8Array): this {
    this.json.hex(b);
    this.opaque();
    return this;
  }

  rawJson(text: string): this {
    this.json.rawJson(text);
    this.opaque();
    return this;
  }

  time(sec: number, nsec: number): this {
    this.json.time(sec, nsec);
    this.scalar(new Time(sec, nsec));
    return this;
  }

  /**
   * Writes the columns' texts, each after a tab, in CONTROL_COLUMNS' order, and returns true; false
   * when a value does not fit the format (the row then goes as JSON).
   */
  fields(): boolean {
    const out = this.out;
    out.pos = 0;
    if (this.odd) return false;
    const t = this.head(TYPE_PATH);
    const data = t >= 0 && this.value[t] === 'data';
    for (const f of FIELDS) {
      if (out.pos > ROOM) return false;
      out.byte(TAB);
      if (!this.field(f, data ? f.dataPaths : f.paths)) return false;
    }
    return true;
  }

  /** A field: the first non-null value of a scalar, ['a','b'] of a list. */
  private field(f: Field, paths: number[]): boolean {
    const out = this.out;
    if (!f.list) {
      for (const p of paths) {
        const i = this.head(p);
        const v = i < 0 ? null : this.value[i]!;
        if (v !== null) return putValue(out, v, f.type, false);
      }
      out.ensure(2);
      out.raw(NUL);
      return true;
    }
    const quote = f.type === 'text[]';
    let n = 0;
    out.ensure(1);
    out.byte(91);
    for (const p of paths) {
      for (let i = this.head(p); i >= 0; i = this.next[i]!) {
        const v = this.value[i]!;
        if (v === null || out.pos > ROOM) return false;
        if (n++ > 0) out.byte(44);
        if (quote) out.byte(QUOTE);
        if (!putValue(out, v, f.type, true)) return false;
        if (quote) {
          out.ensure(1);
          out.byte(QUOTE);
        }
      }
    }
    out.ensure(1);
    out.byte(93);
    return true;
  }

  /** Writes the row after its `seq` (and `origin`, tab-led): the fields `fields` wrote, the JSON, the line's end. */
  writeRow(out: OutBuffer, origin?: Uint8Array): void {
    if (origin) put(out, origin);
    put(out, this.out.buf.subarray(0, this.out.pos));
    out.ensure(1);
    out.byte(TAB);
    this.writeJson(out);
    out.ensure(1);
    out.byte(NEWLINE);
  }

  /** The row's JSON text (without a newline). */
  writeJson(out: OutBuffer): void {
    for (const b of this.spilled) put(out, b);
    put(out, this.scratch.buf.subarray(0, this.scratch.pos));
  }
}

/** Bytes into an OutBuffer, in pieces it can take. */
function put(out: OutBuffer, b: Uint8Array): void {
  for (let i = 0; i < b.length; ) {
    const n = Math.min(b.length - i, out.capacity);
    out.ensure(n);
    out.raw(b.subarray(i, i + n));
    i += n;
  }
}

/**
 * A string the format carries as it is (no backslash or control character; in a list no quote),
 * as UTF-8. The fields' buffer never flushes: a string beyond its room does not fit either.
 */
function putString(out: OutBuffer, s: string, inList: boolean): boolean {
  if (s.length * 3 > ROOM - out.pos) return false;
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === 92 || (inList && c === QUOTE)) return false;
    if (c >= 128) ascii = false;
  }
  if (ascii) out.ascii(s);
  else out.text(s);
  return true;
}

/** One value as its column's type takes it; false when the format cannot carry it. */
function putValue(out: OutBuffer, v: Value, type: ColumnType, inList: boolean): boolean {
  switch (type) {
    case 'text':
    case 'text[]':
      return typeof v === 'string' && putString(out, v, inList);
    case 'int':
    case 'int[]':
      return typeof v === 'number' && Number.isSafeInteger(v) && putNumber(out, v);
    case 'double':
      if (v instanceof Time) {
        const t = tsMicros(v.sec, v.nsec);
        if (!(Number.isSafeInteger(t.sec) && t.sec >= 0)) return false;
        out.ensure(32);
        out.pos = putTime(out.buf, out.pos, t.sec, t.usec);
        return true;
      }
      return typeof v === 'number' && putNumber(out, v);
    case 'bool':
      if (typeof v !== 'boolean') return false;
      out.ensure(1);
      out.byte(v ? TRUE : FALSE);
      return true;
    default:
      return false;
  }
}

/** A number as JSON text writes it (JsonWriter.num); exponents are left to the JSON path. */
function putNumber(out: OutBuffer, n: number): boolean {
  out.ensure(24);
  if (Number.isInteger(n) && n >= 0) {
    out.uint(n);
    return true;
  }
  const s = String(n);
  if (/e/i.test(s)) return false;
  out.ascii(s);
  return true;
}
