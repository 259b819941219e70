// Several captures of one story (from the Mobile Node, the Map-Server, a peer) read side by side
// and merged by capture time into one packet stream; a packet seen by two vantage points is
// passed on once. Each reader is held back while its queue is full, so memory stays flat.

import { PacketDecoder, type LispPacket, type PacketDecoderOptions, type ReliableEntry } from '../capture/packets.js';
import { plainControl, scanPlainControl, type PlainControl } from '../capture/plain-control.js';
import { plainData, scanPlainData, type PlainData } from '../capture/plain-data.js';
import { readCapture } from '../capture/source.js';
import type { TcpHeader } from '../dissect/tcp.js';
import type { Frame } from '../capture/types.js';
import type { IpHeader } from '../dissect/ip.js';
import { namesPorts } from '../dissect/classify.js';

/** A packet that outlives its frame: no views into capture buffers. */
export function retain(p: LispPacket): LispPacket {
  const { lisp: _lisp, ...rest } = p;
  const q: LispPacket = { ...rest };
  if (p.data) q.data = { ...p.data, payload: new Uint8Array(0) };
  return q;
}

/** FNV-1a over the LISP bytes and ports: equal for the same packet captured twice. */
function fingerprint(p: LispPacket): string | undefined {
  if (p.reliable && p.ip && p.tcp) return reliableFingerprint(p.ip, p.tcp, p.reliable);
  if (!p.lisp || !p.ip || !p.udp) return undefined;
  let h = 0x811c9dc5;
  const b = p.lisp;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return `${p.ip.src}>${p.ip.dst} ${p.udp.srcPort}>${p.udp.dstPort} ${b.length} ${(h >>> 0).toString(16)}`;
}

/**
 * A reliable-transport segment: its connection, sequence number and the messages it completed.
 * Each capture reassembles its own copy of the stream, so the same segment completes the same
 * messages in both (the TCP layer already drops retransmissions within one capture).
 */
function reliableFingerprint(ip: IpHeader, tcp: TcpHeader, entries: ReliableEntry[]): string {
  const messages = entries.map((e) => `${e.message.type}/${e.message.messageId}/${e.length}`).join(',');
  return `tcp ${ip.src}>${ip.dst} ${tcp.srcPort}>${tcp.dstPort} ${tcp.seq} ${messages}`;
}

export interface MergeOptions {
  decoder?: Omit<PacketDecoderOptions, 'warning'>;
  warning: (message: string) => void;
  /** Every frame read, before decoding (statistics); `file` is the capture's index. */
  onFrame?: (f: Frame, file: number) => void;
  /**
   * Plain data packets (capture/plain-data.ts) go here instead of being decoded, when reading one
   * capture without --decode-as: a consumer that needs only their addresses saves the decoding.
   * Returning false stops the reading, as onPacket's false does.
   */
  onPlainData?: (f: Frame, d: PlainData) => void | boolean;
  /**
   * Common control messages (capture/plain-control.ts) likewise, when besides no key is given:
   * their authentication verdicts are the decoder's.
   */
  onPlainControl?: (f: Frame, c: PlainControl) => void | boolean;
  /**
   * The same packet (same fingerprint) in two different captures within this many seconds is one
   * packet seen twice. Within one capture identical packets are retransmissions, never duplicates.
   */
  duplicateWindow?: number;
  /** A capture filter: frames it refuses are not decoded (nor passed on). */
  accept?: (f: Frame, file: number) => boolean;
  /**
   * Pass each packet's frame along (its bytes copied when captures are merged): for output that
   * shows or writes the frame itself.
   */
  keepFrames?: boolean;
  /**
   * Asked between chunks of input: a promise holds the reading until it settles (the output is
   * full: a slow reader of it holds the reading back instead of filling memory).
   */
  ready?: () => Promise<void> | undefined;
}

/** A packet's frame, kept with it while captures are merged. */
type Queued = LispPacket & { key?: string; rawFrame?: Frame };

interface Source {
  index: number;
  queue: Queued[];
  done: boolean;
  error?: unknown;
  /** Resolves the reader's pause when the queue drains. */
  resume?: () => void;
  /** Resolves the merger's wait when a packet arrives or the file ends. */
  wake?: () => void;
}

const HIGH_WATER = 2048;

interface Sighting {
  ts: number;
  file: number;
  /** Already paired with a copy from another capture. */
  paired: boolean;
}

/**
 * Recognises another capture's copy of a packet already passed on. Each copy pairs with one
 * sighting, so a retransmission captured by both observers still counts once per transmission.
 */
class DuplicateFilter {
  private readonly seen = new Map<string, Sighting[]>();
  /** Table size at which old entries are next swept (doubles when everything is recent). */
  private sweepAt = 65_536;

  constructor(private readonly window: number) {}

