// `npm run bench`: packets/s and peak memory of lispscope's commands against tshark and tcpdump
// on the same deterministic 1,000,000-packet capture, in the same run; backpressure, the terminal
// UI's data source, and live capture on lo. Not a test.
//
//   npm run bench [-- --packets N] [--rounds N] [--generate] [--no-tshark] [--no-export] [--no-flood] [--no-tui] [--no-live]
//                 [--no-sniff] [--no-live-export] [--live-only] [--sniff-buffer KiB]
//                 [--rates PPS,...] [--sniff-modes json,lines] [--lispscope DIR,...] [--no-slow-reader]
//                 [--export-rates PPS,...]
//
// --sniff-buffer KiB: the live runs' sniff takes -B KiB (libpcap's ring; default defaultBufferSize's).
// --rates, --sniff-modes: the live runs' rates and sniff's outputs (default: all of them); --export-rates: the
// live export's rates.
// --lispscope DIR,...: the checkouts whose bin/lispscope sniffs (default this one); with several,
//   each rate runs each in turn, so that an old build and a new one share the minute's load.
//
// Every target of the offline part is a ratio of two measurements of the same run, on wall time and
// on CPU time (user + system): the machine is shared, and CPU time moves less with what else runs.
// --rounds N (default 3): the offline commands (tshark aside: once) run N times, in turn, and each
// is its medians (peak RSS: its highest): runs of one build move by some 5%, ratios near a target
// should not hang on one of them.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapFileWriter } from '../src/capture/writer.js';
import {
  dataPacket,
  ecm,
  infoRequest,
  lispUdpPacket,
  mapNotify,
  mapNotifyAck,
  mappingRecord,
  mapReferral,
  mapRegister,
  mapReply,
  mapRequest,
  referralRecord,
} from '../src/dissect/build.js';
import { encodeControl } from '../src/dissect/control.js';
import { encodeLink } from '../src/dissect/link.js';
import { openInjector } from '../src/capture/inject.js';
import { LiveCapture, LiveCaptureError } from '../src/capture/live.js';
import { benchCaptureFile, cpuSeconds, exportSection, liveExportSection, type LiveRun as ExportLiveRun } from './bench-export.js';
import type { FloodResult } from './flood.js';
import type { TuiBenchResult } from './tui-bench.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const OUT = join(ROOT, 'bench-out');

/** xorshift32: the capture must be the same on every run and machine. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const v4 = (r: () => number, net: string) => `${net}.${(r() % 250) + 1}`;
const nonce = (r: () => number) => (BigInt(r()) << 32n) | BigInt(r());
const ephemeral = (r: () => number) => 40000 + (r() % 20000);

function record(r: () => number, eid: string, rlocs: number) {
  return mappingRecord({ eid: `${eid}/32`, locators: Array.from({ length: rlocs }, (_, i) => ({ rloc: v4(r, '198.51.100'), priority: i + 1, local: true })) });
}

/** One control message, its UDP ports and direction (`back`: from 192.0.2.2 to 192.0.2.1). */
interface Control {
  msg: Uint8Array;
  sport: number;
  dport: number;
  back?: boolean;
}

/**
 * One control message of each kind in turn. A Map-Reply answers the Map-Request before it and a
 * Map-Notify the Map-Register before it (same nonce and EID, ports and addresses swapped), so the
 * flow engine sees answered exchanges as well as unanswered ones.
 */
