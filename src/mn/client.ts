// One-shot exchanges with a real deployment, like `lig` and `rig` do: a Map-Request to a
// Map-Resolver (in an ECM), an RLOC-probe, an SMR, a Map-Register, an Info-Request. One UDP
// endpoint on the source the user chose (or the address the kernel would use towards the peer),
// retransmissions with back-off, answers matched by nonce and authenticated with the site key.
// The endpoint is two sockets on one address and port: one connected to the peer the command
// talks to (its answers, and the ICMP errors its host sends, which the kernel reports only to a
// connected socket), one for answers from anyone else (an ETR answering a Map-Request). An ICMP
// error ends the wait at once. RTTs run from when a request left to when its answer arrived; with
// a capture (root, or -i) they are the kernel's timestamps of the two packets.

import dgram from 'node:dgram';
import { verifyAuth } from '../dissect/auth.js';
import { encodeControl } from '../dissect/control.js';
import { ecm, infoRequest, mapRequest, mappingRecord, randomNonce, type LocatorSpec } from '../dissect/build.js';
import { ipAddress } from '../dissect/address.js';
import type { Libpcap } from '../capture/live.js';
import type { InfoMessage, MapNotify, MapReply, MappingRecord } from '../dissect/types.js';
import { eidIp, toPrefix, type Prefix } from './eid.js';
import type { IcmpError } from './icmp.js';
import { silentLogger, type Logger } from './log.js';
import type { Recorder } from './recorder.js';
import { Registrar, stableXtrId, type MapServerAccess, type RegistrationFlags, type RegistrationResult } from './registration.js';
import { NonceTable, type Answer, type RetryTimers, type SentStamp } from './requests.js';
import { Subscriber, type Publication } from './subscriber.js';
import { LispSocket, type Received, type SendPolicy } from './socket.js';
import { nonceKey, WireClock } from './wire-clock.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT, MessageType } from '../dissect/registry.js';

/** The local address the kernel picks to reach `dst` (no packet is sent: a connected UDP socket). */
export function sourceAddressFor(dst: string): Promise<string> {
  const v6 = ipAddress(dst)?.kind === 'ipv6';
  const s = dgram.createSocket(v6 ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    s.once('error', (e) => {
      s.close();
      reject(e);
    });
    s.connect(LISP_CONTROL_PORT, dst, () => {
      const a = s.address().address;
      s.close();
      resolve(a);
    });
  });
}

export interface ClientOptions {
  /** The peer this client talks to first (to find the source address when none is given). */
  towards: string;
  /** Address to bind (default: any). */
  source?: string;
  /** Port to bind (default: ephemeral). */
  port?: number;
  /** Destination LISP control port (default 4342). */
  controlPort?: number;
  retry?: RetryTimers;
  recorder?: Recorder;
  log?: Logger;
  policy?: SendPolicy;
  /** Time the exchanges on a capture of this interface (root or CAP_NET_RAW). */
  capture?: { iface: string; pcap?: Libpcap };
}

/** Which clock an RTT was read from. */
export type RttClock = 'capture' | 'socket';

export interface Timing {
  /** The RTT reported: the capture's when it saw both packets, else the socket's. */
  rttMs: number;
  clock: RttClock;
  /** From the socket's send-complete and arrival stamps. */
  socketRttMs: number;
}

/** The RTT of an answered request (by its nonce; `rttMs` the socket's) from the best clock there is. */
export async function wireTiming(wire: WireClock | undefined, a: { nonce: bigint; rttMs: number }): Promise<Timing> {
  const w = wire ? await wire.rtt(nonceKey(a.nonce)) : undefined;
  if (w !== undefined) return { rttMs: w, clock: 'capture', socketRttMs: a.rttMs };
  return { rttMs: a.rttMs, clock: 'socket', socketRttMs: a.rttMs };
}

export interface ResolveResult extends Timing {
  reply: MapReply;
  /** Who sent the Map-Reply. */
  from: string;
  attempts: number;
  nonce: bigint;
  /** Our ITR-RLOC and port (where the answer had to come). */
  itrRloc: string;
  port: number;
}

export interface InfoResult extends Timing {
  reply: InfoMessage;
  from: string;
  attempts: number;
  /** Our source as we sent it, and as the Map-Server saw it. */
  local: { address: string; port: number };
  global?: { address: string; port: number };
  msRloc?: string;
  rtrs: string[];
  behindNat: boolean;
  auth: { ok: boolean; reason?: string };
}

export interface RegisterOptions extends RegistrationFlags {
  ttl?: number;
  /** xTR-ID: default one derived from the EID and key (stableXtrId); null sends none (I clear). */
  xtrId?: Uint8Array | null;
  siteId?: Uint8Array;
}

export type RegisterResult = RegistrationResult & Timing;

