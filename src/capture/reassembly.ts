// IPv4 (RFC 791 §3.2) and IPv6 (RFC 8200 §4.5) fragment reassembly over captured frames.
// LISP encapsulation often pushes packets over the path MTU, so outer fragments are normal.
// State is bounded (datagrams in flight, bytes held, capture-time timeout) and anything doubtful
// (overlaps, conflicting lengths, cut-short fragments) abandons the datagram: we never guess.

import { copyBytes } from '../dissect/addr.js';
import { internetChecksum, type IpHeader } from '../dissect/ip.js';

export interface ReassemblyOptions {
  /** Datagrams being assembled at once; the oldest is dropped beyond it. Default 1024. */
  maxDatagrams?: number;
  /** Fragment bytes held in total; the oldest datagrams are dropped beyond it. Default 16 MiB. */
  maxBytes?: number;
  /** Capture-time seconds a datagram may wait for its fragments. Default 30 (RFC 8200 uses 60, Linux 30). */
  timeoutSec?: number;
  /** Told about every datagram dropped unfinished (timeout, bounds, end of capture). */
  onEvict?: (frames: readonly number[], reason: string) => void;
}

export interface ReassemblyStats {
  /** Fragments offered. */
  fragments: number;
  /** Datagrams completed. */
  completed: number;
  /** Exact repeats of a fragment already held (ignored). */
  duplicates: number;
  /** Datagrams abandoned as overlapping, inconsistent, too large or cut short. */
  failed: number;
  /** Datagrams dropped unfinished for each reason. */
  evictedTimeout: number;
  evictedMemory: number;
  evictedCount: number;
  /** Datagrams still unfinished when finish() was called. */
  incompleteAtEnd: number;
  inFlight: number;
  bytesInFlight: number;
}

export type ReassemblyResult =
  | { status: 'not-fragment' }
  | { status: 'pending' }
  /** `datagram` is a fresh buffer: a valid IP header without fragmentation, then the whole payload. */
  | { status: 'complete'; datagram: Uint8Array; frames: number[] }
  /** This datagram is abandoned; `frames` are the ones that carried its fragments so far. */
  | { status: 'failed'; reason: string; frames: number[] };

interface Piece {
  start: number;
  end: number;
  data: Uint8Array;
}

interface Pending {
  firstSeen: number;
  frames: number[];
  /** Sorted by start, never overlapping. */
  pieces: Piece[];
  /** From the offset-0 fragment: IPv4 header, or IPv6 header + unfragmentable extension headers. */
  header?: Uint8Array;
  /** IPv6: where in `header` the Next Header pointing at the Fragment header sits. */
  nextHeaderAt: number;
  /** IPv6: the Fragment header's Next Header, from the first fragment. */
  nextHeader: number;
  /** Payload end, once the last fragment (MF = 0) has been seen. */
  totalEnd?: number;
  received: number;
  bytes: number;
  /** Set once abandoned: later fragments of it are refused, not restarted. */
  failed?: string;
}

const MAX_IP_PAYLOAD = 65535;

