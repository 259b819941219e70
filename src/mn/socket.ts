// A LISP endpoint over a node `dgram` UDP socket: binds address:port, sends encoded messages,
// receives datagrams and decodes them with our own decoders, and reports every datagram it sends
// to the recorder. A handler that throws, or a datagram that does not decode, never takes the
// component down: it is logged and dropped.
//
// Times are the wire's as far as a socket can tell: a send is stamped when the datagram has been
// handed to the kernel (the address lookup is synchronous for the IP literals we send to, so the
// sendmsg happens inside send()), an arrival when node hands the datagram over, before decoding.
// A socket connected to one peer (sharing its address and port with the endpoint's unconnected
// socket) hears the ICMP errors that peer's host sends back, which the kernel reports only to
// connected sockets: "port unreachable" instead of silence.
//
// Behind the lab's NAT the endpoint has a gateway: every datagram goes to the NAT's inside address
// with a small header naming the destination it is meant for (as a routed packet would carry it in
// its IP header), and comes back with one naming its real source. See nat.ts.

import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { classify, type DecodeAs } from '../capture/packets.js';
import { ipAddress } from '../dissect/address.js';
import { decodeControl } from '../dissect/control.js';
import type { Note } from '../dissect/cursor.js';
import { decodeData } from '../dissect/data.js';
import { addressBytes } from '../dissect/ip.js';
import type { ControlMessage, DataMessage } from '../dissect/types.js';
import { formatIPv4, formatIPv6 } from '../dissect/addr.js';
import { icmpErrorText, type IcmpError } from './icmp.js';
import { silentLogger, type Logger } from './log.js';
import type { Recorder } from './recorder.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT } from '../dissect/registry.js';

/** A received datagram, decoded. */
export interface Received {
  socket: LispSocket;
  src: string;
  sport: number;
  /** The local address and port it arrived on. */
  dst: string;
  dport: number;
  /** The UDP payload. */
  bytes: Uint8Array;
  kind: 'control' | 'data';
  control?: ControlMessage;
  data?: DataMessage;
  /** Decoder notes (malformed input). */
  notes: Note[];
  /** When it arrived (performance.now()). */
  at: number;
}

/** What the kernel's errno for an ICMP error on a connected socket says. */
const ICMP_ERRNO: Record<string, string> = {
  ECONNREFUSED: 'port unreachable',
  EHOSTUNREACH: 'host unreachable',
  EHOSTDOWN: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EACCES: 'communication administratively prohibited',
  EMSGSIZE: 'packet too big',
};

/** Where an endpoint behind the lab's NAT sends everything. */
export interface Gateway {
  address: string;
  port: number;
}

/** Decides whether a datagram may be sent, and paces sends (see guard.ts). */
export interface SendPolicy {
  /** Why `dst` must not be sent to, or undefined when it may. */
  refusal(dst: string): string | undefined;
  /** Runs `send` now or when the rate limit allows. */
  schedule(send: () => void): void;
}

export interface SocketOptions {
  /** The component's name (logs, recorder). */
  name: string;
  /** Address to bind ('0.0.0.0' or '::' for any). */
  address: string;
  /** Port to bind; 0 picks an ephemeral one. */
  port: number;
  recorder?: Recorder;
  /**
   * Also record what arrives (the CLI does, to show both directions; the lab records senders only);
   * a function picks by source (not what another recorded component sent: it is recorded already).
   */
  recordReceived?: boolean | ((src: string, sport: number) => boolean);
  log?: Logger;
  /** How to decode a datagram whose ports do not say (default control). */
  role?: 'control' | 'data';
  /** LISP control and data ports (the lab can move them from 4342/4341; other ports are decoded as LISP too). */
  ports?: { control: number; data: number };
  /** Behind the lab's NAT: send everything through it. */
  gateway?: Gateway;
  policy?: SendPolicy;
  /**
   * The source address to record when bound to the unspecified address (the CLI finds the one the
   * kernel would pick).
   */
  recordAs?: string;
  /** Let another socket bind the same address and port (SO_REUSEADDR): a connected sibling. */
  reuseAddr?: boolean;
  /** Connect to this peer: only its datagrams arrive, and its host's ICMP errors are heard. */
  connect?: { address: string; port: number };
}

