// Live capture through libpcap: lispscope's own binding when it was built (kernel timestamps in
// nanoseconds, original lengths, the kernel's drop counters), else the optional npm package `cap`
// (see pcap-cap.ts for what it lacks). Frames go from the binding's callback into a bounded queue
// (a copy, nothing else), and from the queue to a FrameSink in batches of a few milliseconds, so
// decoding and output never hold up the capture: when they fall behind, the queue fills and what
// does not fit is counted as dropped; what the kernel could not hand over, pcap_stats counts.
// With our binding the queue stays short: past a quarter full the capture is held and packets wait
// in the kernel's ring (32 MiB of TPACKET_V3 blocks: about twice the frames the queue takes of small
// LISP packets, and memory already resident), so a backlog after a moment without CPU fits there
// instead of overflowing the queue.

import { LISP_CONTROL_PORT, LISP_DATA_PORT, VXLAN_PORT } from '../dissect/registry.js';
import type { DecodeAs } from './packets.js';
import { LiveCaptureError, type KernelStats, type Libpcap, type PcapDevice, type PcapHandle } from './libpcap.js';
import { CapLibpcap, INSTALL_HINT, loadCap, type CapModule } from './pcap-cap.js';
import { loadNative } from './pcap-native.js';
import type { Frame, FrameSink } from './types.js';

export { LiveCaptureError, type KernelStats, type Libpcap, type PcapHandle } from './libpcap.js';
export { CAP_SNAPLEN, capLinkType, loadCap, type CapHandle, type CapModule } from './pcap-cap.js';

/**
 * The libpcap binding: `choice` (default LISPSCOPE_PCAP) "native" or "cap" takes that one; without
 * a choice, ours when it was built, else cap. Throws LiveCaptureError('cap-missing') saying what to
 * install when there is none.
 */
export function loadLibpcap(choice: string | undefined = process.env.LISPSCOPE_PCAP || undefined): Libpcap {
  if (choice !== undefined && choice !== 'native' && choice !== 'cap') {
    throw new LiveCaptureError(`LISPSCOPE_PCAP must be "native" or "cap", not "${choice}"`, 'other');
  }
  if (choice === 'cap') return new CapLibpcap(loadCap());
  const native = loadNative();
  if (native.binding) return native.binding;
  if (choice === 'native') {
    throw new LiveCaptureError(`live capture needs libpcap: ${native.error}; ${INSTALL_HINT} (or npm run build:native)`, 'cap-missing');
  }
  try {
    return new CapLibpcap(loadCap());
  } catch (e) {
    const capWhy = (e as LiveCaptureError).message.replace(/^live capture needs libpcap through cap: /, '').replace(/; install .*$/, '');
    throw new LiveCaptureError(`live capture needs libpcap: ${native.error} and ${capWhy}; ${INSTALL_HINT}`, 'cap-missing');
  }
}

/** A Libpcap from LiveCaptureOptions-like options: a given binding, a cap module (tests), or the default. */
export function libpcapOf(opts: { pcap?: Libpcap; cap?: CapModule }): Libpcap {
  return opts.pcap ?? (opts.cap ? new CapLibpcap(opts.cap) : loadLibpcap());
}

export type InterfaceInfo = PcapDevice;

/** The interfaces libpcap can capture on (pcap_findalldevs), in its order. */
export function listInterfaces(pcap: Libpcap = loadLibpcap()): InterfaceInfo[] {
  try {
    return pcap.devices();
  } catch (e) {
    throw new LiveCaptureError(`cannot list interfaces: ${(e as Error).message}`, 'other');
  }
}

/**
 * The BPF filter sniff uses unless told otherwise: what a file read decodes by default. LISP data
 * and control and VXLAN over UDP, the Map-Server reliable transport over TCP 4342, any --decode-as
 * ports, the ICMP errors that quote them (the first clue to an RLOC whose data dies or a crashed
 * Map-Server: the quote is matched when decoded, not here, since BPF cannot look inside it), and
 * the later fragments of fragmented datagrams, which carry no UDP header to match by port but are
 * needed to reassemble an oversized Map-Register or data packet.
 */
