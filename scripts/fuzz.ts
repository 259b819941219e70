// `npm run fuzz [-- --inputs N] [--seed S] [--hang-ms MS]`: coverage-guided fuzzing of every decoder
// entry point, the printers, the flow engine and decode→encode→decode (see scripts/fuzz/engine.ts). Crashing or hanging inputs are written to fuzz-out/ to
// become regression fixtures. Exit status 1 when anything was found.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuzz } from './fuzz/engine.js';
import { loadSeeds, targets } from './fuzz/targets.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) {
    process.stderr.write(`fuzz: --${name} needs a number\n`);
    process.exit(2);
  }
  return v;
}

const inputs = arg('inputs', 1_000_000);
const seed = arg('seed', Date.now() & 0xffffffff);
const hangMs = arg('hang-ms', 100);
const seeds = loadSeeds([join(ROOT, 'pcaps'), join(ROOT, '../shared/captures')]);
const list = targets(seeds);
process.stderr.write(
  `fuzzing ${list.length} targets with ${inputs.toLocaleString('en')} inputs, seed ${seed}; seeds: ` +
    `${seeds.files.length} files, ${seeds.frames.length} frames, ${seeds.control.length} control, ${seeds.data.length} data, ${seeds.reliable.length} reliable\n`,
);
const report = await fuzz(list, {
  inputs,
  seed,
  hangMs,
  coverageFilter: join(ROOT, 'dist/src/'),
  onProgress: (r) =>
    process.stderr.write(
      `  ${r.inputs.toLocaleString('en')} inputs, ${Math.round(r.inputs / r.seconds).toLocaleString('en')}/s, corpus ${r.corpus}, ${r.blocks} blocks covered, ${r.findings.length} findings\n`,
    ),
});
if (report.findings.length) {
  const out = join(ROOT, 'fuzz-out');
  mkdirSync(out, { recursive: true });
  report.findings.forEach((f, i) => {
    const file = join(out, `${f.kind}-${f.target}-${seed}-${i}.bin`);
    writeFileSync(file, f.input);
    process.stdout.write(`${f.kind} in ${f.target}: ${file}\n  ${f.message.split('\n').slice(0, 3).join('\n  ')}\n`);
  });
}
const rows = Object.entries(report.perTarget).map(([t, s]) => `  ${t.padEnd(22)} ${String(s.inputs).padStart(10)} inputs, ${s.corpus} kept`);
process.stdout.write(
  [
    `inputs tried: ${report.inputs.toLocaleString('en')} in ${report.seconds.toFixed(1)} s (${Math.round(report.inputs / report.seconds).toLocaleString('en')}/s), seed ${seed}`,
    `coverage: ${report.blocks} code blocks of lispscope reached (${report.seedBlocks} by the seeds); ${report.kept} inputs kept for reaching new code`,
    ...rows,
    `crashes: ${report.findings.filter((f) => f.kind === 'crash').length}, hangs (> ${hangMs} ms): ${report.findings.filter((f) => f.kind === 'hang').length}`,
  ].join('\n') + '\n',
);
process.exitCode = report.findings.length ? 1 : 0;
