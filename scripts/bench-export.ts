// The export part of `npm run bench` (docs/export.md, "Scale"): the bench capture into DuckDB and
// Parquet against `read --json` of the same capture in the same run, wall and CPU time, and
// `sniff --export clickhouse://…` on lo at fixed rates. Alone, on a capture the bench generated:
//
//   node dist/scripts/bench-export.js [--packets N]

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'bench-out');
const BIN = join(ROOT, 'bin/lispscope');

/**
 * The bench capture's file. Its name carries the generator's generation: a capture written by an
 * older generator (one control message repeated instead of fresh ones) must not be measured as if
 * it were today's. Bump GENERATION whenever generate() in bench.ts changes what it writes.
 */
const GENERATION = 2;
export const benchCaptureFile = (n: number): string => join(OUT, `bench-g${GENERATION}-${n}.pcap`);

interface Run {
  wall: number;
  /** User + system CPU seconds of the process and its threads. */
  cpu: number;
  peakMb: number;
}

/** Runs lispscope with stdout to /dev/null, under GNU time for CPU and peak RSS. */
async function run(args: string[]): Promise<Run> {
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', process.execPath, BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  const wall = (performance.now() - t0) / 1000;
  const last = err.trim().split('\n').pop() ?? '';
  if (code !== 0) throw new Error(`lispscope ${args[0]} failed (${code}): ${err.trim().split('\n').slice(-3).join(' ')}`);
  const [user, sys, kb] = last.split(' ').map(Number) as [number, number, number];
  return { wall, cpu: user + sys, peakMb: kb / 1024 };
}

function treeBytes(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? treeBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);
}

/**
 * `read --json`, then the export to DuckDB and to Parquet, of the same capture: the ratios are
 * taken within this run (the machine may be shared, so CPU time is given beside wall time: DuckDB
 * works on a second core while the capture is read).
 */
export async function exportSection(file: string, n: number): Promise<void> {
  if (!existsSync('/usr/bin/time')) {
    process.stdout.write('\nexport: skipped (needs GNU time: apt-get install time)\n');
    return;
  }
  const duck = join(OUT, 'bench.duckdb');
  const parquet = join(OUT, 'bench-parquet');
  rmSync(duck, { force: true });
  rmSync(`${duck}.wal`, { force: true });
  rmSync(parquet, { recursive: true, force: true });
  process.stderr.write('\nexport: read --json, then the capture into DuckDB and into Parquet...\n');
  const read = await run(['read', '--json', file]);
  const d = await run(['export', file, '--to', duck]);
  const p = await run(['export', file, '--to', `${parquet}/`]);
  const perMillion = (bytes: number) => ((bytes / n) * 1e6) / 2 ** 20;
  const row = (name: string, m: Run, extra = '') =>
    `${name.padEnd(27)} ${m.wall.toFixed(2).padStart(6)} s ${m.cpu.toFixed(2).padStart(6)} s CPU ${Math.round(n / m.wall).toLocaleString('en').padStart(9)} pkt/s ` +
    `${m.peakMb.toFixed(0).padStart(4)} MB peak${extra}`;
  const ratio = (m: Run, bytes: number) =>
    `  ${(m.wall / read.wall).toFixed(2)}x the time, ${(m.cpu / read.cpu).toFixed(2)}x the CPU of read --json; ${perMillion(bytes).toFixed(1)} MiB per million packets`;
  process.stdout.write(
    `\n${row('lispscope read --json', read)}\n${row('export --to x.duckdb', d, ratio(d, statSync(duck).size))}\n` +
      `${row('export --to dir/ (Parquet)', p, ratio(p, treeBytes(parquet)))}\n` +
      `  (the capture file: ${perMillion(statSync(file).size).toFixed(1)} MiB per million packets)\n` +
      'target: export to DuckDB <= 2.5x the time of read --json, peak RSS < 300 MB\n',
  );
}

/**
 * Whether this process is in a network namespace of its own, as `unshare -n` makes: loopback is
 * its only interface (/proc/net/dev is the process's namespace's).
 */
function privateNetns(): boolean {
  const ifaces = readFileSync('/proc/net/dev', 'utf8')
    .split('\n')
    .slice(2)
    .map((l) => l.split(':')[0]!.trim())
    .filter(Boolean);
  return ifaces.length === 1 && ifaces[0] === 'lo';
}

/**
 * A ClickHouse to export to: LISPSCOPE_CLICKHOUSE, else Debian's server started by .ci/clickhouse,
 * only in a private network namespace (its port 8123 is then ours alone).
 */