function control(r: () => number, i: number, prev: { nonce: bigint; eid: string; port: number }): Control {
  const fresh = () => {
    prev.eid = `10.${r() % 200}.${r() % 250}.${(r() % 250) + 1}`;
    prev.nonce = nonce(r);
    prev.port = ephemeral(r);
  };
  const request = (flags: { smr?: boolean; probe?: boolean }) =>
    mapRequest({ nonce: prev.nonce, eids: [`${prev.eid}/32`], itrRlocs: [v4(r, '192.0.2')], sourceEid: '10.250.0.1', ...flags });
  const auth = { keyId: 1, key: 'bench-key' };
  const k = i % 9;
  if (k !== 1 && k !== 3) fresh();
  const eid = prev.eid;
  switch (k) {
    case 0:
      return { msg: encodeControl(ecm({ inner: { src: '192.0.2.9', dst: eid, sport: 4342 }, message: request({}) })), sport: prev.port, dport: 4342 };
    case 1:
      return { msg: encodeControl(mapReply({ nonce: prev.nonce, records: [record(r, eid, 2)] })), sport: 4342, dport: prev.port, back: true };
    case 2:
      return { msg: mapRegister({ nonce: prev.nonce, records: [record(r, eid, 1)], proxyReply: true, wantMapNotify: true, ...auth }), sport: 4342, dport: 4342 };
    case 3:
      return { msg: mapNotify({ nonce: prev.nonce, records: [record(r, eid, 1)], ...auth }), sport: 4342, dport: 4342, back: true };
    case 4:
      return { msg: mapNotifyAck({ nonce: prev.nonce, records: [record(r, eid, 1)], ...auth }), sport: 4342, dport: 4342 };
    case 5:
      return { msg: encodeControl(request({ smr: true })), sport: 4342, dport: 4342 };
    case 6:
      return { msg: encodeControl(request({ probe: true })), sport: prev.port, dport: 4342 };
    case 7: {
      const referrals = record(r, eid, 2).locators.map((l) => ({ rloc: l.rloc }));
      return { msg: encodeControl(mapReferral({ nonce: prev.nonce, records: [referralRecord({ eid: '10.0.0.0/8', action: 0, referrals })] })), sport: 4342, dport: 40000 };
    }
    default:
      return { msg: infoRequest({ nonce: prev.nonce, eid: `${eid}/32`, ...auth }), sport: 4342, dport: 4342 };
  }
}

/** A control message as a frame between two addresses of a documentation network. */
function controlFrame(c: Control, src: string, dst: string): Uint8Array {
  const [a, b] = c.back ? [dst, src] : [src, dst];
  return encodeLink(1, lispUdpPacket({ src: a, dst: b, sport: c.sport, dport: c.dport, payload: c.msg, udpChecksum: false }));
}

function data(r: () => number): Uint8Array {
  const proto = (['icmp-echo-request', 'udp', 'tcp'] as const)[r() % 3]!;
  return dataPacket({
    src: '198.51.100.1',
    dst: '198.51.100.2',
    sport: 50000 + (r() % 10000),
    nonce: r() & 0xffffff,
    lsb: 3,
    iid: r() % 2 ? 223 : undefined,
    inner: { src: `10.1.0.${(r() % 250) + 1}`, dst: `10.2.0.${(r() % 250) + 1}`, proto, payload: new Uint8Array(56 + (r() % 64)) },
  });
}

/**
 * The bench capture: a pool of 3,200 distinct data packets cycled with advancing timestamps (fast
 * to write, realistic to read), and control messages made fresh for every slot (new nonces and
 * EIDs), so the flow engine sees as many exchanges as a real capture of that size would have.
 */
function generate(file: string, packets: number): void {
  const r = prng(0x4c495350);
  const pool: Uint8Array[] = [];
  for (let i = 0; i < 4000; i++) pool.push(i % 5 === 0 ? new Uint8Array(0) : encodeLink(1, data(r)));
  const prev = { nonce: 0n, eid: '', port: 0 };
  const w = new PcapFileWriter(file, { linkType: 1 });
  let sec = 1764000000;
  let usec = 0;
  for (let i = 0; i < packets; i++) {
    usec += 37;
    if (usec >= 1e6) {
      sec++;
      usec -= 1e6;
    }
    const bytes = i % 5 === 0 ? controlFrame(control(r, i / 5, prev), '192.0.2.1', '192.0.2.2') : pool[i % pool.length]!;
    w.write({ tsSec: sec, tsNsec: usec * 1000, data: bytes });
  }
  w.close();
}

interface Measure {
  /** Wall-clock seconds. */
  seconds: number;
  /** CPU seconds, user + system (NaN without GNU time). */
  cpu: number;
  peakMb: number;
}

const GNU_TIME = existsSync('/usr/bin/time');

