// The engine leaves out the work whose results a command does not print (`flows` prints no
// mappings, neither `flows` nor `mappings` the statistics of exchanges, `stats` counts handovers
// without timelines or peers, `mappings` follows only the exchanges its mappings depend on): what it
// does print stays exactly what the whole engine gives.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeCaptures } from '../../src/flows/analyze.js';
import type { FlowResult } from '../../src/flows/engine.js';
import { exchangeJson, mappingJson, statsJson } from '../../src/output/json-flows.js';

const PCAPS = join(import.meta.dirname, '../../pcaps');
const SHARED = join(import.meta.dirname, '../../../shared/captures');
const captures = readdirSync(PCAPS).filter((f) => /\.(pcap|pcapng)$/.test(f));
// Other implementations' handovers and NAT relays (data-plane baselines among them).
const shared = existsSync(SHARED) ? readdirSync(SHARED).filter((f) => /^oor__.*\.pcap$/.test(f)) : [];
if (!shared.length && process.env.CI === 'true') throw new Error(`${SHARED} is required in CI: the OOR captures are missing`);
if (!shared.length) console.warn(`skipping the OOR captures: ${SHARED} is not there`);

async function analyse(file: string | string[], without?: FlowResult[]) {
  const exchanges: unknown[] = [];
  const r = await analyzeCaptures(typeof file === 'string' ? [file] : file, { warning: () => {}, onExchange: (e) => exchanges.push(exchangeJson(e)), ...(without ? { without } : {}) });
  return { exchanges, mappings: r.mappings.map((m) => mappingJson(m)), stats: statsJson(r.stats), counters: r.counters };
}

/** What `mappings` prints without --fail-on: no exchange taken, so only those the mappings depend on are followed. */
async function mappingsAlone(files: string[]) {
  const r = await analyzeCaptures(files, { warning: () => {}, without: ['exchanges', 'exchange-stats'], order: 'close' });
  return { mappings: r.mappings.map((m) => mappingJson(m)), handovers: r.stats.handovers };
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

  for (const file of [...captures.map((f) => join(PCAPS, f)), ...shared.map((f) => join(SHARED, f))]) {
    it(`gives the same statistics (handovers counted) and exchanges without timelines and peers: ${file.slice(file.lastIndexOf('/') + 1)}`, async () => {
      const all = await analyse(file);
      const stats = await analyse(file, ['mapping-details']);
      expect(stats.stats).toEqual(all.stats);
      expect(stats.exchanges).toEqual(all.exchanges);
      expect(stats.counters).toEqual(all.counters);
      // Left out indeed: no timelines to give.
      expect(stats.mappings).toEqual([]);
    });
  }

  // Each OOR scenario seen from every vantage point, merged, as well as each capture alone.
  const scenarios = [...new Set(shared.map((f) => f.split('.')[0]!))].map((sc) => shared.filter((f) => f.startsWith(`${sc}.`)).map((f) => join(SHARED, f)));
  for (const files of [...captures.map((f) => [join(PCAPS, f)]), ...shared.map((f) => [join(SHARED, f)]), ...scenarios]) {
    it(`gives the same mappings when it follows only the exchanges they depend on: ${files.map((f) => f.slice(f.lastIndexOf('/') + 1)).join(' + ')}`, async () => {
      const all = await analyse(files);
      const alone = await mappingsAlone(files);
      expect(alone.mappings).toEqual(all.mappings);
      expect(alone.handovers).toBe(all.stats.handovers);
    });
  }

  // The xTR's vantage point sees no registration before the move: the data plane is the baseline.
  it.skipIf(!shared.length)('still counts a handover whose baseline is the data plane, without timelines and peers', async () => {
    const file = join(SHARED, 'oor__03-mn-handover-rloc-change.xtr.pcap');
    const all = await analyse(file);
    const handovers = (all.mappings as { handovers: { baseline: string }[] }[]).flatMap((m) => m.handovers);
    expect(handovers.map((h) => h.baseline)).toContain('data-plane');
    expect((await analyse(file, ['mapping-details'])).stats.handovers).toBe(handovers.length);
  });
});
