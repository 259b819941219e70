// The Packets pane's rows under the `/` filter: the packets whose `read --json` object passes the
// `-Y` expression, as `lispscope read -Y` selects them. A capture can hold millions of packets that
// are decoded only when shown, so the filter never runs over all of them at once: it scans in
// slices of a few milliseconds between which the event loop (keys, redraws, the source's own
// indexing) goes on, keeps the sequence numbers of the matches found so far, and goes on with the
// packets that arrive later (a file still being indexed, a live capture, the lab). Packets the
// source no longer keeps (live and lab keep the newest) leave the matches too. A big capture file
// and a filter that needs its data packets decoded go over worker threads instead when cores are
// free (the source's scanParallel: `read -Y` cut into chunks), their matches arriving in order,
// unless the filter reads only members of a data packet that its bytes give in place (addresses,
// ports: plain-filter.ts), which is cheaper than decoding it anywhere. A common control message
// is read in place too when the filter reads only its type, nonce, EIDs, RLOCs and outer or
// inner addresses and ports (plain-control-filter.ts).

import type { Frame } from '../capture/types.js';
import { compileFilterAmongPlan, type CompiledFilter } from '../flows/filter.js';
import { writePacketJson } from '../output/json.js';
import { keptPaths, PrunedObjectWriter } from '../output/json-writer.js';
import { plainControlTest } from './plain-control-filter.js';
import { plainDataTest } from './plain-filter.js';
import { SeqList } from './seq-list.js';
import type { DataSource } from './source.js';

/** How long one slice of the scan may hold the event loop. */
const SLICE_MS = 8;

export interface FilterProgress {
  /** Matches available, numbered from the first ever found: [first, end). */
  first: number;
  end: number;
  /** Packets looked at, of the packets the source has (both over its current range). */
  scanned: number;
  of: number;
  /** Everything the source has was looked at (more may come). */
  caughtUp: boolean;
}

export class PacketFilter {
  readonly text: string;
  private readonly filter: CompiledFilter;
  /** Builds of a packet's JSON object only what the filter reads. */
  private readonly writer: PrunedObjectWriter;
  /** The filter over plain data packets read in place, when it reads only what that builds. */
  private readonly plain: ((f: Frame) => boolean | undefined) | undefined;
  /** The filter over common control messages read in place, when it reads only what that builds. */
  private readonly plainControl: ((f: Frame) => boolean | undefined) | undefined;
  /** The filter's verdict per packet type, for the packets whose type the source knows (undefined: decode and test). */
  private readonly verdicts = new Map<string, boolean | undefined>();
  /** Sequence numbers of the matches, ascending; match number `n` is at index `n - dropped`. */
  private readonly seqs = new SeqList();
  private dropped = 0;
  /** The next packet to look at. */
  private next: number;
  private timer: NodeJS.Immediate | undefined;
  /** The scan over worker threads going on, if any: the scan packet by packet waits for it. */
  private parallel: AbortController | undefined;
  private stopped = false;
  private readonly unsubscribe: () => void;
  private readonly listeners = new Set<() => void>();

  /** Starts scanning `source`; throws FilterError (with the column) when `text` does not compile. */
  constructor(
    private readonly source: DataSource,
    text: string,
  ) {
    this.filter = compileFilterAmongPlan(text, 'packet', ['exchange']);
    this.writer = new PrunedObjectWriter(keptPaths(this.filter.paths));
    const inPlace = source.scanFrame && source.plainInPlace?.();
    this.plain = inPlace ? plainDataTest(this.filter) : undefined;
    this.plainControl = inPlace ? plainControlTest(this.filter) : undefined;
    this.text = text.trim();
    this.next = source.packetRange().first;
    this.unsubscribe = source.subscribe((changed) => {
      if (changed.has('packets')) this.schedule();
    });
    // A filter that needs the data packets decoded (most of any capture) is worth worker threads.
    if (this.filter.paths.length && this.filter.byType('data') === undefined && !this.plain) this.scanParallel(text);
    this.schedule();
  }

