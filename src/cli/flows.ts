// `lispscope flows|mappings|stats FILE...`: the flow engine over one capture or several merged
// by time (from several vantage points), as tables for people or NDJSON for tools.

import { CaptureError } from '../capture/types.js';
import { analyzeCaptures, type AnalyzeOptions } from '../flows/analyze.js';
import { failuresIn } from '../flows/stats.js';
import type { FilterDomain, Predicate } from '../flows/filter.js';
import type { Exchange, ExchangeSummary } from '../flows/types.js';
import { exchangeJson, mappingJson, statsJson } from '../output/json-flows.js';
import { writeExchangeJson } from '../output/json-exchange-fast.js';
import { writeMappingJson } from '../output/json-mapping-fast.js';
import { capDroppedText, ExchangeTableStream, mappingText, statsText } from '../output/flows-text.js';
import { filterHelpText } from '../output/filter-help.js';
import { chooseStyle } from '../output/style.js';
import { helpText, parseArgs, UsageError, type CommandSpec, type OptionSpec, type Parsed } from './args.js';
import type { Io } from '../output/io.js';
import { filterOf, keyLookup, loadKeys, parseDecodeAs } from './common.js';

const COMMON: OptionSpec[] = [
  { name: 'read', short: 'r', kind: 'list', arg: 'FILE', help: 'capture file (same as a positional FILE); several merge by time' },
  { name: 'json', kind: 'flag', help: 'NDJSON output, one object per exchange, mapping or the statistics (docs/json.md)' },
  { name: 'filter', short: 'Y', kind: 'value', arg: 'EXPR', help: 'display filter, e.g. "outcome == unanswered && eid in 10.0.0.0/8"' },
  { name: 'timeout', kind: 'value', arg: 'SEC', help: 'an unanswered request closes this long after its last transmission (default per kind: 10 s, RLOC-probes 20 s; see docs/flows.md)' },
  { name: 'keys', kind: 'value', arg: 'FILE', help: 'verify authentication with keys from FILE' },
  { name: 'decode-as', short: 'd', kind: 'list', arg: 'udp.port=N[,data|vxlan]', help: 'decode UDP port N as LISP control (or data, or VXLAN)' },
  { name: 'fail-on', kind: 'list', arg: 'WHAT', help: 'exit 1 when any unanswered, rejected, auth-failed or malformed is found' },
  { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
];

export const flowsSpec: CommandSpec = {
  name: 'flows',
  summary: 'LISP exchanges: registrations, resolutions, SMRs, RLOC-probes, NAT info, referrals.',
  usage: 'lispscope flows [options] FILE...',
  example: "lispscope flows -Y 'outcome != answered' mn.pcap ms.pcap   # two vantage points merged",
  options: COMMON,
};
export const mappingsSpec: CommandSpec = {
  name: 'mappings',
  summary: 'Per EID: the RLOC sets announced and learned over time, and each handover with its peers.',
  usage: 'lispscope mappings [options] FILE...',
  example: 'lispscope mappings pcaps/mn-handover.pcapng',
  options: COMMON,
};
export const statsSpec: CommandSpec = {
  name: 'stats',
  summary: 'Counts per message type, per site and EID, RTT percentiles per Map-Resolver, failures.',
  usage: 'lispscope stats [options] FILE...',
  example: 'lispscope stats pcaps/mn-handover.pcapng',
  options: COMMON,
};

const FAIL_ON = new Set(['unanswered', 'rejected', 'auth-failed', 'malformed']);

interface Setup {
  files: string[];
  json: boolean;
  filter?: Predicate;
  /** --timeout: one wait for every kind instead of the per-kind defaults. */
  timeout?: number;
  failOn: Set<string>;
  a: Parsed;
}

/** The command's setup, or the text to print instead (its help, or the filter fields for `-Y help`). */
function setup(spec: CommandSpec, argv: string[], domain?: FilterDomain): Setup | string {
  const a = parseArgs(spec, argv);
  if (a.flags.get('help')) return helpText(spec);
  const expr = a.values.get('filter');
  if (expr === 'help' && domain) return filterHelpText(domain);
  const files = [...(a.lists.get('read') ?? []), ...a.positional];
  if (files.length === 0) throw new UsageError(`${spec.name}: no capture file given (lispscope ${spec.name} FILE...)`);
  const t = a.values.get('timeout');
  const timeout = t === undefined ? undefined : Number(t);
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) throw new UsageError(`${spec.name}: --timeout needs a positive number of seconds, not "${t}"`);
  const failOn = new Set((a.lists.get('fail-on') ?? []).flatMap((x) => x.split(',')));
  for (const f of failOn) {
    if (!FAIL_ON.has(f)) throw new UsageError(`${spec.name}: --fail-on takes unanswered, rejected, auth-failed or malformed, not "${f}"`);
  }
  const s: Setup = { files, json: a.flags.get('json') ?? false, failOn, a };
  if (timeout !== undefined) s.timeout = timeout;
  if (expr !== undefined) {
    if (!domain) throw new UsageError(`${spec.name}: -Y filters exchanges and packets; use it with flows, mappings or read`);
    s.filter = filterOf(expr, domain);
  }
  return s;
}

