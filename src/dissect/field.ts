// Field declarations, as Wireshark's hf_register_info or scapy's fields_desc: each field of a
// header word is declared once, with its RFC name and letter, its bits, its JSON key and its
// tshark field, and that one declaration decodes, encodes, prints and crafts it. The tables of the
// LISP messages are in fields.ts.

import type { Cursor, Writer } from './cursor.js';

/**
 * `flag`: a boolean; `option`: a boolean kept only when set; `number`: an unsigned value;
 * `reserved`: an unsigned value kept only when non-zero (so hand-built messages stay short and
 * round trips exact); `count`: a count the encoder derives from what follows (not a property).
 */
export type FieldKind = 'flag' | 'option' | 'number' | 'reserved' | 'count';

export interface Field<K extends string = string> {
  /** The property of the decoded value (for a count, a name only). */
  key: K;
  kind: FieldKind;
  /** The bits the field occupies in its word. */
  mask: number;
  /** The RFC's name of the field. */
  name: string;
  /** The RFC's one-letter name of a flag. */
  letter?: string;
  /** A number in two's complement (Geo Coordinates' Altitude). */
  signed?: boolean;
  /** Shown in hex, as Wireshark's BASE_HEX (reserved bits always are). */
  hex?: boolean;
  /** The word in the one-line summary's [flags]. */
  line?: string;
  /** The JSON contract's key. */
  json?: string;
  /** JSON: written also when false (the contract's fixed fields); otherwise only when set. */
  always?: boolean;
  /** tshark's field of the same bits. */
  tshark?: string;
  /** `lispscope inject` reads it from the JSON key (absent where the encoder derives it from other fields). */
  craft?: { default: number | boolean };
}

type Keys<T> = Extract<keyof T, string>;

/** A word of `bits` bits and the fields in it, in wire order. */
export interface Word<T> {
  bits: 8 | 16 | 24 | 32;
  fields: readonly (Field<Keys<T>> | Field<string> & { kind: 'count' })[];
  /** The one-line summary's order, where it is not the wire's. */
  lineOrder?: readonly Keys<T>[];
  /** The JSON order, where the contract's is not the wire's. */
  jsonOrder?: readonly Keys<T>[];
  /** tshark's fields that span several of ours (its Reserved bits often cover flags it does not name). */
  tsharkViews?: readonly { name: string; mask: number }[];
}

/** Checks a declaration once, when the module loads: masks disjoint and inside the word, orders complete. */
export function word<T>(w: Word<T>): Word<T> {
  let seen = 0;
  for (const f of w.fields) {
    if (f.mask === 0 || (seen & f.mask) !== 0 || (w.bits < 32 && f.mask >>> w.bits !== 0)) {
      throw new Error(`field ${f.key}: mask 0x${f.mask.toString(16)} is empty, overlaps another or exceeds ${w.bits} bits`);
    }
    seen |= f.mask;
  }
  const complete = (order: readonly string[] | undefined, has: (f: Field) => boolean) =>
    !order || (order.length === w.fields.filter(has).length && order.every((k) => w.fields.some((f) => f.key === k && has(f))));
  if (!complete(w.lineOrder, (f) => f.line !== undefined) || !complete(w.jsonOrder, (f) => f.json !== undefined)) {
    throw new Error(`fields ${w.fields.map((f) => f.key).join(' ')}: lineOrder or jsonOrder does not name each shown field once`);
  }
  return w;
}

const shiftOf = (mask: number) => 31 - Math.clz32(mask & -mask);

/** Bits from the field's lowest to its highest (holes included). */
export function fieldWidth(f: Field): number {
  return 32 - Math.clz32(f.mask) - shiftOf(f.mask);
}

/** The largest value the field holds. */
export function fieldMax(f: Field): number {
  return fieldValue(f, f.mask);
}

/** The field's value in `word`. */
export function fieldValue(f: Field, word: number): number {
  const v = ((word & f.mask) >>> 0) >>> shiftOf(f.mask);
  return f.signed ? v | 0 : v;
}

/** `value` placed in the field's bits. */
export function fieldBits(f: Field, value: number): number {
  return ((value << shiftOf(f.mask)) & f.mask) >>> 0;
}

/** The field named `key` (a count's name included). */
export function fieldOf<T>(w: Word<T>, key: string): Field {
  const f = w.fields.find((x) => x.key === key);
  if (!f) throw new Error(`no field ${key}`);
  return f;
}

type Props = Record<string, unknown>;

type Decoder = (word: number, into: Props, counts: Record<string, number> | undefined) => void;

const decoders = new WeakMap<object, Decoder>();

/**
 * A word's decoder, written once from its table: every control message runs through these, and
 * straight-line property stores are several times faster than a loop of keyed stores.
 */
