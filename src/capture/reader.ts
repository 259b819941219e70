// Push parser for capture files: bytes arrive in chunks of any size (file reads, gunzip output,
// stdin), frames leave through a FrameSink. Memory is bounded by the largest single record: only a
// record that straddles a chunk boundary is copied (into the "stash"), never the file.

import { CaptureError, type FrameSink } from './types.js';
import { MAX_RECORD_BYTES, PcapDecoder, pcapMagicKind } from './pcap.js';
import { PcapngDecoder, PCAPNG_SHB_TYPE_BYTES } from './pcapng.js';

export type CaptureFormat = 'pcap' | 'pcapng';

/** Shared state a format decoder reports through. */
export interface DecodeContext {
  readonly sink: FrameSink;
  /** Prefix of every warning and error (the file name). */
  readonly name: string;
  /** File offset of index 0 of the buffer being decoded: a record at `off` starts at `base + off`. */
  base: number;
  /** Frames handed to the sink so far. */
  delivered: number;
  /** Set by `stop()`: no further callbacks. */
  readonly stopped: boolean;
  stop(): void;
}

/**
 * A format decoder consumes whole units (file header, record, block) and never looks past `end`.
 * When it cannot make progress it returns and sets `need` to the byte count, counted from the
 * returned offset, that it must see at once; given that many it always makes progress.
 */
export interface FormatDecoder {
  readonly format: CaptureFormat;
  need: number;
  decode(buf: Uint8Array, off: number, end: number): number;
  /** Names the partly received unit, for the truncation warning ("record", "block", ...). */
  pendingUnit(): string;
  /** Packets the file says the capturing tool lost (pcapng Interface Statistics Blocks). */
  readonly drops?: number;
}

// Every magic we recognise, as it appears on disk: a file shorter than a magic is judged by its prefix.
const MAGICS: readonly (readonly number[])[] = [
  [0xd4, 0xc3, 0xb2, 0xa1],
  [0xa1, 0xb2, 0xc3, 0xd4],
  [0x4d, 0x3c, 0xb2, 0xa1],
  [0xa1, 0xb2, 0x3c, 0x4d],
  [0x34, 0xcd, 0xb2, 0xa1],
  [0xa1, 0xb2, 0xcd, 0x34],
  PCAPNG_SHB_TYPE_BYTES,
];

function isMagicPrefix(buf: Uint8Array, off: number, n: number): boolean {
  return MAGICS.some((m) => {
    for (let i = 0; i < n; i++) if (buf[off + i] !== m[i]) return false;
    return true;
  });
}

/** Bytes looked at before deciding: the magic plus a few more for the error message. */
const DETECT_BYTES = 8;

function notCapture(name: string, buf: Uint8Array, off: number, end: number): CaptureError {
  if (buf[off] === 0x1f && end - off >= 2 && buf[off + 1] === 0x8b) {
    return new CaptureError(`${name}: gzip-compressed data (decompress it first)`);
  }
  // Its bytes are not shown: the file may be anything (a password file), and the magic says enough.
  return new CaptureError(
    `${name}: not a capture file: expected pcap (magic a1b2c3d4 or a1b23c4d, either byte order) or pcapng (0a0d0d0a), found neither in its first 4 bytes`,
  );
}

/** The warning for a capture that ends inside a unit (`have` of its bytes, from file offset `at`). */
export function truncatedText(name: string, dec: FormatDecoder, at: number, have: number): string {
  return `${name}: truncated: capture ends inside a ${dec.pendingUnit()} at byte offset ${at} (${have} of ${dec.need} bytes present)`;
}

/** Whether the bytes at `off` start with a magic we read (pcap in either byte order, pcapng). */
export function isCaptureMagic(buf: Uint8Array, off: number): boolean {
  return isMagicPrefix(buf, off, 4);
}

/**
 * Waits for the first bytes, then hands over to the real decoder. Deciding on a fixed count keeps
 * the outcome (and the message) independent of how the input was chunked.
 */
class Detector implements FormatDecoder {
  readonly format = 'pcap' as const; // never reported: CaptureParser.format is undefined while detecting
  need = DETECT_BYTES;
  constructor(private readonly parser: CaptureParser) {}

  decode(buf: Uint8Array, off: number, end: number): number {
    if (end - off < DETECT_BYTES) return off;
    if (!isMagicPrefix(buf, off, 4)) throw notCapture(this.parser.name, buf, off, end);
    this.parser.setDecoder(buf[off] === 0x0a ? new PcapngDecoder(this.parser) : new PcapDecoder(this.parser, pcapMagicKind(buf, off)!));
    return off;
  }

  pendingUnit(): string {
    return 'file header';
  }
}

export interface CaptureParserOptions {
  /** Used as the prefix of warnings and errors, normally the file name. */
  name?: string;
}