/** Runs a command with stdout to /dev/null; wall time, and CPU time and peak RSS from GNU time when present. */
async function measure(cmd: string, args: string[]): Promise<Measure> {
  const t0 = performance.now();
  const child = GNU_TIME
    ? spawn('/usr/bin/time', ['-f', '%U %S %M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  let peakKb = 0;
  const poll = GNU_TIME
    ? undefined
    : setInterval(() => {
        try {
          const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) peakKb = Math.max(peakKb, Number(m[1]));
        } catch {
          /* process already gone */
        }
      }, 10);
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
  const seconds = (performance.now() - t0) / 1000;
  if (poll) clearInterval(poll);
  if (code !== 0) throw new Error(`${cmd} failed (${code}): ${err.trim().split('\n').slice(-3).join(' ')}`);
  let cpu = NaN;
  if (GNU_TIME) {
    const [user, sys, kb] = err.trim().split('\n').pop()!.split(' ').map(Number);
    cpu = user! + sys!;
    peakKb = kb!;
  }
  return { seconds, cpu, peakMb: peakKb / 1024 };
}

function have(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The middle value (the mean of the two middle ones for an even count). */
function median(xs: number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const h = a.length >> 1;
  return a.length % 2 ? a[h]! : (a[h - 1]! + a[h]!) / 2;
}

const fixed = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '-');

/** One target, checked on wall time and on CPU time: `ratio` is what the target bounds. */
interface Target {
  name: string;
  wall: number;
  cpu: number;
  /** The bound, and which side of it meets the target. */
  bound: number;
  atLeast: boolean;
  unit: string;
}

function targetRows(targets: Target[]): string {
  const met = (t: Target, x: number) => (!Number.isFinite(x) ? '-' : (t.atLeast ? x >= t.bound : x <= t.bound) ? 'met' : 'MISSED');
  const rows = targets.map(
    (t) =>
      `${t.name.padEnd(52)} ${`${t.atLeast ? '>=' : '<='} ${t.bound}${t.unit}`.padStart(10)}  wall ${`${fixed(t.wall)}${t.unit}`.padStart(9)} ${met(t, t.wall).padEnd(6)}` +
      `  CPU ${`${fixed(t.cpu)}${t.unit}`.padStart(9)} ${met(t, t.cpu)}`,
  );
  return rows.join('\n');
}

async function main(): Promise<{ file: string; n: number; readJson: Measure }> {
  const argv = process.argv.slice(2);
  const n = argv.includes('--packets') ? Number(argv[argv.indexOf('--packets') + 1]) : 1_000_000;
  const rounds = argv.includes('--rounds') ? Number(argv[argv.indexOf('--rounds') + 1]) : 3;
  if (!Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write('bench: --rounds takes a whole number of at least 1\n');
    process.exit(2);
  }
  mkdirSync(OUT, { recursive: true });
  const file = benchCaptureFile(n);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${file} (${n} packets)...\n`);
    generate(file, n);
  }
  if (argv.includes('--generate')) process.exit(0);
  process.stderr.write(`capture: ${file}, ${(statSync(file).size / 1e6).toFixed(0)} MB, ${n} packets\n\n`);
  const bin = join(ROOT, 'bin/lispscope');
  const ours = (name: string, args: string[]): [string, string, string[]] => [name, process.execPath, [bin, ...args, file]];
  const runs: [string, string, string[]][] = [];
  if (have('tcpdump')) runs.push(['tcpdump -n -v', 'tcpdump', ['-r', file, '-n', '-v']]);
  else process.stderr.write('tcpdump not installed: skipped\n');
  runs.push(
    ours('read --json', ['read', '--json']),
    ours('read --json --threads 0', ['read', '--json', '--threads', '0']),
    ours('read -n', ['read', '-n']),
    ours('read -n --threads 0', ['read', '-n', '--threads', '0']),
    ours('flows --json', ['flows', '--json']),
    ours('mappings --json', ['mappings', '--json']),
    ours('stats --json', ['stats', '--json']),
    ours('flows', ['flows']),
    ours('mappings', ['mappings']),
    ours('stats', ['stats']),
  );
  if (argv.includes('--no-tshark')) process.stderr.write('tshark: skipped (--no-tshark)\n');
  else if (have('tshark')) runs.push(['tshark -T fields', 'tshark', ['-r', file, '-T', 'fields', '-e', 'lisp.type', '-e', 'lisp.nonce']]);
  else process.stderr.write('tshark not installed: skipped\n');

  const samples = new Map<string, Measure[]>();
  for (let round = 1; round <= rounds; round++) {
    for (const [name, cmd, args] of runs) {
      if (round > 1 && cmd === 'tshark') continue;
      const r = await measure(cmd, args);
      samples.set(name, [...(samples.get(name) ?? []), r]);
      process.stderr.write(`${name}${rounds > 1 ? ` (round ${round})` : ''}: ${fixed(r.seconds)} s wall, ${fixed(r.cpu)} s CPU\n`);
    }
  }
  const m = new Map<string, Measure>([...samples].map(([name, rs]) => [name, { seconds: median(rs.map((r) => r.seconds)), cpu: median(rs.map((r) => r.cpu)), peakMb: Math.max(...rs.map((r) => r.peakMb)) }]));
  const readJson = m.get('read --json')!;
  const rows = [...m].map(
    ([name, r]) =>
      `${name.padEnd(26)} ${fixed(r.seconds).padStart(7)} s wall ${fixed(r.cpu).padStart(7)} s CPU ${Math.round(n / r.seconds).toLocaleString('en').padStart(11)} pkt/s ${fixed(r.peakMb, 0).padStart(5)} MB peak`,
  );
  process.stdout.write(`\n${rounds > 1 ? `medians of ${rounds} rounds (peak RSS: the highest; tshark once):\n` : ''}${rows.join('\n')}\n`);

  // Every ratio twice: on wall time (what a user waits) and on CPU time (steadier on a shared machine).
  const targets: Target[] = [];
  const slower = (name: string, of: string, bound: number) => {
    const a = m.get(name);
    const b = m.get(of);
    if (a && b) targets.push({ name: `${name}: time / ${of}'s`, wall: a.seconds / b.seconds, cpu: a.cpu / b.cpu, bound, atLeast: false, unit: 'x' });
  };
  const tcpdump = m.get('tcpdump -n -v');
  if (tcpdump) {
    for (const name of ['read --json', 'read --json --threads 0']) {
      const r = m.get(name)!;
      targets.push({ name: `${name}: packets/s / tcpdump -n -v's`, wall: tcpdump.seconds / r.seconds, cpu: tcpdump.cpu / r.cpu, bound: 1.5, atLeast: true, unit: 'x' });
    }
  }
  const tshark = m.get('tshark -T fields');
  if (tshark) targets.push({ name: "read --json: packets/s / tshark -T fields'", wall: tshark.seconds / readJson.seconds, cpu: tshark.cpu / readJson.cpu, bound: 5, atLeast: true, unit: 'x' });
  slower('read -n', 'read --json', 1.2);
  slower('read -n --threads 0', 'read --json --threads 0', 1.2);
  for (const c of ['flows', 'mappings', 'stats']) slower(`${c} --json`, 'read --json', 1.3);
  for (const c of ['flows', 'mappings', 'stats']) slower(c, `${c} --json`, 1.5);
  const of = rounds > 1 ? `medians of ${rounds} rounds, ` : '';
  process.stdout.write(`\ntargets (ratios of this run; ${of}"wall" on elapsed time, "CPU" on user + system time):\n${targetRows(targets)}\n`);
  const rss = [...m].filter(([name]) => !name.startsWith('t')).map(([name, r]) => `${name} ${fixed(r.peakMb, 0)} MB`);
  process.stdout.write(`peak RSS: ${rss.join(', ')}\n`);
  return { file, n, readJson };
}

