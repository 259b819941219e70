// The coverage-guided fuzzer (`npm run fuzz` runs a million inputs): it keeps the inputs that reach
// new code, each credited on its own, finds a bug planted behind four nested byte checks that blind
// mutation does not reach, and in a short run over every target (decoders, printers, the flow
// engine, decode→encode→decode) grows the coverage without a crash or a hang.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fuzz } from '../scripts/fuzz/engine.js';
import { loadSeeds, targets } from '../scripts/fuzz/targets.js';
import { plantedTarget } from './support/planted.js';

const ROOT = join(import.meta.dirname, '..');

// Inputs per target of the run over every target: FUZZ_RUNS (docs/architecture.md, testing), 512
// by default, two batches each; `npm run fuzz` is the long run.
const RUNS = Number(process.env.FUZZ_RUNS ?? 512);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`FUZZ_RUNS must be a whole number of inputs per target, not "${process.env.FUZZ_RUNS}"`);

describe('the fuzzer', () => {
  it('climbs to a planted bug by the inputs that reach new code, which blind mutation does not', async () => {
    // Hangs judged as loosely as below: the planted target cannot hang, but a loaded machine can hold it.
    const run = (guided: boolean) => fuzz([plantedTarget], { inputs: 200_000, seed: 1, guided, hangMs: 2_000, coverageFilter: join(ROOT, 'test/support/planted') });
    const guided = await run(true);
    expect(guided.findings.map((f) => [f.kind, f.message.split('\n')[0], Array.from(f.input.subarray(0, 4))])).toContainEqual([
      'crash',
      'Error: planted bug reached',
      [0x4c, 0x49, 0x53, 0x50],
    ]);
    // One input kept per byte matched: each credited with the block it reached first.
    expect(guided.kept).toBeGreaterThanOrEqual(3);
    expect(guided.blocks).toBeGreaterThan(guided.seedBlocks);
    const blind = await run(false);
    expect(blind.findings).toEqual([]);
    expect(blind.kept).toBe(0);
  }, 120_000);

  it('grows the coverage over every target without a crash or a hang', async () => {
    const seeds = loadSeeds([join(ROOT, 'pcaps'), join(ROOT, '../shared/captures')]);
    expect(seeds.control.length).toBeGreaterThan(50);
    const list = targets(seeds);
    expect(list.map((t) => t.name)).toEqual(expect.arrayContaining(['control', 'printers', 'flows', 'control-roundtrip', 'capture-file']));
    // Hangs are judged loosely: a loaded machine may take 100s of ms over one input, not seconds.
    const report = await fuzz(list, { inputs: RUNS * list.length, seed: 20261125, hangMs: 2_000, coverageFilter: join(ROOT, 'src/') });
    expect(report.findings.map((f) => `${f.kind} in ${f.target}: ${f.message.split('\n')[0]}`)).toEqual([]);
    // The targets take turns a batch (256 inputs) at a time: each gets RUNS to within one batch.
    for (const t of list) expect(report.perTarget[t.name]!.inputs, t.name).toBeGreaterThan(RUNS - 256);
    expect(report.blocks).toBeGreaterThan(report.seedBlocks);
    expect(report.kept).toBeGreaterThan(20);
  }, 300_000);
});
