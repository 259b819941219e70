// A capture file's frame decoded on demand as `lispscope read` decodes it in file order: the frames
// it depends on (frame-context.ts) go through a fresh decoder first: the other fragments of the
// datagram it completes; for a TCP 4342 segment, its connection's segments from the first one.
// Cursors (decoders left where a replay stopped) make going down a connection cheap: each segment
// is fed once; the segments a replay went through are kept for a while, so going back up does not
// replay them again. A replay too long to wait for (a jump deep into a long connection) goes on
// in the background, a slice at a time, when the caller says it cannot wait: the screen is
// redrawn when it is done.

import { PacketDecoder, type LispPacket, type PacketDecoderOptions } from '../capture/packets.js';
import type { Frame } from '../capture/types.js';
import { ALL, NONE, type FrameContext } from './frame-context.js';

export interface Decoded {
  packet: LispPacket;
  /** The frame's bytes (the packet's views and the detail tree's ranges point into them). */
  bytes: Uint8Array;
}

interface Cursor {
  chain: number;
  decoder: PacketDecoder;
  /** The member the decoder was fed last (-1: none yet). */
  last: number;
}

/** Segments decoded along the way, kept for the rows around the one asked for. */
const RECENT = 256;
/** Segments a caller that cannot wait gets replayed at once (about 3 µs each); more go on in the background. */
const AT_ONCE = 5_000;
/** A background slice's length: the event loop stays free for keys and redraws. */
const SLICE_MS = 8;

export class ContextDecoder {
  /** Least recently used first. */
  private cursors: Cursor[] = [];
  private readonly recent = new Map<number, Decoded>();
  /** The replay going on in the background, if any (the latest frame asked for wins): what is left to feed its cursor. */
  private job: { k: number; cursor: Cursor; todo: number[]; at: number } | undefined;
  private timer: NodeJS.Immediate | undefined;

  constructor(
    private readonly context: FrameContext,
    /** Reads frame `i` (0-based) back from the file. */
    private readonly read: (i: number) => Frame | undefined,
    private readonly opts: PacketDecoderOptions,
    /** Cursors kept: as many as connections a caller goes through at once (a scan: all of them). */
    private readonly maxCursors = 32,
    /** Told when a background replay is done. */
    private readonly ready: () => void = () => undefined,
  ) {}

  /**
   * Frame `i` (0-based), decoded as `read` decodes it. With `wait` false, a long replay goes on in
   * the background and undefined comes back meanwhile (`ready` says when to ask again).
   */
  decode(i: number, wait = true): Decoded | undefined {
    const k = this.context.member(i);
    if (k < 0) return this.feed(new PacketDecoder(this.opts), i);
    const kept = this.recent.get(i);
    if (kept) return kept;
    const chain = this.context.chain(k);
    let cursor = this.best(chain, k);
    let todo = cursor && this.after(chain, cursor.last, k);
    if (!cursor || !todo) {
      cursor = { chain, decoder: new PacketDecoder(this.opts), last: -1 };
      todo = this.after(chain, -1, k)!;
      this.add(cursor);
    }
    if (!wait && todo.length > AT_ONCE) {
      this.job = { k, cursor, todo, at: 0 };
      this.timer ??= setImmediate(this.slice);
      return undefined;
    }
    return this.advance(cursor, todo, 0, Infinity);
  }

  /** Stops the background replay. */
  close(): void {
    if (this.timer) clearImmediate(this.timer);
    this.timer = undefined;
    this.job = undefined;
  }

  private readonly slice = (): void => {
    this.timer = undefined;
    const job = this.job;
    if (!job) return;
    if (!this.recent.has(this.context.memberFrame(job.k))) {
      // Another caller may have moved the cursor on (or it was dropped): plan again from where it is.
      if (job.cursor.last !== (job.at ? job.todo[job.at - 1] : -1) || !this.cursors.includes(job.cursor)) {
        let todo = job.cursor.last < job.k && this.cursors.includes(job.cursor) ? this.after(job.cursor.chain, job.cursor.last, job.k) : undefined;
        if (!todo) {
          job.cursor = { chain: job.cursor.chain, decoder: new PacketDecoder(this.opts), last: -1 };
          this.add(job.cursor);
          todo = this.after(job.cursor.chain, -1, job.k)!;
        }
        job.todo = todo;
        job.at = 0;
      }
      job.at = this.feedUntil(job.cursor, job.todo, job.at, performance.now() + SLICE_MS);
      if (job.at < job.todo.length) {
        this.timer = setImmediate(this.slice);
        return;
      }
    }
    this.job = undefined;
    this.ready();
  };

  private add(c: Cursor): void {
    this.cursors.push(c);
    if (this.cursors.length > this.maxCursors) this.cursors.shift();
  }

  /** The cursor of `chain` nearest before member `k` (every member before `k` in a chain is on its way). */
  private best(chain: number, k: number): Cursor | undefined {
    let best: Cursor | undefined;
    for (const c of this.cursors) if (c.chain === chain && c.last < k && (!best || c.last > best.last)) best = c;
    if (best) {
      this.cursors.splice(this.cursors.indexOf(best), 1);
      this.cursors.push(best);
    }
    return best;
  }

  /** Feeds `todo` (members, in order) from `at` on to the cursor; the last one's packet. */
  private advance(cursor: Cursor, todo: number[], at: number, deadline: number): Decoded | undefined {
    this.feedUntil(cursor, todo, at, deadline);
    return this.recent.get(this.context.memberFrame(todo[todo.length - 1]!));
  }

  /** Feeds `todo` from `at` on to the cursor until `deadline`; returns where it stopped. */
  private feedUntil(cursor: Cursor, todo: number[], at: number, deadline: number): number {
    let n = at;
    for (; n < todo.length; n++) {
      if (((n - at) & 63) === 63 && performance.now() >= deadline) break;
      const m = todo[n]!;
      const frame = this.context.memberFrame(m);
      const out = this.feed(cursor.decoder, frame);
      cursor.last = m;
      if (out) this.keep(frame, out);
    }
    return n;
  }

  /**
   * The members of `chain` after member `from` (-1: from its start) up to `k`, in order; undefined
   * when `from` is not on the way.
   */
  private after(chain: number, from: number, k: number): number[] | undefined {
    const out: number[] = [];
    if (chain === ALL) {
      for (let m = from + 1; m <= k; m++) out.push(m);
      return out;
    }
    for (let m = k; m !== from; m = this.context.prev(m)) {
      if (m === NONE) {
        if (from < 0) break;
        return undefined;
      }
      if (m < from) return undefined;
      out.push(m);
    }
    return out.reverse();
  }

  /** Decodes frame `i` with `d`, after the other fragments of the datagram it completes. */
  private feed(d: PacketDecoder, i: number): Decoded | undefined {
    for (const j of this.context.fragmentsOf(i) ?? []) {
      const f = this.read(j);
      if (f) d.decode(f);
    }
    const f = this.read(i);
    if (!f) return undefined;
    const packet = d.decode(f);
    return packet ? { packet, bytes: f.data } : undefined;
  }

  private keep(i: number, d: Decoded): void {
    this.recent.delete(i);
    this.recent.set(i, d);
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value!);
  }
}
