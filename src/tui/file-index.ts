// A capture file indexed for random access: one entry per frame in typed arrays (where its bytes
// are, its time and length: 16 bytes a frame, nothing decoded; wire lengths, link types and frame
// numbers only for the captures that do not imply them), filled in the background chunk by chunk
// so the first screen never waits for the whole file. A frame is read back by offset and decoded
// only when it is shown. Gzipped captures cannot be read at an offset: their frames are copied to
// a spool file in the temp directory as they are indexed (removed when the index closes), so
// memory stays as small as for a plain file. An observer sees every frame as it is indexed
// (frame-context.ts learns there what decoding a frame depends on).

import { closeSync, createReadStream, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { CaptureParser } from '../capture/reader.js';
import { CaptureError, type Frame } from '../capture/types.js';
import { NumberColumn } from './number-column.js';

const CHUNK = 1024 * 1024;
/** Milliseconds of indexing between two yields to the event loop (the UI, the analysis). */
const TURN_MS = 30;
/** Bytes read ahead when a frame is read back. */
const WINDOW = 256 * 1024;
/**
 * Frames read back are copied into slabs of this size: a typed array of its own per frame costs
 * an external allocation and its tracking by the GC (a tenth of a scan's time); a slab is kept
 * alive by the frames still held, so it stays small.
 */
const SLAB = 16 * 1024;

function describe(path: string, e: unknown): CaptureError {
  if (e instanceof CaptureError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new CaptureError(`${path}: no such file`);
  if (code === 'EACCES' || code === 'EPERM') return new CaptureError(`${path}: permission denied`);
  if (code === 'EISDIR') return new CaptureError(`${path}: is a directory`);
  return new CaptureError(`${path}: cannot read: ${(e as Error).message ?? String(e)}`);
}

/** Append-only copies of frame bytes (for gzipped captures). */
class Spool {
  readonly dir: string;
  readonly fd: number;
  size = 0;
  private buf = new Uint8Array(CHUNK);
  private used = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'lispscope-tui-'));
    this.fd = openSync(join(this.dir, 'frames'), 'w+');
  }

  /** Appends; returns the offset. */
  add(data: Uint8Array): number {
    const at = this.size;
    if (this.used + data.length > this.buf.length) this.flush();
    if (data.length > this.buf.length) writeSync(this.fd, data, 0, data.length, at);
    else {
      this.buf.set(data, this.used);
      this.used += data.length;
    }
    this.size += data.length;
    return at;
  }

  flush(): void {
    if (this.used === 0) return;
    writeSync(this.fd, this.buf, 0, this.used, this.size - this.used);
    this.used = 0;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export class FileIndex {
  /** Frames indexed so far. */
  count = 0;
  done = false;
  /** Capture bytes consumed so far, and the file's size (compressed bytes read for gzip). */
  bytesRead = 0;
  size = 0;
  gzipped = false;
  private cap = 0;
  /** File (or spool) offsets, and capture times' whole seconds. */
  private readonly off = new NumberColumn();
  private readonly sec = new NumberColumn();
  private nsec = new Uint32Array(0);
  private caplen = new Uint32Array(0);
  /**
   * Columns that nearly every capture leaves implied, kept only from the first frame that differs:
   * wire lengths (the captured length unless a snap length cut the frame), link types (one per
   * file, but pcapng's interfaces may differ), frame numbers as `read` numbers them (entry + 1,
   * but pcapng counts some blocks that are not packets).
   */
  private wire: Uint32Array | undefined;
  private link: Uint16Array | undefined;
  private firstLink = -1;
  private num: Uint32Array | undefined;
  private fd: number | undefined;
  private spool: Spool | undefined;
  private closed = false;
  /** File bytes read ahead for `frame`: [windowAt, windowAt + windowLen). */
  private readonly window = new Uint8Array(WINDOW);
  private windowAt = 0;
  private windowLen = 0;
  private slab = new Uint8Array(0);
  private slabUsed = 0;

  constructor(
    readonly path: string,
    private readonly warning: (message: string) => void = () => undefined,
    /** Sees every frame (0-based number, bytes valid during the call) as it is indexed, in file order. */
    private readonly observe?: (i: number, f: Frame) => void,
  ) {}

  /** Room for `cap` entries (doubling while the file is read; down to the count once it is indexed). */
  private grow(cap = Math.max(4096, this.cap * 2)): void {
    const g = <T extends Uint32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, this.count));
      return b;
    };
    this.off.grow(cap, this.count);
    this.sec.grow(cap, this.count);
    this.nsec = g(this.nsec, (n) => new Uint32Array(n));
    this.caplen = g(this.caplen, (n) => new Uint32Array(n));
    if (this.wire) this.wire = g(this.wire, (n) => new Uint32Array(n));
    if (this.link) this.link = g(this.link, (n) => new Uint16Array(n));
    if (this.num) this.num = g(this.num, (n) => new Uint32Array(n));
    this.cap = cap;
  }

  private add(offset: number, f: Frame): void {
    if (this.count === this.cap) this.grow();
    const i = this.count++;
    this.off.set(i, offset, i);
    this.sec.set(i, f.tsSec, i);
    this.nsec[i] = f.tsNsec;
    this.caplen[i] = f.data.length;
    if (this.firstLink < 0) this.firstLink = f.linkType;
    if (this.wire) this.wire[i] = f.len;
    else if (f.len !== f.data.length) {
      this.wire = new Uint32Array(this.cap);
      this.wire.set(this.caplen.subarray(0, i));
      this.wire[i] = f.len;
    }
    if (this.link) this.link[i] = f.linkType;
    else if (f.linkType !== this.firstLink) {
      this.link = new Uint16Array(this.cap).fill(this.firstLink, 0, i);
      this.link[i] = f.linkType;
    }
    if (this.num) this.num[i] = f.index;
    else if (f.index !== i + 1) {
      this.num = new Uint32Array(this.cap);
      for (let k = 0; k < i; k++) this.num[k] = k + 1;
      this.num[i] = f.index;
    }
    this.observe?.(i, f);
  }

  /** Capture time of frame `i` (0-based). */
  ts(i: number): number {
    return this.sec.get(i) + this.nsec[i]! / 1e9;
  }

  /** The frame number of entry `i` (0-based), as `read` and `flows` name it. */
  frameNumber(i: number): number {
    return this.num ? this.num[i]! : i + 1;
  }

  /** The entry (0-based) of frame number `n`, or -1 when it is not indexed (yet). */
  entryOf(n: number): number {
    const num = this.num;
    if (!num) return n >= 1 && n <= this.count ? n - 1 : -1;
    if (n >= 1 && n <= this.count && num[n - 1] === n) return n - 1;
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (num[mid]! < n) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.count && num[lo] === n ? lo : -1;
  }

  /** Frame `i` (0-based) as the reader gave it, with `data`. */
  private frameAt(i: number, data: Uint8Array): Frame {
    return {
      index: this.frameNumber(i),
      tsSec: this.sec.get(i),
      tsNsec: this.nsec[i]!,
      linkType: this.link ? this.link[i]! : this.firstLink,
      len: this.wire ? this.wire[i]! : this.caplen[i]!,
      data,
      interfaceId: 0,
    };
  }

  /** Reads frame `i` (0-based) back: a fresh Frame whose bytes the caller may keep. */
  frame(i: number): Frame | undefined {
    return this.read(i, true);
  }

  /** `frame`, its bytes valid only until the next read (a scan that looks at each frame once). */
  peek(i: number): Frame | undefined {
    return this.read(i, false);
  }

  private read(i: number, keep: boolean): Frame | undefined {
    if (i < 0 || i >= this.count || this.closed) return undefined;
    const fd = this.spool ? this.spool.fd : this.fd;
    if (fd === undefined) return undefined;
    const at = this.off.get(i);
    const len = this.caplen[i]!;
    // A scan (the packet filter) reads frame after frame: one read brings the next many.
    if (at < this.windowAt || at + len > this.windowAt + this.windowLen) {
      if (len > WINDOW) return this.readFrame(fd, i, new Uint8Array(len));
      this.spool?.flush();
      this.windowAt = at;
      this.windowLen = 0;
      for (let n = 1; n > 0 && this.windowLen < len; this.windowLen += n) {
        n = readSync(fd, this.window, this.windowLen, WINDOW - this.windowLen, at + this.windowLen);
      }
      if (this.windowLen < len) return undefined;
    }
    const bytes = this.window.subarray(at - this.windowAt, at - this.windowAt + len);
    return this.frameAt(i, keep ? this.copy(bytes) : bytes);
  }

  /** A copy of `bytes` that no later read touches. */
  private copy(bytes: Uint8Array): Uint8Array {
    if (bytes.length > SLAB / 4) return bytes.slice();
    if (this.slabUsed + bytes.length > this.slab.length) {
      this.slab = new Uint8Array(SLAB);
      this.slabUsed = 0;
    }
    const out = this.slab.subarray(this.slabUsed, this.slabUsed + bytes.length);
    out.set(bytes);
    this.slabUsed += bytes.length;
    return out;
  }

  private readFrame(fd: number, i: number, data: Uint8Array): Frame | undefined {
    let got = 0;
    while (got < data.length) {
      const n = readSync(fd, data, got, data.length - got, this.off.get(i) + got);
      if (n === 0) return undefined;
      got += n;
    }
    return this.frameAt(i, data);
  }

  /**
   * Indexes the whole file, yielding to the event loop after every chunk. Throws CaptureError when
   * the file cannot be opened or is not a capture (found in the first chunk); damage found later
   * is a warning and ends the index there.
   */
  async build(onChunk: () => void, signal?: AbortSignal): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(this.path, 'r');
      this.size = (await fh.stat()).size;
    } catch (e) {
      throw describe(this.path, e);
    }
    let chunk = new Uint8Array(0);
    const sink = {
      frame: (f: Frame) => {
        if (this.spool) {
          this.add(this.spool.add(f.data), f);
          return;
        }
        // The frame is a view into the chunk just pushed, or into the parser's stash (a record
        // that straddled two chunks), whose index 0 is at file offset `parser.base`.
        const rel = f.data.buffer === chunk.buffer ? f.data.byteOffset - chunk.byteOffset : f.data.byteOffset;
        this.add(parser.base + rel, f);
      },
      warning: (m: string) => this.warning(m),
    };
    const parser = new CaptureParser(sink, { name: this.path });
    try {
      const head = new Uint8Array(2);
      const { bytesRead } = await fh.read(head, 0, 2, 0);
      this.gzipped = bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
      if (this.gzipped) {
        await fh.close();
        this.spool = new Spool();
        await this.gunzip(parser, onChunk, signal);
      } else {
        const fd = (this.fd = openSync(this.path, 'r'));
        const buf = Buffer.allocUnsafe(CHUNK);
        let pos = 0;
        // The index gets a turn of TURN_MS (the first chunk alone: the first screen waits for it)
        // between the analysis's chunks: chunk for chunk, the index would finish only with the
        // analysis (a chunk costs it a twentieth of what it costs the flow engine).
        let turn = -Infinity;
        for (;;) {
          if (signal?.aborted || this.closed) break;
          if (performance.now() - turn > TURN_MS) {
            await new Promise<void>((r) => setImmediate(r));
            if (signal?.aborted || this.closed) break;
            turn = pos ? performance.now() : -Infinity;
          }
          const n = readSync(fd, buf, 0, CHUNK, pos);
          if (n === 0) break;
          pos += n;
          chunk = new Uint8Array(buf.buffer, buf.byteOffset, n);
          parser.push(chunk);
          this.bytesRead = pos;
          onChunk();
          if (parser.stopped) break;
        }
        if (pos === 0) throw new CaptureError(`${this.path}: empty file`);
        await fh.close();
      }
      if (!signal?.aborted && !this.closed) parser.end();
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw describe(this.path, e);
    } finally {
      if (this.cap > this.count) this.grow(this.count);
      this.done = true;
      onChunk();
    }
  }

  private async gunzip(parser: CaptureParser, onChunk: () => void, signal?: AbortSignal): Promise<void> {
    const input = createReadStream(this.path, { highWaterMark: CHUNK });
    const gz = createGunzip({ chunkSize: 256 * 1024 });
    input.on('data', (c) => (this.bytesRead += c.length));
    input.pipe(gz);
    try {
      for await (const out of gz) {
        if (signal?.aborted || this.closed) break;
        parser.push(out as Uint8Array);
        this.spool!.flush();
        onChunk();
        if (parser.stopped) break;
      }
    } catch (e) {
      if (e instanceof CaptureError) throw e;
      if (parser.bytes === 0) throw new CaptureError(`${this.path}: damaged gzip data: ${(e as Error).message}`);
      this.warning(`${this.path}: gzip stream is cut short or corrupt after ${parser.bytes} bytes decompressed: ${(e as Error).message}`);
    } finally {
      input.destroy();
      gz.destroy();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.spool?.close();
  }
}