function ipKey(ip: IpHeader): string {
  return ip.version === 4 ? `4 ${ip.src} ${ip.dst} ${ip.id} ${ip.proto}` : `6 ${ip.src} ${ip.dst} ${ip.id}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[bOff + i]) return false;
  return true;
}

export class Reassembler {
  private readonly maxDatagrams: number;
  private readonly maxBytes: number;
  private readonly timeoutSec: number;
  private readonly onEvict: ((frames: readonly number[], reason: string) => void) | undefined;
  /** Insertion order is creation order, so the oldest datagram is always first. */
  private readonly pending = new Map<string, Pending>();
  private bytes = 0;
  /** Capture time of the fragment being added. */
  private now = 0;
  private readonly counters = {
    fragments: 0,
    completed: 0,
    duplicates: 0,
    failed: 0,
    evictedTimeout: 0,
    evictedMemory: 0,
    evictedCount: 0,
    incompleteAtEnd: 0,
  };

  constructor(opts: ReassemblyOptions = {}) {
    this.maxDatagrams = Math.max(1, opts.maxDatagrams ?? 1024);
    this.maxBytes = opts.maxBytes ?? 16 * 1024 * 1024;
    this.timeoutSec = opts.timeoutSec ?? 30;
    this.onEvict = opts.onEvict;
  }

  get stats(): ReassemblyStats {
    let inFlight = 0;
    for (const p of this.pending.values()) if (!p.failed) inFlight++;
    return { ...this.counters, inFlight, bytesInFlight: this.bytes };
  }

  /**
   * Offers the IP packet decoded as `ip` from `b` (frame `frameIndex`, captured at `time`
   * seconds). Copies what it keeps: `b` may be reused once this returns.
   */
  add(frameIndex: number, time: number, b: Uint8Array, ip: IpHeader): ReassemblyResult {
    if (!ip.isFragment) return { status: 'not-fragment' };
    this.counters.fragments++;
    this.now = time;
    this.expire(time);
    const key = ipKey(ip);
    let d = this.pending.get(key);
    if (d?.failed) {
      return { status: 'failed', reason: `datagram already abandoned: ${d.failed}`, frames: [frameIndex] };
    }
    if (!d) {
      while (this.pending.size >= this.maxDatagrams) this.evictOldest('too many datagrams in flight', 'evictedCount');
      d = { firstSeen: time, frames: [], pieces: [], nextHeaderAt: 6, nextHeader: 0, received: 0, bytes: 0 };
      this.pending.set(key, d);
    }
    d.frames.push(frameIndex);
    const fail = (reason: string): ReassemblyResult => this.fail(key, d!, reason);

    if (ip.truncated) return fail(`fragment in frame ${frameIndex} is cut short by the capture`);
    const start = ip.fragmentOffset * 8;
    const len = ip.payloadEnd - ip.payloadOffset;
    const end = start + len;
    if (ip.moreFragments && (len === 0 || len % 8 !== 0)) {
      return fail(`fragment in frame ${frameIndex} is not the last but carries ${len} bytes (not a multiple of 8)`);
    }
    if (end > MAX_IP_PAYLOAD) return fail(`fragment in frame ${frameIndex} ends at ${end}, beyond the largest IP datagram`);
    if (!ip.moreFragments) {
      if (d.totalEnd !== undefined && d.totalEnd !== end) {
        return fail(`last fragments disagree on the datagram length (${d.totalEnd} and ${end}, frame ${frameIndex})`);
      }
      const last = d.pieces[d.pieces.length - 1];
      if (last && last.end > end) return fail(`frame ${frameIndex} ends the datagram at ${end} but data up to ${last.end} was seen`);
      d.totalEnd = end;
    } else if (d.totalEnd !== undefined && end >= d.totalEnd) {
      return fail(`fragment in frame ${frameIndex} (bytes ${start}–${end}) reaches past the last fragment (${d.totalEnd})`);
    }

    // Find the insertion point; any overlap other than an exact repeat is fatal.
    let i = 0;
    while (i < d.pieces.length && d.pieces[i]!.end <= start) i++;
    const next = d.pieces[i];
    if (next && next.start < end) {
      if (next.start === start && next.end === end && sameBytes(next.data, b, ip.payloadOffset)) {
        this.counters.duplicates++;
        d.frames.pop();
        return { status: 'pending' };
      }
      return fail(`fragment in frame ${frameIndex} (bytes ${start}–${end}) overlaps bytes ${next.start}–${next.end}`);
    }
    if (start === 0) {
      if (ip.version === 4) {
        d.header = copyBytes(b, ip.headerOffset, ip.payloadOffset);
      } else {
        const fh = ip.fragmentHeaderOffset!;
        d.header = copyBytes(b, ip.headerOffset, fh);
        const exts = ip.extensionHeaders ?? [];
        const before = exts.filter((e) => e.offset < fh);
        d.nextHeaderAt = before.length > 0 ? before[before.length - 1]!.offset - ip.headerOffset : 6;
        d.nextHeader = b[fh]!;
      }
    }
    d.pieces.splice(i, 0, { start, end, data: copyBytes(b, ip.payloadOffset, ip.payloadEnd) });
    d.received += len;
    const charge = len + (start === 0 ? d.header!.length : 0);
    d.bytes += charge;
    this.bytes += charge;
    if (d.bytes > this.maxBytes) return fail(`datagram exceeds the reassembly memory bound (${this.maxBytes} bytes)`);
    while (this.bytes > this.maxBytes && this.evictOldest('reassembly memory bound reached', 'evictedMemory', key));

    if (d.totalEnd === undefined || d.received !== d.totalEnd) return { status: 'pending' };
    const payloadLength = d.header!.length - (ip.version === 4 ? 0 : 40) + d.totalEnd;
    if (payloadLength > MAX_IP_PAYLOAD) return fail(`reassembled datagram would be ${payloadLength} bytes, too large for its header`);
    // Pieces never overlap and all lie within [0, totalEnd), so this many bytes means no holes.
    this.pending.delete(key);
    this.bytes -= d.bytes;
    this.counters.completed++;
    return { status: 'complete', datagram: this.build(ip.version, d), frames: d.frames };
  }

  /** Drops datagrams older than the timeout at capture time `now`. */
  expire(now: number): void {
    for (const [key, d] of this.pending) {
      if (now - d.firstSeen <= this.timeoutSec) break;
      this.drop(key, d);
      if (!d.failed) {
        this.counters.evictedTimeout++;
        this.onEvict?.(d.frames, `incomplete after ${this.timeoutSec} s`);
      }
    }
  }

  /** End of capture: every unfinished datagram is reported and dropped. */
  finish(): void {
    for (const [key, d] of this.pending) {
      this.drop(key, d);
      if (!d.failed) {
        this.counters.incompleteAtEnd++;
        this.onEvict?.(d.frames, 'incomplete at the end of the capture');
      }
    }
  }

  private fail(key: string, d: Pending, reason: string): ReassemblyResult {
    this.counters.failed++;
    this.bytes -= d.bytes;
    d.bytes = 0;
    d.pieces = [];
    delete d.header;
    d.failed = reason;
    d.firstSeen = this.now;
    // Re-insert so the tombstone ages from now, behind younger datagrams.
    this.pending.delete(key);
    this.pending.set(key, d);
    return { status: 'failed', reason, frames: d.frames.slice() };
  }

  private drop(key: string, d: Pending): void {
    this.pending.delete(key);
    this.bytes -= d.bytes;
  }

  /** Drops the oldest datagram other than `keep`; false when there is none. */
  private evictOldest(reason: string, counter: 'evictedMemory' | 'evictedCount', keep?: string): boolean {
    for (const [key, d] of this.pending) {
      if (key === keep) continue;
      this.drop(key, d);
      if (!d.failed) {
        this.counters[counter]++;
        this.onEvict?.(d.frames, reason);
      }
      return true;
    }
    return false;
  }

  private build(version: 4 | 6, d: Pending): Uint8Array {
    const header = d.header!;
    const total = header.length + d.totalEnd!;
    const out = new Uint8Array(total);
    out.set(header, 0);
    for (const p of d.pieces) out.set(p.data, header.length + p.start);
    const dv = new DataView(out.buffer);
    if (version === 4) {
      dv.setUint16(2, total);
      dv.setUint16(6, dv.getUint16(6) & 0xc000); // keep reserved + DF, clear MF and the offset
      dv.setUint16(10, 0);
      dv.setUint16(10, internetChecksum(out, 0, header.length));
    } else {
      out[d.nextHeaderAt] = d.nextHeader;
      dv.setUint16(4, total - 40);
    }
    return out;
  }
}
