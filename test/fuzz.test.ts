// A short run of the coverage-guided fuzzer (`npm run fuzz` runs a million inputs): nothing may
// throw out of a decoder or hang, whatever it is fed.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../scripts/fuzz/engine.js';
import { loadSeeds, targets } from '../scripts/fuzz/targets.js';

const ROOT = join(import.meta.dirname, '..');

describe('fuzzing smoke run', () => {
  it('20,000 mutated inputs over every decoder entry point: no crash, no hang', async () => {
    const seeds = loadSeeds([join(ROOT, 'pcaps'), join(ROOT, '../shared/captures')]);
    expect(seeds.control.length).toBeGreaterThan(50);
    const report = await fuzz(targets(seeds), { inputs: 20_000, seed: 20261125, hangMs: 250, coverageFilter: join(ROOT, 'src/') });
    expect(report.findings.map((f) => `${f.kind} in ${f.target}: ${f.message.split('\n')[0]}`)).toEqual([]);
    expect(report.inputs).toBe(20_000);
    expect(report.blocks).toBeGreaterThan(500);
  }, 120_000);
});