function clickhouseForBench(): { http: string; pid?: number; stop: () => void } | string {
  const given = process.env.LISPSCOPE_CLICKHOUSE;
  if (given) return { http: given, stop: () => {} };
  if (!existsSync('/usr/sbin/clickhouse-server') && !existsSync('/usr/bin/clickhouse-server')) return 'no clickhouse-server installed (apt-get install clickhouse-server)';
  if (!privateNetns()) {
    return "needs a network namespace of its own for ClickHouse's port: unshare -n sh -c 'ip link set lo up && npm run bench -- --live-only' (or LISPSCOPE_CLICKHOUSE=http://host:8123)";
  }
  const dir = join(OUT, 'clickhouse');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(join(ROOT, '.ci/clickhouse'), ['start', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `clickhouse-server did not start: ${r.stderr.trim().split('\n').pop()}`;
  const pid = r.stdout.trim();
  return { http: 'http://127.0.0.1:8123', pid: Number(pid), stop: () => void spawnSync(join(ROOT, '.ci/clickhouse'), ['stop', pid]) };
}

async function clickhouse(http: string, sql: string): Promise<string> {
  const r = await fetch(http, { method: 'POST', body: sql });
  const text = await r.text();
  if (!r.ok) throw new Error(`ClickHouse: ${text.trim()}`);
  return text.trim();
}

/** CPU seconds a process has used in user and system mode, from /proc. */
export function cpuSeconds(pid: number): { user: number; sys: number } {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / 100, sys: Number(fields[12]) / 100 };
}

/** What the live bench's run of one sniff child reports (bench.ts liveRun). */
export interface LiveRun {
  rate: number;
  sentRate: number;
  sent: number;
  captured: number;
  queueDrops: number;
  /** What pcap_stats counted as dropped in the kernel; undefined through cap. */
  kernelDrops: number | undefined;
  cpu: number;
}

/**
 * `sniff --export clickhouse://...` against the live bench's traffic at fixed rates: every packet
 * must reach the table. `liveRun` runs one sniff child with extra arguments at a rate; `warm` is
 * the warm-up packets it sends first; `rates` are the bench's --export-rates; with several `roots`
 * (--lispscope), each rate runs each checkout in turn.
 */
export async function liveExportSection(
  liveRun: (mode: string[], rate: number, root: string) => Promise<LiveRun>,
  seconds: number,
  warm: number,
  rates = [50_000, 100_000, 125_000],
  roots = [ROOT],
): Promise<void> {
  const ch = clickhouseForBench();
  if (typeof ch === 'string') {
    process.stdout.write(`\nsniff --export clickhouse: skipped (${ch})\n`);
    return;
  }
  const rows: string[] = [];
  const best = new Map<string, number>();
  try {
    const u = new URL(ch.http);
    const url = `clickhouse://default@${u.hostname}:${u.port || 8123}/lispscope_bench`;
    process.stderr.write(`\nsniff --export ${url}, ${seconds} s per rate...\n`);
    for (const [rate, root] of rates.flatMap((rate) => roots.map((root) => [rate, root] as const))) {
      await clickhouse(ch.http, 'DROP DATABASE IF EXISTS lispscope_bench');
      await clickhouse(ch.http, 'CREATE DATABASE lispscope_bench');
      const server0 = ch.pid === undefined ? undefined : cpuSeconds(ch.pid);
      const r = await liveRun(['--export', url], rate, root);
      const server1 = ch.pid === undefined ? undefined : cpuSeconds(ch.pid);
      const inTable = Number(await clickhouse(ch.http, 'SELECT count() FROM lispscope_bench.packets')) - warm;
      const pps = (v: number) => Math.round(v).toLocaleString('en').padStart(7);
      const us = (cpu: number, rows: number) => ((cpu / rows) * 1e6).toFixed(2);
      // The server's CPU spans the whole run, the warm-up's rows included.
      const server = server0 && server1 ? server1.user + server1.sys - server0.user - server0.sys : undefined;
      const label = roots.length > 1 ? ` [${root}]` : '';
      if (inTable === r.sent) best.set(label, Math.max(best.get(label) ?? 0, r.sentRate));
      rows.push(
        `sniff --export ${pps(r.rate)} pkt/s (${pps(r.sentRate)} sent): ${inTable.toLocaleString('en').padStart(7)} of ${r.sent.toLocaleString('en')} in ClickHouse, ` +
          `${r.queueDrops} dropped by the queue, ${r.sent - r.captured - r.queueDrops} lost before it${r.kernelDrops === undefined ? '' : ` (kernel drops ${r.kernelDrops})`}; ` +
          `sniff CPU ${r.cpu.toFixed(2)} s (${us(r.cpu, r.captured)} µs a packet)` +
          (server === undefined ? '' : `, clickhouse-server CPU ${server.toFixed(2)} s (${us(server, inTable + warm)} µs a row)`) +
          label,
      );
      process.stderr.write(`${rows[rows.length - 1]}\n`);
    }
    await clickhouse(ch.http, 'DROP DATABASE IF EXISTS lispscope_bench');
  } finally {
    ch.stop();
  }
  process.stdout.write(`\nsniff --export to ClickHouse on lo (${seconds} s per rate after the warm-up; rows counted in the packets table):\n${rows.join('\n')}\n`);
  for (const [label, rate] of best) process.stdout.write(`sniff --export: the highest rate with every packet in ClickHouse: ${Math.round(rate).toLocaleString('en')} pkt/s${label}\n`);
  process.stdout.write('target: 100,000 LISP packets/s, every packet in ClickHouse\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const argv = process.argv.slice(2);
  const n = argv.includes('--packets') ? Number(argv[argv.indexOf('--packets') + 1]) : 1_000_000;
  const file = benchCaptureFile(n);
  if (!existsSync(file)) {
    process.stderr.write(`${file} is missing: npm run bench -- --packets ${n} generates it\n`);
    process.exit(2);
  }
  await exportSection(file, n);
}
