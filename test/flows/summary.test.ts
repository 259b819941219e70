// A caller that reads only an exchange's summary (the statistics, `mappings --fail-on`) gets it
// without the exchange being built: the same exchanges, in the same order, with the same fields as
// the whole exchange has them, and the same statistics.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCaptures, type AnalyzeOptions } from '../../src/flows/analyze.js';
import { SUMMARY_FIELDS, type Exchange, type ExchangeSummary } from '../../src/flows/types.js';
import { statsJson } from '../../src/output/json-flows.js';

const PCAPS = join(import.meta.dirname, '../../pcaps');
const SHARED = join(import.meta.dirname, '../../../shared/captures');
const files = [
  ...readdirSync(PCAPS).filter((f) => /\.(pcap|pcapng)$/.test(f)).map((f) => join(PCAPS, f)),
  ...(existsSync(SHARED) ? readdirSync(SHARED).filter((f) => /\.pcap$/.test(f)).map((f) => join(SHARED, f)) : []),
];

/** The summary's fields of a whole exchange, those it has only. */
function summaryPart(e: Exchange): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of SUMMARY_FIELDS) if (e[k] !== undefined) out[k] = e[k];
  return out;
}

async function run(file: string, opts: Pick<AnalyzeOptions, 'onExchange' | 'onSummary' | 'order' | 'timeout'>) {
  const r = await analyzeCaptures([file], { warning: () => {}, ...opts });
  return statsJson(r.stats);
}

describe('exchange summaries', () => {
  it('has captures with every kind of summary field to try', () => {
    expect(files.length).toBeGreaterThan(10);
  });

  for (const file of files) {
    for (const opts of [{}, { order: 'close' as const }, { timeout: 1 }]) {
      it(`are the whole exchanges' fields, in their order, with the same statistics (${JSON.stringify(opts)}): ${file.slice(file.lastIndexOf('/') + 1)}`, async () => {
        const whole: [Record<string, unknown>, number][] = [];
        const wholeStats = await run(file, { ...opts, onExchange: (e, i) => whole.push([summaryPart(e), i]) });
        const summaries: [ExchangeSummary, number][] = [];
        const summaryStats = await run(file, { ...opts, onSummary: (e, i) => summaries.push([e, i]) });
        expect(summaries).toStrictEqual(whole);
        expect(summaryStats).toStrictEqual(wholeStats);
        // Counted from summaries too when the caller takes no exchanges at all.
        expect(await run(file, opts)).toStrictEqual(wholeStats);
      });
    }
  }

  it('carry every optional field somewhere among the captures', async () => {
    const seen = new Set<string>();
    for (const file of files) await run(file, { onSummary: (e) => Object.keys(e).forEach((k) => seen.add(k)) });
    expect([...seen].sort()).toEqual([...SUMMARY_FIELDS].sort());
  });
});