/**
 * Runs the engine over the files; exchanges reach `onExchange` (or only their summaries
 * `onSummary`) in order of start as they close (`order` 'close': as each closes). `without`: what
 * the command does not print, so the engine does not work it out.
 */
async function analyze(s: Setup, io: Io, how: Pick<AnalyzeOptions, 'onExchange' | 'onSummary' | 'without' | 'order'>) {
  const keysPath = s.a.values.get('keys');
  const ring = keysPath ? loadKeys(keysPath) : undefined;
  try {
    return await analyzeCaptures(s.files, {
      decoder: { decodeAs: parseDecodeAs(s.a.lists.get('decode-as') ?? []), ...(ring ? { keyFor: keyLookup(ring) } : {}) },
      warning: (m) => io.warn(m),
      ready: () => io.ready(),
      ...(s.timeout !== undefined ? { timeout: s.timeout } : {}),
      ...how,
    });
  } catch (e) {
    if (e instanceof CaptureError) throw new UsageError(e.message);
    throw e;
  }
}

/** Exit status for --fail-on: `found` holds the exchanges' outcomes, and `malformed` when a frame was. */
function failed(s: Setup, found: Set<string>): number {
  for (const f of s.failOn) if (found.has(f)) return 1;
  return 0;
}

export async function runFlows(argv: string[], io: Io): Promise<number> {
  const s = setup(flowsSpec, argv, 'exchange');
  if (typeof s === 'string') {
    io.out(s);
    return 0;
  }
  const multi = s.files.length > 1;
  const style = chooseStyle(s.json ? { isTTY: false } : io.stdout, io.env);
  const found = new Set<string>();
  // Rows print as exchanges close, a block at a time: a million exchanges must not wait for the end.
  const table = s.json ? undefined : new ExchangeTableStream(style, multi, (text) => io.line(text));
  // Unfiltered NDJSON is written straight into the output buffer, without the object and its text.
  const fast = s.json && !s.filter;
  const onExchange = (e: Exchange) => {
    if (fast) {
      found.add(e.outcome);
      writeExchangeJson(io.buffer, e, multi);
      return;
    }
    const obj = exchangeJson(e, multi);
    if (s.filter && !s.filter(obj)) return;
    found.add(e.outcome);
    if (table) table.push(e);
    else io.line(JSON.stringify(obj));
  };
  const r = await analyze(s, io, { onExchange, without: ['mappings', 'exchange-stats'] });
  table?.end();
  if (r.stats.malformedFrames > 0) found.add('malformed');
  if (r.duplicates) io.warn(`${r.duplicates} ${r.duplicates === 1 ? 'packet' : 'packets'} seen in more than one capture ${r.duplicates === 1 ? 'was' : 'were'} counted once`);
  if (r.counters.dropped) io.warn(capDroppedText(r.counters.dropped));
  return failed(s, found);
}

export async function runMappings(argv: string[], io: Io): Promise<number> {
  const s = setup(mappingsSpec, argv, 'mapping');
  if (typeof s === 'string') {
    io.out(s);
    return 0;
  }
  const multi = s.files.length > 1;
  const style = chooseStyle(s.json ? { isTTY: false } : io.stdout, io.env);
  const found = new Set<string>();
  // Only the outcomes are read, and only for --fail-on: in any order, none held behind a
  // long-lived exchange; without it no exchange is handed out at all, and only those the mappings
  // depend on are followed.
  const onSummary = s.failOn.size ? (e: ExchangeSummary) => void found.add(e.outcome) : undefined;
  const r = await analyze(s, io, { ...(onSummary ? { onSummary } : {}), without: onSummary ? ['exchange-stats'] : ['exchanges', 'exchange-stats'], order: 'close' });
  if (r.stats.malformedFrames > 0) found.add('malformed');
  let first = true;
  // Unfiltered NDJSON is written straight into the output buffer, without the object and its text.
  const fast = s.json && !s.filter;
  for (const m of r.mappings) {
    if (fast) {
      writeMappingJson(io.buffer, m, multi);
      const full = io.ready();
      if (full) await full;
      continue;
    }
    const obj = mappingJson(m, multi);
    if (s.filter && !s.filter(obj)) continue;
    if (s.json) io.line(JSON.stringify(obj));
    else {
      if (!first) io.line('');
      io.line(mappingText(m, style, multi));
    }
    first = false;
    const full = io.ready();
    if (full) await full;
  }
  return failed(s, found);
}

export async function runStats(argv: string[], io: Io): Promise<number> {
  const s = setup(statsSpec, argv);
  if (typeof s === 'string') {
    io.out(s);
    return 0;
  }
  const style = chooseStyle(s.json ? { isTTY: false } : io.stdout, io.env);
  // The handovers are counted, not printed: no timelines or peers.
  const r = await analyze(s, io, { without: ['mapping-details'] });
  const st = r.stats;
  if (s.json) io.line(JSON.stringify({ ...statsJson(st), duplicates: r.duplicates, late_answers: r.counters.lateAnswers }));
  else io.line(statsText(st, style));
  return failed(s, failuresIn(st));
}
