// `lispscope export FILE... --to DEST`: each capture file is one input, analysed on its own (as
// `flows FILE` and `mappings FILE` do) and labelled with its vantage point; several vantage points
// meet in SQL. Reading, staging and loading overlap: DuckDB parses a batch while the next is read.

import { basename } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readCapture } from '../capture/source.js';
import { boundHeapGrowth } from '../flows/heap.js';
import { clearPools } from '../flows/text-pool.js';
import { Loader } from './loader.js';
import { Recorder, type InputSummary, type RecorderOptions } from './recorder.js';
import { sinkRowFormats, type Sink } from './sink.js';
import { Stager } from './stage.js';
import { trace } from './trace.js';

export interface ExportInput {
  path: string;
  vantage: string;
}

export interface ExportOptions extends Omit<RecorderOptions, 'warning'> {
  warning: (message: string) => void;
  /** Staged batch size in bytes (tests make it small to cross batch boundaries). */
  batchBytes?: number;
}

/** The default vantage of a file: its name without directories and capture extensions. */
export function defaultVantage(path: string): string {
  return basename(path).replace(/(\.gz)$/i, '').replace(/\.(pcapng|pcap|cap|dmp)$/i, '') || path;
}

export async function exportFiles(inputs: ExportInput[], sink: Sink, opts: ExportOptions): Promise<InputSummary[]> {
  boundHeapGrowth();
  const loader = new Loader(sink);
  // Batches are a DuckDB row group (122,880 rows; stage.ts), bytes only bound rows of unusual size.
  const stager = new Stager({ onBatch: (b) => loader.push(b), batchBytes: opts.batchBytes ?? 128 << 20, inMemory: !sink.holdsBatches });
  const out: InputSummary[] = [];
  // Interrupted: the staged batches go (the database keeps what it committed). The handler stays
  // installed: a second signal (a terminal's Ctrl-C reaches this process twice when it was started
  // again with one arena, cli/one-arena.ts) must not end it before the staging directory is gone.
  const onSignal = () => {
    stager.dispose();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The first input is read while the sink opens (loading DuckDB's library alone takes 0.4 s of
  // CPU, and seconds of a busy machine's time): its batches wait in the loader until it is open.
  const opened = sink.open().then(() => trace('opened'));
  // The sink's latest call: it runs while the input is read, and the sink is used (ending the
  // input, closing) only after it, even when reading fails (a connection closed during a query
  // crashes DuckDB's native code).
  let begun: Promise<void> = opened;
  try {
    for (const input of inputs) {
      const label = { vantage: input.vantage, file: input.path };
      begun = begun.then(() => sink.beginInput(label, true));
      loader.after(begun);
      stager.input(label.vantage, label.file);
      out.push(await record(input.path, stager, loader, { ...opts, ...sinkRowFormats(sink, label) }));
      // The input's flow engine (hundreds of MB of heap on a large capture) is garbage now; the
      // last batches (exchanges, mappings) and the Parquet files' COPY come after it, and would
      // otherwise be loaded with it still in memory: V8 collects it only once the main thread
      // allocates again, which it hardly does while DuckDB works. The engine's text pools (up to
      // 65,536 texts and lists each, module-wide) would outlive it: they go too.
      trace('recorded');
      clearPools();
      collectGarbage();
      trace('collected');
      await loader.drained();
      trace('drained');
      await begun;
      await sink.endInput(label, true);
      trace('ended');
    }
    await opened;
    await loader.drained();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await begun.catch(() => undefined);
    trace('close');
    await sink.close().catch(() => undefined);
    trace('closed');
    stager.dispose();
  }
  return out;
}

/** Reads one input through a Recorder, whose flow engine is garbage once it returns. */
async function record(path: string, stager: Stager, loader: Loader, opts: RecorderOptions): Promise<InputSummary> {
  const rec = new Recorder(stager, opts);
  trace('read', path);
  const r = await readCapture(path, { frame: (f) => (rec.frame(f), !loader.error), warning: opts.warning }, { pause: () => loader.pause() });
  trace('last packet');
  return rec.finish({ format: r.format ?? 'pcap', ...(r.drops !== undefined ? { drops: r.drops } : {}) });
}

let gc: (() => void) | undefined;

/** A full collection now (V8's gc(), exposed to a context of our own rather than by a command-line flag). */
function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}