export interface SubscribeResult extends Timing {
  /** The Map-Server's Map-Notify confirming the subscription (the request's nonce, the mapping now). */
  notify: MapNotify;
  from: string;
  attempts: number;
  nonce: bigint;
}

export class LispClient {
  private readonly replies = new NonceTable<{ reply: MapReply; rx: Received }>();
  private readonly infos = new NonceTable<{ info: InfoMessage; rx: Received }>();
  private registrar: Registrar | undefined;
  private subscriber: Subscriber | undefined;
  readonly retry: RetryTimers;
  private readonly log: Logger;
  /** The request in progress: an ICMP error about our datagrams ends it. */
  private current: AbortController | undefined;
  /** The ICMP error that ended the last request, if one did. */
  icmp: IcmpError | undefined;
  /** The capture that times the exchanges, when there is one. */
  readonly wire: WireClock | undefined;
  /** Why there is no capture although one was asked for. */
  readonly wireError: string | undefined;

  private constructor(
    /** The unconnected socket: answers from anyone. */
    readonly socket: LispSocket,
    /** The same address and port, connected to the peer the command talks to. */
    private readonly peerSocket: LispSocket,
    /** The address we put in ITR-RLOCs and expect answers on. */
    readonly localAddress: string,
    private readonly opts: ClientOptions,
    wire: { clock?: WireClock; error?: string },
  ) {
    this.retry = opts.retry ?? { timeoutMs: 1000, retries: 3 };
    this.log = opts.log ?? silentLogger;
    this.wire = wire.clock;
    this.wireError = wire.error;
    for (const s of [socket, peerSocket]) s.onReceive((rx) => this.receive(rx));
    peerSocket.onUnreachable((e) => this.unreachable(e));
    this.wire?.onIcmpError((e) => this.unreachable(e));
  }