export interface SendOptions {
  /** Compute the UDP checksum in the record (default true; data packets are sent with 0). */
  checksum?: boolean;
  /** Told when the datagram has been handed to the kernel (performance.now()). */
  onSent?: (at: number) => void;
}

/** Our sends go to IP literals: answering the lookup at once keeps the sendmsg inside send(). */
function literalLookup(address: string, _family: unknown, callback: (e: Error | null, address: string, family: number) => void): void {
  callback(null, address, address.includes(':') ? 6 : 4);
}

/** The gateway header: version (4|6), port (2 bytes), address (4|16 bytes). */
export function encodeGatewayHeader(address: string, port: number, payload: Uint8Array): Uint8Array {
  const a = addressBytes(address);
  const out = new Uint8Array(3 + a.length + payload.length);
  out[0] = a.length === 4 ? 4 : 6;
  out[1] = port >> 8;
  out[2] = port & 0xff;
  out.set(a, 3);
  out.set(payload, 3 + a.length);
  return out;
}

export function decodeGatewayHeader(b: Uint8Array): { address: string; port: number; payload: Uint8Array } | undefined {
  if (b.length < 3) return undefined;
  const len = b[0] === 4 ? 4 : b[0] === 6 ? 16 : 0;
  if (!len || b.length < 3 + len) return undefined;
  return {
    port: (b[1]! << 8) | b[2]!,
    address: len === 4 ? formatIPv4(b, 3) : formatIPv6(b, 3),
    payload: b.subarray(3 + len),
  };
}

export class LispSocket {
  private readonly handlers: Array<(rx: Received) => void> = [];
  private readonly unreachableHandlers: Array<(e: IcmpError) => void> = [];
  private closed = false;
  readonly stats = { sent: 0, received: 0, dropped: 0, refused: 0 };
  private readonly log: Logger;
  private readonly decodeAs: DecodeAs | undefined;

