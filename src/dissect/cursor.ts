// Bounds-checked reading over a message. Every read is preceded by `need`, which records a note
// (with the byte offset relative to the start of the LISP message) instead of throwing, so a decoder
// can stop cleanly and return everything it decoded so far.

import { copyBytes } from './addr.js';

/**
 * How serious a note is, as Wireshark's expert info: `error` the bytes cannot be decoded as what
 * they claim (only this makes a packet malformed); `warning` it decodes but deviates from the RFCs
 * (a quirk, a reserved value); `note` worth knowing and normal.
 */
export type NoteLevel = 'error' | 'warning' | 'note';

export const NOTE_LEVELS: readonly NoteLevel[] = ['error', 'warning', 'note'];

export interface Note {
  /** Byte offset from the start of the LISP message (the UDP payload). */
  offset: number;
  message: string;
  level: NoteLevel;
}

/** How a read past the end (a decoder that missed a `need`) is noted. */
export const OVERRUN = 'decoder read past the end';

export class Cursor {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start: number,
    /** Exclusive end of the region this cursor may read. */
    public end: number,
    /** Offset of the LISP message start inside `bytes`, so notes carry message-relative offsets. */
    readonly base: number,
    readonly notes: Note[],
    /**
     * Level of "runs past the end" notes: an error, except where the end is known to be a cut the
     * sender made on purpose (a packet an ICMP error quotes as far as it fits).
     */
    readonly cutLevel: NoteLevel = 'error',
  ) {
    this.pos = start;
  }

  static over(bytes: Uint8Array, notes: Note[] = []): Cursor {
    return new Cursor(bytes, 0, bytes.length, 0, notes);
  }

  /** A cursor over [pos, pos+len) of the same bytes, sharing the notes; clipped to this cursor's end. */
  window(len: number): Cursor {
    return new Cursor(this.bytes, this.pos, Math.min(this.end, this.pos + len), this.base, this.notes, this.cutLevel);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Offset of the current position relative to the LISP message start. */
  get offset(): number {
    return this.pos - this.base;
  }

  /** Records an error note (the bytes are not what they claim). */
  note(message: string, at = this.pos, level: NoteLevel = 'error'): void {
    this.notes.push({ offset: at - this.base, message, level });
  }

  /** Records a warning: the field decodes but deviates from the RFCs. */
  warn(message: string, at = this.pos): void {
    this.note(message, at, 'warning');
  }

  /** True when n more bytes can be read; otherwise records a truncation note naming `what`. */
  need(n: number, what: string): boolean {
    if (this.end - this.pos >= n) return true;
    this.note(`truncated ${what}: needs ${n} bytes, ${Math.max(0, this.end - this.pos)} left`, this.pos, this.cutLevel);
    return false;
  }

  /**
   * The unchecked reads below trust a `need` before them. One that was missed reads zeros past the
   * end: it says so in an error note (a decoder's bug, which the fuzzer and the robustness tests
   * look for), and the position stays at the end.
   */
  private overrun(n: number): number {
    const p = this.pos;
    if (p + n <= this.end) {
      this.pos = p + n;
      return p;
    }
    this.note(`${OVERRUN}: ${n} bytes with ${Math.max(0, this.end - p)} left`, p);
    this.pos = this.end;
    return -1;
  }

  u8(): number {
    const p = this.overrun(1);
    return p < 0 ? 0 : this.bytes[p]!;
  }

  u16(): number {
    const p = this.overrun(2);
    if (p < 0) return 0;
    const b = this.bytes;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u24(): number {
    const p = this.overrun(3);
    if (p < 0) return 0;
    const b = this.bytes;
    return (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  }

  u32(): number {
    const p = this.overrun(4);
    if (p < 0) return 0;
    const b = this.bytes;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  u64(): bigint {
    const hi = this.u32();
    const lo = this.u32();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** A copy, so decoded values never alias a reader buffer that will be reused. */
  take(n: number): Uint8Array {
    const p = this.overrun(n);
    return p < 0 ? new Uint8Array(n) : copyBytes(this.bytes, p, p + n);
  }

  skip(n: number): void {
    this.overrun(n);
  }

  /** Everything left, as a copy. */
  rest(): Uint8Array {
    return this.take(this.end - this.pos);
  }
}

/** Growable big-endian writer used by every encoder. */
export class Writer {
  private buf: Uint8Array;
  len = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u16(v: number): this {
    this.room(2);
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u24(v: number): this {
    this.room(3);
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u32(v: number): this {
    this.room(4);
    this.buf[this.len++] = (v >>> 24) & 0xff;
    this.buf[this.len++] = (v >>> 16) & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
    return this;
  }

  u64(v: bigint): this {
    const x = BigInt.asUintN(64, v);
    this.u32(Number(x >> 32n));
    return this.u32(Number(x & 0xffffffffn));
  }

  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  /** Overwrite a 16-bit value already written (lengths known only after the body). */
  patch16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
