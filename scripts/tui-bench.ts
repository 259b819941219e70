// The terminal UI's benchmark (part of `npm run bench`): what the TUI does with a capture file,
// without a terminal. Its file data source indexes the file and runs the flow engine over it, then
// the `/` packet filter scans every packet, as the Packets pane does. Run as a child process of the
// bench, so that its peak RSS is its own.
//
//   node dist/scripts/tui-bench.js FILE PACKETS FILTER

import { FileSource } from '../src/tui/file-source.js';
import { PacketFilter } from '../src/tui/packet-filter.js';

export interface TuiBenchResult {
  /** Seconds until every frame was indexed (the Packets pane can reach the last one). */
  indexS: number;
  /** Seconds until the source was done: indexed, and the flow engine through the whole capture. */
  loadS: number;
  /** Seconds the `/` filter took over the whole capture, once loaded. */
  filterS: number;
  matches: number;
  /** CPU seconds (user + system) of the load and of the filter. */
  loadCpuS: number;
  filterCpuS: number;
  maxRssMb: number;
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function tuiBench(file: string, packets: number, filter: string): Promise<TuiBenchResult> {
  const source = new FileSource([file]);
  const t0 = performance.now();
  const c0 = cpu();
  let indexS = 0;
  const loaded = new Promise<void>((resolve, reject) => {
    source.subscribe(() => {
      if (!indexS && source.packetRange().end >= packets) indexS = (performance.now() - t0) / 1000;
      const s = source.status();
      if (s.state === 'error') reject(new Error(s.text));
      if (s.state === 'done') resolve();
    });
  });
  await source.start();
  await loaded;
  const loadS = (performance.now() - t0) / 1000;
  const loadCpuS = cpu() - c0;

  const t1 = performance.now();
  const c1 = cpu();
  const f = new PacketFilter(source, filter);
  await new Promise<void>((resolve) => {
    const check = () => {
      if (f.progress().caughtUp) resolve();
    };
    f.subscribe(check);
    check();
  });
  const filterS = (performance.now() - t1) / 1000;
  const filterCpuS = cpu() - c1;
  const p = f.progress();
  f.stop();
  await source.stop();
  return { indexS, loadS, filterS, matches: p.end - p.first, loadCpuS, filterCpuS, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

if (process.argv[1]?.endsWith('tui-bench.js')) {
  const [file, packets, filter] = process.argv.slice(2);
  process.stdout.write(`${JSON.stringify(await tuiBench(file!, Number(packets), filter ?? 'type == map-register'))}\n`);
}
