// `lispscope start` (what `npm start` runs): the embedded lab's whole scenario on loopback — a
// Mobile Node registers, resolves, pings, is probed, moves twice (once behind a NAT) and SMRs its
// peers — every packet as it is sent, then the analysis of the run.

import type { Io } from './io.js';
import { runLabCommand } from './lab.js';

export async function runStart(argv: string[], io: Io): Promise<number> {
  return runLabCommand(['--scenario', 'all', ...argv], io);
}