/**
 * Backpressure: `read --json` into a pipe whose reader sleeps 10 s before it reads. Reading must
 * wait for the reader instead of queueing the output in memory.
 */
async function backpressureSection(file: string): Promise<void> {
  if (!GNU_TIME) {
    process.stdout.write('\nbackpressure: skipped (needs /usr/bin/time)\n');
    return;
  }
  process.stderr.write('\nbackpressure: read --json into a pipe read after 10 s...\n');
  const bin = join(ROOT, 'bin/lispscope');
  const t0 = performance.now();
  const r = spawnSync('sh', ['-c', `/usr/bin/time -f %M '${process.execPath}' '${bin}' read --json '${file}' | (sleep 10; cat >/dev/null)`], { encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  const peak = Number(r.stderr.trim().split('\n').pop()) / 1024;
  process.stdout.write(
    `\nbackpressure: read --json | (sleep 10; cat >/dev/null): ${fixed(seconds)} s, peak RSS ${fixed(peak, 0)} MB  (target < 150 MB: ${peak < 150 ? 'met' : 'MISSED'})\n`,
  );
}

/**
 * The terminal UI's file source and `/` filter on the capture, in a child (dist/scripts/tui-bench.js):
 * a filter on the type (the packets the analysis already typed are skipped) and one that every
 * packet must be decoded for.
 */
function tuiSection(file: string, n: number): void {
  const filters = ['type == map-register', 'eid in 10.1.0.0/16'];
  process.stderr.write(`\ntui: the file source indexes and analyses the capture, then / ${filters.join(', then / ')} scan it...\n`);
  const child = spawnSync(process.execPath, [join(ROOT, 'dist/scripts/tui-bench.js'), file, String(n), ...filters], { encoding: 'utf8' });
  if (child.status !== 0) {
    process.stdout.write(`\ntui: FAILED (exit ${child.status}): ${child.stderr.trim().split('\n').slice(-2).join(' ')}\n`);
    return;
  }
  const r = JSON.parse(child.stdout) as TuiBenchResult;
  const t = (name: string, wall: number, cpu: number): Target => ({ name, wall, cpu, bound: 5, atLeast: false, unit: ' s' });
  process.stdout.write(
    `\ntui on the capture (data source, Sessions view refreshed every 100 ms and packet filter driven directly, no terminal): first screen after ${fixed(r.firstS)} s, indexed in ${fixed(r.indexS)} s; ` +
      `${r.filters.map((f) => `${f.filter}: ${f.matches.toLocaleString('en')} matches`).join(', ')}; peak RSS ${fixed(r.maxRssMb, 0)} MB (target < 300 MB: ${r.maxRssMb < 300 ? 'met' : 'MISSED'}; ${fixed(r.loadRssMb, 0)} MB once loaded, ${r.filters.map((f) => `${fixed(f.rssMb, 0)} after / ${f.filter}`).join(', ')})\n` +
      `${targetRows([t('tui: capture loaded (indexed and analysed)', r.loadS, r.loadCpuS), ...r.filters.map((f) => t(`tui: / ${f.filter}`, f.s, f.cpuS))])}\n`,
  );
}

/**
 * The flood: a minute of 100,000 new unanswered requests a second through the flow engine, in a
 * child whose heap is capped at 256 MB: unbounded state would fail, not hide in GC slack.
 */
function floodSection(): void {
  process.stderr.write('\nflood: 100,000 new nonces/s for 60 s of capture time through the flow engine (256 MB heap)...\n');
  const child = spawnSync(process.execPath, ['--max-old-space-size=256', join(ROOT, 'dist/scripts/flood.js'), '100000', '60'], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) {
    process.stdout.write(`\nflood: FAILED (exit ${child.status}): ${child.stderr.trim().split('\n').slice(-2).join(' ')}\n`);
    return;
  }
  const r = JSON.parse(child.stdout) as FloodResult;
  const first = r.rss[4] ?? r.rss[0]!;
  const last = r.rss[r.rss.length - 1]!;
  process.stdout.write(
    `\nflood: ${r.packets.toLocaleString('en')} requests in ${r.seconds.toFixed(1)} s; RSS after 5 s ${first} MB, after 60 s ${last} MB, ` +
      `max ${Math.max(...r.rss)} MB; at most ${r.maxOpen.toLocaleString('en')} exchanges open; ` +
      `${r.closedUnanswered.toLocaleString('en')} closed unanswered, ${r.dropped.toLocaleString('en')} of them early by the open-exchange cap\n` +
      `  RSS every 10 s: ${r.rss.filter((_, i) => i % 10 === 9).join(', ')} MB\n`,
  );
}

// ---------------------------------------------------------------------------------------------
// Live capture: `lispscope sniff -i lo` against LISP traffic injected on the loopback at fixed
// rates (the same mix as the capture above). Every packet sent is counted: the highest rate at
// which sniff showed all of them is the figure. Runs only as root with a libpcap binding loaded.

const LIVE_SRC = '127.77.0.1';
const LIVE_DST = '127.77.0.2';

/** The capture's mix as Ethernet frames between two loopback addresses of our own. */
function liveFrames(): Uint8Array[] {
  const r = prng(0x4c495350);
  const pool: Uint8Array[] = [];
  const prev = { nonce: 0n, eid: '', port: 0 };
  for (let i = 0; i < 4000; i++) {
    if (i % 5 === 0) {
      pool.push(controlFrame(control(r, i / 5, prev), LIVE_SRC, LIVE_DST));
    } else {
      const d = data(r); // outer IPv4 (20) + UDP (8) + LISP
      const sport = (d[20]! << 8) | d[21]!;
      pool.push(encodeLink(1, lispUdpPacket({ src: LIVE_SRC, dst: LIVE_DST, sport, dport: 4341, payload: d.subarray(28), udpChecksum: false })));
    }
  }
  return pool;
}

interface LiveRun extends ExportLiveRun {
  /** Of `cpu`, the seconds in system mode. */
  sysCpu: number;
  peakMb: number;
  /** Frames the kernel dropped before any capture saw them: the loopback's backlog was full (the sender's side). */
  backlog: number;
  /** CPU seconds the sender used (on lo the kernel delivers each frame in the sender's system call). */
  senderCpu: number;
}

/** Frames per sendmmsg of the sender. */
const SEND_BATCH = 256;

/** The pool as one buffer and where each frame ends in it (what sendBatch takes). */
function packed(pool: Uint8Array[]): { bytes: Uint8Array; ends: Uint32Array } {
  const ends = new Uint32Array(pool.length);
  let n = 0;
  pool.forEach((f, i) => (ends[i] = n += f.length));
  const bytes = new Uint8Array(n);
  pool.forEach((f, i) => bytes.set(f, i === 0 ? 0 : ends[i - 1]!));
  return { bytes, ends };
}

/**
 * Packets the kernel dropped at the input backlog (netdev_max_backlog), over every CPU: the second
 * column of /proc/net/softnet_stat. A frame sent on lo that is dropped there reaches no capture.
 */
function backlogDrops(): number {
  try {
    return readFileSync('/proc/net/softnet_stat', 'utf8')
      .trim()
      .split('\n')
      .reduce((n, l) => n + parseInt(l.trim().split(/\s+/)[1] ?? '0', 16), 0);
  } catch {
    return 0;
  }
}

/** sniff's -B for the live runs (--sniff-buffer KiB), when given. */
const SNIFF_BUFFER = process.argv.includes('--sniff-buffer') ? ['-B', process.argv[process.argv.indexOf('--sniff-buffer') + 1]!] : [];

/** The value after `flag` split at commas, or undefined when the flag is not given. */
function listArg(flag: string): string[] | undefined {
  const i = process.argv.indexOf(flag);
  return i < 0 ? undefined : (process.argv[i + 1] ?? '').split(',').filter(Boolean);
}

const LIVE_RATES = (listArg('--rates') ?? ['100000', '150000', '200000', '250000', '300000']).map(Number);
const SNIFF_MODES = listArg('--sniff-modes') ?? ['json', 'lines'];
const SNIFF_ROOTS = listArg('--lispscope') ?? [ROOT];

/** Peak RSS of a running process in MB, from /proc. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * One sniff child, `seconds` of traffic at `rate`, then SIGINT and its totals. `slowReader`: its
 * output goes into a pipe nobody reads until the traffic is over (the queue must drop, not grow).
 */
async function liveRun(mode: string[], rate: number, seconds: number, pool: { bytes: Uint8Array; ends: Uint32Array }, slowReader = false, root = ROOT): Promise<LiveRun> {
  const child = spawn(process.execPath, [join(root, 'bin/lispscope'), 'sniff', '-i', 'lo', '-f', `udp and host ${LIVE_DST}`, ...SNIFF_BUFFER, ...mode], {
    stdio: ['ignore', slowReader ? 'pipe' : 'ignore', 'pipe'],
  });
  child.stdout?.pause();
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) resolve();
    });
    child.on('close', () => reject(new Error(`sniff ended early: ${err.trim()}`)));
  });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const inj = openInjector('lo');
  // Paced in a busy loop, in batches of up to SEND_BATCH frames a system call (sendmmsg through our
  // binding): one pcap_sendpacket a frame peaks below 140,000 frames/s, under the target.
  const chunk = new Uint32Array(SEND_BATCH);
  let at = 0;
  const send = (count: number, pps: number): number => {
    const t0 = performance.now();
    let sent = 0;
    while (sent < count) {
      const due = Math.min(count, Math.floor(((performance.now() - t0) * pps) / 1000));
      while (sent < due) {
        const k = Math.min(due - sent, SEND_BATCH, pool.ends.length - at);
        const base = at === 0 ? 0 : pool.ends[at - 1]!;
        for (let i = 0; i < k; i++) chunk[i] = pool.ends[at + i]! - base;
        const n = inj.sendBatch(pool.bytes.subarray(base, pool.ends[at + k - 1]!), chunk.subarray(0, k));
        sent += n;
        at = (at + n) % pool.ends.length;
        if (n < k) break; // the socket is full: again on the next turn
      }
    }
    return count / ((performance.now() - t0) / 1000);
  };
  // A second at 20,000 packets/s first: the decoder is compiled before it is measured, as it would
  // be after the first second of any real capture.
  const warm = 20_000;
  send(warm, warm);
  await new Promise((r) => setTimeout(r, 500));
  const cpu0 = cpuSeconds(child.pid!);
  const backlog0 = backlogDrops();
  const n = Math.round(rate * seconds);
  const own0 = process.cpuUsage();
  const sentRate = send(n, rate);
  const own = process.cpuUsage(own0);
  const senderCpu = (own.user + own.system) / 1e6;
  inj.close();
  await new Promise((r) => setTimeout(r, 1000)); // let sniff finish what it holds
  const backlog = backlogDrops() - backlog0;
  const cpu1 = cpuSeconds(child.pid!);
  const sysCpu = cpu1.sys - cpu0.sys;
  const cpu = cpu1.user - cpu0.user + sysCpu;
  const peakMb = peakRss(child.pid!);
  child.stdout?.resume();
  child.kill('SIGINT');
  await closed;
  const captured = Number(/(\d+) packets? captured on lo/.exec(err)?.[1] ?? NaN) - warm;
  const queueDrops = Number(/(\d+) packets? dropped by lispscope's queue/.exec(err)?.[1] ?? NaN);
  const kernel = /, (\d+) by the kernel/.exec(err)?.[1];
  return { rate, sentRate, sent: n, captured, queueDrops, kernelDrops: kernel === undefined ? undefined : Number(kernel), cpu, sysCpu, peakMb, backlog, senderCpu };
}