function decoderOf<T>(w: Word<T>): Decoder {
  let d = decoders.get(w);
  if (d) return d;
  const lines: string[] = [];
  for (const f of w.fields as readonly Field[]) {
    const key = JSON.stringify(f.key);
    const value = `((w & ${f.mask >>> 0}) >>> ${shiftOf(f.mask)})`;
    if (f.kind === 'flag') lines.push(`o[${key}] = (w & ${f.mask >>> 0}) !== 0;`);
    else if (f.kind === 'option') lines.push(`if (w & ${f.mask >>> 0}) o[${key}] = true;`);
    else if (f.kind === 'number') lines.push(`o[${key}] = ${value}${f.signed ? ' | 0' : ''};`);
    else if (f.kind === 'reserved') lines.push(`{ const v = ${value}; if (v) o[${key}] = v; }`);
    else lines.push(`if (c) c[${key}] = ${value};`);
  }
  d = new Function('w', 'o', 'c', lines.join('\n')) as Decoder;
  decoders.set(w, d);
  return d;
}

/**
 * Sets every field of `word` on `into` (options only when set, reserved values only when
 * non-zero), and the counts it holds on `counts`.
 */
export function decodeWord<T>(w: Word<T>, word: number, into: T, counts?: Record<string, number>): T {
  decoderOf(w)(word, into as Props, counts);
  return into;
}

/** The word of `m`'s fields; counts come from `counts` by name. */
export function encodeWord<T>(w: Word<T>, m: T, counts: Record<string, number> = {}): number {
  const o = m as Props;
  let out = 0;
  for (const f of w.fields) {
    const v = f.kind === 'count' ? counts[f.key] : o[f.key];
    if (v === true) out |= f.mask;
    else if (typeof v === 'number') out |= fieldBits(f, v);
  }
  return out >>> 0;
}

/** Whether a flag or option is set in `m`. */
export function isSet(f: Field, m: unknown): boolean {
  return (m as Props)[f.key] === true;
}

/** The flags and options of `w`, in wire order. */
export function flagFields<T>(w: Word<T>): Field[] {
  return (w.fields as readonly Field[]).filter((f) => f.kind === 'flag' || f.kind === 'option');
}

function ordered<T>(w: Word<T>, order: readonly string[] | undefined, has: (f: Field) => boolean): Field[] {
  const list = (w.fields as readonly Field[]).filter(has);
  if (!order) return list;
  return order.map((k) => list.find((f) => f.key === k)).filter((f): f is Field => f !== undefined);
}

/** The fields the one-line summary names when set, in its order. */
export function lineFields<T>(w: Word<T>): Field[] {
  return ordered(w, w.lineOrder, (f) => f.line !== undefined);
}

/** The fields the JSON carries, in its order (or those of `keys`, in that order). */
export function jsonFields<T>(w: Word<T>, keys?: readonly Keys<T>[]): Field[] {
  return ordered(w, keys ?? w.jsonOrder, (f) => f.json !== undefined);
}

/** Words that follow each other: a header of fixed size (a record's, a locator's). */
export type Struct<T> = readonly Word<T>[];

const sizes = new WeakMap<object, number>();

export function structSize<T>(s: Struct<T>): number {
  let n = sizes.get(s);
  if (n === undefined) {
    n = 0;
    for (const w of s) n += w.bits >> 3;
    sizes.set(s, n);
  }
  return n;
}

/** The counts `word` holds, by name. */
export function countsIn<T>(w: Word<T>, value: number, into: Record<string, number> = {}): Record<string, number> {
  for (const f of w.fields) if (f.kind === 'count') into[f.key] = fieldValue(f, value);
  return into;
}

function readWord(c: Cursor, bits: 8 | 16 | 24 | 32): number {
  return bits === 8 ? c.u8() : bits === 16 ? c.u16() : bits === 24 ? c.u24() : c.u32();
}

/**
 * Reads the words of `s` into `into` and returns the counts they hold; undefined (with a
 * truncation note naming `what`) when fewer than `need` bytes are left.
 */
export function readStruct<T>(c: Cursor, s: Struct<T>, into: T, what: string, need = structSize(s)): Record<string, number> | undefined {
  if (!c.need(Math.max(need, structSize(s)), what)) return undefined;
  const counts: Record<string, number> = {};
  for (const w of s) decoderOf(w)(readWord(c, w.bits), into as Props, counts);
  return counts;
}

export function writeStruct<T>(out: Writer, s: Struct<T>, m: T, counts: Record<string, number> = {}): void {
  for (const w of s) {
    const v = encodeWord(w, m, counts);
    if (w.bits === 8) out.u8(v);
    else if (w.bits === 16) out.u16(v);
    else if (w.bits === 24) out.u24(v);
    else out.u32(v);
  }
}

/** Every field of a struct, in wire order. */
export function structFields<T>(s: Struct<T>): Field[] {
  return s.flatMap((w) => w.fields as Field[]);
}
