// The flow engine reaches the same conclusions whether plain data packets are decoded or only
// scanned from their bytes (capture/plain-data.ts).

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlowEngine } from '../../src/flows/engine.js';
import { mergeCaptures } from '../../src/flows/merge.js';
import { exchangeJson, mappingJson, statsJson } from '../../src/output/json-flows.js';

const PCAPS = join(import.meta.dirname, '../../pcaps');

async function analyse(file: string, fast: boolean) {
  const exchanges: unknown[] = [];
  const engine = new FlowEngine({ onExchange: (e) => exchanges.push(exchangeJson(e)) });
  await mergeCaptures(
    [file],
    { warning: () => {}, onFrame: () => engine.frame(), ...(fast ? { onPlainData: (f, d) => engine.plainData(f, d) } : {}) },
    (p, i) => engine.packet(p, i),
  );
  const r = engine.finish();
  return { exchanges, mappings: r.mappings.map((m) => mappingJson(m)), stats: statsJson(r.stats) };
}

describe('plain data packets scanned, not decoded', () => {
  for (const name of ['mn-handover.pcapng', 'data.pcap', 'link-linux-sll.pcap', 'ip-fragments.pcap']) {
    it(`gives the same exchanges, mappings and statistics: ${name}`, async () => {
      const file = join(PCAPS, name);
      expect(await analyse(file, true)).toEqual(await analyse(file, false));
    });
  }
});
