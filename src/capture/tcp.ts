// TCP (RFC 9293) header decoding and bounded stream reassembly, for the sessions that carry the LISP
// Map-Server reliable transport on port 4342. Per direction, segments are delivered in sequence
// order: retransmissions and duplicates are dropped, segments that arrive early are held (within a
// window and a byte budget), SYN fixes the stream start, FIN and RST end it. A hole that the bounds
// do not allow to wait for, or a segment cut by the snaplen, becomes a gap of known size: the
// consumer is told and goes on after it. Connections are capped in number, held bytes in total,
// and idle ones expire by capture time; every drop is counted and reported.

import type { IpHeader } from '../dissect/ip.js';
import { TcpFlag, type TcpHeader } from '../dissect/tcp.js';

// ---- reassembly ------------------------------------------------------------------------------

/** The reassembler's bounds unless told otherwise (also what the TUI's frame context mirrors). */
export const TCP_REASSEMBLY_DEFAULTS = {
  maxConnections: 1024,
  maxBytesPerDirection: 256 * 1024,
  maxBytes: 16 * 1024 * 1024,
  window: 1024 * 1024,
  idleTimeoutSec: 600,
} as const;

export interface TcpReassemblyOptions {
  /** Connections tracked at once; the least recently active is dropped beyond it. Default 1024. */
  maxConnections?: number;
  /** Early (out-of-order) bytes one direction may hold; beyond it the hole is given up. Default 256 KiB. */
  maxBytesPerDirection?: number;
  /** Early bytes held over all connections; beyond it the hole of the fullest direction is given up. Default 16 MiB. */
  maxBytes?: number;
  /** How far past the next expected byte a segment may start and still be waited for. Default 1 MiB. */
  window?: number;
  /** Capture-time seconds a connection may stay idle before it is dropped. Default 600. */
  idleTimeoutSec?: number;
  /**
   * Told when a direction is dropped, with its `app` state. `cause` says whether the segment
   * being added ended it (FIN reached, RST, a new SYN) or bounds, idleness or the end of the
   * capture did.
   */
  onDrop?: (d: TcpDirection, cause: 'segment' | 'bounds' | 'timeout' | 'end', reason: string) => void;
}

export interface TcpStats {
  /** Segments offered. */
  segments: number;
  /** Bytes delivered in order. */
  bytesDelivered: number;
  /** Segments whose bytes were all delivered or held already (retransmissions, duplicates). */
  retransmissions: number;
  retransmittedBytes: number;
  /** Segments held because they arrived before bytes preceding them. */
  outOfOrder: number;
  /** Bytes of an overlap that differ from the bytes already held (the first copy is kept). */
  conflictingBytes: number;
  /** Holes given up as lost, and their bytes (snaplen cuts included). */
  gaps: number;
  gapBytes: number;
  /** Segments cut short by the snaplen. */
  truncatedSegments: number;
  /** Segments of a connection already closed (late retransmissions after FIN/RST), ignored. */
  afterClose: number;
  /** Connections dropped for each reason. */
  droppedCount: number;
  droppedTimeout: number;
  droppedMemory: number;
  connections: number;
  bytesHeld: number;
}

/** What add() yields, in stream order, for the segment's direction. */
export type TcpEvent =
  /** In-order bytes (a view, valid until add() returns) starting at stream `offset`, carried by `frame`. */
  | { kind: 'data'; offset: number; data: Uint8Array; frame: number }
  /** Bytes [offset, offset + length) that will never be delivered. */
  | { kind: 'gap'; offset: number; length: number; reason: string };

export interface TcpAddResult {
  direction: TcpDirection;
  events: TcpEvent[];
  /** Stream offset of the segment's first payload byte. */
  segmentOffset: number;
  /**
   * What became of the segment's payload: delivered (at least in part), held for later (it came
   * early), old (a retransmission or duplicate, or the connection is closed); none without payload.
   */
  payload: 'delivered' | 'held' | 'old' | 'none';
}

interface Held {
  offset: number;
  data: Uint8Array;
  frame: number;
}

/** One direction of a connection. `app` is the consumer's per-direction state. */
export class TcpDirection {
  /** `src:port > dst:port`. */
  readonly name: string;
  /** Stream offset of the next byte to deliver (0 = first byte after the SYN, or the first byte seen). */
  next = 0;
  /** Sequence number of stream offset 0 (mod 2^32). */
  base = 0;
  /** A SYN fixed the stream start: offset 0 is the first byte of the session. */
  synced = false;
  started = false;
  /** Stream offset of the FIN, once seen. */
  fin?: number;
  closed = false;
  /** Early segments, sorted by offset, never overlapping. */
  held: Held[] = [];
  heldBytes = 0;
  app?: unknown;