async function liveSection(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stdout.write('\nlive capture: skipped (needs root)\n');
    return;
  }
  try {
    await LiveCapture.open({ iface: 'lo', filter: 'less 0', bufferSize: 1 << 20 }).stop(false);
  } catch (e) {
    if (!(e instanceof LiveCaptureError)) throw e;
    process.stdout.write(`\nlive capture: skipped (${e.message})\n`);
    return;
  }
  const pool = packed(liveFrames());
  const seconds = 5;
  process.stderr.write(`\nlive capture: sniff -i lo, ${seconds} s of LISP traffic (80% data, 20% control) injected on lo per rate...\n`);
  const rows: string[] = [];
  const best: Record<string, number> = {};
  let sender = 0;
  const modes: [string, string[]][] = process.argv.includes('--no-sniff')
    ? []
    : [
        ['sniff --json', ['--json'], 'json'] as const,
        ['sniff', ['-n'], 'lines'] as const,
      ]
        .filter(([, , key]) => SNIFF_MODES.includes(key))
        .map(([name, mode]) => [name, [...mode]]);
  for (const [name, mode] of modes) {
    for (const rate of LIVE_RATES) {
      for (const root of SNIFF_ROOTS) {
        const r = await liveRun(mode, rate, seconds, pool, false, root);
        const lost = r.sent - r.captured;
        const pps = (v: number) => Math.round(v).toLocaleString('en').padStart(7);
        const label = SNIFF_ROOTS.length > 1 ? ` [${root}]` : '';
        rows.push(
          `${name.padEnd(12)} ${pps(r.rate)} pkt/s (${pps(r.sentRate)} sent): ${r.captured.toLocaleString('en').padStart(7)} of ${r.sent.toLocaleString('en')} shown, ` +
            `${r.queueDrops} dropped by the queue, ${lost - r.queueDrops} lost before it${r.kernelDrops === undefined ? '' : ` (kernel drops ${r.kernelDrops}`}, ` +
            `loopback backlog drops ${r.backlog})` +
            `; sniff CPU ${r.cpu.toFixed(2)} s (${r.sysCpu.toFixed(2)} system; ${((r.cpu / r.captured) * 1e6).toFixed(2)} µs a packet shown), ${fixed(r.peakMb, 0)} MB peak; sender CPU ${r.senderCpu.toFixed(2)} s${label}`,
        );
        process.stderr.write(`${rows[rows.length - 1]}\n`);
        if (lost === 0) best[name + label] = Math.max(best[name + label] ?? 0, r.sentRate);
        sender = Math.max(sender, r.sentRate);
      }
    }
  }
  const load = loadavg().map((l) => l.toFixed(1)).join(' ');
  process.stdout.write(
    `\nlive capture on lo, ${seconds} s per rate after a 1 s warm-up (sniff to /dev/null; the sender takes one core; load average ${load} on ${availableParallelism()} cores):\n${rows.join('\n')}\n`,
  );
  for (const [name, rate] of Object.entries(best)) {
    process.stdout.write(`${name}: the highest rate with every packet captured and decoded: ${Math.round(rate).toLocaleString('en')} pkt/s\n`);
  }
  // Said only when the sender reached the rate: otherwise the bench cannot tell.
  const verdict = (best['sniff --json'] ?? 0) >= 299_000 ? 'met' : sender < 299_000 ? `not measured (the sender reached ${Math.round(sender).toLocaleString('en')} pkt/s)` : 'MISSED';
  process.stdout.write(`target: sniff --json keeps 300,000 LISP packets/s with zero drops: ${verdict}\n`);
  if (!process.argv.includes('--no-sniff') && !process.argv.includes('--no-slow-reader')) {
    // The reader of sniff's output reads nothing while the traffic lasts: the capture is held, the
    // packets wait in the queue and then in the kernel's ring, and what does not fit is counted.
    for (const root of SNIFF_ROOTS) {
      const r = await liveRun(['--json'], 100_000, seconds, pool, true, root);
      const counted = r.queueDrops + (r.kernelDrops ?? 0);
      process.stdout.write(
        `\nsniff --json into a pipe read only after the traffic, 100,000 pkt/s for ${seconds} s: ${r.captured.toLocaleString('en')} of ${r.sent.toLocaleString('en')} shown, ` +
          `${r.queueDrops.toLocaleString('en')} dropped (and counted) by the queue, ${(r.kernelDrops ?? 0).toLocaleString('en')} by the kernel; peak RSS ${fixed(r.peakMb, 0)} MB (target < 150 MB, drops counted: ` +
          `${r.peakMb < 150 && counted > 0 && counted === r.sent - r.captured ? 'met' : 'MISSED'})${SNIFF_ROOTS.length > 1 ? ` [${root}]` : ''}\n`,
      );
    }
  }
  if (!process.argv.includes('--no-live-export')) await liveExportSection(
      (mode, rate, root) => liveRun(mode, rate, seconds, pool, false, root),
      seconds,
      20_000,
      listArg('--export-rates')?.map(Number),
      SNIFF_ROOTS,
    );
}

// --live-only: just the live capture sections (iterating on sniff).
const liveOnly = process.argv.includes('--live-only');
const bench = liveOnly ? undefined : await main();
if (bench) await backpressureSection(bench.file);
if (bench && !process.argv.includes('--no-tui')) tuiSection(bench.file, bench.n);
if (bench && !process.argv.includes('--no-export')) await exportSection(bench.file, bench.n);
if (!liveOnly && !process.argv.includes('--no-flood')) floodSection();
if (!process.argv.includes('--no-live')) await liveSection();