  static async open(opts: ClientOptions): Promise<LispClient> {
    const v6 = ipAddress(opts.towards)?.kind === 'ipv6';
    const bindAddr = opts.source ?? (v6 ? '::' : '0.0.0.0');
    const local = opts.source ?? (await sourceAddressFor(opts.towards));
    const common = {
      name: 'lispscope',
      address: bindAddr,
      role: 'control' as const,
      recordAs: local,
      recordReceived: true,
      reuseAddr: true,
      ...(opts.recorder ? { recorder: opts.recorder } : {}),
      ...(opts.log ? { log: opts.log } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
      ports: { control: opts.controlPort || LISP_CONTROL_PORT, data: LISP_DATA_PORT },
    };
    const socket = await LispSocket.open({ ...common, port: opts.port ?? 0 });
    let peerSocket: LispSocket;
    try {
      peerSocket = await LispSocket.open({ ...common, port: socket.port, connect: { address: opts.towards, port: opts.controlPort ?? LISP_CONTROL_PORT } });
    } catch (e) {
      await socket.close();
      throw e;
    }
    const wire: { clock?: WireClock; error?: string } = {};
    if (opts.capture) {
      try {
        wire.clock = WireClock.open({ iface: opts.capture.iface, local, ports: [socket.port], ...(opts.capture.pcap ? { pcap: opts.capture.pcap } : {}) });
      } catch (e) {
        wire.error = (e as Error).message;
      }
    }
    return new LispClient(socket, peerSocket, local, opts, wire);
  }

  private get controlPort(): number {
    return this.opts.controlPort ?? LISP_CONTROL_PORT;
  }

  /** Which clock the RTTs come from, for people. */
  get clockName(): string {
    return this.wire ? this.wire.clockName : 'the socket (sent when the kernel took the datagram, received when it arrived)';
  }

  async close(): Promise<void> {
    this.replies.close();
    this.infos.close();
    this.registrar?.close();
    this.subscriber?.close();
    await this.wire?.close();
    await this.peerSocket.close();
    await this.socket.close();
  }

  /** Sends through the connected socket when `dst` is its peer (to hear the ICMP errors), else the other. */
  private send(dst: string, port: number, bytes: Uint8Array, sent?: SentStamp): boolean {
    const s = this.peerSocket.isConnectedTo(dst, port) ? this.peerSocket : this.socket;
    return s.send(dst, port, bytes, sent ? { onSent: sent } : {});
  }

  private unreachable(e: IcmpError): void {
    // The capture names who sent the error; the socket only knows its peer: the capture's wins.
    if (!this.icmp || e.from !== this.icmp.from) this.icmp = e;
    this.current?.abort();
  }

  /** Runs one request (retransmissions included) that an ICMP error ends early. */
  private async exchange<T>(run: (signal: AbortSignal) => Promise<T | undefined>): Promise<T | undefined> {
    this.icmp = undefined;
    const ac = new AbortController();
    this.current = ac;
    try {
      return await run(ac.signal);
    } finally {
      this.current = undefined;
    }
  }

  private timing(a: { nonce: bigint; rttMs: number }): Promise<Timing> {
    return wireTiming(this.wire, a);
  }

  private receive(rx: Received): void {
    const m = rx.control;
    if (rx.notes.length || !m || 'unknown' in m) {
      this.log('warn', 'lispscope', `ignored a malformed or unknown message from ${rx.src}:${rx.sport}`);
      return;
    }
    if (m.type === MessageType.MapReply) {
      if (!this.replies.deliver(m.nonce, { reply: m, rx }, rx.at)) this.log('info', 'lispscope', `ignored a Map-Reply from ${rx.src} with a nonce we did not send`);
    } else if (m.type === MessageType.Info && m.reply) {
      this.infos.deliver(m.nonce, { info: m, rx }, rx.at);
    } else if (m.type === MessageType.MapNotify) {
      if (this.registrar?.handleNotify(m, rx.bytes, rx.src, rx.at)) return;
      if (!this.subscriber?.handleNotify(m, rx.bytes, rx.src, rx.sport, rx.at)) this.log('info', 'lispscope', `ignored a Map-Notify from ${rx.src}`);
    } else {
      this.log('info', 'lispscope', `ignored a message of type ${m.type} from ${rx.src}`);
    }
  }

  private async replyResult(a: Answer<{ reply: MapReply; rx: Received }> | undefined): Promise<ResolveResult | undefined> {
    if (!a) return undefined;
    return { reply: a.value.reply, from: a.value.rx.src, attempts: a.attempts, nonce: a.nonce, itrRloc: this.localAddress, port: this.socket.port, ...(await this.timing(a)) };
  }

  /**
   * Asks a Map-Resolver for `eid` (ECM'd Map-Request, RFC 9301 §5.8), retransmitting with back-off;
   * the Map-Reply comes from the resolver (proxy or negative) or straight from the ETR.
   */
  async resolve(eid: string | Prefix, mr: string, o: { sourceEid?: string; smrInvoked?: boolean } = {}): Promise<ResolveResult | undefined> {
    const p = toPrefix(eid);
    const dstIp = eidIp(p.address);
    if (!dstIp) throw new RangeError(`cannot put ${eid} in an inner IP header`);
    const a = await this.exchange((signal) =>
      this.replies.request(
        (nonce, _attempt, sent) => {
          const req = mapRequest({
            nonce,
            eids: [p],
            itrRlocs: [this.localAddress],
            ...(o.sourceEid ? { sourceEid: o.sourceEid } : {}),
            smrInvoked: o.smrInvoked ?? false,
          });
          const sameFamily = dstIp.includes(':') === this.localAddress.includes(':');
          const inner = { src: sameFamily ? this.localAddress : dstIp.includes(':') ? '::' : '0.0.0.0', dst: dstIp, sport: this.socket.port, dport: this.controlPort };
          return this.send(mr, this.controlPort, encodeControl(ecm({ inner, message: req })), sent);
        },
        this.retry,
        { signal },
      ),
    );
    return this.replyResult(a);
  }

  /** RLOC-probe (RFC 9301 §7.1): a Map-Request with P straight to `rloc`. */
  async probe(rloc: string, eid: string | Prefix, o: { sourceEid?: string } = {}): Promise<ResolveResult | undefined> {
    const p = toPrefix(eid);
    const a = await this.exchange((signal) =>
      this.replies.request(
        (nonce, _attempt, sent) =>
          this.send(
            rloc,
            this.controlPort,
            encodeControl(mapRequest({ nonce, probe: true, eids: [p], itrRlocs: [this.localAddress], ...(o.sourceEid ? { sourceEid: o.sourceEid } : {}) })),
            sent,
          ),
        this.retry,
        { signal },
      ),
    );
    return this.replyResult(a);
  }

  /** An SMR (RFC 9301 §6.1) to `peer`: our mapping for `eid` changed; `peerEid` is the EID-record (default ours). */
  smr(peer: string, eid: string | Prefix, nonce: bigint, peerEid?: string | Prefix): boolean {
    const own = toPrefix(eid);
    const src = eidIp(own.address);
    const req = mapRequest({ nonce, smr: true, eids: [peerEid === undefined ? own : toPrefix(peerEid)], itrRlocs: [this.localAddress], ...(src ? { sourceEid: src } : {}) });
    return this.send(peer, this.controlPort, encodeControl(req));
  }

  /** Registers `eid` with `rlocs` (want-map-notify unless told not to), like an ETR does. */
  async register(ms: MapServerAccess, eid: string | Prefix, rlocs: LocatorSpec[], o: RegisterOptions = {}): Promise<{ result: RegisterResult | undefined; records: MappingRecord[]; xtrId: Uint8Array | undefined }> {
    const prefix = toPrefix(eid);
    const records = [mappingRecord({ eid: prefix, ttl: o.ttl ?? 1440, locators: rlocs })];
    this.registrar?.close();
    const registrar = new Registrar({
      name: 'lispscope',
      mapServer: ms,
      records: () => records,
      proxyReply: o.proxyReply ?? false,
      wantMapNotify: o.wantMapNotify ?? true,
      merge: o.merge ?? false,
      mobileNode: o.mobileNode ?? false,
      xtrId: o.xtrId === undefined ? stableXtrId(prefix, ms.key) : o.xtrId,
      ...(o.siteId ? { siteId: o.siteId } : {}),
      send: (bytes, _nonce, sent) => this.send(ms.address, ms.port ?? this.controlPort, bytes, sent),
      retry: this.retry,
      intervalMs: 60_000,
      log: this.log,
    });
    this.registrar = registrar;
    const r = await this.exchange((signal) => registrar.register(signal));
    // Without want-map-notify nothing answers: no RTT to time.
    const result = r && (o.wantMapNotify ?? true) ? { ...r, ...(await this.timing(r)) } : r && { ...r, rttMs: 0, clock: 'socket' as const, socketRttMs: 0 };
    return { result, records, xtrId: registrar.xtrId };
  }

  /**
   * Subscribes to `eid` through Map-Resolver/Map-Server `mr` (RFC 9437) as the xTR `o.xtrId` of
   * the site whose key is `o.key`; resolves with the Map-Notify that confirms it (acknowledged).
   * Publications then go to onPublication's listeners, each acknowledged.
   */
  async subscribe(mr: string, eid: string | Prefix, o: { key: string; xtrId: Uint8Array; siteId?: Uint8Array }): Promise<SubscribeResult | undefined> {
    this.subscriber?.close();
    const sub = new Subscriber({
      key: o.key,
      xtrId: o.xtrId,
      siteId: o.siteId ?? new Uint8Array(8),
      itrRloc: this.localAddress,
      port: this.socket.port,
      controlPort: this.controlPort,
      send: (bytes, sent) => this.send(mr, this.controlPort, bytes, sent),
      reply: (to, port, bytes) => this.send(to, port, bytes),
      retry: this.retry,
      log: this.log,
    });
    this.subscriber = sub;
    const a = await this.exchange((signal) => sub.subscribe(eid, signal));
    if (!a) return undefined;
    return { notify: a.value.notify, from: a.value.from, attempts: a.attempts, nonce: a.nonce, ...(await this.timing(a)) };
  }

  /** Withdraws the subscription to `eid` at the Map-Resolver it went to (a Map-Request whose only ITR-RLOC has AFI 0; nothing answers). */
  withdraw(eid: string | Prefix): boolean {
    return !!this.subscriber && this.subscriber.withdraw(eid, randomNonce());
  }

  onPublication(listener: (p: Publication) => void): void {
    this.subscriber?.onPublication(listener);
  }

  /** NAT discovery: Info-Request to the Map-Server; the Info-Reply says how it saw us. */
  async info(ms: MapServerAccess, eid: string | Prefix): Promise<InfoResult | undefined> {
    const p = toPrefix(eid);
    const a = await this.exchange((signal) =>
      this.infos.request(
        (nonce, _attempt, sent) => this.send(ms.address, ms.port ?? this.controlPort, infoRequest({ nonce, keyId: ms.keyId ?? 2, key: ms.key, eid: p }), sent),
        this.retry,
        { signal },
      ),
    );
    if (!a) return undefined;
    const auth = verifyAuth(a.value.rx.bytes, ms.key);
    const body = a.value.info.address.kind === 'lcaf' ? a.value.info.address.lcaf.body : undefined;
    const text = (x: { kind: string; addr?: string }) => (x.kind === 'ipv4' || x.kind === 'ipv6' ? x.addr : undefined);
    const res: InfoResult = {
      reply: a.value.info,
      from: a.value.rx.src,
      attempts: a.attempts,
      local: { address: this.localAddress, port: this.socket.port },
      rtrs: [],
      behindNat: false,
      auth: auth.ok ? { ok: true } : { ok: false, reason: auth.reason },
      ...(await this.timing(a)),
    };
    if (body?.kind === 'nat-traversal') {
      const g = text(body.globalEtrRloc);
      if (g) res.global = { address: g, port: body.etrUdpPort };
      const ms2 = text(body.msRloc);
      if (ms2) res.msRloc = ms2;
      res.rtrs = body.rtrRlocs.map(text).filter((x): x is string => !!x);
      res.behindNat = !!g && (g !== this.localAddress || body.etrUdpPort !== this.socket.port);
    }
    return res;
  }
}
