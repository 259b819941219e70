// What the live interface and the lab have in common: frames arrive one by one, forever. Each is
// copied into a bounded ring (the newest `maxPackets` are kept, older ones are counted as evicted),
// decoded once for the flow engine, and decoded again on demand when shown. A frame whose decoding
// depends on frames before it (one that completes an IP-fragmented datagram, a TCP 4342 segment:
// reassembly state) keeps what the in-order decoding gave, as `sniff` shows it, for as long as its
// frame is in the ring: the frames it depends on may be gone already. Exchanges close on a timer
// too (the wall clock moves capture time on when traffic stops), so sessions appear even when
// nothing follows them.

import { PacketDecoder, type LispPacket, type PacketDecoderOptions } from '../capture/packets.js';
import type { Frame } from '../capture/types.js';
import { FlowEngine } from '../flows/engine.js';
import type { FrameRef } from '../flows/types.js';
import { SourceCore, type PacketRef, type PacketView } from './source.js';
import { namesPorts } from '../dissect/classify.js';

export interface StreamOptions {
  /** The decoder's options; `decodeAs` may be a set the source fills in as it learns ports (the lab). */
  decoder?: Omit<PacketDecoderOptions, 'warning' | 'all'>;
  /** Seconds after which an unanswered request closes. */
  timeout?: number;
  /** Packets kept (default 100,000): the newest. */
  maxPackets?: number;
  /** Sessions kept (default 20,000): the newest. */
  maxSessions?: number;
  /** The wall clock in seconds that closes timed-out exchanges (default Date.now): tests set their own. */
  clock?: () => number;
}

/** The newest `cap` frames: their bytes (copies), times, lengths and link types. */
export class FrameRing {
  /** Frames pushed so far (the next sequence number). */
  end = 0;
  private readonly bytes: (Uint8Array | undefined)[];
  private readonly sec: Float64Array;
  private readonly nsec: Uint32Array;
  private readonly wire: Uint32Array;
  private readonly link: Uint16Array;
  private readonly frameNo: Float64Array;
  private readonly sender: (string | undefined)[];

  constructor(readonly cap: number) {
    this.bytes = new Array<Uint8Array | undefined>(cap);
    this.sec = new Float64Array(cap);
    this.nsec = new Uint32Array(cap);
    this.wire = new Uint32Array(cap);
    this.link = new Uint16Array(cap);
    this.frameNo = new Float64Array(cap);
    this.sender = new Array<string | undefined>(cap);
  }

  get first(): number {
    return Math.max(0, this.end - this.cap);
  }

  push(f: Frame, sender?: string): number {
    const seq = this.end++;
    const k = seq % this.cap;
    this.bytes[k] = f.data.slice();
    this.sec[k] = f.tsSec;
    this.nsec[k] = f.tsNsec;
    this.wire[k] = f.len;
    this.link[k] = f.linkType;
    this.frameNo[k] = f.index;
    this.sender[k] = sender;
    return seq;
  }

  has(seq: number): boolean {
    return seq >= this.first && seq < this.end;
  }

  ts(seq: number): number {
    const k = seq % this.cap;
    return this.sec[k]! + this.nsec[k]! / 1e9;
  }

  frameNumber(seq: number): number {
    return this.frameNo[seq % this.cap]!;
  }

  frame(seq: number): { frame: Frame; sender?: string } | undefined {
    if (!this.has(seq)) return undefined;
    const k = seq % this.cap;
    const data = this.bytes[k]!;
    const frame: Frame = { index: this.frameNo[k]!, tsSec: this.sec[k]!, tsNsec: this.nsec[k]!, linkType: this.link[k]!, len: this.wire[k]!, data, interfaceId: 0 };
    const s = this.sender[k];
    return s === undefined ? { frame } : { frame, sender: s };
  }
}

export abstract class StreamSource extends SourceCore {
  readonly multiFile = false;
  protected readonly ring: FrameRing;
  private readonly decoder: PacketDecoder;
  /** In-order decodings of the frames in the ring that depend on earlier frames, by seq (ascending). */
  private readonly special = new Map<number, LispPacket>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(protected readonly opts: StreamOptions) {
    super(opts.maxSessions ?? 20_000);
    this.ring = new FrameRing(opts.maxPackets ?? 100_000);
    // `all`: a TCP segment that completes nothing depends on the stream too (held early, a
    // retransmission, part of a message): it must be kept like the others.
    this.decoder = new PacketDecoder({ ...opts.decoder, all: true, warning: (m) => this.warn(m) });
    this.engine = new FlowEngine({ ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}), order: 'close', onExchange: this.addExchange });
  }

  /** Starts closing timed-out exchanges on the wall clock. */
  protected startSweeping(): void {
    this.sweeper = setInterval(() => {
      this.engine!.exchanges.sweep(this.opts.clock ? this.opts.clock() : Date.now() / 1000, true);
      this.changed('mappings');
      this.changed('status');
    }, 500);
  }

  protected stopSweeping(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  /** One frame from the wire (its bytes are copied: the caller may reuse them). */
  protected ingest(f: Frame, sender?: string): void {
    const seq = this.ring.push(f, sender);
    const engine = this.engine!;
    engine.frame();
    // The ring's copy: the packet's views into the frame stay valid as long as it is kept.
    const p = this.decoder.decode(this.ring.frame(seq)!.frame);
    if (p && (p.fragments || p.tcp)) this.special.set(seq, p);
    for (const k of this.special.keys()) {
      if (k >= this.ring.first) break;
      this.special.delete(k);
    }
    // What a decoder without `all` returns (a frame that is not LISP has a summary) goes on.
    if (p && p.summary === undefined) {
      this.observe(p);
      engine.packet(p);
    }
    this.changed('packets');
  }

  packetRange(): { first: number; end: number } {
    return { first: this.ring.first, end: this.ring.end };
  }

  packetRef(seq: number): PacketRef | undefined {
    if (!this.ring.has(seq)) return undefined;
    return { seq, ref: { frame: this.ring.frameNumber(seq), file: 0 }, ts: this.ring.ts(seq) };
  }

  seqOf(ref: FrameRef): number | undefined {
    // Frames are numbered from 1 as they arrive, and every one is pushed.
    const seq = ref.frame - 1;
    return this.ring.has(seq) && this.ring.frameNumber(seq) === ref.frame ? seq : undefined;
  }

  scanFrame(seq: number): Frame | undefined {
    return this.ring.frame(seq)?.frame;
  }

  plainInPlace(): boolean {
    return !namesPorts(this.opts.decoder?.decodeAs);
  }

  protected decodeAt(seq: number): PacketView | undefined {
    const r = this.ring.frame(seq);
    if (!r) return undefined;
    const packet = this.special.get(seq) ?? new PacketDecoder({ ...this.opts.decoder, all: true }).decode(r.frame);
    if (!packet) return undefined;
    const v: PacketView = { seq, ref: { frame: r.frame.index, file: 0 }, packet, bytes: r.frame.data };
    if (r.sender !== undefined) v.sender = r.sender;
    return v;
  }

  protected finishEngine(): void {
    this.stopSweeping();
    this.decoder.finish();
    this.engine!.finish();
    this.settled();
    this.changed('sessions');
    this.changed('mappings');
  }
}
