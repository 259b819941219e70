// Shared by the UI tests.

import { render } from 'ink-testing-library';
import { createElement } from 'react';
import type { Frame } from '../../src/capture/types.js';
import { App } from '../../src/tui/components/App.js';
import { makePaint, plain } from '../../src/tui/paint.js';
import type { PacketFilter } from '../../src/tui/packet-filter.js';
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
 * clock, as a live capture stamps them, or with the test's `clock`): what the live interface and
 * the lab do, step by step.
 */
export class StepSource extends StreamSource implements DataSource {
  readonly kind = 'live' as const;
  readonly title: string = 'steps';
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

  /** Stamped with the source's clock (the wall clock unless the test gave its own). */
  feed(ip: Uint8Array): void {
    const now = this.opts.clock ? this.opts.clock() : Date.now() / 1000;
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The App rendered with ink-testing-library: its plain frame, keys pressed one by one, a wait for the screen. */
export const KEY = { down: '\u001B[B', up: '\u001B[A', enter: '\r', tab: '\t', esc: '\u001B', right: '\u001B[C', left: '\u001B[D' };

export function ui(source: DataSource, o: { width?: number; height?: number; colour?: boolean; onQuit?: () => void; follow?: boolean; refreshMs?: number } = {}) {
  const r = render(
    createElement(App, {
      source,
      paint: makePaint(o.colour ?? false),
      width: o.width ?? 100,
      height: o.height ?? 30,
      refreshMs: o.refreshMs ?? 5,
      ...(o.onQuit ? { onQuit: o.onQuit } : {}),
      ...(o.follow !== undefined ? { follow: o.follow } : {}),
    }),
  );
  const frame = () => plain(r.lastFrame() ?? '');
  /** Waits until the screen has not changed for 50 ms (at most 3 s): the keys before are handled. */
  const settle = async () => {
    let last = r.lastFrame();
    let still = 0;
    for (const t0 = Date.now(); Date.now() - t0 < 3000 && still < 50; ) {
      await sleep(10);
      const f = r.lastFrame();
      still = f === last ? still + 10 : 0;
      last = f;
    }
  };
  const press = async (...keys: string[]) => {
    for (const k of keys) {
      r.stdin.write(k);
      await settle();
    }
  };
  /** The screen once it matches `re` (what a background scan or the source brings shows up on its own). */
  const waitFor = async (re: RegExp, ms = 10_000): Promise<string> => {
    const t0 = Date.now();
    while (!re.test(frame())) {
      if (Date.now() - t0 > ms) throw new Error(`the screen never matched ${re}:\n${frame()}`);
      await sleep(10);
    }
    return frame();
  };
  return { ...r, frame, press, settle, waitFor };
}

/** Resolves once the filter has looked at everything the source has. */
export function caughtUp(f: PacketFilter): Promise<void> {
  return new Promise((resolve) => {
    if (f.progress().caughtUp) return resolve();
    const off = f.subscribe(() => {
      if (!f.progress().caughtUp) return;
      off();
      resolve();
    });
  });
}
