// Records what the embedded components put on the wire. Each datagram is recorded once, by whoever
// sends it, as a raw IPv4/IPv6 + UDP packet (LINKTYPE_RAW) with the wall-clock time it left (or,
// recorded by the receiver, arrived: the same instants the RTTs are measured between):
// in memory, so the CLI can decode and print it, and optionally streamed to a capture file by our
// own writer. Native (non-LISP) IP packets on the PxTR's link are recorded as they are.

import { performance } from 'node:perf_hooks';
import type { Frame } from '../capture/types.js';
import type { CapturePacket } from '../capture/writer.js';
import { encodeIpUdp } from '../dissect/ip.js';
import { LINKTYPE_RAW } from '../dissect/link.js';

/** A recorded packet: a capture Frame (PacketDecoder takes it as is) plus who sent it. */
export interface RecordedFrame extends Frame {
  /** Name of the component that sent it ("ms", "xtr-a", "mn", "nat" ...). */
  component: string;
  /** Recorded by the receiver (the CLI records both directions of its own exchanges). */
  received?: true;
}

export interface UdpRecord {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  payload: Uint8Array;
  /** Compute the UDP checksum (default true); LISP data is sent with 0 (RFC 9300 §5.3). */
  checksum?: boolean;
  /** Default 64. */
  ttl?: number;
  /** The datagram arrived rather than left. */
  received?: boolean;
  /** When it left or arrived (performance.now()); default now. */
  at?: number;
}

export interface RecorderOptions {
  /** Where each frame is also written as it is recorded (e.g. a PcapngFileWriter). */
  writer?: { write(p: CapturePacket): void };
  /** Keep at most this many frames in memory (default 1,000,000); later ones are only written and counted. */
  maxFrames?: number;
}

/**
 * Nanoseconds since the epoch at `at` (performance.now(), default now): the wall clock read once,
 * the monotonic clock's resolution in between.
 */
export function wallClockNs(at = performance.now()): bigint {
  return CLOCK_BASE_NS + BigInt(Math.round((at - PERF_BASE) * 1e6));
}
const PERF_BASE = performance.now();
const CLOCK_BASE_NS = BigInt(Date.now()) * 1_000_000n;

export class Recorder {
  readonly linkType = LINKTYPE_RAW;
  readonly frames: RecordedFrame[] = [];
  /** Frames recorded, including those not kept in memory. */
  count = 0;
  private readonly listeners = new Set<(f: RecordedFrame) => void>();
  private readonly maxFrames: number;
  private lastNs = 0n;
  private ipId = 1;

  constructor(private readonly opts: RecorderOptions = {}) {
    this.maxFrames = opts.maxFrames ?? 1_000_000;
  }

  /** Records a UDP datagram as an IPv4 or IPv6 packet (by the address family). */
  udp(component: string, d: UdpRecord): RecordedFrame {
    const packet = encodeIpUdp(
      { src: d.src, dst: d.dst, sport: d.sport, dport: d.dport, ttl: d.ttl ?? 64, id: this.nextId(), udpChecksum: d.checksum ?? true },
      d.payload,
    );
    return this.ip(component, packet, d.received, d.at);
  }

  /** Records an IP packet as it is (the native link of the PxTR). */
  ip(component: string, packet: Uint8Array, received?: boolean, at?: number): RecordedFrame {
    // Strictly increasing times, so that the order in the file is the order of sending.
    let ns = wallClockNs(at);
    if (ns <= this.lastNs) ns = this.lastNs + 1000n;
    this.lastNs = ns;
    const f: RecordedFrame = {
      index: ++this.count,
      tsSec: Number(ns / 1_000_000_000n),
      tsNsec: Number(ns % 1_000_000_000n),
      linkType: LINKTYPE_RAW,
      len: packet.length,
      data: packet,
      interfaceId: 0,
      component,
    };
    if (received) f.received = true;
    if (this.frames.length < this.maxFrames) this.frames.push(f);
    this.opts.writer?.write({ tsSec: f.tsSec, tsNsec: f.tsNsec, data: packet });
    for (const l of this.listeners) l(f);
    return f;
  }

  /** Calls `listener` for every frame from now on; returns a function that stops it. */
  onFrame(listener: (f: RecordedFrame) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private nextId(): number {
    this.ipId = (this.ipId + 1) & 0xffff;
    return this.ipId;
  }
}
