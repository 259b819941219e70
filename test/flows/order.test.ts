// ExchangeOptions.order 'close' (the terminal UI, the export) hands out exactly what 'start' (flows)
// does, only sooner: over every fixture and shared capture, the same exchanges once each, which
// startIndex puts back in start order, and the same counters.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCaptures } from '../../src/flows/analyze.js';
import type { ExchangeOrder } from '../../src/flows/exchanges.js';
import { exchangeJson } from '../../src/output/json-flows.js';

const PCAPS = join(import.meta.dirname, '../../pcaps');
const SHARED = join(import.meta.dirname, '../../../shared/captures');
const inDir = (dir: string) => readdirSync(dir).filter((f) => /\.(pcap|pcapng)$/.test(f)).map((f) => join(dir, f));
const shared = existsSync(SHARED) ? inDir(SHARED) : [];
if (!shared.length && process.env.CI === 'true') throw new Error(`${SHARED} is required in CI: the shared captures are missing`);
if (!shared.length) console.warn(`skipping the shared captures: ${SHARED} is not there`);

async function analyse(file: string, order: ExchangeOrder) {
  const exchanges: [unknown, number][] = [];
  const r = await analyzeCaptures([file], { warning: () => {}, order, onExchange: (e, i) => exchanges.push([exchangeJson(e), i]) });
  return { exchanges, counters: r.counters };
}

describe("exchanges handed out in order 'close'", () => {
  let reordered = 0;
  for (const file of [...inDir(PCAPS), ...shared]) {
    it(`are those of order 'start': ${file.slice(file.lastIndexOf('/') + 1)}`, async () => {
      const start = await analyse(file, 'start');
      const close = await analyse(file, 'close');
      expect(start.exchanges.map(([, i]) => i)).toEqual([...start.exchanges.keys()]);
      if (close.exchanges.some(([, i], k) => i !== k)) reordered++;
      expect(close.exchanges.sort((a, b) => a[1] - b[1])).toEqual(start.exchanges);
      expect(close.counters).toEqual(start.counters);
    });
  }
  it('came out of start order in some captures (the comparison means something)', () => {
    expect(reordered).toBeGreaterThan(0);
  });
});
