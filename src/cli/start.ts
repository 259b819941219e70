// `lispscope start` (what `npm start` runs): the embedded lab's whole scenario on loopback — a
// Mobile Node registers, resolves, pings, is probed, moves twice (once behind a NAT) and SMRs its
// peers. On a terminal it opens in the terminal UI; otherwise (or with options, which go to `lab`)
// it prints every packet as it is sent, then the analysis of the run.

import { isatty } from 'node:tty';
import { helpText, type CommandSpec } from './args.js';
import type { Io } from '../output/io.js';
import { labSpec, runLabCommand } from './lab.js';
import { runTuiCommand } from './tui.js';

export const startSpec: CommandSpec = {
  name: 'start',
  summary:
    "Run the embedded lab's whole Mobile Node scenario on loopback (what `npm start` runs): in the terminal UI on a terminal, else every packet as it is sent and the analysis. Options are lab's.",
  usage: 'lispscope start [lab options]',
  example: 'lispscope start -q   # the steps and the analysis only',
  options: labSpec.options.filter((o) => o.name !== 'scenario'),
};

export async function runStart(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(helpText(startSpec));
    return 0;
  }
  if (argv.length === 0 && isatty(0) && isatty(1) && io.stdout.isTTY) return runTuiCommand(['--lab', '--scenario', 'all'], io);
  return runLabCommand(['--scenario', 'all', ...argv], io);
}
