// libpcap through the npm package `cap` (0.2.1): packet bytes and the link type, nothing more. A
// frame's time is the wall clock when libpcap handed it over (microseconds, never going
// backwards), its original length is not known (cap's snaplen is 65535) and pcap_stats is not
// exposed: stats() is undefined.
//
// `cap` keeps a raw pointer to the Buffer it copies each packet into and does not hold that Buffer
// itself: the handle keeps it referenced for as long as it lives. No handle of cap's may ever be
// collected (see `madeHandles`), and one whose open() failed must never be closed either (cap would
// stop a poll it never started).

import { createRequire } from 'node:module';
import { dltToLinkType, LiveCaptureError, type Libpcap, type OpenOptions, type PcapDevice, type PcapHandle } from './libpcap.js';

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

/** cap's snaplen (fixed in its open()). */
export const CAP_SNAPLEN = 65535;

export const INSTALL_HINT = 'install libpcap-dev (apt-get install libpcap-dev) and run "npm install"';
const REBUILD = 'install libpcap-dev (apt-get install libpcap-dev) and run "npm rebuild cap"';

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
    const todo = why.endsWith('not installed') ? `${INSTALL_HINT} (cap is an optional dependency, built against it)` : REBUILD;
    const error = new LiveCaptureError(`live capture needs libpcap through cap: ${why}; ${todo}`, 'cap-missing');
    cached = { error, id };
    throw error;
  }
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
  return dltToLinkType(Number(m[1]));
}

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

/**
 * Every handle cap made, kept for the life of the process (a few hundred bytes each). On Unix cap's
 * close() stops its uv poll handle but never closes it (uv_close): the poll handle stays in libuv's
 * list of the loop's handles, inside cap's C++ object, which collecting the JavaScript handle frees.
 * libuv then writes into that freed memory whenever a handle next to it in the list opens or
 * closes (a socket, a child process): the heap is corrupted and the process dies later, at random.
 */
const madeHandles: CapHandle[] = [];

class CapPcapHandle implements PcapHandle {
  readonly snaplen = CAP_SNAPLEN;
  readonly kernelTimes = false;
  readonly originalLengths = false;
  private readonly clock = new MicroClock();
  private open = true;

  constructor(
    private readonly handle: CapHandle,
    // Referenced here so that it lives as long as cap may write into it.
    private readonly buffer: Buffer,
    readonly linkType: number,
    opts: OpenOptions,
  ) {
    const onPacket = opts.onPacket;
    if (!onPacket) return;
    handle.on('packet', (nbytes) => {
      const us = this.clock.now();
      const sec = Math.floor(us / 1e6);
      onPacket(this.buffer.subarray(0, nbytes), sec, (us - sec * 1e6) * 1000, nbytes);
    });
  }

  stats(): undefined {
    return undefined;
  }

  send(frame: Uint8Array): void {
    this.handle.send(frame, frame.length);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.handle.close();
    this.handle.removeAllListeners('packet');
  }
}

export class CapLibpcap implements Libpcap {
  readonly binding = 'cap' as const;

  constructor(private readonly cap: CapModule) {}

  devices(): PcapDevice[] {
    return this.cap.Cap.deviceList().map((d) => {
      const dev: PcapDevice = {
        name: d.name,
        addresses: d.addresses.flatMap((a) => (a.addr ? [a.addr] : [])),
        loopback: d.flags === 'PCAP_IF_LOOPBACK',
      };
      if (d.description) dev.description = d.description;
      return dev;
    });
  }

  open(iface: string, filter: string, opts: OpenOptions): PcapHandle {
    const handle = new this.cap.Cap();
    madeHandles.push(handle);
    // One packet at most: cap copies up to its snaplen.
    const buffer = Buffer.alloc(CAP_SNAPLEN + 1);
    return new CapPcapHandle(handle, buffer, capLinkType(handle.open(iface, filter, opts.bufferSize, buffer)), opts);
  }
}
