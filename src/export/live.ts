// `sniff -i IFACE --export DEST`: the live capture's rows go out in batches, cut every second (or
// sooner when a batch fills), through the same recorder and sinks as `export`. When the database
// falls behind, the loader's queue fills and the capture pauses (its own queue then takes the
// strain, and what it cannot hold is counted as drops); when the database is unreachable, batches
// wait on disk up to a bound, then the oldest are dropped and counted. Every 10 s, new mapping
// timeline entries go out, and each handover whose peers are no longer followed (the EID moved
// again, or the tracking time is up), so a fleet's database shows handovers while the sniffers
// run; what is still open goes out when the capture stops.

import type { Frame } from '../capture/types.js';
import { Loader } from './loader.js';
import { Recorder, type InputSummary, type RecorderOptions } from './recorder.js';
import { sinkRowFormats, type InputLabel, type Sink } from './sink.js';
import { Stager } from './stage.js';

export interface LiveExportOptions extends RecorderOptions {
  label: InputLabel;
  /** Batches kept while the database is unreachable (default 256 MiB). */
  maxBufferedBytes?: number;
  /** Told when the database goes away and comes back. */
  onState: (message: string) => void;
  /** Called when the loader has room again (resume a paused capture). */
  onReady?: () => void;
  /** Parquet: write each hour's files when the hour ends. */
  hourly?: boolean;
  /** How long the end waits for an unreachable database before dropping what it holds (ms, default 5000). */
  finalWaitMs?: number;
}

/** Mapping rows go out every this many batch ticks (seconds). */
const MAPPING_TICKS = 10;

export class LiveExport {
  readonly loader: Loader;
  private readonly stager: Stager;
  private readonly recorder: Recorder;
  private timer: NodeJS.Timeout | undefined;
  private hour: number;
  private rolling: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: Sink,
    private readonly opts: LiveExportOptions,
  ) {
    this.loader = new Loader(sink, {
      maxQueued: 4,
      maxBufferedBytes: opts.maxBufferedBytes ?? 256 << 20,
      onState: opts.onState,
      onLoaded: () => opts.onReady?.(),
    });
    // A batch a second (or 32 MiB): ClickHouse makes a part per insert, and fewer parts are fewer merges.
    this.stager = new Stager({ onBatch: (b) => this.loader.push(b), batchBytes: 32 << 20, together: true });
    this.recorder = new Recorder(this.stager, { ...opts, ...sinkRowFormats(sink, opts.label) });
    this.hour = Math.floor(Date.now() / 3_600_000);
  }

  async open(): Promise<void> {
    await this.sink.open();
    await this.sink.beginInput(this.opts.label, false);
    this.stager.input(this.opts.label.vantage, this.opts.label.file);
    this.timer = setInterval(() => this.tick(), 1000);
  }

  frame(f: Frame): void {
    this.recorder.frame(f);
  }

  /** The database takes rows slower than they come: stop reading for now. */
  get congested(): boolean {
    return this.loader.congested;
  }

  get error(): Error | undefined {
    return this.loader.error;
  }

  /** Packets staged so far. */
  get packets(): number {
    return this.stager.stage('packets').seq;
  }

  /**
   * What is final at `now` (capture time; live, the wall clock) goes out: exchanges that timed out
   * (when traffic stops too), the rows staged so far, and with `mappings` new mapping entries and
   * settled handovers.
   */
  flush(now: number, mappings = true): void {
    this.recorder.engine.exchanges.sweep(now);
    if (mappings) this.recorder.flushMappings(now);
    this.stager.cutAll();
  }

  private ticks = 0;

  private tick(): void {
    // Mapping rows every 10 s: three more tables' inserts every second would cost a busy sniffer
    // more than a handover seen 10 s later costs its readers.
    this.flush(Date.now() / 1000, ++this.ticks % MAPPING_TICKS === 0);
    const hour = Math.floor(Date.now() / 3_600_000);
    if (this.opts.hourly && hour !== this.hour) {
      this.hour = hour;
      this.rolling = this.rolling.then(async () => {
        await this.loader.drained();
        await this.sink.endInput(this.opts.label, false);
      });
      this.rolling.catch(() => undefined);
    }
  }

  /** The capture could not start: nothing is written. */
  async abort(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.loader.abandon();
    await this.sink.close().catch(() => undefined);
    this.stager.dispose();
  }

  /** The capture stopped: the rest of the rows, the mappings and the `captures` row go out. */
  async finish(drops: number): Promise<InputSummary & { loadedRows: number; droppedRows: number }> {
    if (this.timer) clearInterval(this.timer);
    try {
      const s = this.recorder.finish({ format: 'live', drops, exportDrops: this.loader.droppedRows });
      const wait = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), this.opts.finalWaitMs ?? 5000).unref());
      if ((await Promise.race([this.loader.drained().then(() => 'done' as const), wait])) === 'timeout') this.loader.abandon();
      await this.loader.drained();
      await this.rolling;
      await this.sink.endInput(this.opts.label, true);
      return { ...s, loadedRows: this.loader.loadedRows, droppedRows: this.loader.droppedRows };
    } finally {
      await this.sink.close().catch(() => undefined);
      this.stager.dispose();
    }
  }
}