  /** Lets the source find the matches on worker threads, if it can; the scan packet by packet takes over after them. */
  private scanParallel(text: string): void {
    const control = new AbortController();
    const run = this.source.scanParallel?.(
      text,
      (seqs, scanned) => {
        if (this.stopped) return;
        for (const seq of seqs) if (seq >= this.next) this.seqs.push(seq);
        this.next = Math.max(this.next, scanned);
        for (const l of this.listeners) l();
      },
      control.signal,
    );
    if (!run) return;
    this.parallel = control;
    const done = (end: number) => {
      this.parallel = undefined;
      if (this.stopped) return;
      this.next = Math.max(this.next, end);
      for (const l of this.listeners) l();
      this.schedule();
    };
    // A failure leaves the rest, after the last match found, to the scan packet by packet.
    run.then(done, () => done(0));
  }

  stop(): void {
    this.stopped = true;
    this.parallel?.abort();
    this.unsubscribe();
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  /** Calls `fn` after every slice that looked at packets; returns the unsubscribe. */
  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  progress(): FilterProgress {
    const { first, end } = this.source.packetRange();
    const from = Math.max(first, Math.min(this.next, end));
    return { first: this.dropped, end: this.dropped + this.seqs.length, scanned: from - first, of: end - first, caughtUp: !this.parallel && this.next >= end };
  }

  /** The sequence number of match `n` (as numbered by progress()), if it is still kept. */
  at(n: number): number | undefined {
    const i = n - this.dropped;
    return i >= 0 && i < this.seqs.length ? this.seqs.get(i) : undefined;
  }

  /** The number of the first match at or after packet `seq` among the matches before `end`. */
  lowerBound(seq: number, end = this.dropped + this.seqs.length): number {
    let lo = 0;
    let hi = Math.max(0, Math.min(this.seqs.length, end - this.dropped));
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs.get(mid) < seq) lo = mid + 1;
      else hi = mid;
    }
    return this.dropped + lo;
  }

  private schedule(): void {
    if (!this.timer && !this.stopped && !this.parallel) this.timer = setImmediate(this.slice);
  }

  private readonly slice = (): void => {
    this.timer = undefined;
    if (this.stopped) return;
    const { first, end } = this.source.packetRange();
    this.forgetBefore(first);
    if (this.next < first) this.next = first;
    if (this.next >= end) return;
    const deadline = performance.now() + SLICE_MS;
    let n = 0;
    while (this.next < end) {
      const seq = this.next++;
      if (this.matches(seq)) this.seqs.push(seq);
      if ((++n & 15) === 0 && performance.now() >= deadline) break;
    }
    for (const l of this.listeners) l();
    if (this.next < end) this.schedule();
  };

  private matches(seq: number): boolean {
    const type = this.source.knownType?.(seq);
    if (type !== undefined) {
      let verdict = this.verdicts.get(type);
      if (!this.verdicts.has(type)) this.verdicts.set(type, (verdict = this.filter.byType(type)));
      if (verdict !== undefined) return verdict;
    }
    const plain = type === undefined || type === 'data' ? this.plain : undefined;
    const control = type !== 'data' ? this.plainControl : undefined;
    if ((plain || control) && this.source.plainInPlace!()) {
      const f = this.source.scanFrame!(seq);
      let verdict = f && plain?.(f);
      if (f && verdict === undefined) verdict = control?.(f);
      if (verdict !== undefined) return verdict;
    }
    const v = this.source.scanPacket(seq);
    if (!v) return false;
    writePacketJson(this.writer.reset(), v.packet);
    return this.filter.test(this.writer.result as Record<string, unknown>);
  }

  /** Drops the matches the source no longer keeps (live and lab evict the oldest packets). */
  private forgetBefore(first: number): void {
    const s = this.seqs;
    let k = 0;
    while (k < s.length && s.get(k) < first) k++;
    s.dropFront(k);
    this.dropped += k;
  }
}
