// The engine leaves out the work whose results a command does not print (`flows` prints no
// mappings, neither `flows` nor `mappings` the statistics of exchanges): what it does print stays
// exactly what the whole engine gives.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCaptures } from '../../src/flows/analyze.js';
import type { FlowResult } from '../../src/flows/engine.js';
import { exchangeJson, mappingJson, statsJson } from '../../src/output/json-flows.js';

const PCAPS = join(import.meta.dirname, '../../pcaps');
const captures = readdirSync(PCAPS).filter((f) => /\.(pcap|pcapng)$/.test(f));

async function analyse(file: string, without?: FlowResult[]) {
  const exchanges: unknown[] = [];
  const r = await analyzeCaptures([file], { warning: () => {}, onExchange: (e) => exchanges.push(exchangeJson(e)), ...(without ? { without } : {}) });
  return { exchanges, mappings: r.mappings.map((m) => mappingJson(m)), stats: statsJson(r.stats), counters: r.counters };
}

describe('FlowEngine without results nobody reads', () => {
  it('has captures to try, with handovers and exchanges among them', async () => {
    expect(captures.length).toBeGreaterThan(10);
    const all = await analyse(join(PCAPS, 'mn-handover.pcapng'));
    expect(all.mappings.some((m) => (m as { handovers: unknown[] }).handovers.length > 0)).toBe(true);
    const none = await analyse(join(PCAPS, 'mn-handover.pcapng'), ['mappings', 'exchange-stats']);
    // Left out indeed: no mapping is tracked, no exchange counted.
    expect(none.mappings).toEqual([]);
    expect(none.stats.exchanges).toEqual({});
  });

  for (const name of captures) {
    it(`gives the same exchanges, counters and frame counts without mappings and exchange statistics, and the same mappings without the statistics: ${name}`, async () => {
      const file = join(PCAPS, name);
      const all = await analyse(file);
      const flows = await analyse(file, ['mappings', 'exchange-stats']);
      expect(flows.exchanges).toEqual(all.exchanges);
      expect(flows.counters).toEqual(all.counters);
      for (const k of ['frames', 'lisp_packets', 'control_packets', 'data_packets', 'malformed_frames', 'warning_frames', 'note_frames', 'messages'] as const) {
        expect((flows.stats as Record<string, unknown>)[k], k).toEqual((all.stats as Record<string, unknown>)[k]);
      }
      const mappings = await analyse(file, ['exchange-stats']);
      expect(mappings.exchanges).toEqual(all.exchanges);
      expect(mappings.mappings).toEqual(all.mappings);
      expect(mappings.stats.malformed_frames).toEqual(all.stats.malformed_frames);
    });
  }
});