export function defaultFilter(decodeAs?: DecodeAs): string {
  const ports = new Set([LISP_DATA_PORT, LISP_CONTROL_PORT, VXLAN_PORT, ...(decodeAs?.control ?? []), ...(decodeAs?.data ?? []), ...(decodeAs?.vxlan ?? [])]);
  const udp = [...ports].sort((a, b) => a - b).map((p) => `udp port ${p}`);
  return [
    ...udp,
    `tcp port ${LISP_CONTROL_PORT}`,
    // Destination Unreachable, Time Exceeded; ICMPv6 Destination Unreachable, Packet Too Big, Time Exceeded.
    'icmp[icmptype] == icmp-unreach or icmp[icmptype] == icmp-timxceed',
    'icmp6[icmp6type] == icmp6-destinationunreach or icmp6[icmp6type] == icmp6-packettoobig or icmp6[icmp6type] == icmp6-timeexceeded',
    '(ip[6:2] & 0x1fff) != 0',
    'ip6[6] == 44',
  ].join(' or ');
}

const LINK_NAMES: Record<number, string> = {
  0: 'NULL (BSD loopback)',
  1: 'EN10MB (Ethernet)',
  101: 'RAW (Raw IP)',
  108: 'LOOP (OpenBSD loopback)',
  113: 'LINUX_SLL (Linux cooked v1)',
  127: 'IEEE802_11_RADIO (802.11 plus radiotap header)',
  228: 'IPV4 (Raw IPv4)',
  229: 'IPV6 (Raw IPv6)',
  276: 'LINUX_SLL2 (Linux cooked v2)',
};

export function linkTypeName(linkType: number): string {
  return LINK_NAMES[linkType] ?? `LINKTYPE ${linkType}`;
}

function names(pcap: Libpcap): string {
  try {
    return listInterfaces(pcap)
      .map((i) => i.name)
      .join(', ');
  } catch {
    return 'see lispscope sniff -D';
  }
}

/** libpcap's open errors in one line with what to do. */
function openError(pcap: Libpcap, iface: string, filter: string, message: string): LiveCaptureError {
  const msg = message.replace(/\s+/g, ' ').trim();
  if (/permission|not permitted|EPERM|EACCES/i.test(msg)) {
    return new LiveCaptureError(
      `${iface}: no permission to capture (${msg}): run as root or grant the capability: setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))`,
      'permission',
    );
  }
  if (/no such device/i.test(msg)) {
    return new LiveCaptureError(`no interface "${iface}" (interfaces: ${names(pcap)})`, 'no-such-device');
  }
  if (/not up/i.test(msg)) return new LiveCaptureError(`${iface}: the interface is down (${msg}); bring it up first`, 'device-down');
  if (/filter|syntax|parse|expression/i.test(msg)) {
    return new LiveCaptureError(`bad BPF filter "${filter}": ${msg.replace(/^can't parse filter expression: /, '')}`, 'bad-filter');
  }
  return new LiveCaptureError(`${iface}: cannot capture: ${msg}`, 'other');
}

/**
 * libpcap's kernel buffer unless told otherwise: 32 MiB. With `cap` (immediate mode, TPACKET_V2)
 * its ring has one slot per packet, as large as the interface's MTU allows: 64 KiB on the Linux
 * loopback, where each packet also passes twice (sent and received; libpcap drops the sent copy
 * only after it took a slot), so 32 MiB holds only 256 loopback packets: through cap the loopback
 * and "any" get 128 MiB. Our binding packs packets into TPACKET_V3 blocks, so 32 MiB holds tens of
 * thousands of LISP packets there too; and the ring, once traffic has touched it, is most of
 * sniff's resident memory (docs/benchmarks.md).
 */
export function defaultBufferSize(iface: string, loopback: boolean, binding: Libpcap['binding'] = 'native'): number {
  return binding === 'cap' && (loopback || iface === 'any') ? 128 * 1024 * 1024 : 32 * 1024 * 1024;
}

export interface OpenHandleOptions {
  bufferSize?: number | undefined;
  promiscuous?: boolean;
  onPacket?: (data: Uint8Array, tsSec: number, tsNsec: number, origLen: number) => void;
  onError?: (message: string) => void;
}

/** Opens `iface` through `pcap`; errors become one-line LiveCaptureErrors. */
export function openHandle(iface: string, filter: string, opts: OpenHandleOptions, pcap: Libpcap = loadLibpcap()): PcapHandle {
  // Checked first: libpcap would print its own warning on stderr for a name it does not know.
  const ifaces = listInterfaces(pcap);
  const info = ifaces.find((i) => i.name === iface);
  if (!info) throw new LiveCaptureError(`no interface "${iface}" (interfaces: ${ifaces.map((i) => i.name).join(', ')})`, 'no-such-device');
  const bufferSize = opts.bufferSize ?? defaultBufferSize(iface, info.loopback, pcap.binding);
  try {
    return pcap.open(iface, filter, { bufferSize, ...(opts.promiscuous === false ? { promiscuous: false } : {}), ...(opts.onPacket ? { onPacket: opts.onPacket } : {}), ...(opts.onError ? { onError: opts.onError } : {}) });
  } catch (e) {
    throw openError(pcap, iface, filter, (e as Error).message ?? String(e));
  }
}

