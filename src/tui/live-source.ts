// A live interface as a data source, through src/capture/live.ts (libpcap): the
// frames libpcap hands over reach the ring and the flow engine from the event loop; what the
// capture's queue could not hold is counted as drops. Opening the interface fails with the same
// one-line message `lispscope sniff` gives.

import { defaultFilter, LiveCapture, linkTypeName, type CapModule } from '../capture/live.js';
import type { Counters, DataSource, SourceStatus } from './source.js';
import { StreamSource, type StreamOptions } from './stream-source.js';

export interface LiveSourceOptions extends StreamOptions {
  iface: string;
  /** BPF filter (default: sniff's, LISP ports and the reliable transport). */
  filter?: string;
  /** libpcap's kernel buffer in bytes. */
  bufferSize?: number;
  /** The cap module (tests give a fake one). */
  cap?: CapModule;
}

export class LiveSource extends StreamSource implements DataSource {
  readonly kind = 'live' as const;
  readonly title: string;
  private capture: LiveCapture | undefined;
  private ended = false;
  private readonly filter: string;

  constructor(private readonly live: LiveSourceOptions) {
    super(live);
    this.title = live.iface;
    this.filter = live.filter ?? defaultFilter(live.decoder?.decodeAs);
  }

  async start(): Promise<void> {
    // Throws LiveCaptureError (no cap, no permission, no such interface, bad filter): one line.
    const capture = LiveCapture.open({
      iface: this.live.iface,
      filter: this.filter,
      ...(this.live.bufferSize ? { bufferSize: this.live.bufferSize } : {}),
      ...(this.live.cap ? { cap: this.live.cap } : {}),
    });
    this.capture = capture;
    capture.start({
      frame: (f) => {
        this.ingest(f);
        return true;
      },
      warning: (m) => this.warn(m),
    });
    this.startSweeping();
    void capture.done.then(() => {
      this.ended = true;
      this.finishEngine();
      this.changed('status');
    });
  }

  async stop(): Promise<void> {
    if (this.capture) await this.capture.stop(false);
    this.stopSweeping();
  }

  counters(): Counters {
    const s = this.capture?.stats();
    return { ...this.engineCounters(), drops: (s?.queueDrops ?? 0) + (s?.kernelDrops ?? 0), duplicates: 0, evictedPackets: this.ring.first };
  }

  status(): SourceStatus {
    const link = this.capture ? `, ${linkTypeName(this.capture.linkType)}` : '';
    if (this.ended) return { state: 'stopped', text: `capture on ${this.live.iface} stopped`, warnings: this.warningList };
    const kernel = this.capture?.stats().kernelDrops;
    const drops = kernel === undefined ? ' (kernel drops not known)' : '';
    return { state: 'live', text: `capturing on ${this.live.iface}${link}, filter "${this.filter}"${drops}`, warnings: this.warningList };
  }
}
