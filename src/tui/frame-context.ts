// What decoding a frame of a capture file depends on besides its own bytes, learnt while the index
// walks the file, so that a frame decoded on demand shows what `lispscope read` shows (read decodes
// the file in order, with reassembly state):
//  - a frame that completes an IP-fragmented datagram needs the frames of its other fragments;
//  - a segment of a TCP 4342 connection (Map-Server reliable transport) needs every earlier
//    segment of that connection: the stream state (SYN, next sequence number, bytes held early)
//    and the message framing decide what it completes, whether it is a retransmission, what it
//    skipped, and a SYN or RST reports what the connection left unfinished.
// A decoder of our own runs, in file order, over the frames that can touch that state (IP
// fragments, TCP): it says which datagram a frame completed and which frames are TCP 4342
// segments. Segments are linked into chains, one per connection as `read`'s decoder holds it: a
// chain ends where that decoder forgets the connection (idle timeout, too many connections), which
// the chains mirror with the same rule. Nothing is kept for the other frames; per fragmented
// datagram its frame numbers, per segment 12 bytes.

import { PacketDecoder, type PacketDecoderOptions } from '../capture/packets.js';
import { TCP_REASSEMBLY_DEFAULTS } from '../capture/tcp.js';
import type { Frame } from '../capture/types.js';
import { decodeIp, IPPROTO_TCP } from '../dissect/ip.js';
import { decodeLink, LINKTYPE_EN10MB } from '../dissect/link.js';

export type ContextOptions = Omit<PacketDecoderOptions, 'warning' | 'all' | 'keyFor'>;

/** The chain of a segment whose decoding needs every segment before it, of every connection (see `global`). */
export const ALL = 0xffffffff;
/** The previous member of a segment that starts its chain. */
export const NONE = 0xffffffff;

// TcpReassembler's defaults: the chains must forget a connection when it does.
const { maxConnections: MAX_CONNECTIONS, idleTimeoutSec: IDLE_TIMEOUT_SEC, maxBytes: MAX_HELD_BYTES } = TCP_REASSEMBLY_DEFAULTS;

/** A growable list of unsigned 32-bit numbers. */
class U32List {
  length = 0;
  private a = new Uint32Array(256);

