// The lispscope command line: parses the subcommand and hands over. Every failure the user can
// cause ends in one line on stderr and exit status 2, never a stack trace.

import { UsageError } from './args.js';
import { processIo, type Io } from './io.js';
import { runLabCommand } from './lab.js';
import { runMn } from './mn.js';
import { runReplay } from './replay.js';
import { runInject } from './inject.js';
import { runExport } from './export.js';
import { runFlows, runMappings, runStats } from './flows.js';
import { runQuery } from './query.js';
import { runRead } from './read.js';
import { runSniff } from './sniff.js';
import { runStart } from './start.js';
import { runTuiCommand } from './tui.js';

const COMMANDS: Record<string, { summary: string; run: (argv: string[], io: Io) => Promise<number> }> = {
  read: { summary: 'decode the LISP packets of capture files', run: runRead },
  flows: { summary: 'exchanges: registrations, resolutions, SMRs, probes, NAT info, referrals', run: runFlows },
  mappings: { summary: 'per EID: RLOC timeline and handovers with each peer\'s latency', run: runMappings },
  stats: { summary: 'counts, RTT percentiles per Map-Resolver, failures', run: runStats },
  export: { summary: 'packets, exchanges, mappings and handovers into DuckDB, Parquet or ClickHouse', run: runExport },
  query: { summary: 'SQL over an export: a DuckDB file or a Parquet directory', run: runQuery },
  sniff: { summary: 'capture live on an interface (libpcap) and decode LISP as it arrives', run: runSniff },
  tui: { summary: 'terminal UI: sessions, packets, detail and hex, ladder, mappings; files, a live interface or the lab', run: runTuiCommand },
  start: { summary: "run the embedded lab's whole Mobile Node scenario and analyse it (what `npm start` runs)", run: runStart },
  lab: { summary: 'run a LISP deployment with a Mobile Node on loopback and capture it', run: runLabCommand },
  mn: { summary: 'active probe mode: register, resolve (like lig), probe, smr, info, ping, run as a Mobile Node', run: runMn },
  replay: { summary: 're-send the LISP messages of a capture over UDP to one address', run: runReplay },
  inject: { summary: 'craft one LISP control message (options or read --json form) and send it', run: runInject },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `lispscope: LISP packet-capture analyzer and debugger\n\nUsage: lispscope <command> [options]\n\nCommands:\n${rows.join('\n')}\n\nRun "lispscope <command> --help" for a command's options.\n`;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
    io.out(usage());
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    io.out(`lispscope ${VERSION}\n`);
    return 0;
  }
  const c = COMMANDS[cmd];
  try {
    if (!c) throw new UsageError(`unknown command "${cmd}" (lispscope --help lists them)`);
    const code = await c.run(rest, io);
    io.flush();
    return code;
  } catch (e) {
    io.flush();
    if (e instanceof UsageError) {
      io.error(e.message);
      return 2;
    }
    // A bug of ours: still one line for the user; the stack only when asked for.
    io.error(`internal error: ${(e as Error).message ?? String(e)}${io.env.LISPSCOPE_DEBUG ? `\n${(e as Error).stack}` : ' (set LISPSCOPE_DEBUG=1 for details)'}`);
    return 70;
  }
}

export const VERSION = '0.1.0';
