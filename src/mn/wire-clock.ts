// RTTs from the kernel's clock: a libpcap capture of our own exchanges on the interface they use,
// so that `mn register` and `mn resolve` report the times tcpdump or Wireshark would show for the
// same packets. Each request and its answer are found in the capture by their nonce (an echo by its
// ICMP id and sequence number); what the socket measured is the fallback when the capture did not
// see both. The same capture reports ICMP errors about our datagrams ("port unreachable from X").

import { listInterfaces, LiveCapture, type Libpcap } from '../capture/live.js';
import { PacketDecoder } from '../capture/packets.js';
import type { Frame } from '../capture/types.js';
import { ipAddress } from '../dissect/address.js';
import { decodeLink } from '../dissect/link.js';
import type { ControlMessage } from '../dissect/types.js';
import { echoKey, isEchoReply, isEchoRequest, parseInner } from './host.js';
import { icmpError, type IcmpError } from './icmp.js';
import { MessageType } from '../dissect/registry.js';

/** The interface a local address lives on (the loopback for 127/8 and ::1); undefined when none has it. */
export function interfaceOf(address: string, pcap?: Libpcap): string | undefined {
  const ip = ipAddress(address);
  const text = ip && (ip.kind === 'ipv4' || ip.kind === 'ipv6') ? ip.addr : address;
  const devices = listInterfaces(pcap);
  const loopback = text.startsWith('127.') || text === '::1';
  if (loopback) return devices.find((d) => d.loopback)?.name;
  return devices.find((d) => d.addresses.some((a) => a === text || a.split('%')[0] === text))?.name;
}

/** The key an exchange is found by: a control message's nonce, or an echo's id and sequence. */
function controlKey(m: ControlMessage): string | undefined {
  if ('unknown' in m) return undefined;
  if (m.type === MessageType.ECM) return m.inner?.message ? controlKey(m.inner.message) : undefined;
  return 'nonce' in m ? `nonce ${m.nonce.toString(16)}` : undefined;
}

export function nonceKey(nonce: bigint): string {
  return `nonce ${nonce.toString(16)}`;
}

interface Seen {
  /** Kernel time (ns since the epoch) of the first datagram we sent with this key, and of the first answer. */
  sent?: bigint;
  received?: bigint;
}

export interface WireClockOptions {
  iface: string;
  /** Our address as it appears on the wire (a Mobile Node's RLOCs: follow() moves them). */
  local: string | string[];
  /** Our UDP ports: what leaves from them is ours, what arrives at them is for us. */
  ports: number[];
  pcap?: Libpcap;
}

export class WireClock {
  readonly iface: string;
  /** Times come from the kernel (our binding) rather than from when libpcap handed the packet over (cap). */
  readonly kernelTimes: boolean;
  private readonly capture: LiveCapture;
  private readonly seen = new Map<string, Seen>();
  private readonly waiters = new Set<() => void>();
  private readonly icmpHandlers: Array<(e: IcmpError) => void> = [];
  private readonly decoder = new PacketDecoder();
  private readonly ports: Set<number>;
  private locals: Set<string>;

  private constructor(
    opts: WireClockOptions,
    capture: LiveCapture,
  ) {
    this.iface = opts.iface;
    this.capture = capture;
    this.kernelTimes = capture.kernelTimes;
    this.ports = new Set(opts.ports);
    this.locals = new Set(typeof opts.local === 'string' ? [opts.local] : opts.local);
    capture.start({ frame: (f) => this.frame(f), warning: () => undefined });
  }

  /** Starts capturing our exchanges on `iface` (throws LiveCaptureError with what is wrong). */
  static open(opts: WireClockOptions): WireClock {
    const ports = [...new Set(opts.ports)];
    const udp = ports.map((p) => `port ${p}`).join(' or ');
    const filter = `(udp and (${udp})) or icmp or icmp6`;
    // A few exchanges' packets: small buffers (the defaults are sized for sniffing a busy link).
    const capture = LiveCapture.open({ iface: opts.iface, filter, bufferSize: 4 << 20, queueFrames: 4096, queueBytes: 4 << 20, ...(opts.pcap ? { pcap: opts.pcap } : {}) });
    return new WireClock({ ...opts, ports }, capture);
  }

  /** What the RTTs are measured with, for people. */
  get clockName(): string {
    return this.kernelTimes ? `kernel timestamps of a capture on ${this.iface}` : `a capture on ${this.iface} (times when libpcap handed the packets over)`;
  }

