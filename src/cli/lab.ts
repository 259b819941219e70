// `lispscope lab`: a whole LISP deployment on loopback (Map-Server/Map-Resolver, two xTR sites,
// PxTR, RTR, NAT and the Mobile Node), a scenario run with accelerated timers, every packet
// printed as it is sent (or NDJSON), the capture written with -w, and an analysis at the end.

import type { LispPacket } from '../capture/packets.js';
import { PacketDecoder } from '../capture/packets.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT } from '../dissect/registry.js';
import { LAB_SCENARIOS, labAddresses, labKeyRing, runLab, type LabResult, type LabScenario } from '../mn/lab.js';
import type { RecordedFrame } from '../mn/recorder.js';
import { labAnalysisText, labHoldLine, labPacketLine, labStepsLines } from '../output/lab.js';
import { chooseStyle } from '../output/style.js';
import { helpText, intValue, parseArgs, UsageError, type CommandSpec } from './args.js';
import type { Io } from '../output/io.js';
import { keyLookup, openRecording } from './common.js';

export const labSpec: CommandSpec = {
  name: 'lab',
  summary:
    'Run a LISP deployment on loopback addresses (no root): Map-Server/Map-Resolver, two xTR sites, a PxTR with a non-LISP host, an RTR, a NAT and the Mobile Node; print every packet as it is sent and an analysis at the end.',
  usage: 'lispscope lab [--scenario register|resolve|handover|nat|probe|pxtr|all] [--duration SEC] [-w FILE] [--base ADDR] [--json]',
  example: 'lispscope lab --scenario handover -n -w handover.pcapng',
  options: [
    { name: 'scenario', short: 's', kind: 'value', arg: 'NAME', help: `what to run: ${LAB_SCENARIOS.join(', ')} (default all)` },
    { name: 'duration', kind: 'value', arg: 'SEC', help: 'keep the lab running this long after the start (refreshes, a ping a second)' },
    { name: 'write', short: 'w', kind: 'value', arg: 'FILE', help: 'write every packet to FILE (.pcapng, else pcap), raw IP link type' },
    { name: 'base', kind: 'value', arg: 'ADDR', help: 'loopback address the components count up from (default 127.0.1.0: .1 to .12)' },
    { name: 'control-port', kind: 'value', arg: 'N', help: `LISP control port (default ${LISP_CONTROL_PORT})` },
    { name: 'data-port', kind: 'value', arg: 'N', help: `LISP data port (default ${LISP_DATA_PORT})` },
    { name: 'json', kind: 'flag', help: 'NDJSON, one object per packet as `read --json` writes it, plus "sender"; step results go to stderr' },
    { name: 'numeric', short: 'n', kind: 'flag', help: 'numeric ports' },
    { name: 'quiet', short: 'q', kind: 'flag', help: 'do not print the packets, only the steps and the analysis' },
    { name: 'log', kind: 'flag', help: 'the components\' own log lines on stderr' },
    { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
  ],
};

function port(a: ReturnType<typeof parseArgs>, name: string): number | undefined {
  const v = intValue(labSpec, name, a.values.get(name));
  if (v !== undefined && (v < 1 || v > 65535)) throw new UsageError(`lab: --${name} must be 1..65535`);
  return v;
}

export async function runLabCommand(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(labSpec, argv);
  if (a.flags.get('help')) {
    io.out(helpText(labSpec));
    return 0;
  }
  if (a.positional.length) throw new UsageError(`lab: unexpected argument "${a.positional[0]}"`);
  const scenario = (a.values.get('scenario') ?? 'all') as LabScenario;
  if (!LAB_SCENARIOS.includes(scenario)) throw new UsageError(`lab: unknown scenario "${scenario}" (one of ${LAB_SCENARIOS.join(', ')})`);
  const durText = a.values.get('duration');
  const duration = durText === undefined ? 0 : Number(durText);
  if (!Number.isFinite(duration) || duration < 0) throw new UsageError(`lab: --duration needs a number of seconds, not "${durText}"`);
  const base = a.values.get('base') ?? '127.0.1.0';
  try {
    labAddresses(base);
  } catch (e) {
    throw new UsageError(`lab: ${(e as Error).message}`);
  }
  const controlPort = port(a, 'control-port');
  const dataPort = port(a, 'data-port');
  const json = a.flags.get('json') ?? false;
  const quiet = a.flags.get('quiet') ?? false;
  const style = json ? chooseStyle({ isTTY: false }) : chooseStyle(io.stdout, io.env);
  const numeric = a.flags.get('numeric') ?? false;

  const path = a.values.get('write');
  const writer = openRecording('lab', path);

  const ring = labKeyRing();
  const decodeAs = { control: new Set<number>(), data: new Set<number>() };
  const decoder = new PacketDecoder({ all: true, decodeAs, keyFor: keyLookup(ring), warning: (m) => io.warn(m) });
  const packets: LispPacket[] = [];
  const onFrame = (f: RecordedFrame) => {
    const p = decoder.decode(f);
    if (!p) return;
    packets.push(p);
    if (quiet) return;
    io.line(labPacketLine(p, f.component, { json, numeric, style }));
    io.flush();
  };

  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result: LabResult;
  try {
    result = await runLab({
      scenario,
      base,
      ...(controlPort ? { controlPort } : {}),
      ...(dataPort ? { dataPort } : {}),
      durationMs: duration * 1000,
      ...(writer ? { writer } : {}),
      onFrame,
      onHold: (steps) => io.err(`${labHoldLine(scenario, steps, duration)}\n`),
      decodeAs,
      signal: abort.signal,
      ...(a.flags.get('log') ? { log: (level: string, component: string, message: string) => io.err(`${component} ${level}: ${message}\n`) } : {}),
    });
  } catch (e) {
    throw new UsageError(`lab: ${(e as Error).message}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    writer?.close();
  }
  decoder.finish();

  const failed = result.steps.filter((s) => !s.ok).length;
  if (json) {
    // stdout carries only the packets' NDJSON: the steps go to stderr.
    io.flush();
    io.err(`${labStepsLines(result, style).join('\n')}\n`);
  } else {
    io.line('');
    for (const l of labStepsLines(result, style)) io.line(l);
    io.line('');
    io.line(labAnalysisText(packets, result.frames.length, style));
    if (path) io.line(`wrote ${result.frames.length} packets to ${path}`);
  }
  return failed && !result.interrupted ? 1 : 0;
}
