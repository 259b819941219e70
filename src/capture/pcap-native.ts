// libpcap through lispscope's own binding (native/lispscope_pcap.c, built by `npm install` when
// libpcap-dev is there): the kernel's timestamps in nanoseconds, original lengths, pcap_stats.
// The binding fills one buffer with records (see the C file) and calls back once per buffer;
// this side walks the records and hands each packet on.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dltToLinkType, type KernelStats, type Libpcap, type OpenOptions, type PcapDevice, type PcapHandle } from './libpcap.js';

/** tcpdump's default: whole packets on any interface lispscope will meet. */
export const NATIVE_SNAPLEN = 262144;
/** Where the binding copies packets between two callbacks: some 40,000 LISP control messages. */
const BATCH_BYTES = 4 * 1024 * 1024;
const RECORD_HEADER = 20;

interface Binding {
  open(
    device: string,
    filter: string,
    snaplen: number,
    bufferSize: number,
    buffer: Buffer | null,
    callback: ((used: number, count: number, error?: string) => void) | null,
    promiscuous: boolean,
  ): { handle: object; linkType: number; precision: 'nano' | 'micro'; warning?: string };
  close(handle: object): void;
  stats(handle: object): { recv: number; drop: number; ifdrop: number };
  hold(handle: object, held: boolean): void;
  send(handle: object, frame: Uint8Array): void;
  sendBatch(handle: object, frames: Uint8Array, ends: Uint32Array): number;
  devices(): PcapDevice[];
  version(): string;
  compileFilter(linkType: number, snaplen: number, expression: string): object;
  filterMatches(program: object, frame: Uint8Array, originalLength: number): boolean;
}

/** The binding's file: LISPSCOPE_NATIVE, else native/build/Release in the project (from src/ or dist/src/). */
function bindingPath(): string | undefined {
  if (process.env.LISPSCOPE_NATIVE) return process.env.LISPSCOPE_NATIVE;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const candidate = join(dir, 'native', 'build', 'Release', 'lispscope_pcap.node');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

let cached: { binding?: NativeLibpcap; error?: string } | undefined;

/** Our binding, or why it is not there (one phrase). */
export function loadNative(): { binding?: NativeLibpcap; error?: string } {
  if (cached) return cached;
  const path = bindingPath();
  if (!path) return (cached = { error: "lispscope's libpcap binding was not built" });
  try {
    const b = createRequire(import.meta.url)(path) as Binding;
    if (typeof b?.open !== 'function' || typeof b.stats !== 'function') return (cached = { error: `${path} is not lispscope's libpcap binding` });
    return (cached = { binding: new NativeLibpcap(b) });
  } catch (e) {
    const msg = ((e as Error).message ?? String(e)).split('\n')[0]!.replace(/\s+/g, ' ');
    return (cached = { error: `lispscope's libpcap binding did not load (${msg})` });
  }
}

class NativeHandle implements PcapHandle {
  readonly snaplen = NATIVE_SNAPLEN;
  readonly kernelTimes = true;
  readonly originalLengths = true;
  readonly linkType: number;
  /** Kept after close, so that the totals still have them. */
  private last: KernelStats | undefined;
  private open = true;

  constructor(
    private readonly b: Binding,
    private readonly handle: object,
    dlt: number,
  ) {
    this.linkType = dltToLinkType(dlt);
  }

  stats(): KernelStats | undefined {
    if (!this.open) return this.last;
    try {
      const s = this.b.stats(this.handle);
      this.last = { received: s.recv, dropped: s.drop, interfaceDropped: s.ifdrop };
    } catch {
      // pcap_stats is not supported on every kind of interface (savefiles, some pseudo-devices).
    }
    return this.last;
  }

  send(frame: Uint8Array): void {
    this.b.send(this.handle, frame);
  }

  sendBatch(frames: Uint8Array, ends: Uint32Array): number {
    return this.b.sendBatch(this.handle, frames, ends);
  }

  hold(held: boolean): void {
    if (this.open) this.b.hold(this.handle, held);
  }

  close(): void {
    if (!this.open) return;
    this.stats();
    this.open = false;
    this.b.close(this.handle);
  }
}

export class NativeLibpcap implements Libpcap {
  readonly binding = 'native' as const;
  readonly version: string;

  constructor(private readonly b: Binding) {
    this.version = b.version();
  }

  devices(): PcapDevice[] {
    return this.b.devices();
  }

  /** A BPF program for frames of `linkType` (pcap_compile); throws with libpcap's message. */
  compileFilter(linkType: number, expression: string): object {
    return this.b.compileFilter(linkType, NATIVE_SNAPLEN, expression);
  }

  /** pcap_offline_filter: does the frame pass the program? */
  filterMatches(program: object, frame: Uint8Array, originalLength: number): boolean {
    return this.b.filterMatches(program, frame, originalLength);
  }

  open(iface: string, filter: string, opts: OpenOptions): PcapHandle {
    const onPacket = opts.onPacket;
    if (!onPacket) {
      const r = this.b.open(iface, filter, NATIVE_SNAPLEN, opts.bufferSize, null, null, opts.promiscuous ?? true);
      return new NativeHandle(this.b, r.handle, r.linkType);
    }
    const buffer = Buffer.alloc(BATCH_BYTES);
    // Buffer.alloc of this size has an ArrayBuffer of its own, at offset 0: aligned for 32-bit reads.
    const words = new Uint32Array(buffer.buffer, buffer.byteOffset, buffer.length >>> 2);
    let fraction = 1;
    const onError = opts.onError;
    const r = this.b.open(iface, filter, NATIVE_SNAPLEN, opts.bufferSize, buffer, (used, count, error) => {
      let at = 0;
      for (let i = 0; i < count && at + RECORD_HEADER <= used; i++) {
        const w = at >>> 2;
        const sec = words[w]! * 0x100000000 + words[w + 1]!;
        const caplen = words[w + 3]!;
        const start = at + RECORD_HEADER;
        onPacket(buffer.subarray(start, start + caplen), sec, words[w + 2]! * fraction, words[w + 4]!);
        at = start + ((caplen + 3) & ~3);
      }
      if (error !== undefined) onError?.(error);
    }, opts.promiscuous ?? true);
    fraction = r.precision === 'nano' ? 1 : 1000;
    return new NativeHandle(this.b, r.handle, r.linkType);
  }
}
