// The lispscope command line: parses the subcommand and hands over. Every failure the user can
// cause ends in one line on stderr and exit status 2, never a stack trace.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './args.js';
import type { Commands } from './commands.js';
import { bashCompletion, zshCompletion } from './completion.js';
import { Output, processIo, type Io } from '../output/io.js';
import { labSpec, runLabCommand } from './lab.js';
import { MN_SPECS, runMn } from './mn.js';
import { msSpec, runMs } from './ms.js';
import { replaySpec, runReplay } from './replay.js';
import { injectSpec, runInject } from './inject.js';
import { exportSpec, runExport } from './export.js';
import { flowsSpec, mappingsSpec, runFlows, runMappings, runStats, statsSpec } from './flows.js';
import { querySpec, runQuery } from './query.js';
import { readSpec, runRead } from './read.js';
import { runSniff, sniffSpec } from './sniff.js';
import { runStart, startSpec } from './start.js';
import { runTuiCommand, tuiSpec } from './tui.js';

export const COMMANDS: Commands = {
  read: { summary: 'decode the LISP packets of capture files', run: runRead, spec: readSpec },
  flows: { summary: 'exchanges: registrations, resolutions, SMRs, probes, NAT info, referrals', run: runFlows, spec: flowsSpec },
  mappings: { summary: 'per EID: RLOC timeline and handovers with each peer\'s latency', run: runMappings, spec: mappingsSpec },
  stats: { summary: 'counts, RTT percentiles per Map-Resolver, failures', run: runStats, spec: statsSpec },
  export: { summary: 'packets, exchanges, mappings and handovers into DuckDB, Parquet or ClickHouse', run: runExport, spec: exportSpec },
  query: { summary: 'SQL over an export: a DuckDB file or a Parquet directory', run: runQuery, spec: querySpec },
  sniff: { summary: 'capture live on an interface (libpcap) and decode LISP as it arrives', run: runSniff, spec: sniffSpec },
  tui: { summary: 'terminal UI: sessions, packets, detail and hex, ladder, mappings; files, a live interface or the lab', run: runTuiCommand, spec: tuiSpec },
  start: { summary: "run the embedded lab's whole Mobile Node scenario and analyse it (what `npm start` runs)", run: runStart, spec: startSpec },
  lab: { summary: 'run a LISP deployment with a Mobile Node on loopback and capture it', run: runLabCommand, spec: labSpec },
  mn: { summary: 'active probe mode: register, resolve (like lig), probe, smr, info, ping, run as a Mobile Node', run: runMn, subcommands: MN_SPECS },
  ms: { summary: 'a standalone Map-Server/Map-Resolver on an address of this host, to test a real xTR or Mobile Node against', run: runMs, spec: msSpec },
  replay: { summary: 're-send the LISP messages of a capture over UDP to one address', run: runReplay, spec: replaySpec },
  inject: { summary: 'craft one LISP control message (options or read --json form) and send it', run: runInject, spec: injectSpec },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return (
    `lispscope: LISP packet-capture analyzer and debugger\n\nUsage: lispscope <command> [options]\n\nCommands:\n${rows.join('\n')}\n` +
    `  ${'help'.padEnd(10)} help CMD: the options of a command (as CMD --help)\n  ${'completion'.padEnd(10)} completion bash|zsh: shell completion (source <(lispscope completion bash))\n\n` +
    `Run "lispscope help <command>" for a command's options; docs/usage.md has them all.\n\nExample:\n  lispscope read -n -c 10 capture.pcap\n`
  );
}

/** `help`, `help CMD`, `help mn register`: a command's own --help. */
async function help(args: string[], io: Io): Promise<number> {
  if (args.length === 0) {
    io.out(usage());
    return 0;
  }
  const [name, ...sub] = args;
  if (name === 'help' || name === 'completion') {
    io.out(usage());
    return 0;
  }
  const c = COMMANDS[name!];
  if (!c) throw new UsageError(`help: no command "${name}" (lispscope help lists them)`);
  return c.run([...sub, '--help'], io);
}

function completion(args: string[], io: Io): number {
  if (args.length !== 1 || (args[0] !== 'bash' && args[0] !== 'zsh')) throw new UsageError('completion: give the shell: lispscope completion bash|zsh');
  io.out(args[0] === 'bash' ? bashCompletion(COMMANDS) : zshCompletion(COMMANDS));
  return 0;
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const code = await command(argv, io);
  // Everything written has left before the exit status is given.
  await io.idle();
  if (io.env.LISPSCOPE_DEBUG && io instanceof Output) {
    // How the output went: with a slow reader, the waits show that reading was held back.
    io.err(`lispscope: debug: output: at most ${io.peak} bytes queued, waited ${io.waits} times for the reader\n`);
    await io.idle();
  }
  return code;
}

async function command(argv: string[], io: Io): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h') {
    io.out(usage());
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-v') {
    io.out(`lispscope ${VERSION}\n`);
    return 0;
  }
  const c = COMMANDS[cmd];
  try {
    if (cmd === 'help') return await help(rest, io);
    if (cmd === 'completion') return completion(rest, io);
    if (!c) throw new UsageError(`unknown command "${cmd}" (lispscope --help lists them)`);
    return await c.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.error(e.message);
      return 2;
    }
    // A bug of ours: still one line for the user; the stack only when asked for.
    io.error(`internal error: ${(e as Error).message ?? String(e)}${io.env.LISPSCOPE_DEBUG ? `\n${(e as Error).stack}` : ' (set LISPSCOPE_DEBUG=1 for details)'}`);
    return 70;
  }
}

/** The version in package.json (found from src/ or dist/src/). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'lispscope' && pkg.version) return pkg.version;
    } catch {
      // not here: one directory up
    }
  }
  return 'unknown';
}

export const VERSION = packageVersion();