  /** Our addresses are now `locals` (a handover): what they send and receive is timed from now on. */
  follow(locals: string[]): void {
    this.locals = new Set(locals);
  }

  onIcmpError(handler: (e: IcmpError) => void): void {
    this.icmpHandlers.push(handler);
  }

  /**
   * The wire's RTT between our request with key `sent` and the answer with key `answer` (ms), once
   * the capture has delivered both; undefined when it did not within `waitMs`.
   */
  async rtt(sent: string, answer = sent, waitMs = 1000): Promise<number | undefined> {
    const get = () => {
      const a = this.seen.get(sent)?.sent;
      const b = this.seen.get(answer)?.received;
      return a !== undefined && b !== undefined ? Number(b - a) / 1e6 : undefined;
    };
    const now = get();
    if (now !== undefined || this.capture.stopped) return now;
    return new Promise((resolve) => {
      const check = () => {
        const v = get();
        if (v === undefined) return;
        done(v);
      };
      const timer = setTimeout(() => done(get()), waitMs);
      const done = (v: number | undefined) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(v);
      };
      this.waiters.add(check);
    });
  }

  async close(): Promise<void> {
    await this.capture.stop(false);
    for (const w of [...this.waiters]) w();
  }

  private frame(f: Frame): boolean {
    const link = decodeLink(f.linkType, f.data);
    if (link.next !== 'ipv4' && link.next !== 'ipv6') return true;
    const ns = BigInt(f.tsSec) * 1_000_000_000n + BigInt(f.tsNsec);
    const err = icmpError(f.data, link.offset);
    if (err) {
      if (this.locals.has(err.src) && this.ports.has(err.sport)) for (const h of this.icmpHandlers) h(err);
      return true;
    }
    const p = this.decoder.decode(f);
    if (!p?.ip || !p.udp) return true;
    const out = this.locals.has(p.ip.src) && this.ports.has(p.udp.srcPort);
    const into = this.locals.has(p.ip.dst) && this.ports.has(p.udp.dstPort);
    if (!out && !into) return true;
    let key: string | undefined;
    if (p.control) key = controlKey(p.control);
    else if (p.data) {
      const inner = parseInner(p.data.payload);
      // Echo request to the peer; echo reply from it.
      if (inner && isEchoRequest(inner)) key = echoKey(inner.dst, inner.icmp!.id, inner.icmp!.seq);
      else if (inner && isEchoReply(inner)) key = echoKey(inner.src, inner.icmp!.id, inner.icmp!.seq);
    }
    if (!key) return true;
    const s = this.seen.get(key) ?? {};
    // Talking to ourselves (both ends on this address) a datagram is both: the first sight is the send.
    if (out && s.sent === undefined) s.sent = ns;
    else if (into && s.received === undefined) s.received = ns;
    this.seen.set(key, s);
    if (this.seen.size > 100_000) this.seen.delete(this.seen.keys().next().value!);
    for (const w of [...this.waiters]) w();
    return true;
  }
}

/** A capture the user named (-i) could not be opened: that is an error, not a fallback to the socket. */
export class WireClockError extends Error {
  constructor(
    readonly iface: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The interface whose capture times the exchanges: `given`, else (as root, unless `socketClock`) the
 * one holding `local`; undefined for the socket clock. `why` hears why there is no capture as root.
 */
export function clockInterface(local: string, o: { given?: string | undefined; socketClock: boolean }, why?: (message: string) => void): string | undefined {
  if (o.given !== undefined) return o.given;
  if (o.socketClock || process.getuid?.() !== 0) return undefined;
  try {
    const iface = interfaceOf(local);
    if (!iface) why?.(`no interface holds ${local}: timing with the socket`);
    return iface;
  } catch (e) {
    why?.(`timing with the socket: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * A capture clock on `o.iface`, or undefined (the socket times) when it cannot be opened; when the
 * user named the interface (`pinned`) that throws a WireClockError instead, and `why` hears the rest.
 */
export function openWireClock(o: WireClockOptions, pinned: boolean, why?: (message: string) => void): WireClock | undefined {
  try {
    return WireClock.open(o);
  } catch (e) {
    if (pinned) throw new WireClockError(o.iface, (e as Error).message);
    why?.(`timing with the socket: ${(e as Error).message}`);
    return undefined;
  }
}
