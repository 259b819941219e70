// A NAT for the lab, so that the Mobile Node really sits behind one on loopback without root. It
// is a UDP relay: hosts on the inside send to its inside address with a header naming the
// destination (socket.ts, gateway mode), and it sends the payload on from its public address,
// out of a public port it allocated to that inside address:port (endpoint-independent mapping,
// RFC 4787). What comes back to a public port is let in only from addresses the inside host has
// sent to (address-dependent filtering) and handed to the inside host with a header naming the
// real source. Both sides are recorded, as a capture on each side of the NAT would show them.

import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { silentLogger, type Logger } from './log.js';
import type { Recorder } from './recorder.js';
import { decodeGatewayHeader, encodeGatewayHeader, type Gateway } from './socket.js';

export interface NatOptions {
  name?: string;
  /** Inside address and port (what inside hosts use as gateway). */
  insideAddress: string;
  insidePort?: number;
  /** The address the outside sees. */
  publicAddress: string;
  /** Public ports are allocated in [low, high]. */
  portRange?: [number, number];
  /** An idle mapping is removed after this long (default 120 s). */
  mappingTimeoutMs?: number;
  /** 'address' (default): only addresses the inside host sent to may answer; 'address-port': also the same port; 'none'. */
  filtering?: 'address' | 'address-port' | 'none';
  recorder?: Recorder;
  log?: Logger;
  /** Told about every new mapping (the lab adds public ports of the data port to the decoder). */
  onMapping?: (m: NatMapping) => void;
}

export interface NatMapping {
  insideAddress: string;
  insidePort: number;
  publicAddress: string;
  publicPort: number;
}

interface Binding extends NatMapping {
  socket: dgram.Socket;
  /** Remote addresses (or address:port) the inside host has sent to. */
  permitted: Set<string>;
  lastUsed: number;
}

