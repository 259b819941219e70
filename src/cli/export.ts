// `lispscope export FILE... --to DEST`: packets, exchanges, mappings and handovers into DuckDB,
// Parquet or ClickHouse (the work is in src/export/).

import { CaptureError } from '../capture/types.js';
import { openDestination } from '../export/destination.js';
import { defaultVantage, exportFiles } from '../export/export.js';
import { SinkError } from '../export/sink.js';
import { helpText, parseArgs, UsageError, type CommandSpec } from './args.js';
import { filtersForAll, keyLookup, loadKeys, parseDecodeAs } from './common.js';
import type { Io } from '../output/io.js';
import { plural } from '../output/units.js';

export const exportSpec: CommandSpec = {
  name: 'export',
  summary: 'Export packets, exchanges, mappings and handovers of capture files to DuckDB, Parquet or ClickHouse (see docs/export.md).',
  usage: 'lispscope export [options] FILE... --to x.duckdb | dir/ | clickhouse://user@host:8123/db',
  example: 'lispscope export mn.pcap ms.pcap --vantage mn --vantage ms --to lisp.duckdb',
  options: [
    { name: 'to', kind: 'value', arg: 'DEST', help: 'x.duckdb (DuckDB file), dir/ (Parquet files) or clickhouse://user[:password]@host:8123/db' },
    { name: 'read', short: 'r', kind: 'list', arg: 'FILE', help: 'capture file (same as a positional FILE); each is one input' },
    { name: 'vantage', kind: 'list', arg: 'NAME', help: 'label of the capture point: once for all files, or once per file in order (default: the file name)' },
    { name: 'partition', kind: 'value', arg: 'input|hour', help: 'Parquet: one file per table per input (default) or per hour' },
    { name: 'filter', short: 'Y', kind: 'value', arg: 'EXPR', help: 'display filter: keeps the packets, exchanges and mappings it matches' },
    { name: 'timeout', kind: 'value', arg: 'SEC', help: 'an unanswered request closes this long after its last transmission (default per kind: 10 s, RLOC-probes 20 s; docs/flows.md)' },
    { name: 'keys', kind: 'value', arg: 'FILE', help: 'verify authentication with keys from FILE' },
    { name: 'decode-as', short: 'd', kind: 'list', arg: 'udp.port=N[,data]', help: 'decode UDP port N as LISP control (or data)' },
    { name: 'help', short: 'h', kind: 'flag', help: 'show this help' },
  ],
};

/** --vantage: one name for every input, or one per input. */
export function vantages(names: string[], inputs: string[], fallback: (input: string) => string, command: string): string[] {
  if (names.length === 0) return inputs.map(fallback);
  if (names.length === 1) return inputs.map(() => names[0]!);
  if (names.length !== inputs.length) throw new UsageError(`${command}: ${names.length} --vantage names for ${inputs.length} inputs (give one, or one per input)`);
  return names;
}

export function partitionOf(command: string, v: string | undefined): 'input' | 'hour' | undefined {
  if (v === undefined || v === 'input' || v === 'hour') return v;
  throw new UsageError(`${command}: --partition takes input or hour, not "${v}"`);
}

export async function runExport(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(exportSpec, argv);
  if (a.flags.get('help')) {
    io.out(helpText(exportSpec));
    return 0;
  }
  const files = [...(a.lists.get('read') ?? []), ...a.positional];
  if (files.length === 0) throw new UsageError('export: no capture file given (lispscope export FILE... --to DEST)');
  const dest = a.values.get('to');
  if (dest === undefined) throw new UsageError('export: no destination (--to x.duckdb, --to dir/ or --to clickhouse://user@host:8123/db)');
  const t = a.values.get('timeout');
  const timeout = t === undefined ? undefined : Number(t);
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) throw new UsageError(`export: --timeout needs a positive number of seconds, not "${t}"`);
  const names = vantages(a.lists.get('vantage') ?? [], files, defaultVantage, 'export');
  const partition = partitionOf('export', a.values.get('partition'));
  const expr = a.values.get('filter');
  const keysPath = a.values.get('keys');
  const ring = keysPath ? loadKeys(keysPath) : undefined;
  const decodeAs = parseDecodeAs(a.lists.get('decode-as') ?? []);
  try {
    const sink = openDestination(dest, { ...(partition ? { partition } : {}), env: io.env });
    const summaries = await exportFiles(
      files.map((path, i) => ({ path, vantage: names[i]! })),
      sink,
      {
        decoder: { decodeAs, ...(ring ? { keyFor: keyLookup(ring) } : {}) },
        warning: (m) => io.warn(m),
        ...(timeout !== undefined ? { timeout } : {}),
        ...(expr !== undefined ? { filters: filtersForAll(expr) } : {}),
      },
    );
    for (const [i, s] of summaries.entries()) {
      const r = s.rows;
      io.err(
        `lispscope: ${files[i]} (${names[i]}): ${plural(r.packets, 'packet')}, ${plural(r.exchanges, 'exchange')}, ${plural(r.mappings, 'mapping entry', 'mapping entries')}, ${plural(r.handovers, 'handover')} → ${sink.label}\n`,
      );
    }
    return 0;
  } catch (e) {
    if (e instanceof SinkError || e instanceof CaptureError) throw new UsageError(e.message);
    throw e;
  }
}