  constructor(
    name: string,
    readonly connection: TcpConnection,
  ) {
    this.name = name;
  }

  /** Stream offset of sequence number `seq`, taken as the nearest to `next` (within 2^31). */
  offsetOf(seq: number): number {
    const rel = (seq - this.base - this.next) | 0;
    return this.next + rel;
  }
}

export class TcpConnection {
  lastSeen = 0;
  readonly dirs: [TcpDirection, TcpDirection];
  constructor(
    readonly key: string,
    names: [string, string],
  ) {
    this.dirs = [new TcpDirection(names[0], this), new TcpDirection(names[1], this)];
  }
}

const endpointText = (addr: string, port: number) => (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`);

export class TcpReassembler {
  private readonly maxConnections: number;
  private readonly maxPerDir: number;
  private readonly maxBytes: number;
  private readonly window: number;
  private readonly idleTimeoutSec: number;
  private readonly onDrop: TcpReassemblyOptions['onDrop'];
  /** Least recently active first (re-inserted on every segment). */
  private readonly conns = new Map<string, TcpConnection>();
  private bytes = 0;
  private readonly counters = {
    segments: 0,
    bytesDelivered: 0,
    retransmissions: 0,
    retransmittedBytes: 0,
    outOfOrder: 0,
    conflictingBytes: 0,
    gaps: 0,
    gapBytes: 0,
    truncatedSegments: 0,
    afterClose: 0,
    droppedCount: 0,
    droppedTimeout: 0,
    droppedMemory: 0,
  };

  constructor(opts: TcpReassemblyOptions = {}) {
    const d = TCP_REASSEMBLY_DEFAULTS;
    this.maxConnections = Math.max(1, opts.maxConnections ?? d.maxConnections);
    this.maxPerDir = opts.maxBytesPerDirection ?? d.maxBytesPerDirection;
    this.maxBytes = opts.maxBytes ?? d.maxBytes;
    this.window = opts.window ?? d.window;
    this.idleTimeoutSec = opts.idleTimeoutSec ?? d.idleTimeoutSec;
    this.onDrop = opts.onDrop;
  }

  get stats(): TcpStats {
    return { ...this.counters, connections: this.conns.size, bytesHeld: this.bytes };
  }

  /**
   * Offers the segment `tcp` of the IP packet `ip` in `b` (frame `frame`, captured at `time`).
   * Copies what it keeps.
   */
  add(frame: number, time: number, b: Uint8Array, ip: IpHeader, tcp: TcpHeader): TcpAddResult {
    this.counters.segments++;
    this.expire(time);
    const a = endpointText(ip.src, tcp.srcPort);
    const z = endpointText(ip.dst, tcp.dstPort);
    const forward = a < z;
    const key = forward ? `${a} ${z}` : `${z} ${a}`;
    let conn = this.conns.get(key);
    if (conn) this.conns.delete(key);
    else {
      while (this.conns.size >= this.maxConnections) this.evictOldest();
      conn = new TcpConnection(key, forward ? [`${a} > ${z}`, `${z} > ${a}`] : [`${z} > ${a}`, `${a} > ${z}`]);
    }
    this.conns.set(key, conn);
    conn.lastSeen = time;
    let d = conn.dirs[forward ? 0 : 1];
    const events: TcpEvent[] = [];
    const syn = (tcp.flags & TcpFlag.SYN) !== 0;
    const payload = b.subarray(tcp.payloadOffset, tcp.payloadEnd);

    if (syn && d.started && (d.closed || !d.synced || ((tcp.seq + 1 - d.base) | 0) !== 0)) {
      // A new connection on the same ports: the old one is over.
      this.dropConnection(conn, 'segment', 'was replaced by a new connection (SYN)');
      conn = new TcpConnection(key, [conn.dirs[0].name, conn.dirs[1].name]);
      this.conns.set(key, conn);
      conn.lastSeen = time;
      d = conn.dirs[forward ? 0 : 1];
    }
    if (d.closed) {
      if (payload.length > 0 || tcp.flags & TcpFlag.FIN) this.counters.afterClose++;
      return { direction: d, events, segmentOffset: d.next, payload: payload.length > 0 ? 'old' : 'none' };
    }
    if (!d.started) {
      d.started = true;
      d.synced = syn;
      d.base = syn ? (tcp.seq + 1) >>> 0 : tcp.seq;
    }
    const start = d.offsetOf(syn ? (tcp.seq + 1) >>> 0 : tcp.seq);
    if (tcp.truncated) this.counters.truncatedSegments++;
    const fate = payload.length > 0 ? this.accept(d, start, payload, frame, events) : 'none';
    if (tcp.truncated && tcp.payloadLength > payload.length) {
      // The snaplen cut the segment: its missing bytes are lost for good.
      const cutAt = start + payload.length;
      const cutEnd = start + tcp.payloadLength;
      if (d.next >= cutAt && d.next < cutEnd) {
        this.giveUp(d, cutEnd - d.next, 'cut by the capture snaplen', events);
        this.release(d, events);
      }
    }
    if (tcp.flags & TcpFlag.FIN) d.fin = start + tcp.payloadLength;
    if (tcp.flags & TcpFlag.RST) {
      // Both directions end; the closed connection stays as a tombstone so late segments are ignored.
      this.dropConnection(conn, 'segment', 'was reset (RST)');
      return { direction: d, events, segmentOffset: start, payload: fate };
    }
    if (d.fin !== undefined && d.next >= d.fin) this.close(d, 'segment', 'ended (FIN)');
    this.enforceTotal(d, events);
    return { direction: d, events, segmentOffset: start, payload: fate };
  }

  /** Drops connections idle for longer than the timeout at capture time `now`. */
  expire(now: number): void {
    for (const [key, c] of this.conns) {
      if (now - c.lastSeen <= this.idleTimeoutSec) break;
      this.conns.delete(key);
      if (!c.dirs.every((d) => d.closed)) this.counters.droppedTimeout++;
      this.dropConnection(c, 'timeout', `was idle for more than ${this.idleTimeoutSec} s`);
    }
  }

  /** End of capture: every open direction is reported and dropped. */
  finish(): void {
    for (const [key, c] of this.conns) {
      this.conns.delete(key);
      this.dropConnection(c, 'end', 'was cut off by the end of the capture');
    }
  }

  private accept(d: TcpDirection, start: number, payload: Uint8Array, frame: number, events: TcpEvent[]): 'delivered' | 'held' | 'old' {
    let s = start;
    let data = payload;
    const end = s + data.length;
    if (end <= d.next) {
      this.counters.retransmissions++;
      this.counters.retransmittedBytes += data.length;
      return 'old';
    }
    if (s < d.next) {
      // Partly old: only the new part counts.
      this.counters.retransmittedBytes += d.next - s;
      data = data.subarray(d.next - s);
      s = d.next;
    }
    if (s === d.next) {
      this.deliver(d, s, data, frame, events);
      this.release(d, events);
      return 'delivered';
    }
    if (s - d.next > this.window) {
      // What was held before it may reach into it: take it again from where the stream is now.
      this.skipTo(d, s, `a segment starts ${s - d.next} bytes ahead, beyond the ${this.window}-byte window`, events);
      return this.accept(d, s, data, frame, events);
    }
    let fate: 'held' | 'old' | 'delivered' = 'held';
    if (this.hold(d, s, data, frame)) this.counters.outOfOrder++;
    else {
      this.counters.retransmissions++;
      this.counters.retransmittedBytes += data.length;
      fate = 'old';
    }
    while (d.heldBytes > this.maxPerDir && d.held.length > 0) {
      this.giveUp(d, d.held[0]!.offset - d.next, `more than ${this.maxPerDir} bytes wait behind it`, events);
      this.release(d, events);
      fate = 'delivered';
    }
    return fate;
  }

  /** Keeps the parts of [s, s + data.length) not held yet; false when nothing was new. */
  private hold(d: TcpDirection, s: number, data: Uint8Array, frame: number): boolean {
    const pieces: Held[] = [];
    let pos = s;
    const end = s + data.length;
    for (const h of d.held) {
      const hEnd = h.offset + h.data.length;
      if (hEnd <= pos) continue;
      if (h.offset >= end) break;
      if (h.offset > pos) pieces.push({ offset: pos, data: data.slice(pos - s, h.offset - s), frame });
      // Overlap [max(pos, h.offset), min(end, hEnd)): the first copy stays; count differences.
      const o0 = Math.max(pos, h.offset);
      const o1 = Math.min(end, hEnd);
      for (let o = o0; o < o1; o++) if (data[o - s] !== h.data[o - h.offset]) this.counters.conflictingBytes++;
      pos = Math.max(pos, hEnd);
    }
    if (pos < end) pieces.push({ offset: pos, data: data.slice(pos - s), frame });
    if (pieces.length === 0) return false;
    for (const p of pieces) {
      let i = 0;
      while (i < d.held.length && d.held[i]!.offset < p.offset) i++;
      d.held.splice(i, 0, p);
      d.heldBytes += p.data.length;
      this.bytes += p.data.length;
    }
    return true;
  }

  private deliver(d: TcpDirection, offset: number, data: Uint8Array, frame: number, events: TcpEvent[]): void {
    if (data.length === 0) return;
    events.push({ kind: 'data', offset, data, frame });
    d.next = offset + data.length;
    this.counters.bytesDelivered += data.length;
  }

  /** Delivers held segments that are now in order (and drops held bytes that became old). */
  private release(d: TcpDirection, events: TcpEvent[]): void {
    while (d.held.length > 0 && d.held[0]!.offset <= d.next) {
      const h = d.held.shift()!;
      d.heldBytes -= h.data.length;
      this.bytes -= h.data.length;
      const end = h.offset + h.data.length;
      if (end <= d.next) continue;
      this.deliver(d, d.next, h.data.subarray(d.next - h.offset), h.frame, events);
    }
  }

  /** Gives up every hole before stream offset `target`, delivering what was held between them. */
  private skipTo(d: TcpDirection, target: number, reason: string, events: TcpEvent[]): void {
    while (d.next < target) {
      const h = d.held[0];
      const to = h && h.offset < target ? h.offset : target;
      this.giveUp(d, to - d.next, reason, events);
      this.release(d, events);
    }
  }

  /** The next `length` bytes will not come: skips them. */
  private giveUp(d: TcpDirection, length: number, reason: string, events: TcpEvent[]): void {
    if (length <= 0) return;
    events.push({ kind: 'gap', offset: d.next, length, reason });
    d.next += length;
    this.counters.gaps++;
    this.counters.gapBytes += length;
  }

  /**
   * Over the global budget, the direction holding the most pays: this one gives up its first hole
   * (it is preferred on a tie); another is dropped (its consumer is told; it starts over, unsynced).
   */
  private enforceTotal(current: TcpDirection, events: TcpEvent[]): void {
    while (this.bytes > this.maxBytes) {
      let worst: TcpDirection | undefined = current.heldBytes > 0 ? current : undefined;
      for (const c of this.conns.values()) for (const d of c.dirs) if (d.heldBytes > (worst?.heldBytes ?? 0)) worst = d;
      if (!worst) return;
      if (worst === current) {
        this.giveUp(current, current.held[0]!.offset - current.next, `reassembly memory bound (${this.maxBytes} bytes) reached`, events);
        this.release(current, events);
        continue;
      }
      this.counters.droppedMemory++;
      this.close(worst, 'bounds', `was dropped: the ${this.maxBytes}-byte reassembly memory bound was reached`);
      const c = worst.connection;
      c.dirs[c.dirs.indexOf(worst)] = new TcpDirection(worst.name, c);
    }
  }

  private close(d: TcpDirection, cause: 'segment' | 'bounds' | 'timeout' | 'end', reason: string): void {
    if (d.closed) return;
    d.closed = true;
    // Told before the held bytes go, so the consumer can say what was waiting behind a hole.
    this.onDrop?.(d, cause, reason);
    this.bytes -= d.heldBytes;
    d.held = [];
    d.heldBytes = 0;
  }

  private dropConnection(c: TcpConnection, cause: 'segment' | 'bounds' | 'timeout' | 'end', reason: string): void {
    for (const d of c.dirs) if (d.started) this.close(d, cause, reason);
  }

  private evictOldest(): void {
    const first = this.conns.entries().next();
    if (first.done) return;
    const [key, c] = first.value;
    this.conns.delete(key);
    if (!c.dirs.every((d) => !d.started || d.closed)) this.counters.droppedCount++;
    this.dropConnection(c, 'bounds', `was dropped: more than ${this.maxConnections} TCP connections at once`);
  }
}
