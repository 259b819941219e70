// The flow engine over capture files, merged by time: what `flows`, `mappings` and `stats` print.

import type { Exchange, ExchangeSummary } from './types.js';
import { FlowEngine, type FlowEngineOptions, type FlowResult } from './engine.js';
import { mergeCaptures, type MergeOptions } from './merge.js';

export interface AnalyzeOptions extends Pick<MergeOptions, 'decoder' | 'warning' | 'ready'> {
  timeout?: FlowEngineOptions['timeout'];
  /** When exchanges are handed out (default: in order of start, as they close; see ExchangeOptions.order). */
  order?: FlowEngineOptions['order'];
  onExchange?: (e: Exchange, startIndex: number) => void;
  /** Instead of onExchange, for a caller that reads only summaries (FlowEngineOptions.onSummary). */
  onSummary?: (e: ExchangeSummary, startIndex: number) => void;
  /** Results the command does not print (FlowEngineOptions.without). */
  without?: readonly FlowResult[];
}

/** Runs the engine over `files` (merged by time; a packet seen in two of them counted once). */
export async function analyzeCaptures(files: string[], opts: AnalyzeOptions) {
  const engine = new FlowEngine({
    ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
    ...(opts.order ? { order: opts.order } : {}),
    ...(opts.onExchange ? { onExchange: opts.onExchange } : {}),
    ...(opts.onSummary ? { onSummary: opts.onSummary } : {}),
    ...(opts.without ? { without: opts.without } : {}),
  });
  const { duplicates } = await mergeCaptures(
    files,
    {
      ...(opts.decoder ? { decoder: opts.decoder } : {}),
      warning: opts.warning,
      ...(opts.ready ? { ready: opts.ready } : {}),
      onFrame: () => engine.frame(),
      onPlainData: (f, d) => engine.plainData(f, d),
      onPlainControl: (f, c) => void engine.plainControl(f, c),
    },
    (p, file) => engine.packet(p, file),
  );
  const result = opts.ready ? await engine.finishPaced(opts.ready) : engine.finish();
  return { ...result, duplicates, counters: engine.exchanges.counters };
}
