// Where staged batches go: a DuckDB file, a directory of Parquet files, or ClickHouse. Every sink
// takes the same batches (stage.ts) and reads them with the same SELECT (select.ts).

import type { PlainRowWriter } from './plain-row.js';
import type { Batch } from './stage.js';

export interface InputLabel {
  vantage: string;
  file: string;
}

/** One line for the user: bad destination, credentials, missing database, ... */
export class SinkError extends Error {
  override name = 'SinkError';
}

/** The database cannot be reached now: a live capture keeps the batch and tries again later. */
export class SinkUnavailable extends SinkError {
  override name = 'SinkUnavailable';
}

/** The recorder's options for rows in the sink's own formats. */
export function sinkRowFormats(sink: Sink, input: InputLabel): { plainRow?: PlainRowWriter; controlOrigin?: Uint8Array } {
  return {
    ...(sink.plainRows ? { plainRow: sink.plainRows(input) } : {}),
    ...(sink.controlOrigin ? { controlOrigin: sink.controlOrigin(input) } : {}),
  };
}

export interface Sink {
  /** What the user named, for messages. */
  readonly label: string;
  /**
   * Batches wait until their input (or hour) ends (Parquet): they may add up to the size of the
   * capture, so they are staged on disk, never in memory.
   */
  readonly holdsBatches?: boolean;
  /** Plain data rows in the sink's own format for this input, when it takes them so (ClickHouse). */
  plainRows?(input: InputLabel): PlainRowWriter;
  /**
   * What control rows (control-row.ts) carry after `seq`, when the sink sends them as they are
   * (ClickHouse: the input's vantage and file, which TabSeparated cannot add as constants).
   */
  controlOrigin?(input: InputLabel): Uint8Array;
  /** Connects and creates the tables that are missing. */
  open(): Promise<void>;
  /**
   * An input starts. A capture file (`replace`) exported again replaces its earlier rows (same
   * vantage and file); a live capture adds to what earlier captures on the interface wrote.
   */
  beginInput(input: InputLabel, replace: boolean): Promise<void>;
  /** Loads one batch (the file may be removed afterwards). */
  load(batch: Batch): Promise<void>;
  /**
   * The input ended, or (live, `final` false) an hour of it did: sinks that write whole files
   * (Parquet) write them now.
   */
  endInput(input: InputLabel, final: boolean): Promise<void>;
  close(): Promise<void>;
}
