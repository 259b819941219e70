// The proxy ITR/ETR (RFC 6832 interworking): it attracts the traffic non-LISP hosts send to the
// EID prefixes (it announces them natively), encapsulates it to the EIDs' current RLOCs (asking the
// mapping system with the p bit set, as a PITR), and, as a PETR, decapsulates what LISP sites send
// to non-LISP destinations and forwards it natively.
//
// The native side is simulated on loopback: a "native link" is a UDP socket carrying raw IP packets
// (as a tunnel interface would), and the packets themselves are recorded, as a capture on the
// PxTR's native interface would show them. NativeHost is a non-LISP host on that link.

import dgram from 'node:dgram';
import { covers, hostPrefix, toPrefix, type Prefix } from './eid.js';
import { answerFor, parseInner, Pinger, type EchoResult, type InnerPacket } from './host.js';
import { silentLogger, type Logger } from './log.js';
import type { Recorder } from './recorder.js';
import { LispRouter, type RouterOptions } from './router.js';
import type { Received } from './socket.js';

export interface PxtrOptions extends RouterOptions {
  /** The EID prefixes it attracts from the non-LISP world. */
  attract: Array<string | Prefix>;
  /** Port of its native link on its first RLOC (default: any free one). */
  nativePort?: number;
}

export class Pxtr extends LispRouter {
  readonly attract: Prefix[];
  readonly native = { in: 0, out: 0 };
  private link: dgram.Socket | undefined;
  /** Native hosts: IP address → where on the simulated link they are. */
  private readonly hosts = new Map<string, { address: string; port: number }>();

  constructor(readonly pxtrOpts: PxtrOptions) {
    super({ ...pxtrOpts, eids: [], pitr: true });
    this.attract = pxtrOpts.attract.map(toPrefix);
  }

  static async start(opts: PxtrOptions): Promise<Pxtr> {
    const p = new Pxtr(opts);
    await p.start();
    return p;
  }

  override async start(): Promise<void> {
    await super.start();
    const s = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(this.pxtrOpts.nativePort ?? 0, this.primaryRloc, () => {
          s.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      s.close();
      await super.stop();
      throw new Error(`native link ${this.primaryRloc}:${this.pxtrOpts.nativePort ?? 0}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    s.on('message', (msg, r) => this.fromNative(new Uint8Array(msg), r.address, r.port));
    s.on('error', (e) => this.log('warn', this.name, `native link: ${e.message}`));
    this.link = s;
  }

  override async stop(): Promise<void> {
    const s = this.link;
    this.link = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
    await super.stop();
  }

  /** Where native hosts send (the PxTR's address on the native link). */
  get nativeGateway(): { address: string; port: number } {
    return { address: this.primaryRloc, port: this.link?.address().port ?? this.pxtrOpts.nativePort ?? 0 };
  }

  private isAttracted(addr: string): boolean {
    const p = hostPrefix(addr);
    return this.attract.some((a) => covers(a, p));
  }

  /** PITR: a packet from a non-LISP host to an EID goes into the LISP data plane. */
  private fromNative(packet: Uint8Array, from: string, port: number): void {
    const info = parseInner(packet);
    if (!info) {
      this.log('warn', this.name, `dropped a native frame from ${from}:${port} that is not an IP packet`);
      return;
    }
    this.hosts.set(info.src, { address: from, port });
    if (!this.isAttracted(info.dst)) {
      this.log('debug', this.name, `native packet for ${info.dst}: not an EID we attract, dropped`);
      return;
    }
    this.native.in++;
    void this.forward(packet);
  }

  /** PETR: decapsulated packets for non-LISP destinations go out natively. */
  protected override deliver(packet: Uint8Array, info: InnerPacket, _rx: Received | undefined): void {
    if (this.isAttracted(info.dst)) {
      void this.forward(packet);
      return;
    }
    this.nativeForward(packet, info);
  }

  protected override nativeForward(packet: Uint8Array, info: InnerPacket): boolean {
    const h = this.hosts.get(info.dst);
    if (!h || !this.link) {
      this.log('info', this.name, `no native host ${info.dst} on the link: dropped`);
      return false;
    }
    this.native.out++;
    this.link.send(packet, h.port, h.address);
    this.opts.recorder?.ip(this.name, packet);
    return true;
  }
}

export interface NativeHostOptions {
  name: string;
  /** The host's IP address (outside EID space). */
  ip: string;
  /** Loopback address its link socket binds. */
  bind: string;
  /** The PxTR's end of the native link. */
  gateway: { address: string; port: number };
  recorder?: Recorder;
  log?: Logger;
}

/** A non-LISP host on the PxTR's native link: it pings EIDs and answers pings. */
export class NativeHost {
  private readonly pinger = new Pinger();
  private readonly log: Logger;

  private constructor(
    private readonly sock: dgram.Socket,
    readonly opts: NativeHostOptions,
  ) {
    this.log = opts.log ?? silentLogger;
    sock.on('message', (msg) => this.receive(new Uint8Array(msg)));
    sock.on('error', (e) => this.log('warn', opts.name, e.message));
  }

  static async start(opts: NativeHostOptions): Promise<NativeHost> {
    const s = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, opts.bind, () => {
          s.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      s.close();
      throw new Error(`cannot bind ${opts.bind} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return new NativeHost(s, opts);
  }

  get ip(): string {
    return this.opts.ip;
  }

  /** Sends an IP packet onto the native link (towards the PxTR). */
  send(packet: Uint8Array): void {
    this.sock.send(packet, this.opts.gateway.port, this.opts.gateway.address);
    this.opts.recorder?.ip(this.opts.name, packet);
  }

  ping(dst: string, timeoutMs = 2000): Promise<EchoResult | undefined> {
    return this.pinger.echo((p) => this.send(p), { src: this.opts.ip, dst, timeoutMs });
  }

  private receive(packet: Uint8Array): void {
    const info = parseInner(packet);
    if (!info || info.dst !== this.opts.ip) return;
    if (this.pinger.offer(info)) return;
    const answer = answerFor(info);
    if (answer) this.send(answer);
  }

  async close(): Promise<void> {
    this.pinger.close();
    await new Promise<void>((r) => this.sock.close(() => r()));
  }
}