/**
 * Push parser for pcap and pcapng, detected from the first bytes.
 *
 * Each Frame handed to `sink.frame` is a fresh object, but `frame.data` is a view into the chunk
 * (or into an internal buffer for records that straddled chunks): it is valid only until the
 * callback returns, and the caller may reuse the chunk once `push` returns.
 *
 * Throws CaptureError only while the format is being detected (not a capture file, empty file);
 * everything found later becomes `sink.warning(...)`, fatal problems also stop the parser.
 */
export class CaptureParser implements DecodeContext {
  readonly sink: FrameSink;
  readonly name: string;
  base = 0;
  delivered = 0;
  private dec: FormatDecoder;
  private _stopped = false;
  private ended = false;
  /** File offset of the first byte not yet consumed by a decoder. */
  private consumed = 0;
  private stash = new Uint8Array(0);
  private stashLen = 0;

  constructor(sink: FrameSink, opts: CaptureParserOptions = {}) {
    this.sink = sink;
    this.name = opts.name ?? 'capture';
    this.dec = new Detector(this);
  }

  get format(): CaptureFormat | undefined {
    return this.dec instanceof Detector ? undefined : this.dec.format;
  }

  get stopped(): boolean {
    return this._stopped;
  }

  /** Frames delivered to the sink. */
  get frames(): number {
    return this.delivered;
  }

  /** Packets the capturing tool said it lost, when the format can say (pcapng ISBs); else undefined. */
  get drops(): number | undefined {
    return this.dec instanceof Detector ? undefined : this.dec.drops;
  }

  /** Bytes received so far (the capture's own bytes, after any decompression). */
  get bytes(): number {
    return this.consumed + this.stashLen;
  }

  stop(): void {
    this._stopped = true;
  }

  /** @internal called by the detector once the magic is known. */
  setDecoder(dec: FormatDecoder): void {
    this.dec = dec;
  }

  push(input: Uint8Array): void {
    if (this._stopped || this.ended) return;
    // Frames are views into the chunk: plain Uint8Array views, never Buffers, whose `slice` would
    // alias instead of copy and whose `subarray` is slower.
    const chunk = input.constructor === Uint8Array ? input : new Uint8Array(input.buffer, input.byteOffset, input.length);
    const n = chunk.length;
    let c = 0;
    try {
      while (this.stashLen > 0) {
        const need = this.dec.need;
        if (this.stashLen < need) {
          const take = Math.min(need - this.stashLen, n - c);
          // Grow with the data actually received, not the length a (possibly corrupt) header claims.
          this.reserve(this.stashLen + take);
          this.stash.set(chunk.subarray(c, c + take), this.stashLen);
          this.stashLen += take;
          c += take;
          if (this.stashLen < need) return;
        }
        const used = this.run(this.stash, 0, this.stashLen);
        if (this._stopped) return;
        if (used === this.stashLen) {
          this.stashLen = 0;
          // A single huge record should not pin its buffer for the rest of the file.
          if (this.stash.length > 4 * 1024 * 1024) this.stash = new Uint8Array(0);
        } else if (used > 0) {
          this.stash.copyWithin(0, used, this.stashLen);
          this.stashLen -= used;
        }
      }
      const used = this.run(chunk, c, n);
      if (this._stopped || used === n) return;
      this.reserve(n - used);
      this.stash.set(chunk.subarray(used, n), 0);
      this.stashLen = n - used;
    } catch (e) {
      this._stopped = true;
      throw e;
    }
  }

  /** No more data: reports a record cut short by the end of the file. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this._stopped) return;
    if (this.dec instanceof Detector) {
      if (this.stashLen === 0) {
        this._stopped = true;
        throw new CaptureError(`${this.name}: empty file`);
      }
      if (!isMagicPrefix(this.stash, 0, Math.min(4, this.stashLen))) {
        this._stopped = true;
        throw notCapture(this.name, this.stash, 0, this.stashLen);
      }
      this._stopped = true;
      throw new CaptureError(`${this.name}: truncated: the file ends inside its header (${this.stashLen} bytes): no capture to read`);
    }
    if (this.stashLen > 0 && this.consumed === 0) {
      // Not even the file header (pcap) or the first section header (pcapng) is whole: nothing was read.
      this._stopped = true;
      throw new CaptureError(`${this.name}: truncated: the file ends inside its ${this.dec.pendingUnit()} (${this.stashLen} of ${this.dec.need} bytes): no capture to read`);
    }
    if (this.stashLen > 0) this.sink.warning(truncatedText(this.name, this.dec, this.consumed, this.stashLen));
  }

  private run(buf: Uint8Array, off: number, end: number): number {
    let pos = off;
    for (;;) {
      const d = this.dec;
      this.base = this.consumed - pos;
      const r = d.decode(buf, pos, end);
      this.consumed += r - pos;
      pos = r;
      if (this.dec === d || this._stopped) return pos;
    }
  }

  private reserve(n: number): void {
    if (this.stash.length >= n) return;
    const next = new Uint8Array(Math.max(n, Math.min(this.stash.length * 2, MAX_RECORD_BYTES + 65536)));
    next.set(this.stash.subarray(0, this.stashLen));
    this.stash = next;
  }
}
