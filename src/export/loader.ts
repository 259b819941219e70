// Batches go to the sink one at a time, in order, while the capture goes on being read: the reader
// waits (backpressure) when `maxQueued` batches are waiting. A live capture whose database is
// unreachable keeps batches up to `maxBufferedBytes` and tries again; beyond that it drops the
// oldest and counts their rows.

import { SinkUnavailable, type Sink } from './sink.js';
import { removeBatch, type Batch } from './stage.js';
import { trace } from './trace.js';

export interface LoaderOptions {
  /** The reader waits while this many batches are queued (default 2). */
  maxQueued?: number;
  /**
   * Live: keep batches while the database is unreachable, up to this many bytes, then drop the
   * oldest. Without it an unreachable database is an error at once.
   */
  maxBufferedBytes?: number;
  /** First retry after this many ms, doubling up to 8 s (default 500). */
  retryMs?: number;
  /** Told once when the database becomes unreachable and again when it is back. */
  onState?: (message: string) => void;
  /** After each batch loaded (a paused live capture may go on). */
  onLoaded?: () => void;
}

export class Loader {
  private readonly queue: Batch[] = [];
  private running = false;
  private queuedBytes = 0;
  private waiters: (() => void)[] = [];
  private drainers: (() => void)[] = [];
  private retryTimer: NodeJS.Timeout | undefined;
  /** Batches wait until the sink is ready for them (see `after`). */
  private held = false;
  private retryDelay: number;
  private unreachable = false;
  /** The first error that ends the export. */
  error: Error | undefined;
  /** Rows dropped because the database could not take them in time (live). */
  droppedRows = 0;
  loadedRows = 0;

  constructor(
    private readonly sink: Sink,
    private readonly opts: LoaderOptions = {},
  ) {
    this.retryDelay = opts.retryMs ?? 500;
  }

  /**
   * Loads nothing until `ready` resolves (the sink opened, an input's earlier rows deleted): the
   * capture is read meanwhile. If it rejects, that is the export's error.
   */
  after(ready: Promise<void>): void {
    this.held = true;
    ready.then(
      () => {
        this.held = false;
        this.kick();
      },
      (e: Error) => {
        this.held = false;
        this.fail(e);
      },
    );
  }

  get queued(): number {
    return this.queue.length;
  }

  push(b: Batch): void {
    if (this.error) {
      removeBatch(b);
      return;
    }
    this.queue.push(b);
    this.queuedBytes += b.bytes;
    trace('push', `${describe(b)} q${this.queue.length}`);
    const max = this.opts.maxBufferedBytes;
    // Only while the database is away do batches pile up: the oldest go first.
    while (max !== undefined && this.unreachable && this.queuedBytes > max && this.queue.length > 1) {
      const old = this.queue.shift()!;
      this.queuedBytes -= old.bytes;
      this.droppedRows += old.rows;
      removeBatch(old);
    }
    this.kick();
  }

  /** For readCapture's `pause`: a promise while too many batches wait. */
  pause(): Promise<void> | undefined {
    if (this.error || this.queue.length < (this.opts.maxQueued ?? 2)) return undefined;
    trace('pause');
    return new Promise((resolve) => this.waiters.push(() => (trace('resume'), resolve())));
  }

  /** Whether a live capture should stop reading for now (the queue is full and the database is there). */
  get congested(): boolean {
    return !this.unreachable && !this.error && this.queue.length >= (this.opts.maxQueued ?? 2);
  }

  /** Resolves when every batch pushed so far is loaded (or dropped); throws the export's error. */
  async drained(): Promise<void> {
    if (this.queue.length || this.running) await new Promise<void>((resolve) => this.drainers.push(resolve));
    if (this.error) throw this.error;
  }

  /** Stops retrying: what is still queued is dropped and counted (live, at the end). */
  abandon(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const b of this.queue.splice(0)) {
      this.droppedRows += b.rows;
      removeBatch(b);
    }
    this.queuedBytes = 0;
    this.settle();
  }

  private kick(): void {
    if (this.running || this.held || this.retryTimer || this.queue.length === 0 || this.error) return;
    this.running = true;
    const b = this.queue[0]!;
    trace('load', describe(b));
    this.sink.load(b).then(
      () => {
        trace('loaded', describe(b));
        this.queue.shift();
        this.queuedBytes -= b.bytes;
        this.loadedRows += b.rows;
        this.running = false;
        if (this.unreachable) {
          this.unreachable = false;
          this.opts.onState?.(`${this.sink.label}: reachable again`);
        }
        this.retryDelay = this.opts.retryMs ?? 500;
        this.next();
        this.opts.onLoaded?.();
      },
      (e: Error) => {
        this.running = false;
        if (e instanceof SinkUnavailable && this.opts.maxBufferedBytes !== undefined) {
          if (!this.unreachable) this.opts.onState?.(`${e.message}; keeping up to ${Math.round(this.opts.maxBufferedBytes / 2 ** 20)} MiB of rows and retrying`);
          this.unreachable = true;
          // Readers waiting on a full queue go on: rows now wait (within the bound) or are dropped.
          this.release();
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.kick();
          }, this.retryDelay);
          this.retryTimer.unref?.();
          this.retryDelay = Math.min(this.retryDelay * 2, 8000);
          return;
        }
        this.fail(e);
      },
    );
  }

  /** The export's error: what is queued goes. */
  private fail(e: Error): void {
    this.error = e;
    for (const q of this.queue.splice(0)) removeBatch(q);
    this.queuedBytes = 0;
    this.settle();
  }

  private next(): void {
    this.release();
    if (this.queue.length) this.kick();
    else this.settle();
  }

  private release(): void {
    if (this.queue.length >= (this.opts.maxQueued ?? 2) && !this.unreachable) return;
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
  }

  private settle(): void {
    this.release();
    const w = this.waiters;
    this.waiters = [];
    for (const r of w) r();
    if (this.queue.length === 0 || this.error) {
      const d = this.drainers;
      this.drainers = [];
      for (const r of d) r();
    }
  }
}

/** A batch in the trace: its table, rows and kinds of rows. */
function describe(b: Batch): string {
  const kinds = [b.path && 'json', b.plain && 'plain', b.control && 'control'].filter(Boolean).join('+');
  return `${b.table} ${b.rows} ${kinds}`;
}