  push(v: number): void {
    if (this.length === this.a.length) {
      const b = new Uint32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }

  at(k: number): number {
    return this.a[k]!;
  }

  /** Position of `v` in an ascending list, or -1. */
  find(v: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.a[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.length && this.a[lo] === v ? lo : -1;
  }
}

/** Whether decoding `f` may touch a decoder's reassembly state. A superset is fine: other frames leave it alone. */
function touchesState(f: Frame): boolean {
  const b = f.data;
  let o = 14;
  // Ethernet with the IPv4 Ethertype (most frames) needs no link decoding (its MAC address strings
  // were a third of the index's time).
  if (f.linkType !== LINKTYPE_EN10MB || b.length < 14 || b[12] !== 0x08 || b[13] !== 0x00) {
    const link = decodeLink(f.linkType, f.data);
    if (link.next !== 'ipv4' && link.next !== 'ipv6') return false;
    o = link.offset;
  }
  if (b.length - o >= 20 && b[o]! >> 4 === 4) {
    // IPv4 (most frames): the fragment fields and the protocol sit at fixed offsets, no need to
    // decode the header (that would double the time the index takes).
    return (((b[o + 6]! << 8) | b[o + 7]!) & 0x3fff) !== 0 || b[o + 9] === IPPROTO_TCP;
  }
  const ip = decodeIp(b, o, b.length);
  return ip.ok && (ip.isFragment || ip.proto === IPPROTO_TCP);
}

const endpoint = (addr: string, port: number) => `[${addr}]:${port}`;

/** The chain a connection's segments go to, in `read`'s decoder's least-recently-active order. */
interface Chain {
  /** Member number of its latest segment. */
  last: number;
  /** Capture time of that segment (the connection's last activity). */
  lastSeen: number;
}

export class FrameContext {
  /** Frames (0-based) that completed a fragmented datagram, ascending ... */
  private readonly fragAt = new U32List();
  /** ... where their other fragments start in `fragList` (each list ends where the next starts). */
  private readonly fragFrom = new U32List();
  private readonly fragList = new U32List();
  /** TCP 4342 segments ("members"), in file order: frame (0-based), previous member of the chain (or NONE), chain. */
  private readonly segAt = new U32List();
  private readonly segPrev = new U32List();
  private readonly segChain = new U32List();
  private decoder: PacketDecoder | undefined;
  private readonly chains = new Map<string, Chain>();
  /**
   * Set once replaying a connection alone may not give what `read` gave: the TCP reassembly
   * memory bound (shared by every connection) could be reached, or an idle connection outlived
   * its timeout (capture times going backwards). From then on a segment replays every segment
   * before it, which is always exact.
   */
  private global = false;
  /** At least the bytes the decoder's TCP reassembly holds early: what it held when last asked, plus what frames since may have added. */
  private heldBound = 0;
  private readonly maxConnections: number;
  private readonly idleTimeoutSec: number;
  private readonly maxBytes: number;

  constructor(
    opts: ContextOptions = {},
    /** The entry (0-based) of a frame number already observed (pcapng numbers some blocks that are not frames). */
    private readonly entryOf: (frame: number) => number = (frame) => frame - 1,
  ) {
    // `all`: a segment that completes nothing is still reported, so that it joins its chain.
    this.decoder = new PacketDecoder({ ...opts, all: true });
    this.maxConnections = Math.max(1, opts.tcp?.maxConnections ?? MAX_CONNECTIONS);
    this.idleTimeoutSec = opts.tcp?.idleTimeoutSec ?? IDLE_TIMEOUT_SEC;
    this.maxBytes = opts.tcp?.maxBytes ?? MAX_HELD_BYTES;
  }

  /** Frame `i` (0-based) of the capture: every frame, in file order. */
  observe(i: number, f: Frame): void {
    const d = this.decoder;
    if (!d || !touchesState(f)) return;
    // What this frame may add to the bytes TCP holds early: its payload, or a reassembled
    // datagram's (at most 65,535 bytes). The decoder is asked (it costs) only when near the bound.
    const most = 65_535 + f.data.length;
    if (!this.global && this.heldBound + most > this.maxBytes) {
      this.heldBound = d.tcp.stats.bytesHeld;
      if (this.heldBound + most > this.maxBytes) this.global = true;
    }
    const p = d.decode(f);
    this.heldBound += p?.fragments ? 65_535 : f.data.length;
    if (!p) return;
    if (p.fragments) {
      this.fragAt.push(i);
      this.fragFrom.push(this.fragList.length);
      for (const n of p.fragments) if (n !== f.index) this.fragList.push(this.entryOf(n));
    }
    if (p.tcp && p.ip) this.segment(i, p.ts, endpoint(p.ip.src, p.tcp.srcPort), endpoint(p.ip.dst, p.tcp.dstPort));
  }

  /** Indexing is over: the decoder and the connections it tracked are not needed any more. */
  end(): void {
    this.decoder = undefined;
    this.chains.clear();
  }

  /**
   * A segment of the connection between endpoints `a` and `z` at time `t`: the same steps as
   * TcpReassembler.add takes on its connection table (expire the idle, evict the least recently
   * active beyond the cap), so that a chain starts exactly where `read` starts a new connection.
   */
  private segment(i: number, t: number, a: string, z: string): void {
    const k = this.segAt.length;
    this.segAt.push(i);
    if (this.global) {
      this.segPrev.push(NONE);
      this.segChain.push(ALL);
      return;
    }
    for (const [key, c] of this.chains) {
      if (t - c.lastSeen <= this.idleTimeoutSec) break;
      this.chains.delete(key);
    }
    const key = a < z ? `${a} ${z}` : `${z} ${a}`;
    let c = this.chains.get(key);
    if (c && t - c.lastSeen > this.idleTimeoutSec) {
      // `read` kept an idle connection (an older one, active later by its clock, stopped the
      // expiry); replayed alone it would expire.
      this.global = true;
      this.chains.clear();
      this.segPrev.push(NONE);
      this.segChain.push(ALL);
      return;
    }
    if (c) {
      this.chains.delete(key);
      this.segPrev.push(c.last);
      this.segChain.push(this.segChain.at(c.last));
    } else {
      while (this.chains.size >= this.maxConnections) this.chains.delete(this.chains.keys().next().value!);
      this.segPrev.push(NONE);
      this.segChain.push(k);
      c = { last: k, lastSeen: t };
    }
    c.last = k;
    c.lastSeen = t;
    this.chains.set(key, c);
  }

  /** Frames (0-based, ascending) of the other fragments of the datagram frame `i` completed. */
  fragmentsOf(i: number): number[] | undefined {
    const k = this.fragAt.find(i);
    if (k < 0) return undefined;
    const end = k + 1 < this.fragAt.length ? this.fragFrom.at(k + 1) : this.fragList.length;
    const out: number[] = [];
    for (let x = this.fragFrom.at(k); x < end; x++) out.push(this.fragList.at(x));
    return out;
  }

  /** Member number of frame `i` when it is a TCP 4342 segment, else -1. */
  member(i: number): number {
    return this.segAt.find(i);
  }

  /** Frame (0-based) of member `k`. */
  memberFrame(k: number): number {
    return this.segAt.at(k);
  }

  /** The member before `k` in its chain, NONE when `k` starts it. */
  prev(k: number): number {
    return this.segPrev.at(k);
  }

  /** The chain of member `k`: its first member, or ALL. */
  chain(k: number): number {
    return this.segChain.at(k);
  }
}
