// Where every command writes: stdout and stderr through one ordered queue of bytes, written without
// blocking the event loop, and bounded. A producer that can wait (a file being decoded)
// awaits `ready()` when the queue is full, so a slow reader holds the reading back instead of
// filling memory; one that cannot wait (a live capture) looks at `congested` and sheds load
// itself (sniff pauses its capture queue, which drops and counts). Warnings take the same queue,
// so on a terminal they appear where they happened among the lines, not ahead of them.

import { fstatSync, write as fsWrite } from 'node:fs';
import { isatty } from 'node:tty';
import { OutBuffer } from './out-buffer.js';

/** What commands write through (the CLI's side of this module). */
export interface Io {
  stdout: { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** Buffered stdout, for writers that produce bytes directly. */
  buffer: OutBuffer;
  /** Text as is (help). */
  out(text: string): void;
  /** One line of output, buffered. */
  line(s: string): void;
  /**
   * Bytes produced elsewhere (a decoding worker), queued after everything before them; `written`
   * once they have left (or were dropped by a write error), when their memory can serve again.
   */
  bytes(b: Uint8Array, written?: () => void): void;
  /** `lispscope: warning: MESSAGE` on stderr. */
  warn(message: string): void;
  /** `lispscope: MESSAGE` on stderr. */
  error(message: string): void;
  /** Text as is on stderr (progress, summaries), in order with the rest. */
  err(text: string): void;
  /** Hands what the buffer holds to the queue. */
  flush(): void;
  /** The queue holds its limit or more: a producer should stop until `ready()` resolves. */
  readonly congested: boolean;
  /** Undefined while there is room; else a promise that resolves when the queue has drained to half. */
  ready(): Promise<void> | undefined;
  /** Flushes and resolves once everything queued so far was written (or writing failed). */
  idle(): Promise<void>;
  /** Replaces what happens when writing fails (by default: the process ends, quietly on EPIPE). */
  onError(handler: (e: NodeJS.ErrnoException) => void): void;
}

/** Where the queue's bytes go: fd 1 or 2; `done` once written (an error ends all writing). */
export interface ByteWriter {
  write(fd: 1 | 2, bytes: Uint8Array, done: (err?: NodeJS.ErrnoException | null) => void): void;
}

/**
 * Writes without ever blocking the event loop. Pipes and sockets go through Node's stream for the
 * descriptor, which waits for room with epoll: no thread is ever stuck in a write, so the process
 * can always exit. Terminals and files go through the thread pool: a slow terminal holds a pool
 * thread, not the capture. A descriptor someone made non-blocking answers EAGAIN there: it then
 * goes through the stream too.
 */
export class FdWriter implements ByteWriter {
  private readonly viaStream = new Map<number, boolean>();

  write(fd: 1 | 2, bytes: Uint8Array, done: (err?: NodeJS.ErrnoException | null) => void): void {
    if (this.streamed(fd)) {
      (fd === 1 ? process.stdout : process.stderr).write(bytes, (e) => done(e as NodeJS.ErrnoException | null | undefined));
      return;
    }
    const from = (off: number): void => {
      fsWrite(fd, bytes, off, bytes.length - off, null, (err, n) => {
        if (err?.code === 'EAGAIN') {
          this.useStream(fd);
          this.write(fd, bytes.subarray(off), done);
          return;
        }
        if (err) return done(err);
        if (off + n < bytes.length) from(off + n);
        else done();
      });
    };
    from(0);
  }

  private streamed(fd: 1 | 2): boolean {
    let v = this.viaStream.get(fd);
    if (v === undefined) {
      try {
        const st = fstatSync(fd);
        v = st.isFIFO() || st.isSocket();
      } catch {
        v = false;
      }
      if (v) this.useStream(fd);
      else this.viaStream.set(fd, false);
    }
    return v;
  }

