// `lispscope start` (what `npm start` runs): the embedded lab's whole scenario on loopback — a
// Mobile Node registers, resolves, pings, is probed, moves twice (once behind a NAT) and SMRs its
// peers. On a terminal it opens in the terminal UI; otherwise (or with options, which go to `lab`)
// it prints every packet as it is sent, then the analysis of the run.

import { isatty } from 'node:tty';
import type { Io } from './io.js';
import { runLabCommand } from './lab.js';
import { runTuiCommand } from './tui.js';

export async function runStart(argv: string[], io: Io): Promise<number> {
  if (argv.length === 0 && isatty(0) && isatty(1) && io.stdout.isTTY) return runTuiCommand(['--lab', '--scenario', 'all'], io);
  return runLabCommand(['--scenario', 'all', ...argv], io);
}
