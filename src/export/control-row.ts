// Packets other than plain data (control messages, mostly) staged as their columns' values
// beside their JSON, so that neither DuckDB nor ClickHouse parses the JSON to fill the columns.
// The values are taken as the JSON writer writes the row (ColumnTap): the columns are those of the
// packets table, each read at the paths its declaration gives (`from`, tables.ts), so they are the
// values from_json reads from the same text. One row format serves both databases: tab-separated
// fields, NULL as \N, lists as ['a','b'] (ClickHouse's TabSeparated; DuckDB casts the same text to
// its lists), then the JSON. A row whose values that format cannot carry as they are (an LCAF
// address where a string goes, a null in a list, a backslash or control character) is left to
// the JSON path: `fields` says so, and the caller stages the row's JSON as before.
// A row written by a fast writer straight from the frame's bytes (json-control-fast.ts) is read
// back from its text instead (readText): the same paths, the same values, no second description
// of where in the JSON a column's value sits.

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

/**
 * A string's or a number's text in a row read back from its JSON (readText): where it is in the
 * tap's buffer. Its value is taken from the text only when the row's fields are written.
 */
class Raw {
  constructor(
    public string: boolean,
    public start: number,
    public end: number,
  ) {}
}

type Value = string | number | boolean | null | Time | Raw;

/** A place in the row object: its members (by name, and by the length of the name's bytes), its elements, and the paths that end here. */
interface Node {
  keys: Map<string, Node>;
  byLength: (Node[] | undefined)[];
  /** The member's name as bytes. */
  name: Uint8Array;
  elem: Node | undefined;
  /** Indexes of the paths that end here. */
  ends: number[];
}

const node = (name = ''): Node => ({ keys: new Map(), byLength: [], name: bytesOf(name), elem: undefined, ends: [] });

