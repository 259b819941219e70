// Sending raw frames on an interface through libpcap (pcap_sendpacket), for `replay -i`
// and `inject -i`. A frame is sent as given, link header included, in the interface's link type
// (`injector.linkType`; build one with encodeLink from src/dissect/link.ts). On the loopback the
// kernel delivers it back as received traffic, which is how the tests check it.
//
// Either a handle of its own (its capture filter matches nothing, so it receives nothing) or the
// handle of a running LiveCapture, so that one handle both listens and sends.

import { libpcapOf, LiveCapture, LiveCaptureError, openHandle, sendOn, type CapModule, type Libpcap, type PcapHandle } from './live.js';

/** A BPF filter no packet matches ("length <= 0"): the injector's handle receives nothing. */
const MATCH_NOTHING = 'less 0';

export interface Injector {
  readonly iface: string;
  /** LINKTYPE_* the frames must be in (EN10MB for Ethernet and the Linux loopback). */
  readonly linkType: number;
  /** Frames sent so far. */
  readonly sent: number;
  /** Sends one frame; throws LiveCaptureError('send') when libpcap refuses it (e.g. on "any"). */
  send(frame: Uint8Array): void;
  /**
   * Sends frames[ends[i - 1], ends[i]) for each i (the first from 0), in one system call a few
   * hundred frames through lispscope's binding (sendmmsg); the number sent, fewer when the kernel
   * takes no more for now.
   */
  sendBatch(frames: Uint8Array, ends: Uint32Array): number;
  /** Releases the handle (one of its own; a LiveCapture's stays open). Sending afterwards throws. */
  close(): void;
}

class HandleInjector implements Injector {
  sent = 0;
  readonly linkType: number;
  private handle: PcapHandle | undefined;

  constructor(
    readonly iface: string,
    handle: PcapHandle,
  ) {
    this.handle = handle;
    this.linkType = handle.linkType;
  }

  send(frame: Uint8Array): void {
    if (!this.handle) throw new LiveCaptureError(`${this.iface}: injector is closed`, 'send');
    sendOn(this.handle, this.iface, frame);
    this.sent++;
  }

  sendBatch(frames: Uint8Array, ends: Uint32Array): number {
    const h = this.handle;
    if (!h) throw new LiveCaptureError(`${this.iface}: injector is closed`, 'send');
    if (!h.sendBatch) return sendEach(this, frames, ends);
    let n: number;
    try {
      n = h.sendBatch(frames, ends);
    } catch (e) {
      throw new LiveCaptureError(`${this.iface}: cannot send ${ends.length} frames: ${(e as Error).message}`, 'send');
    }
    this.sent += n;
    return n;
  }

  close(): void {
    if (!this.handle) return;
    this.handle.close();
    this.handle = undefined;
  }
}

class CaptureInjector implements Injector {
  sent = 0;
  private closed = false;

  constructor(private readonly capture: LiveCapture) {}

  get iface(): string {
    return this.capture.iface;
  }

  get linkType(): number {
    return this.capture.linkType;
  }

  send(frame: Uint8Array): void {
    if (this.closed) throw new LiveCaptureError(`${this.iface}: injector is closed`, 'send');
    this.capture.send(frame);
    this.sent++;
  }

  sendBatch(frames: Uint8Array, ends: Uint32Array): number {
    return sendEach(this, frames, ends);
  }

  close(): void {
    this.closed = true;
  }
}

/** A batch one frame at a time, through `inj.send`. */
function sendEach(inj: Injector, frames: Uint8Array, ends: Uint32Array): number {
  for (let i = 0; i < ends.length; i++) inj.send(frames.subarray(i === 0 ? 0 : ends[i - 1]!, ends[i]!));
  return ends.length;
}

export interface InjectorOptions {
  /** The libpcap binding (default: loadLibpcap()). */
  pcap?: Libpcap;
  /** A cap module to send through (tests). */
  cap?: CapModule;
}

/**
 * Opens `iface` for sending, or sends through a running LiveCapture's handle. Throws
 * LiveCaptureError with a one-line reason (cap missing, no permission, no such interface).
 * An injector of its own holds a libpcap handle until close().
 */
export function openInjector(iface: string | LiveCapture, opts: InjectorOptions = {}): Injector {
  if (iface instanceof LiveCapture) return new CaptureInjector(iface);
  const handle = openHandle(iface, MATCH_NOTHING, { bufferSize: 1024 * 1024 }, libpcapOf(opts));
  return new HandleInjector(iface, handle);
}