  private useStream(fd: 1 | 2): void {
    this.viaStream.set(fd, true);
    // Errors (EPIPE) reach the write's callback; the stream's own event must not end the process.
    (fd === 1 ? process.stdout : process.stderr).on('error', () => {});
  }
}

export interface OutputOptions {
  writer?: ByteWriter;
  /** Bytes queued at most before `congested` (default 8 MiB). */
  limit?: number;
  /** Size of the line buffer (default 1 MiB). */
  bufferSize?: number;
  stdout?: { isTTY?: boolean };
  env?: NodeJS.ProcessEnv;
  /**
   * Writing failed (EPIPE: the reader went away): nothing more is written. Default: end the
   * process, quietly (0) for EPIPE as `| head` expects, else with the error on stderr (2).
   */
  onError?: (e: NodeJS.ErrnoException) => void;
}

interface Piece {
  fd: 1 | 2;
  bytes: Uint8Array;
  written?: (() => void) | undefined;
}

const encoder = new TextEncoder();
/** Pieces below this size are joined with their neighbours into one write. */
const SMALL = 64 * 1024;

export class Output implements Io {
  readonly stdout: { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  readonly buffer: OutBuffer;
  /** Times a producer found the queue full and waited for it to drain. */
  waits = 0;
  /** The most bytes ever queued at once. */
  peak = 0;
  /** Set when writing failed; nothing more is written. */
  failed: NodeJS.ErrnoException | undefined;
  private readonly writer: ByteWriter;
  private readonly limit: number;
  private errorHandler: (e: NodeJS.ErrnoException) => void;
  private queue: (Piece | undefined)[] = [];
  private qHead = 0;
  private pending = 0;
  private writing = false;
  private drained: (() => void)[] = [];
  private idlers: (() => void)[] = [];
  private spare: Uint8Array[] = [];

  constructor(opts: OutputOptions = {}) {
    this.writer = opts.writer ?? new FdWriter();
    this.limit = opts.limit ?? 8 * 1024 * 1024;
    this.stdout = opts.stdout ?? { isTTY: false };
    this.env = opts.env ?? {};
    this.errorHandler = opts.onError ?? defaultOnError;
    const size = opts.bufferSize ?? 1 << 20;
    // The queue owns a flushed buffer until it is written; the line buffer continues in a spare one.
    this.buffer = new OutBuffer(
      (b) => {
        this.enqueue(1, b);
        return false;
      },
      size,
      () => this.spare.pop(),
    );
  }

  get congested(): boolean {
    return this.pending >= this.limit;
  }

  /** Bytes queued and not yet written. */
  get queued(): number {
    return this.pending;
  }

  out(text: string): void {
    this.buffer.text(text);
  }

  line(s: string): void {
    this.buffer.text(s);
    this.buffer.ensure(1);
    this.buffer.byte(10);
  }

  bytes(b: Uint8Array, written?: () => void): void {
    this.buffer.flush();
    this.enqueue(1, b, written);
  }

  warn(message: string): void {
    this.err(`lispscope: warning: ${message}\n`);
  }

  error(message: string): void {
    this.err(`lispscope: ${message}\n`);
  }

  err(text: string): void {
    this.buffer.flush();
    this.enqueue(2, encoder.encode(text));
  }

  flush(): void {
    this.buffer.flush();
  }

  ready(): Promise<void> | undefined {
    if (!this.congested || this.failed) return undefined;
    this.waits++;
    return new Promise((resolve) => this.drained.push(resolve));
  }

  idle(): Promise<void> {
    this.buffer.flush();
    if (this.pending === 0 || this.failed) return Promise.resolve();
    return new Promise((resolve) => this.idlers.push(resolve));
  }

  private enqueue(fd: 1 | 2, bytes: Uint8Array, written?: () => void): void {
    if (this.failed || bytes.length === 0) return;
    this.queue.push({ fd, bytes, written });
    this.pending += bytes.length;
    if (this.pending > this.peak) this.peak = this.pending;
    this.kick();
  }

  private kick(): void {
    if (this.writing || this.qHead === this.queue.length) return;
    this.writing = true;
    // Small neighbours for the same descriptor (lines flushed one by one, warnings) leave in one write.
    const first = this.take();
    let bytes = first.bytes;
    let n = 1;
    let total = bytes.length;
    while (total < SMALL && this.qHead + n - 1 < this.queue.length) {
      const next = this.queue[this.qHead + n - 1]!;
      if (next.fd !== first.fd || next.bytes.length >= SMALL) break;
      total += next.bytes.length;
      n++;
    }
    if (n > 1) {
      const parts = [first];
      for (let k = 1; k < n; k++) parts.push(this.take());
      bytes = new Uint8Array(total);
      let at = 0;
      for (const p of parts) {
        bytes.set(p.bytes, at);
        at += p.bytes.length;
        this.release(p);
      }
    }
    if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.qHead);
      this.qHead = 0;
    }
    this.writer.write(first.fd, bytes, (err) => {
      this.writing = false;
      if (err) return this.fail(err);
      this.pending -= total;
      if (n === 1) this.release(first);
      if (this.pending <= this.limit / 2) this.settle(this.drained);
      if (this.qHead < this.queue.length) this.kick();
      else this.settle(this.idlers);
    });
  }

  /** The oldest piece, no longer held by the queue. */
  private take(): Piece {
    const p = this.queue[this.qHead]!;
    this.queue[this.qHead++] = undefined;
    return p;
  }

  /** A piece written out: its owner hears of it, or a whole line buffer serves again. */
  private release(p: Piece): void {
    if (p.written) return p.written();
    const b = p.bytes;
    if (b.byteOffset === 0 && b.buffer.byteLength === this.buffer.capacity && this.spare.length < 4 && b.buffer instanceof ArrayBuffer) {
      this.spare.push(new Uint8Array(b.buffer));
    }
  }

  private fail(err: NodeJS.ErrnoException): void {
    this.failed = err;
    this.queue = [];
    this.qHead = 0;
    this.pending = 0;
    this.settle(this.drained);
    this.settle(this.idlers);
    this.errorHandler(err);
  }

  onError(handler: (e: NodeJS.ErrnoException) => void): void {
    this.errorHandler = handler;
  }

  private settle(list: (() => void)[]): void {
    if (list.length === 0) return;
    const fns = list.splice(0);
    for (const f of fns) f();
  }
}

function defaultOnError(e: NodeJS.ErrnoException): void {
  // A closed pipe (`| head`) ends the output, not the program with a stack trace.
  if (e.code === 'EPIPE') process.exit(0);
  process.stderr.write(`lispscope: cannot write the output: ${e.message}\n`);
  process.exit(2);
}

/** The process's stdout and stderr. */
export function processIo(): Output {
  return new Output({ stdout: { isTTY: isatty(1) }, env: process.env });
}

/** Output kept in memory (tests, and callers that want the text): `text()` once `idle()` resolved. */
export function memoryIo(opts: Omit<OutputOptions, 'writer'> = {}): Output & { stdoutText(): string; stderrText(): string } {
  const chunks: Record<1 | 2, Buffer[]> = { 1: [], 2: [] };
  const o = new Output({
    ...opts,
    writer: {
      write(fd, bytes, done) {
        chunks[fd].push(Buffer.from(bytes));
        done();
      },
    },
  }) as Output & { stdoutText(): string; stderrText(): string };
  o.stdoutText = () => {
    o.flush();
    return Buffer.concat(chunks[1]).toString();
  };
  o.stderrText = () => Buffer.concat(chunks[2]).toString();
  return o;
}
