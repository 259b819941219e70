// What a live capture says on stderr besides its output: a status line while it runs (on a
// terminal only) and the totals at the end: what was captured, decoded, shown or exported, and
// what was lost where (lispscope's queue, the kernel, the interface), so that a quiet capture is
// never mistaken for a complete one.

import type { LiveStats } from '../capture/live.js';
import type { PacketKinds } from './packet-stream.js';
import { plural } from './units.js';


/** How far a live capture got. */
export interface LiveProgress {
  /** Frames the capture handed over. */
  frames: number;
  kinds: PacketKinds;
  /** Packets (or exchanges) shown, or packets exported. */
  shown: number;
  stats: LiveStats;
}

export function statusText(p: LiveProgress): string {
  return `${plural(p.frames, 'packet')}, ${plural(p.kinds.lisp, 'LISP message')}, ${p.shown} shown, queue drops ${p.stats.queueDrops}, kernel drops ${p.stats.kernelDrops ?? 'n/a'}`;
}

/**
 * The status on a terminal, each second: rewritten in place when stdout goes elsewhere, a line
 * every ten seconds among the output when stdout is the terminal too.
 */
export class StatusLine {
  private shown = false;
  private ticks = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    progress: () => LiveProgress,
    o: { stdoutTty: boolean; info: (line: string) => void },
  ) {
    this.timer = setInterval(() => {
      this.ticks++;
      if (!o.stdoutTty) {
        // Straight to the terminal: a status waiting behind congested stdout would be stale.
        process.stderr.write(`\r\x1b[K${statusText(progress())}`);
        this.shown = true;
      } else if (this.ticks % 10 === 0) {
        o.info(statusText(progress()));
      }
    }, 1000);
  }

  /** Stops it; the line rewritten in place is cleared by clear(), before the totals. */
  stop(): void {
    clearInterval(this.timer);
  }

  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
  }
}

export interface LiveTotals extends LiveProgress {
  iface: string;
  /** What `shown` counts. */
  shows: 'packets' | 'exchanges' | 'exported';
  file?: { path: string; packets: number; filesStarted: number };
  export?: { dest: string; rows: { packets: number; exchanges: number; handovers: number }; droppedRows: number };
}

/** The lines said at the end of a live capture. */
export function liveTotalsLines(t: LiveTotals): string[] {
  const { kinds, stats: s } = t;
  const byKind = [kinds.control && `${kinds.control} control`, kinds.data && `${kinds.data} data`, kinds.reliable && `${kinds.reliable} reliable-transport`].filter(Boolean);
  const out = [
    `${plural(t.frames, 'packet')} captured on ${t.iface}, ${plural(kinds.lisp, 'LISP message')}${byKind.length ? ` (${byKind.join(', ')})` : ''}, ` +
      (t.shows === 'exported' ? `${t.shown} exported` : `${t.shows === 'exchanges' ? plural(t.shown, 'exchange') : t.shown} shown`),
  ];
  if (s.kernelDrops === undefined) {
    out.push(`${plural(s.queueDrops, 'packet')} dropped by lispscope's queue; kernel drops not known (cap does not report libpcap's statistics)`);
  } else {
    const iface = s.interfaceDrops ? `, ${s.interfaceDrops} by the interface` : '';
    out.push(`${plural(s.queueDrops, 'packet')} dropped by lispscope's queue, ${s.kernelDrops} by the kernel${iface}`);
  }
  const f = t.file;
  if (f) out.push(`${plural(f.packets, 'packet')} written to ${f.path}${f.filesStarted > 1 ? ` (${f.filesStarted} files, rotated)` : ''}`);
  const x = t.export;
  if (x) {
    out.push(
      `exported to ${x.dest}: ${plural(x.rows.packets, 'packet')}, ${plural(x.rows.exchanges, 'exchange')}, ${plural(x.rows.handovers, 'handover')}; ` +
        `${plural(x.droppedRows, 'row')} dropped (database unreachable or behind)`,
    );
  }
  return out;
}
