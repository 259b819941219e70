// A live capture from start to end, as `sniff` runs one: every frame also written to the -w file
// (flushed each second, so that a reader of the file sees it grow), a stop after --duration, the
// capture held back while a consumer downstream is congested (its frames wait in the capture's
// bounded queue, which drops and counts), and the signals: the first SIGINT or SIGTERM stops and
// finishes normally; a second one, when finishing waits on output nobody reads, closes the file
// and leaves at once.

import type { LiveCapture, LiveSink } from './live.js';
import { CaptureFileRing, type CaptureRingOptions } from './ring.js';
import type { Frame } from './types.js';

/** The -w file of a capture: its link type, snaplen and clock, and libpcap's counters for pcapng's statistics. */
export function captureFileFor(capture: LiveCapture, path: string, ring?: CaptureRingOptions['ring']): CaptureFileRing {
  const statistics = () => {
    const s = capture.stats();
    if (s.kernelReceived === undefined || s.kernelDrops === undefined) return undefined;
    return { received: s.kernelReceived, kernelDrops: s.kernelDrops, interfaceDrops: s.interfaceDrops ?? 0 };
  };
  return new CaptureFileRing(path, { linkType: capture.linkType, snaplen: capture.snaplen, nanoseconds: capture.kernelTimes, iface: capture.iface, statistics, ...(ring ? { ring } : {}) });
}

/** Something downstream that can fall behind: the capture holds its frames while it is congested. */
export interface Holder {
  readonly congested: boolean;
  /** Undefined when not congested; else resolves when there is room again (else the holder says so through `session.resume()`). */
  ready?(): Promise<void> | undefined;
}

export interface LiveSessionOptions {
  /** -w: every frame is written here first. */
  file?: CaptureFileRing;
  /** Stop after this many seconds. */
  duration?: number;
  /** Checked after each batch, in order: the first congested one holds the capture. */
  holders?: Holder[];
}

export class LiveSession {
  /** Frames handed over by the capture. */
  frames = 0;
  /** Why the session ended badly: the -w file, the output, an export (the latest said). */
  failure: string | undefined;
  readonly file: CaptureFileRing | undefined;
  private readonly holders: Holder[];
  private readonly timers: NodeJS.Timeout[] = [];
  private waiting = false;
  private signals = 0;
  private closed = false;

  constructor(
    readonly capture: LiveCapture,
    private readonly opts: LiveSessionOptions = {},
  ) {
    this.file = opts.file;
    this.holders = opts.holders ?? [];
  }

  /** Runs `fn` every `ms` while the capture runs. */
  every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  /** Stops the capture: with `drain`, what is queued is still handed over. */
  stop(drain = true): void {
    void this.capture.stop(drain);
  }

  /** Ends the session on an error, dropping what is queued. */
  fail(message: string): void {
    this.failure = message;
    this.stop(false);
  }

  /** A holder has room again: the capture goes on unless another is still congested. */
  resume(): void {
    if (!this.holders.some((h) => h.congested)) this.capture.resume();
  }

  /**
   * Captures into `sink` until the capture stops (the sink says so, --duration, a signal, an
   * error), then stops the timers; `started` runs once the signals are handled, before the first
   * frame. The signals stay handled, and the file open, until close(): finishing the output may
   * wait on a reader that a second signal gives up on.
   */
  async run(sink: LiveSink, started?: () => void): Promise<void> {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    const file = this.file;
    if (file) this.every(1000, () => file.flush());
    const stopAfter = this.opts.duration !== undefined ? setTimeout(() => this.stop(), this.opts.duration * 1000) : undefined;
    started?.();
    this.capture.start({
      frame: (f: Frame) => {
        this.frames++;
        if (file) {
          try {
            file.write(f);
          } catch (e) {
            this.failure = `${file.path}: cannot write: ${(e as Error).message}`;
            return false;
          }
        }
        return sink.frame(f);
      },
      warning: (m) => sink.warning(m),
      batchEnd: () => {
        sink.batchEnd?.();
        this.holdWhileCongested();
      },
    });
    await this.capture.done;
    for (const t of this.timers.splice(0)) clearInterval(t);
    if (stopAfter) clearTimeout(stopAfter);
  }

  /** Closes the -w file and lets the signals go; the error closing it, if any. */
  close(): string | undefined {
    if (this.closed) return undefined;
    this.closed = true;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    try {
      this.file?.close();
    } catch (e) {
      return `${this.file!.path}: cannot write: ${(e as Error).message}`;
    }
    return undefined;
  }

  private holdWhileCongested(): void {
    const h = this.holders.find((x) => x.congested);
    if (!h) return;
    if (!h.ready) {
      this.capture.pause();
      return;
    }
    const ready = h.ready();
    if (!ready || this.waiting) return;
    this.waiting = true;
    this.capture.pause();
    void ready.then(() => {
      this.waiting = false;
      if (!this.holders.some((x) => x !== h && x.congested)) this.capture.resume();
    });
  }

  private readonly onSignal = (): void => {
    if (++this.signals === 1) {
      this.stop();
      return;
    }
    let closed = '';
    try {
      this.file?.close();
      if (this.file) closed = `; ${this.file.path} is complete`;
    } catch (e) {
      closed = `; ${this.file!.path}: ${(e as Error).message}`;
    }
    process.stderr.write(`lispscope: interrupted again: output abandoned${closed}\n`);
    process.exit(130);
  };
}