// ---------------------------------------------------------------------------------------------
// The queue between the libpcap callback and decoding

/**
 * A bounded FIFO of frames: their bytes in one ring buffer, their times and lengths in typed
 * arrays. push() copies a frame in or, when it does not fit (too many frames or too many bytes
 * queued), counts it in `drops`. Nothing is allocated per frame.
 */
export class FrameQueue {
  readonly maxFrames: number;
  readonly maxBytes: number;
  /** Frames refused because the queue was full. */
  drops = 0;
  /** Bytes of the frames queued. */
  bytesQueued = 0;
  private readonly bytes: Uint8Array;
  private readonly off: Int32Array;
  private readonly len: Int32Array;
  private readonly sec: Float64Array;
  private readonly nsec: Int32Array;
  private readonly origLen: Int32Array;
  private head = 0;
  private count = 0;
  /** Where the next frame's bytes go. */
  private wr = 0;
  /** Bumped by clear(), so that a shift() whose callback cleared the queue leaves it empty. */
  private generation = 0;

  constructor(maxFrames = 65536, maxBytes = 32 * 1024 * 1024) {
    this.maxFrames = maxFrames;
    this.maxBytes = maxBytes;
    this.bytes = new Uint8Array(maxBytes);
    this.off = new Int32Array(maxFrames);
    this.len = new Int32Array(maxFrames);
    this.sec = new Float64Array(maxFrames);
    this.nsec = new Int32Array(maxFrames);
    this.origLen = new Int32Array(maxFrames);
  }

  get length(): number {
    return this.count;
  }

  /** How full the queue is, 0 to 1: of its frames or of its bytes, whichever is fuller. */
  get fill(): number {
    return Math.max(this.count / this.maxFrames, this.bytesQueued / this.maxBytes);
  }

  /** Copies `n` bytes of `src`; false (and one more drop) when there is no room. */
  push(src: Uint8Array, n: number, tsSec: number, tsNsec: number, origLen = n): boolean {
    if (this.count === this.maxFrames || n > this.maxBytes - 1) {
      this.drops++;
      return false;
    }
    let at: number;
    if (this.count === 0) {
      at = 0;
    } else {
      const first = this.off[this.head]!;
      if (this.wr >= first) {
        // Free: [wr, maxBytes) and [0, first). A frame is never split; the tail may go unused.
        if (this.wr + n <= this.maxBytes) at = this.wr;
        else if (n < first) at = 0;
        else at = -1;
      } else {
        // Free: [wr, first), kept strictly short of `first` so that full and empty never look alike.
        at = this.wr + n < first ? this.wr : -1;
      }
      if (at < 0) {
        this.drops++;
        return false;
      }
    }
    const slot = (this.head + this.count) % this.maxFrames;
    if (Buffer.isBuffer(src)) src.copy(this.bytes, at, 0, n);
    else this.bytes.set(n === src.length ? src : src.subarray(0, n), at);
    this.off[slot] = at;
    this.len[slot] = n;
    this.sec[slot] = tsSec;
    this.nsec[slot] = tsNsec;
    this.origLen[slot] = origLen;
    this.wr = at + Math.max(n, 1);
    this.count++;
    this.bytesQueued += n;
    return true;
  }

  /**
   * Hands the oldest frame to `fn` (its bytes are a view, valid during the call) and removes it.
   * False when the queue is empty.
   */
  shift<T>(fn: (data: Uint8Array, tsSec: number, tsNsec: number, origLen: number) => T): { value: T } | undefined {
    if (this.count === 0) return undefined;
    const h = this.head;
    const o = this.off[h]!;
    const gen = this.generation;
    const value = fn(this.bytes.subarray(o, o + this.len[h]!), this.sec[h]!, this.nsec[h]!, this.origLen[h]!);
    if (gen !== this.generation) return { value }; // cleared meanwhile
    this.head = (h + 1) % this.maxFrames;
    this.count--;
    this.bytesQueued -= this.len[h]!;
    if (this.count === 0) this.wr = 0;
    return { value };
  }

