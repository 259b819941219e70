// What live capture needs of libpcap, whichever binding provides it: lispscope's own
// (native/lispscope_pcap.c: kernel timestamps, original lengths, pcap_stats) or the npm package
// `cap` (packet bytes only). loadLibpcap() takes ours when it was built, else cap; LISPSCOPE_PCAP
// (native or cap) chooses one.

import { CaptureError } from './types.js';

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

export interface PcapDevice {
  name: string;
  description?: string;
  /** IPv4 and IPv6 addresses. */
  addresses: string[];
  loopback: boolean;
}

/** pcap_stats: what the kernel (and the interface) did with the packets the filter accepted. */
export interface KernelStats {
  /** Packets received (on Linux: accepted by the filter, before any drop). */
  received: number;
  /** Dropped because the kernel buffer was full: the reader did not keep up. */
  dropped: number;
  /** Dropped by the interface or its driver. */
  interfaceDropped: number;
}

/**
 * One captured packet: `data` (the captured bytes, valid only during the call), the time (the
 * kernel's when the binding has it) and the original length on the wire.
 */
export type PacketHandler = (data: Uint8Array, tsSec: number, tsNsec: number, origLen: number) => void;

export interface PcapHandle {
  /** LINKTYPE_* of the interface. */
  readonly linkType: number;
  readonly snaplen: number;
  /** Times come from the kernel (else: when libpcap handed the packet over). */
  readonly kernelTimes: boolean;
  /** Original lengths are known (else a packet as long as the snaplen may have been cut). */
  readonly originalLengths: boolean;
  /** pcap_stats; undefined when the binding cannot tell. */
  stats(): KernelStats | undefined;
  /** pcap_sendpacket: a whole frame in the interface's link type. */
  send(frame: Uint8Array): void;
  /**
   * Several frames in one call (frame i is frames[ends[i - 1], ends[i]), the first from 0): the
   * number sent, fewer when the socket takes no more for now. Bindings without it send one by one.
   */
  sendBatch?(frames: Uint8Array, ends: Uint32Array): number;
  /**
   * Takes no packets from the kernel while held: they wait in its ring (which drops and counts what
   * does not fit) instead of in a queue of ours; let go, it hands over at once what waited there.
   * Bindings without it hand every packet over as it comes.
   */
  hold?(held: boolean): void;
  close(): void;
}

export interface OpenOptions {
  /** libpcap's kernel buffer in bytes. */
  bufferSize: number;
  /** Without it the handle only sends. */
  onPacket?: PacketHandler;
  /** Promiscuous mode (default true; tcpdump's -p turns it off). */
  promiscuous?: boolean;
  /** The capture failed after it started (e.g. the interface went away); nothing more arrives. */
  onError?: (message: string) => void;
}

export interface Libpcap {
  /** Which binding: lispscope's own or cap. */
  readonly binding: 'native' | 'cap';
  /** pcap_lib_version(), when the binding tells it. */
  readonly version?: string;
  devices(): PcapDevice[];
  /** Opens `iface` with a BPF `filter`; throws an Error carrying libpcap's message. */
  open(iface: string, filter: string, opts: OpenOptions): PcapHandle;
}

/** DLT_* (pcap_datalink) as LINKTYPE_* for frames and files. */
export function dltToLinkType(dlt: number): number {
  // DLT_RAW is 12 on most systems and 14 on some BSDs; files have one value for it.
  if (dlt === 12 || dlt === 14) return 101;
  return dlt;
}
