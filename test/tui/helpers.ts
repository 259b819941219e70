// Shared by the UI tests.

import type { Frame } from '../../src/capture/types.js';
import type { Counters, DataSource, SourceStatus } from '../../src/tui/source.js';
import { StreamSource, type StreamOptions } from '../../src/tui/stream-source.js';

/** Resolves when `test` holds, checked on every change the source reports. */
export function until(source: DataSource, test: () => boolean, ms = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (test()) return resolve();
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out; status: ${source.status().text}`));
    }, ms);
    const off = source.subscribe(() => {
      if (!test()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/**
 * A stream source the test feeds one IP packet at a time (raw IP frames stamped with the wall
 * clock, as a live capture stamps them): what the live interface and the lab do, step by step.
 */
export class StepSource extends StreamSource implements DataSource {
  readonly kind = 'live' as const;
  readonly title = 'steps';
  private fed = 0;

  constructor(opts: StreamOptions = {}) {
    super(opts);
  }

  async start(): Promise<void> {
    this.startSweeping();
  }

  async stop(): Promise<void> {
    this.finishEngine();
  }

  /** A frame as captured (its own number, time and link type), e.g. read from a file. */
  feedFrame(f: Frame): void {
    this.fed++;
    this.ingest(f);
  }

  feed(ip: Uint8Array): void {
    const now = Date.now() / 1000;
    const sec = Math.floor(now);
    this.ingest({ index: ++this.fed, tsSec: sec, tsNsec: Math.round((now - sec) * 1e9), linkType: 101, len: ip.length, data: ip, interfaceId: 0 });
  }

  counters(): Counters {
    return { ...this.engineCounters(), drops: 0, duplicates: 0, evictedPackets: this.ring.first };
  }

  status(): SourceStatus {
    return { state: 'live', text: `${this.fed} frames fed`, warnings: this.warningList };
  }
}

/**
 * Measures the longest gap between 2 ms ticks of the event loop from now until stop(): how long a
 * key press could have waited. Bounds on it are loose (CI shares its cores with other test files);
 * work that does not yield takes seconds, far beyond them.
 */
export function stallProbe(): { stop(): number } {
  let worst = 0;
  let last = performance.now();
  const probe = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last);
    last = now;
  }, 2);
  return {
    stop() {
      clearInterval(probe);
      return worst;
    },
  };
}