export class Nat {
  readonly name: string;
  readonly stats = { out: 0, in: 0, filtered: 0 };
  private readonly bindings = new Map<string, Binding>();
  private readonly log: Logger;
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly inside: dgram.Socket,
    private readonly opts: NatOptions,
  ) {
    this.name = opts.name ?? 'nat';
    this.log = opts.log ?? silentLogger;
    inside.on('message', (msg, r) => void this.outbound(new Uint8Array(msg), r.address, r.port));
    inside.on('error', (e) => this.log('warn', this.name, `inside socket: ${e.message}`));
    const timeout = opts.mappingTimeoutMs ?? 120_000;
    this.sweeper = setInterval(() => this.expire(timeout), Math.min(timeout, 5000));
    this.sweeper.unref?.();
  }

  static async start(opts: NatOptions): Promise<Nat> {
    const s = dgram.createSocket('udp4');
    try {
      await bindSocket(s, opts.insidePort ?? 0, opts.insideAddress);
    } catch (e) {
      s.close();
      throw new Error(`cannot bind ${opts.insideAddress}:${opts.insidePort ?? 0} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return new Nat(s, opts);
  }

  /** What inside hosts send to. */
  get gateway(): Gateway {
    const a = this.inside.address();
    return { address: a.address, port: a.port };
  }

  get publicAddress(): string {
    return this.opts.publicAddress;
  }

  mappings(): NatMapping[] {
    return [...this.bindings.values()].map(({ insideAddress, insidePort, publicAddress, publicPort }) => ({ insideAddress, insidePort, publicAddress, publicPort }));
  }

  /** The public port of an inside address:port, if mapped. */
  mappingFor(address: string, port: number): NatMapping | undefined {
    return this.mappings().find((m) => m.insideAddress === address && m.insidePort === port);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
    const all = [this.inside, ...[...this.bindings.values()].map((b) => b.socket)];
    this.bindings.clear();
    await Promise.all(all.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }

  private async outbound(wire: Uint8Array, from: string, fromPort: number): Promise<void> {
    const h = decodeGatewayHeader(wire);
    if (!h) {
      this.log('warn', this.name, `dropped a datagram from ${from}:${fromPort} without a gateway header`);
      return;
    }
    let b: Binding;
    try {
      b = await this.binding(from, fromPort);
    } catch (e) {
      this.log('warn', this.name, `no public port for ${from}:${fromPort}: ${(e as Error).message}`);
      return;
    }
    if (this.closed) return;
    b.lastUsed = Date.now();
    b.permitted.add(this.filterKey(h.address, h.port));
    try {
      b.socket.send(h.payload, h.port, h.address);
    } catch (e) {
      this.log('warn', this.name, `cannot send to ${h.address}:${h.port}: ${(e as Error).message}`);
      return;
    }
    this.stats.out++;
    this.opts.recorder?.udp(this.name, { src: b.publicAddress, sport: b.publicPort, dst: h.address, dport: h.port, payload: h.payload, checksum: true });
  }

  private inbound(b: Binding, payload: Uint8Array, from: string, fromPort: number): void {
    if (this.opts.filtering !== 'none' && !b.permitted.has(this.filterKey(from, fromPort))) {
      this.stats.filtered++;
      this.log('info', this.name, `filtered a datagram from ${from}:${fromPort} to ${b.publicAddress}:${b.publicPort}: no outbound traffic to it`);
      return;
    }
    b.lastUsed = Date.now();
    try {
      this.inside.send(encodeGatewayHeader(from, fromPort, payload), b.insidePort, b.insideAddress);
    } catch (e) {
      this.log('warn', this.name, `cannot deliver to ${b.insideAddress}:${b.insidePort}: ${(e as Error).message}`);
      return;
    }
    this.stats.in++;
    this.opts.recorder?.udp(this.name, { src: from, sport: fromPort, dst: b.insideAddress, dport: b.insidePort, payload, checksum: true });
  }

  private filterKey(address: string, port: number): string {
    return this.opts.filtering === 'address-port' ? `${address}:${port}` : address;
  }

  private readonly pending = new Map<string, Promise<Binding>>();

  private binding(address: string, port: number): Promise<Binding> {
    const key = `${address}:${port}`;
    const b = this.bindings.get(key);
    if (b) return Promise.resolve(b);
    const p = this.pending.get(key);
    if (p) return p;
    const job = this.allocate(address, port).finally(() => this.pending.delete(key));
    this.pending.set(key, job);
    return job;
  }

  private async allocate(address: string, port: number): Promise<Binding> {
    const [lo, hi] = this.opts.portRange ?? [40000, 59999];
    for (let tries = 0; tries < 50; tries++) {
      const publicPort = randomInt(lo, hi + 1);
      const s = dgram.createSocket('udp4');
      try {
        await bindSocket(s, publicPort, this.opts.publicAddress);
      } catch {
        s.close();
        continue;
      }
      const b: Binding = { insideAddress: address, insidePort: port, publicAddress: this.opts.publicAddress, publicPort, socket: s, permitted: new Set(), lastUsed: Date.now() };
      s.on('message', (msg, r) => this.inbound(b, new Uint8Array(msg), r.address, r.port));
      s.on('error', (e) => this.log('warn', this.name, `public port ${publicPort}: ${e.message}`));
      this.bindings.set(`${address}:${port}`, b);
      this.log('info', this.name, `mapping ${address}:${port} -> ${this.opts.publicAddress}:${publicPort}`);
      this.opts.onMapping?.({ insideAddress: address, insidePort: port, publicAddress: this.opts.publicAddress, publicPort });
      return b;
    }
    throw new Error('no free port in the range');
  }

  private expire(timeout: number): void {
    const now = Date.now();
    for (const [k, b] of this.bindings) {
      if (now - b.lastUsed > timeout) {
        this.bindings.delete(k);
        b.socket.close();
        this.log('info', this.name, `mapping ${k} -> ${b.publicAddress}:${b.publicPort} timed out`);
      }
    }
  }
}

function bindSocket(s: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    s.once('error', onError);
    s.bind(port, address, () => {
      s.off('error', onError);
      resolve();
    });
  });
}
