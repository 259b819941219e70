// Live capture through libpcap, by way of the optional npm package `cap`. Frames go from the libpcap
// callback into a bounded queue (a copy, nothing else), and from the queue to a FrameSink in
// batches of a few milliseconds, so decoding and output never hold up the capture: when they fall
// behind, the queue fills and what does not fit is counted as dropped instead of being lost
// silently in the kernel.
//
// What `cap` 0.2.1 gives and does not: the packet bytes and the link type. It does not give the
// kernel's timestamp, the original length, nor pcap_stats. So a frame's time is the wall clock when
// libpcap handed it over (microseconds, never going backwards), its length is the captured length
// (cap's snaplen is 65535), and kernel drops are not known (LiveStats.kernelDrops is undefined).
//
// `cap` keeps a raw pointer to the Buffer it copies each packet into, and does not hold that Buffer
// itself: LiveCapture keeps it referenced for as long as the handle lives. A handle whose open()
// failed must never be closed nor collected (cap would stop a poll it never started): those are
// kept in `failedHandles` for the life of the process.

import { createRequire } from 'node:module';
import type { DecodeAs } from './packets.js';
import { CaptureError, type Frame, type FrameSink } from './types.js';

/** The parts of `cap` we use. */
export interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): boolean;
  send(buffer: Uint8Array, nBytes?: number): void;
  on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): void;
  removeAllListeners(event?: string): void;
}

interface CapDevice {
  name: string;
  description?: string;
  addresses: { addr?: string; netmask?: string }[];
  flags?: string;
}

export interface CapModule {
  Cap: { new (): CapHandle; deviceList(): CapDevice[] };
}

/** Why live capture cannot start: one line saying what is wrong and what to do. */
export class LiveCaptureError extends CaptureError {
  override name = 'LiveCaptureError';
  constructor(
    message: string,
    readonly reason: 'cap-missing' | 'permission' | 'no-such-device' | 'device-down' | 'bad-filter' | 'send' | 'other',
  ) {
    super(message);
  }
}

/** cap's snaplen (fixed in its open()). */
export const CAP_SNAPLEN = 65535;

const REBUILD = 'install libpcap-dev (apt-get install libpcap-dev) and run "npm rebuild cap"';
const INSTALL = 'install libpcap-dev (apt-get install libpcap-dev) and run "npm install" (cap is an optional dependency, built against it)';

let cached: { module?: CapModule; error?: LiveCaptureError; id: string } | undefined;

/**
 * Loads `cap` (or the module named by LISPSCOPE_CAP / `id`, for tests and other builds). Throws
 * LiveCaptureError('cap-missing') with what to do when it is not installed or did not build.
 */
export function loadCap(id: string = process.env.LISPSCOPE_CAP || 'cap'): CapModule {
  if (cached?.id === id) {
    if (cached.error) throw cached.error;
    return cached.module!;
  }
  try {
    const mod = createRequire(import.meta.url)(id) as CapModule;
    if (typeof mod?.Cap !== 'function' || typeof mod.Cap.deviceList !== 'function') throw new Error(`${id} is not the cap module`);
    cached = { module: mod, id };
    return mod;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const msg = (err.message ?? String(e)).split('\n')[0]!.replace(/\s+/g, ' ');
    let why: string;
    if (err.code === 'MODULE_NOT_FOUND' && msg.includes('cap.node')) why = 'the optional package cap is installed but was not built';
    else if (err.code === 'MODULE_NOT_FOUND') why = 'the optional package cap is not installed';
    else if (/libpcap/i.test(msg)) why = `cap cannot load libpcap (${msg})`;
    else why = `the optional package cap did not load (${msg})`;
    const todo = why.endsWith('not installed') ? INSTALL : REBUILD;
    const error = new LiveCaptureError(`live capture needs libpcap through cap: ${why}; ${todo}`, 'cap-missing');
    cached = { error, id };
    throw error;
  }
}

