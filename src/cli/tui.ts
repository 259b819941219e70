// `lispscope tui [FILE... | -i IFACE | --lab [--scenario S]]`: the terminal UI over capture files
// (several merge by time, as for `flows`), a live interface, or the embedded lab (the default).
// Everything that can go wrong before the UI starts (usage, a missing file, an interface that
// cannot be opened, no terminal) is one line on stderr and exit status 2.

import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { LISP_CONTROL_PORT } from '../dissect/registry.js';
import { LiveCaptureError } from '../capture/live.js';
import { CaptureError } from '../capture/types.js';
import { LAB_SCENARIOS, labAddresses, labKeyRing, type LabScenario } from '../mn/lab.js';
import { boundHeapGrowth } from '../flows/heap.js';
import { FileSource } from '../tui/file-source.js';
import { LabSource } from '../tui/lab-source.js';
import { LiveSource } from '../tui/live-source.js';
import { paintFor } from '../tui/paint.js';
import type { DataSource } from '../tui/source.js';
import { helpText, intValue, parseArgs, UsageError, type CommandSpec } from './args.js';
import { filterAmong, keyLookup, loadKeys, parseDecodeAs } from './common.js';
import type { Io } from '../output/io.js';

export const tuiSpec: CommandSpec = {
  name: 'tui',
  summary:
    'Terminal UI: sessions (exchanges) from their request on, packets with the detail tree and hex, the ladder diagram of a session, mappings with handovers, and actions through the embedded Mobile Node. Over capture files, a live interface, or the lab (the default).',
  usage: 'lispscope tui [FILE... | -i IFACE | --lab [--scenario S]] [options]',
  example: 'lispscope tui pcaps/mn-handover.pcapng',
  options: [
    { name: 'interface', short: 'i', kind: 'value', arg: 'IFACE', help: 'capture live on IFACE (libpcap, as sniff does)' },
    { name: 'capture-filter', short: 'f', kind: 'value', arg: 'EXPR', help: `with -i: BPF capture filter (default: as sniff: the LISP and VXLAN ports, TCP ${LISP_CONTROL_PORT}, ICMP errors, later fragments)` },
    { name: 'lab', kind: 'flag', help: 'run the embedded lab on loopback and watch it (the default without FILE or -i)' },
    { name: 'scenario', short: 's', kind: 'value', arg: 'NAME', help: `lab scenario: ${LAB_SCENARIOS.join(', ')} (default all)` },
    { name: 'base', kind: 'value', arg: 'ADDR', help: 'lab: loopback address the components count up from (default 127.0.1.0)' },
    { name: 'filter', short: 'Y', kind: 'value', arg: 'EXPR', help: 'start with this filter of the sessions and packets (/ changes it)' },
    { name: 'keys', kind: 'value', arg: 'FILE', help: 'verify authentication with keys from FILE (the lab uses its own)' },
    { name: 'decode-as', short: 'd', kind: 'list', arg: 'udp.port=N[,data|vxlan]', help: 'decode UDP port N as LISP control (or data, or VXLAN)' },
    { name: 'timeout', kind: 'value', arg: 'SEC', help: 'an unanswered request closes this long after its last transmission (default per kind: 10 s, RLOC-probes 20 s; lab 1)' },
    { name: 'keep', kind: 'value', arg: 'N', help: 'live and lab: packets kept in memory, the newest (default 100000)' },
    { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
  ],
};

function seconds(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) throw new UsageError(`tui: --timeout needs a positive number of seconds, not "${v}"`);
  return n;
}

export async function runTuiCommand(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(tuiSpec, argv);
  if (a.flags.get('help')) {
    io.out(helpText(tuiSpec));
    return 0;
  }
  const files = a.positional;
  const iface = a.values.get('interface');
  const lab = a.flags.get('lab') ?? false;
  if ([files.length > 0, iface !== undefined, lab].filter(Boolean).length > 1) {
    throw new UsageError('tui: give capture FILEs, -i IFACE or --lab, one of them');
  }
  if (files.includes('-')) throw new UsageError('tui: reads keys from the terminal, so not a capture from stdin: give a file');
  const scenarioText = a.values.get('scenario');
  if (scenarioText !== undefined && (files.length || iface !== undefined)) throw new UsageError('tui: --scenario goes with --lab');
  const scenario = (scenarioText ?? 'all') as LabScenario;
  if (!LAB_SCENARIOS.includes(scenario)) throw new UsageError(`tui: unknown scenario "${scenario}" (one of ${LAB_SCENARIOS.join(', ')})`);
  const base = a.values.get('base');
  if (base !== undefined) {
    try {
      labAddresses(base);
    } catch (e) {
      throw new UsageError(`tui: ${(e as Error).message}`);
    }
  }
  const timeout = seconds(a.values.get('timeout'));
  const keep = intValue(tuiSpec, 'keep', a.values.get('keep'));
  if (keep !== undefined && keep < 100) throw new UsageError('tui: --keep needs at least 100 packets');
  const filter = a.values.get('filter');
  if (filter !== undefined) filterAmong(filter);
  const decodeAs = parseDecodeAs(a.lists.get('decode-as') ?? []);
  const keysPath = a.values.get('keys');
  const ring = keysPath ? loadKeys(keysPath) : undefined;
  if (!isatty(1) || !io.stdout.isTTY) {
    throw new UsageError('tui: stdout is not a terminal; for text or JSON use "lispscope read" (packets) or "lispscope flows" (exchanges)');
  }
  if (!isatty(0)) throw new UsageError('tui: stdin is not a terminal (the UI reads its keys from it); use "lispscope read" or "lispscope flows"');

  let source: DataSource;
  const keyFor = ring ? keyLookup(ring) : undefined;
  if (files.length) {
    const keys = keysPath && ring ? { keys: { text: readFileSync(keysPath, 'utf8'), path: keysPath } } : {};
    // The flow engine runs over the whole capture and its sessions stay: the heap's peak is its.
    boundHeapGrowth();
    source = new FileSource(files, { decoder: { decodeAs, ...(keyFor ? { keyFor } : {}) }, ...keys, ...(timeout ? { timeout } : {}) });
  } else if (iface !== undefined) {
    const bpf = a.values.get('capture-filter');
    source = new LiveSource({ iface, ...(bpf !== undefined ? { filter: bpf } : {}), decoder: { decodeAs, ...(keyFor ? { keyFor } : {}) }, ...(timeout ? { timeout } : {}), ...(keep ? { maxPackets: keep } : {}) });
  } else {
    source = new LabSource({
      scenario,
      ...(base ? { base } : {}),
      decoder: { decodeAs, keyFor: keyLookup(labKeyRing()) },
      ...(timeout ? { timeout } : {}),
      ...(keep ? { maxPackets: keep } : {}),
    });
  }
  // Ink renders nothing but the last frame when it believes it runs in CI; this is a terminal.
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  // Loaded before the source starts its background work, which would otherwise slow the loading.
  const { runTui } = await import('../tui/run.js');
  try {
    await source.start();
  } catch (e) {
    await source.stop().catch(() => undefined);
    if (e instanceof CaptureError || e instanceof LiveCaptureError || source.kind === 'lab') {
      io.error((e as Error).message);
      return 2;
    }
    throw e;
  }
  await runTui(source, { paint: paintFor(io.env), ...(filter ? { filter } : {}) });
  return 0;
}