  isDuplicate(key: string, ts: number, file: number): boolean {
    let list = this.seen.get(key);
    if (list) {
      list = list.filter((x) => ts - x.ts <= this.window);
      const twin = list.find((x) => x.file !== file && !x.paired);
      if (twin) {
        twin.paired = true;
        this.seen.set(key, list);
        return true;
      }
    } else list = [];
    list.push({ ts, file, paired: false });
    this.seen.set(key, list);
    if (this.seen.size >= this.sweepAt) {
      for (const [k, l] of this.seen) if (ts - l[l.length - 1]!.ts > this.window) this.seen.delete(k);
      this.sweepAt = Math.max(65_536, this.seen.size * 2);
    }
    return false;
  }
}

/**
 * Reads `files` and calls `onPacket` for every LISP packet in capture-time order across them
 * (ties keep file order). Returns the number of duplicates dropped.
 */
export async function mergeCaptures(
  files: string[],
  opts: MergeOptions,
  onPacket: (p: LispPacket, file: number, frame?: Frame) => void | boolean,
): Promise<{ duplicates: number }> {
  const window = opts.duplicateWindow ?? 0.5;
  if (files.length === 1) {
    // One capture: no merge, no copies.
    const decoder = new PacketDecoder({ ...opts.decoder, warning: opts.warning });
    // Ports decoded as LISP change what a frame is; a key changes a control message's verdict.
    const decodedAs = namesPorts(opts.decoder?.decodeAs);
    const plain = decodedAs ? undefined : opts.onPlainData;
    const control = decodedAs || opts.decoder?.keyFor ? undefined : opts.onPlainControl;
    const d = plainData();
    const c = plainControl();
    let stopped = false;
    await readCapture(files[0]!, {
      frame: (f) => {
        opts.onFrame?.(f, 0);
        if (opts.accept && !opts.accept(f, 0)) return !stopped;
        if (plain && scanPlainData(f, d)) {
          if (plain(f, d) === false) stopped = true;
          return !stopped;
        }
        if (control && scanPlainControl(f, c)) {
          if (control(f, c) === false) stopped = true;
          return !stopped;
        }
        const p = decoder.decode(f);
        if (p && onPacket(p, 0, opts.keepFrames ? f : undefined) === false) stopped = true;
        return !stopped;
      },
      warning: opts.warning,
    }, opts.ready ? { pause: opts.ready } : {});
    decoder.finish();
    return { duplicates: 0 };
  }

  const sources: Source[] = files.map((_, index) => ({ index, queue: [], done: false }));
  const dups = new DuplicateFilter(window);
  let duplicates = 0;
  let stop = false;
  const readers = files.map(async (file, i) => {
    const s = sources[i]!;
    const decoder = new PacketDecoder({ ...opts.decoder, warning: (m) => opts.warning(`${file}: ${m}`) });
    try {
      await readCapture(
        file,
        {
          frame: (f) => {
            opts.onFrame?.(f, i);
            if (opts.accept && !opts.accept(f, i)) return !stop;
            const p = decoder.decode(f);
            if (!p) return !stop;
            const key = fingerprint(p);
            const q: Queued = retain(p);
            if (key) q.key = key;
            if (opts.keepFrames) q.rawFrame = { ...f, data: f.data.slice() };
            s.queue.push(q);
            s.wake?.();
            return !stop;
          },
          warning: opts.warning,
        },
        { pause: () => (s.queue.length >= HIGH_WATER && !stop ? new Promise<void>((r) => (s.resume = r)) : undefined) },
      );
      decoder.finish();
    } catch (e) {
      s.error = e;
    } finally {
      s.done = true;
      s.wake?.();
    }
  });

  for (;;) {
    // Wait until every live source has a packet queued (or is done), then take the earliest.
    const waiting = sources.filter((s) => s.queue.length === 0 && !s.done);
    if (waiting.length) {
      await Promise.race(waiting.map((s) => new Promise<void>((r) => (s.wake = r))));
      continue;
    }
    const failed = sources.find((s) => s.error);
    if (failed) {
      stop = true;
      for (const s of sources) s.resume?.();
      await Promise.allSettled(readers);
      throw failed.error;
    }
    let best: Source | undefined;
    for (const s of sources) if (s.queue.length && (!best || s.queue[0]!.ts < best.queue[0]!.ts)) best = s;
    if (!best) break;
    const p = best.queue.shift()!;
    if (best.queue.length < HIGH_WATER / 2 && best.resume) {
      const r = best.resume;
      best.resume = undefined;
      r();
    }
    if (p.key && dups.isDuplicate(p.key, p.ts, best.index)) {
      duplicates++;
      continue;
    }
    delete p.key;
    const frame = p.rawFrame;
    delete p.rawFrame;
    if (onPacket(p, best.index, frame) === false) {
      stop = true;
      for (const s of sources) s.resume?.();
      break;
    }
    const full = opts.ready?.();
    if (full) await full;
  }
  await Promise.allSettled(readers);
  return { duplicates };
}