export interface InterfaceInfo {
  name: string;
  description?: string;
  /** IPv4 and IPv6 addresses. */
  addresses: string[];
  loopback: boolean;
}

/** The interfaces libpcap can capture on (pcap_findalldevs), in its order. */
export function listInterfaces(cap: CapModule = loadCap()): InterfaceInfo[] {
  let devs: CapDevice[];
  try {
    devs = cap.Cap.deviceList();
  } catch (e) {
    throw new LiveCaptureError(`cannot list interfaces: ${(e as Error).message}`, 'other');
  }
  return devs.map((d) => {
    const info: InterfaceInfo = {
      name: d.name,
      addresses: d.addresses.flatMap((a) => (a.addr ? [a.addr] : [])),
      loopback: d.flags === 'PCAP_IF_LOOPBACK',
    };
    if (d.description) info.description = d.description;
    return info;
  });
}

/**
 * The BPF filter sniff uses unless told otherwise: LISP data and control over UDP, the Map-Server
 * reliable transport over TCP 4342, and any --decode-as ports.
 */
export function defaultFilter(decodeAs?: DecodeAs): string {
  const ports = new Set([4341, 4342, ...(decodeAs?.control ?? []), ...(decodeAs?.data ?? [])]);
  const udp = [...ports].sort((a, b) => a - b).map((p) => `udp port ${p}`);
  return [...udp, 'tcp port 4342'].join(' or ');
}