  clear(): void {
    this.generation++;
    this.head = 0;
    this.count = 0;
    this.wr = 0;
    this.bytesQueued = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// LiveCapture

export interface LiveCaptureOptions {
  iface: string;
  /** BPF filter expression; '' captures everything. */
  filter: string;
  /** libpcap's kernel buffer in bytes; default 32 MiB (through cap 128 MiB on the loopback and "any": see defaultBufferSize). */
  bufferSize?: number;
  /** Promiscuous mode (default true). */
  promiscuous?: boolean;
  /** Queue bounds; defaults 65,536 frames and 32 MiB. */
  queueFrames?: number;
  queueBytes?: number;
  /** Longest time one batch of frames is handed to the sink before the capture runs again; default 1 ms. */
  batchMs?: number;
  /** The libpcap binding (default: loadLibpcap()). */
  pcap?: Libpcap;
  /** A cap module to capture through (tests give a fake one). */
  cap?: CapModule;
}

export interface LiveStats {
  /** Frames libpcap handed over. */
  received: number;
  /** Frames handed to the sink. */
  delivered: number;
  /** Frames waiting in the queue. */
  queued: number;
  /** Frames refused by the full queue. */
  queueDrops: number;
  /** Frames the kernel accepted by the filter (pcap_stats ps_recv); undefined when not known (cap). */
  kernelReceived: number | undefined;
  /** Frames the kernel dropped (pcap_stats ps_drop); undefined when the binding cannot tell (cap). */
  kernelDrops: number | undefined;
  /** Frames the interface or its driver dropped (ps_ifdrop); undefined when not known. */
  interfaceDrops: number | undefined;
}

/**
 * How full the queue gets before the capture is held (packets wait in the kernel's ring), and how
 * empty before it takes them again. Held at a quarter: a batch the binding has already taken (up
 * to 4 MiB, some 25,000 LISP packets) still fits behind it.
 */
const HOLD_AT = 0.25;
const TAKE_AT = 0.125;

/** A FrameSink that can also hear when a batch ends (to flush output once per batch). */
export interface LiveSink extends FrameSink {
  batchEnd?(): void;
}

/**
 * Captures on one interface. Frames reach the sink from the event loop, never from inside the
 * binding's callback; `frame.data` is valid only during the call, as with file capture.
 */
export class LiveCapture {
  readonly iface: string;
  readonly filter: string;
  /** LINKTYPE_* of the interface (LINUX_SLL for "any"). */
  readonly linkType: number;
  /** Which binding captures, and what it knows. */
  readonly binding: Libpcap['binding'];
  readonly snaplen: number;
  readonly kernelTimes: boolean;
  readonly originalLengths: boolean;
  readonly queue: FrameQueue;
  /** Resolves when capture has stopped and the last frame has been handed over. */
  readonly done: Promise<void>;
  private handle: PcapHandle | undefined;
  private readonly lastHandle: PcapHandle;
  private readonly batchMs: number;
  private sink: LiveSink | undefined;
  private received = 0;
  private delivered = 0;
  private scheduled = false;
  private paused = false;
  /** The binding takes no packets from the kernel for now (the queue is a quarter full). */
  private held = false;
  /** Stopping: what the kernel still holds is taken whatever the queue's fill. */
  private stopping = false;
  private finished = false;
  private failure: string | undefined;
  private resolveDone!: () => void;

  private constructor(opts: LiveCaptureOptions, pcap: Libpcap) {
    this.iface = opts.iface;
    this.filter = opts.filter;
    this.binding = pcap.binding;
    this.batchMs = opts.batchMs ?? 1;
    this.queue = new FrameQueue(opts.queueFrames, opts.queueBytes);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    const handle = openHandle(
      opts.iface,
      opts.filter,
      {
        bufferSize: opts.bufferSize,
        ...(opts.promiscuous === false ? { promiscuous: false } : {}),
        onPacket: (data, tsSec, tsNsec, origLen) => {
          // The only work done in the binding's callback: copy, schedule.
          this.received++;
          this.queue.push(data, data.length, tsSec, tsNsec, origLen);
          if (!this.held && !this.stopping && this.queue.fill >= HOLD_AT) this.hold(true);
          if (!this.scheduled && this.sink && !this.paused) this.schedule();
        },
        onError: (message) => {
          this.failure = `${this.iface}: capture stopped: ${message.replace(/\s+/g, ' ').trim()}`;
          void this.stop();
        },
      },
      pcap,
    );
    this.handle = this.lastHandle = handle;
    this.linkType = handle.linkType;
    this.snaplen = handle.snaplen;
    this.kernelTimes = handle.kernelTimes;
    this.originalLengths = handle.originalLengths;
  }

  /** Opens the interface and starts capturing into the queue (frames wait there until start()). */
  static open(opts: LiveCaptureOptions): LiveCapture {
    return new LiveCapture(opts, libpcapOf(opts));
  }

  /** Starts handing frames to `sink`; returning false from sink.frame stops the capture. */
  start(sink: LiveSink): void {
    if (this.sink) throw new Error('live capture already started');
    this.sink = sink;
    if (this.failure) sink.warning(this.failure);
    if (this.queue.length) this.schedule();
  }

  get stopped(): boolean {
    return this.handle === undefined;
  }

  /** Why capture stopped by itself (the interface went away, libpcap failed); undefined otherwise. */
  get failed(): string | undefined {
    return this.failure;
  }

  stats(): LiveStats {
    const k: KernelStats | undefined = this.lastHandle.stats();
    return {
      received: this.received,
      delivered: this.delivered,
      queued: this.queue.length,
      queueDrops: this.queue.drops,
      kernelReceived: k?.received,
      kernelDrops: k?.dropped,
      interfaceDrops: k?.interfaceDropped,
    };
  }

  /** Holds frames in the queue (output is congested); they go on arriving and may overflow it. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.queue.length || this.handle === undefined) this.schedule();
  }

  /**
   * Stops capturing. With `drain` (default) the frames already queued are still handed to the sink
   * before `done` resolves; without, they are discarded.
   */
  stop(drain = true): Promise<void> {
    // What waits in the kernel's ring arrived before the stop: taken into the queue (or counted
    // as dropped there), not lost with the handle.
    this.stopping = true;
    if (drain && this.held) this.hold(false);
    this.closeHandle();
    if (!drain) this.queue.clear();
    if (!this.sink || (this.queue.length === 0 && !this.scheduled)) this.finish();
    else if (!this.paused) this.schedule();
    return this.done;
  }

  /** Sends a raw frame (in this interface's link type) through the capture's handle. */
  send(frame: Uint8Array): void {
    if (!this.handle) throw new LiveCaptureError(`${this.iface}: capture is closed`, 'send');
    sendOn(this.handle, this.iface, frame);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    const sink = this.sink;
    if (!sink || this.finished || this.paused) return;
    const deadline = performance.now() + this.batchMs;
    let n = 0;
    let stop = false;
    const q = this.queue;
    const { linkType, snaplen, originalLengths } = this;
    const hand = (data: Uint8Array, tsSec: number, tsNsec: number, origLen: number) => {
      const f: Frame = { index: ++this.delivered, tsSec, tsNsec, linkType, len: origLen, data, interfaceId: 0 };
      if (!originalLengths && data.length >= snaplen) f.warnings = [`frame may be cut at cap's snaplen of ${snaplen} bytes (its original length is not known)`];
      return sink.frame(f);
    };
    while (q.length > 0) {
      const r = q.shift(hand);
      if (r?.value === false) {
        stop = true;
        break;
      }
      if (this.paused) break;
      if ((++n & 31) === 0 && performance.now() >= deadline) break;
    }
    if (this.held && q.fill <= TAKE_AT) this.hold(false);
    sink.batchEnd?.();
    if (stop) {
      this.closeHandle();
      q.clear();
      this.finish();
    } else if (q.length > 0) {
      if (!this.paused) this.schedule();
    } else if (this.handle === undefined) {
      this.finish();
    }
  };

  private hold(held: boolean): void {
    if (!this.handle?.hold) return;
    this.held = held;
    this.handle.hold(held);
  }

  private closeHandle(): void {
    const h = this.handle;
    if (!h) return;
    this.handle = undefined;
    h.close();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.failure && this.sink) this.sink.warning(this.failure);
    this.resolveDone();
  }
}

/** pcap_sendpacket, with its error as a LiveCaptureError. */
export function sendOn(handle: PcapHandle, iface: string, frame: Uint8Array): void {
  try {
    handle.send(frame);
  } catch (e) {
    throw new LiveCaptureError(`${iface}: cannot send a ${frame.length}-byte frame: ${(e as Error).message}`, 'send');
  }
}