  private constructor(
    private readonly sock: dgram.Socket,
    readonly opts: SocketOptions,
    readonly address: string,
    readonly port: number,
  ) {
    this.log = opts.log ?? silentLogger;
    const p = opts.ports;
    this.decodeAs = p && (p.control !== LISP_CONTROL_PORT || p.data !== LISP_DATA_PORT) ? { control: new Set([p.control]), data: new Set([p.data]) } : undefined;
    sock.on('message', (msg, rinfo) => {
      const at = performance.now();
      this.receive(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), rinfo.address, rinfo.port, at);
    });
    sock.on('error', (e: NodeJS.ErrnoException) => {
      const peer = opts.connect;
      const reason = e.code && e.syscall === 'recvmsg' ? ICMP_ERRNO[e.code] : undefined;
      if (peer && reason) {
        // The kernel does not say who sent the error: for a port unreachable it is the peer's host.
        const u: IcmpError = { from: peer.address, src: this.sourceAddress, sport: this.port, dst: peer.address, dport: peer.port, reason, portUnreachable: e.code === 'ECONNREFUSED' };
        this.log('info', opts.name, icmpErrorText(u));
        for (const h of this.unreachableHandlers) h(u);
        return;
      }
      this.log('warn', opts.name, `socket ${this.address}:${this.port}: ${e.message}`);
    });
  }

  /** Binds the socket (and connects it). Rejects with a one-line message when the address cannot be bound. */
  static open(opts: SocketOptions): Promise<LispSocket> {
    const family = ipAddress(opts.address)?.kind === 'ipv6' ? 'udp6' : 'udp4';
    const sock = dgram.createSocket({ type: family, lookup: literalLookup as never, ...(opts.reuseAddr ? { reuseAddr: true } : {}) });
    return new Promise((resolve, reject) => {
      let stage = 'bind';
      const onError = (e: NodeJS.ErrnoException) => {
        sock.close();
        const peer = opts.connect;
        reject(new Error(stage === 'bind' ? `cannot bind ${opts.address}:${opts.port} (${e.code ?? e.message})` : `cannot connect to ${peer?.address}:${peer?.port} (${e.code ?? e.message})`));
      };
      sock.once('error', onError);
      sock.bind(opts.port, opts.address, () => {
        const done = () => {
          sock.off('error', onError);
          const a = sock.address();
          resolve(new LispSocket(sock, opts, a.address, a.port));
        };
        if (!opts.connect) return done();
        stage = 'connect';
        sock.connect(opts.connect.port, opts.connect.address, done);
      });
    });
  }

  /** Whether this socket sends to `dst`:`dport` as its connected peer. */
  isConnectedTo(dst: string, dport: number): boolean {
    const c = this.opts.connect;
    return !!c && c.port === dport && c.address === dst;
  }

  /** Called for every ICMP error the kernel reports (connected sockets only). */
  onUnreachable(handler: (e: IcmpError) => void): void {
    this.unreachableHandlers.push(handler);
  }

  get name(): string {
    return this.opts.name;
  }

  /** The address recorded as the source of what this socket sends. */
  get sourceAddress(): string {
    return this.opts.recordAs ?? this.address;
  }

  onReceive(handler: (rx: Received) => void): void {
    this.handlers.push(handler);
  }

  /**
   * Sends `payload` to dst:dport (through the gateway, if any). Returns false when the policy
   * refused the destination or the socket is closed.
   */
  send(dst: string, dport: number, payload: Uint8Array, o: SendOptions = {}): boolean {
    if (this.closed) return false;
    const refusal = this.opts.policy?.refusal(dst);
    if (refusal) {
      this.stats.refused++;
      this.log('warn', this.opts.name, `not sending to ${dst}: ${refusal}`);
      return false;
    }
    const go = () => {
      if (this.closed) return;
      const gw = this.opts.gateway;
      const wire = gw ? encodeGatewayHeader(dst, dport, payload) : payload;
      const failed = (e: Error | null) => {
        if (e) this.log('warn', this.opts.name, `send to ${dst}:${dport} failed: ${e.message}`);
      };
      try {
        if (this.opts.connect) this.sock.send(wire, failed);
        else this.sock.send(wire, gw ? gw.port : dport, gw ? gw.address : dst, failed);
      } catch (e) {
        this.log('warn', this.opts.name, `send to ${dst}:${dport} failed: ${(e as Error).message}`);
        return;
      }
      const at = performance.now();
      this.stats.sent++;
      o.onSent?.(at);
      this.opts.recorder?.udp(this.opts.name, {
        src: this.sourceAddress,
        sport: this.port,
        dst,
        dport,
        payload,
        checksum: o.checksum ?? true,
        at,
      });
    };
    if (this.opts.policy) this.opts.policy.schedule(go);
    else go();
    return true;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => this.sock.close(() => resolve()));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private receive(wire: Uint8Array, from: string, fromPort: number, at: number): void {
    if (this.closed) return;
    let src = from;
    let sport = fromPort;
    let bytes = wire;
    const gw = this.opts.gateway;
    if (gw) {
      // Behind the NAT nothing arrives except through it.
      const h = from === gw.address && fromPort === gw.port ? decodeGatewayHeader(wire) : undefined;
      if (!h) {
        this.stats.dropped++;
        this.log('debug', this.opts.name, `dropped a datagram from ${from}:${fromPort}: not from the NAT`);
        return;
      }
      src = h.address;
      sport = h.port;
      bytes = h.payload;
    }
    // The datagram stays valid for as long as a handler keeps it: copy out of node's buffer pool.
    bytes = new Uint8Array(bytes);
    this.stats.received++;
    const kind = classify(sport, this.port, bytes, 0, bytes.length, this.decodeAs) ?? this.opts.role ?? 'control';
    const rx: Received = { socket: this, src, sport, dst: this.sourceAddress, dport: this.port, bytes, kind, notes: [], at };
    if (kind === 'control') {
      const d = decodeControl(bytes);
      rx.control = d.value;
      rx.notes = d.notes;
    } else {
      const d = decodeData(bytes);
      if (d.value) rx.data = d.value;
      rx.notes = d.notes;
    }
    const record = this.opts.recordReceived;
    if (record === true || (record && record(src, sport))) {
      this.opts.recorder?.udp(this.opts.name, { src, sport, dst: this.sourceAddress, dport: this.port, payload: bytes, checksum: kind === 'control', received: true, at });
    }
    for (const h of this.handlers) {
      try {
        h(rx);
      } catch (e) {
        this.stats.dropped++;
        this.log('warn', this.opts.name, `dropped a datagram from ${src}:${sport}: ${(e as Error).message}`);
      }
    }
  }
}