/** cap's link-type names (pcap_datalink's DLT) as LINKTYPE_* values for Frames and files. */
export function capLinkType(name: string): number {
  switch (name) {
    case 'NULL':
      return 0;
    case 'ETHERNET':
      return 1;
    case 'IEEE802_11_RADIO':
      return 127;
    case 'LINKTYPE_LINUX_SLL':
      return 113;
    case 'RAW':
      return 101;
  }
  const m = /^Unknown linktype (\d+)$/.exec(name);
  if (!m) throw new LiveCaptureError(`libpcap reported an unknown link type "${name}"`, 'other');
  const dlt = Number(m[1]);
  // DLT_RAW is 12 or 14 depending on the system; the file format has one value for it.
  return dlt === 12 || dlt === 14 ? 101 : dlt;
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

/** Handles whose open() failed: cap must neither close nor collect them (see the file comment). */
const failedHandles: CapHandle[] = [];

function names(cap: CapModule): string {
  try {
    return listInterfaces(cap)
      .map((i) => i.name)
      .join(', ');
  } catch {
    return 'see lispscope sniff -D';
  }
}

/** libpcap's open errors in one line with what to do. */
function openError(cap: CapModule, iface: string, filter: string, message: string): LiveCaptureError {
  const msg = message.replace(/\s+/g, ' ').trim();
  if (/permission|not permitted|EPERM|EACCES/i.test(msg)) {
    return new LiveCaptureError(
      `${iface}: no permission to capture (${msg}): run as root or grant the capability: setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))`,
      'permission',
    );
  }
  if (/no such device/i.test(msg)) {
    return new LiveCaptureError(`no interface "${iface}" (interfaces: ${names(cap)})`, 'no-such-device');
  }
  if (/not up/i.test(msg)) return new LiveCaptureError(`${iface}: the interface is down (${msg}); bring it up first`, 'device-down');
  if (/filter|syntax|parse|expression/i.test(msg)) {
    return new LiveCaptureError(`bad BPF filter "${filter}": ${msg.replace(/^can't parse filter expression: /, '')}`, 'bad-filter');
  }
  return new LiveCaptureError(`${iface}: cannot capture: ${msg}`, 'other');
}

export interface OpenHandleResult {
  handle: CapHandle;
  buffer: Buffer;
  linkType: number;
}

/**
 * libpcap's kernel buffer unless told otherwise. Its ring has one slot per packet, as large as the
 * interface's MTU allows: 64 KiB on the Linux loopback, where each packet also passes twice (sent
 * and received; libpcap drops the sent copy only after it took a slot). 32 MiB holds some 16,000
 * Ethernet packets but only 256 loopback ones, 2.5 ms at 100,000 packets/s: the loopback gets 128 MiB.
 */
export function defaultBufferSize(iface: string, loopback: boolean): number {
  return loopback || iface === 'any' ? 128 * 1024 * 1024 : 32 * 1024 * 1024;
}

/** Opens a cap handle; errors become one-line LiveCaptureErrors. */
export function openHandle(iface: string, filter: string, bufferSize: number | undefined, cap: CapModule = loadCap()): OpenHandleResult {
  // Checked first: libpcap would print its own warning on stderr for a name it does not know.
  const ifaces = listInterfaces(cap);
  const info = ifaces.find((i) => i.name === iface);
  if (!info) throw new LiveCaptureError(`no interface "${iface}" (interfaces: ${ifaces.map((i) => i.name).join(', ')})`, 'no-such-device');
  bufferSize ??= defaultBufferSize(iface, info.loopback);
  const handle = new cap.Cap();
  // One packet at most: cap copies up to its snaplen.
  const buffer = Buffer.alloc(CAP_SNAPLEN + 1);
  let name: string;
  try {
    name = handle.open(iface, filter, bufferSize, buffer);
  } catch (e) {
    failedHandles.push(handle);
    throw openError(cap, iface, filter, (e as Error).message ?? String(e));
  }
  return { handle, buffer, linkType: capLinkType(name) };
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
  private readonly bytes: Uint8Array;
  private readonly off: Int32Array;
  private readonly len: Int32Array;
  private readonly sec: Float64Array;
  private readonly usec: Int32Array;
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
    this.usec = new Int32Array(maxFrames);
  }

  get length(): number {
    return this.count;
  }

  /** Copies `n` bytes of `src`; false (and one more drop) when there is no room. */
  push(src: Uint8Array, n: number, tsSec: number, tsUsec: number): boolean {
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
    this.usec[slot] = tsUsec;
    this.wr = at + Math.max(n, 1);
    this.count++;
    return true;
  }

  /**
   * Hands the oldest frame to `fn` (its bytes are a view, valid during the call) and removes it.
   * False when the queue is empty.
   */
  shift<T>(fn: (data: Uint8Array, tsSec: number, tsUsec: number) => T): { value: T } | undefined {
    if (this.count === 0) return undefined;
    const h = this.head;
    const o = this.off[h]!;
    const gen = this.generation;
    const value = fn(this.bytes.subarray(o, o + this.len[h]!), this.sec[h]!, this.usec[h]!);
    if (gen !== this.generation) return { value }; // cleared meanwhile
    this.head = (h + 1) % this.maxFrames;
    this.count--;
    if (this.count === 0) this.wr = 0;
    return { value };
  }

  clear(): void {
    this.generation++;
    this.head = 0;
    this.count = 0;
    this.wr = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// The wall clock, in whole microseconds, never going backwards

/** Microseconds since the epoch: the wall clock at start plus a monotonic clock since. */
export class MicroClock {
  private readonly baseUs: number;
  private last = 0;

  constructor() {
    this.baseUs = Date.now() * 1000 - Math.round(performance.now() * 1000);
  }

  now(): number {
    const t = this.baseUs + Math.round(performance.now() * 1000);
    if (t > this.last) this.last = t;
    return this.last;
  }
}

// ---------------------------------------------------------------------------------------------
// LiveCapture

export interface LiveCaptureOptions {
  iface: string;
  /** BPF filter expression; '' captures everything. */
  filter: string;
  /** libpcap's kernel buffer in bytes; default 32 MiB, 128 MiB on the loopback and "any" (see defaultBufferSize). */
  bufferSize?: number;
  /** Queue bounds; defaults 65,536 frames and 32 MiB. */
  queueFrames?: number;
  queueBytes?: number;
  /** Longest time one batch of frames is handed to the sink before the capture runs again; default 1 ms. */
  batchMs?: number;
  /** The cap module (default: loadCap()). */
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
  /** Frames the kernel dropped: unknown through cap (it does not expose pcap_stats). */
  kernelDrops: number | undefined;
}

/** A FrameSink that can also hear when a batch ends (to flush output once per batch). */
export interface LiveSink extends FrameSink {
  batchEnd?(): void;
}

/**
 * Captures on one interface. Frames reach the sink from the event loop, never from inside the
 * libpcap callback; `frame.data` is valid only during the call, as with file capture.
 */
export class LiveCapture {
  readonly iface: string;
  readonly filter: string;
  /** LINKTYPE_* of the interface (LINUX_SLL for "any"). */
  readonly linkType: number;
  readonly queue: FrameQueue;
  /** Resolves when capture has stopped and the last frame has been handed over. */
  readonly done: Promise<void>;
  private handle: CapHandle | undefined;
  private readonly buffer: Buffer;
  private readonly clock = new MicroClock();
  private readonly batchMs: number;
  private sink: LiveSink | undefined;
  private received = 0;
  private delivered = 0;
  private scheduled = false;
  private paused = false;
  private finished = false;
  private resolveDone!: () => void;

  private constructor(opts: LiveCaptureOptions, opened: OpenHandleResult) {
    this.iface = opts.iface;
    this.filter = opts.filter;
    this.linkType = opened.linkType;
    this.handle = opened.handle;
    this.buffer = opened.buffer;
    this.batchMs = opts.batchMs ?? 1;
    this.queue = new FrameQueue(opts.queueFrames, opts.queueBytes);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    opened.handle.on('packet', (nbytes) => {
      // The only work done in libpcap's callback: stamp, copy, schedule.
      this.received++;
      const us = this.clock.now();
      const sec = Math.floor(us / 1e6);
      this.queue.push(this.buffer, nbytes, sec, us - sec * 1e6);
      if (!this.scheduled && this.sink && !this.paused) this.schedule();
    });
  }

  /** Opens the interface and starts capturing into the queue (frames wait there until start()). */
  static open(opts: LiveCaptureOptions): LiveCapture {
    const cap = opts.cap ?? loadCap();
    const opened = openHandle(opts.iface, opts.filter, opts.bufferSize, cap);
    return new LiveCapture(opts, opened);
  }

  /** Starts handing frames to `sink`; returning false from sink.frame stops the capture. */
  start(sink: LiveSink): void {
    if (this.sink) throw new Error('live capture already started');
    this.sink = sink;
    if (this.queue.length) this.schedule();
  }

  get stopped(): boolean {
    return this.handle === undefined;
  }

  stats(): LiveStats {
    return {
      received: this.received,
      delivered: this.delivered,
      queued: this.queue.length,
      queueDrops: this.queue.drops,
      kernelDrops: undefined,
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
    const linkType = this.linkType;
    const hand = (data: Uint8Array, tsSec: number, tsUsec: number) => {
      const f: Frame = { index: ++this.delivered, tsSec, tsNsec: tsUsec * 1000, linkType, len: data.length, data, interfaceId: 0 };
      if (data.length >= CAP_SNAPLEN) f.notes = [`frame may be cut at cap's snaplen of ${CAP_SNAPLEN} bytes (its original length is not known)`];
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

  private closeHandle(): void {
    const h = this.handle;
    if (!h) return;
    this.handle = undefined;
    h.close();
    h.removeAllListeners('packet');
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.resolveDone();
  }
}

/** pcap_sendpacket, with its error as a LiveCaptureError. */
export function sendOn(handle: CapHandle, iface: string, frame: Uint8Array): void {
  try {
    handle.send(frame, frame.length);
  } catch (e) {
    throw new LiveCaptureError(`${iface}: cannot send a ${frame.length}-byte frame: ${(e as Error).message}`, 'send');
  }
}
