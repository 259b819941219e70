// `npm run bench`: packets/s and peak memory of `lispscope read --json` against tshark and
// tcpdump on the same deterministic 1,000,000-packet capture, in the same run. Not a test.
//
//   npm run bench [-- --packets N] [--keep] [--no-export] [--no-flood] [--no-live] [--no-sniff] [--live-only]

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
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
import { exportSection, liveExportSection, type LiveRun } from './bench-export.js';
import type { FloodResult } from './flood.js';

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

/** One control message of each kind in turn, with its UDP ports. */
function control(r: () => number, i: number): { msg: Uint8Array; sport: number; dport: number } {
  const eid = `10.${r() % 200}.${r() % 250}.${(r() % 250) + 1}`;
  const request = (flags: { smr?: boolean; probe?: boolean }) =>
    mapRequest({ nonce: nonce(r), eids: [`${eid}/32`], itrRlocs: [v4(r, '192.0.2')], sourceEid: '10.250.0.1', ...flags });
  const auth = { keyId: 1, key: 'bench-key' };
  switch (i % 9) {
    case 0:
      return { msg: encodeControl(ecm({ inner: { src: '192.0.2.9', dst: eid, sport: 4342 }, message: request({}) })), sport: ephemeral(r), dport: 4342 };
    case 1:
      return { msg: encodeControl(mapReply({ nonce: nonce(r), records: [record(r, eid, 2)] })), sport: 4342, dport: ephemeral(r) };
    case 2:
      return { msg: mapRegister({ nonce: nonce(r), records: [record(r, eid, 1)], proxyReply: true, wantMapNotify: true, ...auth }), sport: 4342, dport: 4342 };
    case 3:
      return { msg: mapNotify({ nonce: nonce(r), records: [record(r, eid, 1)], ...auth }), sport: 4342, dport: 4342 };
    case 4:
      return { msg: mapNotifyAck({ nonce: nonce(r), records: [record(r, eid, 1)], ...auth }), sport: 4342, dport: 4342 };
    case 5:
      return { msg: encodeControl(request({ smr: true })), sport: 4342, dport: 4342 };
    case 6:
      return { msg: encodeControl(request({ probe: true })), sport: ephemeral(r), dport: 4342 };
    case 7: {
      const referrals = record(r, eid, 2).locators.map((l) => ({ rloc: l.rloc }));
      return { msg: encodeControl(mapReferral({ nonce: nonce(r), records: [referralRecord({ eid: '10.0.0.0/8', action: 0, referrals })] })), sport: 4342, dport: 40000 };
    }
    default:
      return { msg: infoRequest({ nonce: nonce(r), eid: `${eid}/32`, ...auth }), sport: 4342, dport: 4342 };
  }
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

function generate(file: string, packets: number): void {
  const r = prng(0x4c495350);
  // A pool of distinct packets, cycled with advancing timestamps: fast to write, realistic to read.
  const pool: Uint8Array[] = [];
  for (let i = 0; i < 4000; i++) {
    if (i % 5 === 0) {
      const c = control(r, i / 5);
      pool.push(encodeLink(1, lispUdpPacket({ src: '192.0.2.1', dst: '192.0.2.2', sport: c.sport, dport: c.dport, payload: c.msg, udpChecksum: false })));
    } else {
      pool.push(encodeLink(1, data(r)));
    }
  }
  const w = new PcapFileWriter(file, { linkType: 1 });
  let sec = 1764000000;
  let usec = 0;
  for (let i = 0; i < packets; i++) {
    usec += 37;
    if (usec >= 1e6) {
      sec++;
      usec -= 1e6;
    }
    w.write({ tsSec: sec, tsNsec: usec * 1000, data: pool[i % pool.length]! });
  }
  w.close();
}

interface Measure {
  seconds: number;
  peakMb: number;
}

/** Runs a command with stdout to /dev/null; wall time and peak RSS from GNU time when present. */
async function measure(cmd: string, args: string[]): Promise<Measure> {
  const gnuTime = existsSync('/usr/bin/time');
  const t0 = performance.now();
  const child = gnuTime
    ? spawn('/usr/bin/time', ['-f', '%M', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  let peakKb = 0;
  const poll = gnuTime
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
  if (gnuTime) peakKb = Number(err.trim().split('\n').pop());
  return { seconds, peakMb: peakKb / 1024 };
}

function have(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

async function main(): Promise<{ file: string; n: number; readJson: Measure }> {
  const argv = process.argv.slice(2);
  const n = argv.includes('--packets') ? Number(argv[argv.indexOf('--packets') + 1]) : 1_000_000;
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `bench-${n}.pcap`);
  if (!existsSync(file)) {
    process.stderr.write(`generating ${file} (${n} packets)...\n`);
    generate(file, n);
  }
  process.stderr.write(`capture: ${file}, ${(statSync(file).size / 1e6).toFixed(0)} MB, ${n} packets\n\n`);
  const bin = join(ROOT, 'bin/lispscope');
  const runs: [string, string, string[]][] = [
    ['lispscope read --json', process.execPath, [bin, 'read', '--json', file]],
    ['lispscope read', process.execPath, [bin, 'read', '-n', file]],
    ['lispscope flows --json', process.execPath, [bin, 'flows', '--json', file]],
    ['lispscope mappings --json', process.execPath, [bin, 'mappings', '--json', file]],
  ];
  if (have('tshark')) runs.push(['tshark -T fields', 'tshark', ['-r', file, '-T', 'fields', '-e', 'lisp.type', '-e', 'lisp.nonce']]);
  else process.stderr.write('tshark not installed: skipped\n');
  if (spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0) runs.push(['tcpdump -n -v', 'tcpdump', ['-r', file, '-n', '-v']]);
  else process.stderr.write('tcpdump not installed: skipped\n');

  const results: [string, Measure][] = [];
  for (const [name, cmd, args] of runs) {
    const m = await measure(cmd, args);
    results.push([name, m]);
    process.stderr.write(`${name}: ${m.seconds.toFixed(2)} s\n`);
  }
  const ours = results[0]![1];
  const rows = results.map(([name, m]) => {
    const pps = n / m.seconds;
    const ratio =
      m === ours
        ? ''
        : name.startsWith('lispscope')
          ? `  ${(m.seconds / ours.seconds).toFixed(2)}x the time of read --json`
          : `  read --json: ${(m.seconds / ours.seconds).toFixed(2)}x its packets/s`;
    return `${name.padEnd(24)} ${m.seconds.toFixed(2).padStart(7)} s ${Math.round(pps).toLocaleString('en').padStart(11)} pkt/s ${m.peakMb.toFixed(0).padStart(5)} MB peak${ratio}`;
  });
  process.stdout.write(`\n${rows.join('\n')}\n`);
  process.stdout.write(
    `\ntargets: read --json >= 5x tshark and >= 1.5x tcpdump -v packets/s, peak RSS < 150 MB;` +
      ` flows and mappings <= 1.5x the time of read --json, peak RSS < 200 MB\n`,
  );
  return { file, n, readJson: ours };
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
  for (let i = 0; i < 4000; i++) {
    if (i % 5 === 0) {
      const c = control(r, i / 5);
      pool.push(encodeLink(1, lispUdpPacket({ src: LIVE_SRC, dst: LIVE_DST, sport: c.sport, dport: c.dport, payload: c.msg, udpChecksum: false })));
    } else {
      const d = data(r); // outer IPv4 (20) + UDP (8) + LISP
      const sport = (d[20]! << 8) | d[21]!;
      pool.push(encodeLink(1, lispUdpPacket({ src: LIVE_SRC, dst: LIVE_DST, sport, dport: 4341, payload: d.subarray(28), udpChecksum: false })));
    }
  }
  return pool;
}

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** One sniff child, `seconds` of traffic at `rate`, then SIGINT and its totals. */
async function liveRun(mode: string[], rate: number, seconds: number, pool: Uint8Array[]): Promise<LiveRun> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/lispscope'), 'sniff', '-i', 'lo', '-f', `udp and host ${LIVE_DST}`, ...mode], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
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
  // Paced in a busy loop: smooth at any rate, and the whole of one core for the sender.
  const send = (count: number, pps: number): number => {
    const t0 = performance.now();
    let sent = 0;
    while (sent < count) {
      const due = Math.min(count, Math.floor(((performance.now() - t0) * pps) / 1000));
      while (sent < due) inj.send(pool[sent++ % pool.length]!);
    }
    return count / ((performance.now() - t0) / 1000);
  };
  // A second at 20,000 packets/s first: the decoder is compiled before it is measured, as it would
  // be after the first second of any real capture.
  const warm = 20_000;
  send(warm, warm);
  await new Promise((r) => setTimeout(r, 500));
  const cpu0 = cpuSeconds(child.pid!);
  const n = Math.round(rate * seconds);
  const sentRate = send(n, rate);
  inj.close();
  await new Promise((r) => setTimeout(r, 1000)); // let sniff finish what it holds
  const cpu = cpuSeconds(child.pid!) - cpu0;
  child.kill('SIGINT');
  await closed;
  const captured = Number(/(\d+) packets? captured on lo/.exec(err)?.[1] ?? NaN) - warm;
  const queueDrops = Number(/(\d+) packets? dropped by lispscope's queue/.exec(err)?.[1] ?? NaN);
  const kernel = /, (\d+) by the kernel/.exec(err)?.[1];
  return { rate, sentRate, sent: n, captured, queueDrops, kernelDrops: kernel === undefined ? undefined : Number(kernel), cpu };
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
  const pool = liveFrames();
  const seconds = 5;
  process.stderr.write(`\nlive capture: sniff -i lo, ${seconds} s of LISP traffic (80% data, 20% control) injected on lo per rate...\n`);
  const rows: string[] = [];
  const best: Record<string, number> = {};
  const modes: [string, string[]][] = process.argv.includes('--no-sniff') ? [] : [
    ['sniff --json', ['--json']],
    ['sniff', ['-n']],
  ];
  for (const [name, mode] of modes) {
    for (const rate of [50_000, 75_000, 100_000, 125_000, 150_000]) {
      const r = await liveRun(mode, rate, seconds, pool);
      const lost = r.sent - r.captured;
      const pps = (v: number) => Math.round(v).toLocaleString('en').padStart(7);
      rows.push(
        `${name.padEnd(12)} ${pps(r.rate)} pkt/s (${pps(r.sentRate)} sent): ${r.captured.toLocaleString('en').padStart(7)} of ${r.sent.toLocaleString('en')} shown, ` +
          `${r.queueDrops} dropped by the queue, ${lost - r.queueDrops} lost before it${r.kernelDrops === undefined ? '' : ` (kernel drops ${r.kernelDrops})`}; sniff CPU ${r.cpu.toFixed(2)} s`,
      );
      process.stderr.write(`${rows[rows.length - 1]}\n`);
      if (lost === 0) best[name] = Math.max(best[name] ?? 0, r.sentRate);
    }
  }
  process.stdout.write(`\nlive capture on lo, ${seconds} s per rate after a 1 s warm-up (sniff to /dev/null; the sender takes one core):\n${rows.join('\n')}\n`);
  for (const [name, rate] of Object.entries(best)) {
    process.stdout.write(`${name}: the highest rate with every packet captured and decoded: ${Math.round(rate).toLocaleString('en')} pkt/s\n`);
  }
  process.stdout.write('target: 100,000 LISP packets/s with zero drops\n');
  await liveExportSection((mode, rate) => liveRun(mode, rate, seconds, pool), seconds, 20_000);
}

// --live-only: just the live capture sections (iterating on sniff).
const liveOnly = process.argv.includes('--live-only');
const bench = liveOnly ? undefined : await main();
if (bench && !process.argv.includes('--no-export')) await exportSection(bench.file, bench.n);
if (!liveOnly && !process.argv.includes('--no-flood')) floodSection();
if (!process.argv.includes('--no-live')) await liveSection();