/** `records[].locators[].rloc` → the trie's leaf, made as needed. */
function addPath(root: Node, path: string, index: number): void {
  let n = root;
  for (const part of path.split('.')) {
    const list = part.endsWith('[]');
    const key = list ? part.slice(0, -2) : part;
    let k = n.keys.get(key);
    if (!k) {
      n.keys.set(key, (k = node(key)));
      (n.byLength[k.name.length] ??= []).push(k);
    }
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
const DQUOTE = 34;
const BACKSLASH = 92;
const DATA = bytesOf('data');
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
  /** readText's values, one per place in `value` (reused row after row). */
  private readonly raws: Raw[] = [];
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

  /**
   * Starts a row. A fast writer may then write the row's JSON line into `text` (nothing else is
   * written to the tap), and readText read its values.
   */
  start(): void {
    this.row++;
    this.count = 0;
    if (this.spilled.length > 0) this.spilled = [];
    this.scratch.pos = 0;
    this.odd = false;
    this.depth = 0;
    this.member = ROOT;
  }

  /** Where a fast writer writes the row's JSON line, after `start`. */
  get text(): OutBuffer {
    return this.scratch;
  }

  /**
   * Reads the values of the JSON line written into `text` (its newline dropped) as if its writer
   * had written them through the tap: the text is JsonWriter's (no white space; a string at a
   * column's path comes out of it as it went in, see putRaw).
   */
  readText(): void {
    const b = this.scratch.buf;
    let end = this.scratch.pos;
    if (b[end - 1] === NEWLINE) this.scratch.pos = --end;
    // After `{` or a comma in an object a member's name comes, else a value.
    let name = false;
    for (let i = 0; i < end; ) {
      const c = b[i]!;
      if (c === DQUOTE) {
        const start = i + 1;
        escaped = false;
        i = stringEnd(b, start, end);
        if (name) {
          this.member = this.memberNamed(b, start, i);
          // The quote and the colon.
          i += 2;
          name = false;
        } else {
          this.rawScalar(true, start, i);
          i++;
        }
      } else if (c === 123) {
        this.enter(false);
        name = true;
        i++;
      } else if (c === 91) {
        this.enter(true);
        name = false;
        i++;
      } else if (c === 125 || c === 93) {
        this.depth--;
        i++;
      } else if (c === 44) {
        name = !this.arrays[this.depth - 1];
        i++;
      } else if (c === 116) {
        this.scalar(true);
        i += 4;
      } else if (c === 102) {
        this.scalar(false);
        i += 5;
      } else if (c === 110) {
        this.scalar(null);
        i += 4;
      } else {
        const start = i;
        while (i < end && isNumberByte(b[i]!)) i++;
        // Not JsonWriter's text (white space, say): a writer's bug, not the packet's.
        if (i === start) throw new Error(`control-row: unexpected byte ${c} at ${i} of a JSON line`);
        this.rawScalar(false, start, i);
      }
    }
  }

  /** The node of the member named by b[start, end) (a JSON string's contents) of the open object. */
  private memberNamed(b: Uint8Array, start: number, end: number): Node | undefined {
    const parent = this.depth === 0 ? undefined : this.nodes[this.depth - 1];
    if (parent === undefined) return undefined;
    if (escaped) return parent.keys.get(unquote(b, start, end));
    const named = parent.byLength[end - start];
    if (named === undefined) return undefined;
    next: for (const n of named) {
      const name = n.name;
      for (let i = 0; i < name.length; i++) if (name[i] !== b[start + i]) continue next;
      return n;
    }
    return undefined;
  }

  /** A string's or a number's text at the place about to be written, when a path ends there. */
  private rawScalar(string: boolean, start: number, end: number): void {
    const n = this.here();
    if (n === undefined || n.ends.length === 0) return;
    let r = this.raws[this.count];
    if (r === undefined) r = this.raws[this.count] = new Raw(string, start, end);
    else {
      r.string = string;
      r.start = start;
      r.end = end;
    }
    this.scalar(r);
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
    const data = t >= 0 && this.isData(this.value[t]!);
    for (const f of FIELDS) {
      if (out.pos > ROOM) return false;
      out.byte(TAB);
      if (!this.field(f, data ? f.dataPaths : f.paths)) return false;
    }
    return true;
  }

  private isData(v: Value): boolean {
    if (!(v instanceof Raw)) return v === 'data';
    const b = this.scratch.buf;
    if (!v.string || v.end - v.start !== DATA.length) return false;
    for (let i = 0; i < DATA.length; i++) if (b[v.start + i] !== DATA[i]) return false;
    return true;
  }

  /** A field: the first non-null value of a scalar, ['a','b'] of a list. */
  private field(f: Field, paths: number[]): boolean {
    const out = this.out;
    if (!f.list) {
      for (const p of paths) {
        const i = this.head(p);
        const v = i < 0 ? null : this.value[i]!;
        if (v !== null) return putValue(out, v, f.type, false, this.scratch.buf);
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
        if (!putValue(out, v, f.type, true, this.scratch.buf)) return false;
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

/** Whether the last string stringEnd went through had an escape. */
let escaped = false;

/** Where the string whose contents start at `i` ends (its closing quote), before `end`. */
function stringEnd(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c === DQUOTE) return i;
    if (c === BACKSLASH) {
      escaped = true;
      i += 2;
    } else i++;
  }
  // JsonWriter closes every string it opens: a writer's bug, not the packet's.
  throw new Error(`control-row: a string runs past the end of a JSON line (${end} bytes)`);
}

/** A JSON string's value from its contents b[start, end) (escapes and all). */
function unquote(b: Uint8Array, start: number, end: number): string {
  return JSON.parse(Buffer.from(b.buffer, b.byteOffset + start - 1, end - start + 2).toString('utf8')) as string;
}

/** The bytes of a JSON number: digits, sign, point, exponent. */
function isNumberByte(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 43 || c === 101 || c === 69;
}

/**
 * A string's or number's text (readText) as its column's type takes it: what putValue does with
 * the value the text stands for, which is the text itself as JsonWriter writes it. The text is
 * taken as it is, checked as putString and putNumber check values; anything else (an escape, a
 * number that may not be written as it is) goes by its value.
 */
function putRaw(out: OutBuffer, r: Raw, type: ColumnType, inList: boolean, b: Uint8Array): boolean {
  const { start, end } = r;
  if (!r.string) {
    // A number's text is putNumber's (JsonWriter.num writes the same), exponents aside. A time is
    // written as a number (putTime, both ways); only `ts` is one, and its column is a double.
    if (type === 'double') {
      for (let i = start; i < end; i++) if ((b[i]! | 32) === 101) return false;
    } else if (type === 'int' || type === 'int[]') {
      // At most 15 digits: a safe integer. Else its value decides.
      let plain = end - start <= 15;
      for (let i = start; plain && i < end; i++) {
        const c = b[i]!;
        plain = (c >= 48 && c <= 57) || (c === 45 && i === start);
      }
      if (!plain) return putValue(out, Number(Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('latin1')), type, inList, b);
    } else return false;
    out.ensure(end - start);
    copy(out, b, start, end);
    return true;
  }
  if (type !== 'text' && type !== 'text[]') return false;
  // What putString counts: UTF-16 code units (a 4-byte UTF-8 sequence is two).
  let units = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === BACKSLASH) return putString(out, unquote(b, start, end), inList);
    if (c < 32 || (inList && c === QUOTE)) return false;
    if (c < 0x80 || c >= 0xc0) units += c >= 0xf0 ? 2 : 1;
  }
  if (units * 3 > ROOM - out.pos) return false;
  copy(out, b, start, end);
  return true;
}

/** b[start, end) into `out` (which has room): short texts, copied without a view of them. */
function copy(out: OutBuffer, b: Uint8Array, start: number, end: number): void {
  const buf = out.buf;
  let p = out.pos;
  for (let i = start; i < end; i++) buf[p++] = b[i]!;
  out.pos = p;
}

/** One value as its column's type takes it; false when the format cannot carry it. */
function putValue(out: OutBuffer, v: Value, type: ColumnType, inList: boolean, text: Uint8Array): boolean {
  if (v instanceof Raw) return putRaw(out, v, type, inList, text);
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
