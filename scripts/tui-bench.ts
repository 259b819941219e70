// The terminal UI's benchmark (part of `npm run bench`): what the TUI does with a capture file,
// without a terminal. Its file data source indexes the file and runs the flow engine over it, then
// the `/` packet filter scans every packet, as the Packets pane does, once per filter given (one
// after the other). While the capture loads, the Sessions pane is refreshed every 100 ms as the UI
// refreshes it (its snapshot of the source taken, the pending sessions synced into a view): behind a long-lived exchange
// that can be most of the capture. Run as a child process of the bench, so that its peak RSS is
// its own.
//
//   node dist/scripts/tui-bench.js [--threads N] FILE PACKETS FILTER [FILTER...]
//
// --threads N: worker threads of a filter that needs every packet decoded (default: the UI's, one
// per other core that is free by the load average; 0: the scan packet by packet on the main thread
// alone).

import { boundHeapGrowth } from '../src/flows/heap.js';
import { FileSource } from '../src/tui/file-source.js';
import { PacketFilter } from '../src/tui/packet-filter.js';
import { SessionView } from '../src/tui/sessions.js';

/** The UI's display refresh (App's default refreshMs). */
const REFRESH_MS = 100;
/** Session rows on a tall terminal. */
const SCREEN_ROWS = 50;

export interface FilterRun {
  filter: string;
  /** Seconds (wall, and CPU: user + system) the filter took over the whole capture, once loaded. */
  s: number;
  cpuS: number;
  matches: number;
  /** Peak RSS of the process so far, once this filter is through (the decoding worker's heap is in it). */
  rssMb: number;
}

export interface TuiBenchResult {
  /** Seconds until the first screen can be drawn (the first chunk of the file is indexed). */
  firstS: number;
  /** Seconds until every frame was indexed (the Packets pane can reach the last one). */
  indexS: number;
  /** Seconds until the source was done: indexed, and the flow engine through the whole capture. */
  loadS: number;
  /** The first filter's run (as `filters[0]`). */
  filterS: number;
  matches: number;
  /** CPU seconds (user + system) of the load and of the first filter. */
  loadCpuS: number;
  filterCpuS: number;
  filters: FilterRun[];
  /** Peak RSS once loaded (the analysis's), and at the end (after the filters). */
  loadRssMb: number;
  maxRssMb: number;
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

export async function tuiBench(file: string, packets: number, filters: string[], threads?: number): Promise<TuiBenchResult> {
  boundHeapGrowth(); // as `lispscope tui FILE` does
  const source = new FileSource([file], threads === undefined ? {} : { scan: { threads } });
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
  const firstS = (performance.now() - t0) / 1000;
  const view = new SessionView(false);
  const refresh = setInterval(() => {
    // What App's snapshot takes, the Sessions pane's sync and its first screen of rows.
    const { list, total } = source.sessions();
    view.sync(list, total, source.pending());
    for (let i = 0; i < Math.min(view.count, SCREEN_ROWS); i++) view.row(i);
    source.counters();
    source.status();
    void [...source.mappings()];
  }, REFRESH_MS);
  await loaded.finally(() => clearInterval(refresh));
  const loadS = (performance.now() - t0) / 1000;
  const loadCpuS = cpu() - c0;
  const loadRssMb = process.resourceUsage().maxRSS / 1024;

  const runs: FilterRun[] = [];
  for (const filter of filters) {
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
    const p = f.progress();
    runs.push({ filter, s: (performance.now() - t1) / 1000, cpuS: cpu() - c1, matches: p.end - p.first, rssMb: process.resourceUsage().maxRSS / 1024 });
    f.stop();
  }
  await source.stop();
  const first = runs[0]!;
  return { firstS, indexS, loadS, filterS: first.s, matches: first.matches, loadCpuS, filterCpuS: first.cpuS, filters: runs, loadRssMb, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

if (process.argv[1]?.endsWith('tui-bench.js')) {
  const args = process.argv.slice(2);
  let threads: number | undefined;
  if (args[0] === '--threads') {
    threads = Number(args[1]);
    args.splice(0, 2);
  }
  const [file, packets, ...filters] = args;
  process.stdout.write(`${JSON.stringify(await tuiBench(file!, Number(packets), filters.length ? filters : ['type == map-register'], threads))}\n`);
}
