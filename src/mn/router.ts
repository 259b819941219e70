// What every LISP tunnel router of the stack does (RFC 9300, RFC 9301), composed of its roles: the
// ITR side (itr.ts: map-cache, Map-Requests, encapsulation), the ETR side (etr.ts: decapsulation,
// Map-Replies and RLOC-probe replies for our EID prefixes), SMRs both ways (smr.ts), RLOC-probing
// (probing.ts), pings from our EID (ping.ts) and registration with a Map-Server (registration.ts).
// The router holds the sockets, dispatches what they receive and is the hooks' owner: the xTR peer,
// the Mobile Node, the PxTR and the RTR are this router with a few hooks changed.

import { EventEmitter } from 'node:events';
import { ecmInnerBytes } from '../dissect/ecm.js';
import { messageName } from '../dissect/names.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT, MessageType } from '../dissect/registry.js';
import type { ControlMessage, Ecm, LispAddress, MapReply, MapRequest, MappingRecord } from '../dissect/types.js';
import { addressBits } from '../dissect/address.js';
import { covers, eidIp, toPrefix, type Prefix } from './eid.js';
import { EtrRole, ownMappingRecords } from './etr.js';
import type { EchoResult, InnerPacket } from './host.js';
import { ItrRole, type Destination, type ReplyIn, type ResolveOptions } from './itr.js';
import { silentLogger, type Logger } from './log.js';
import { locatorAddress, MapCache, type MapCacheEntry } from './map-cache.js';
import { PingRole, type PingOptions } from './ping.js';
import type { Recorder } from './recorder.js';
import { Registrar, type MapServerAccess, type RegistrationFlags, type RegistrationResult } from './registration.js';
import { RlocProber, type ProbeResult } from './probing.js';
import { NonceTable, type SentStamp } from './requests.js';
import { SmrRole, type SmrSent } from './smr.js';
import { LispSocket, type Gateway, type Received, type SendPolicy, type SocketOptions } from './socket.js';

export interface Timers {
  /** First wait for a Map-Reply; retransmissions double it (RFC 9301 §5.3: at most 1/s per prefix). */
  mapRequestTimeoutMs: number;
  mapRequestRetries: number;
  /** Map-Register refresh (RFC 9301 §8.2: 60 s). */
  registerIntervalMs: number;
  /** Wait for the Map-Notify before retransmitting the Map-Register. */
  mapNotifyTimeoutMs: number;
  mapRegisterRetries: number;
  /** Periodic RLOC-probing of cached locators (0: only when asked). */
  probeIntervalMs: number;
  probeTimeoutMs: number;
  /** At most one SMR per destination RLOC per this interval (RFC 9301 §6.1: rate-limited). */
  smrMinIntervalMs: number;
  /** Peers that talked to us within this window are SMR'd on a change (RFC 9301 §6.1: the last minute). */
  smrWindowMs: number;
  /** At most one SMR-invoked Map-Request per EID prefix per this interval. */
  smrInvokedMinIntervalMs: number;
  /** Info-Request refresh behind a NAT (keeps the binding; lispers.net: 15 s). */
  infoIntervalMs: number;
  /** Wait for an echo reply. */
  echoTimeoutMs: number;
}

export const DEFAULT_TIMERS: Timers = {
  mapRequestTimeoutMs: 1000,
  mapRequestRetries: 3,
  registerIntervalMs: 60_000,
  mapNotifyTimeoutMs: 1000,
  mapRegisterRetries: 3,
  probeIntervalMs: 0,
  probeTimeoutMs: 2000,
  smrMinIntervalMs: 1000,
  smrWindowMs: 60_000,
  smrInvokedMinIntervalMs: 1000,
  infoIntervalMs: 15_000,
  echoTimeoutMs: 2000,
};

export interface RouterOptions {
  /** Name in logs and in the recorder. */
  name: string;
  /** Our RLOCs: control and data sockets are bound on each; the first is the primary. */
  rlocs: string[];
  /** EID prefixes we are the ETR of (their hosts answer pings). */
  eids?: Array<string | Prefix>;
  /** Where Map-Requests go (in ECMs). */
  mapResolver?: string;
  /** Register `eids` with this Map-Server. */
  mapServer?: MapServerAccess;
  registration?: RegistrationFlags;
  /** xTR-ID of our Map-Registers (random by default; null: none, I clear) and site-ID. */
  xtrId?: Uint8Array | null;
  siteId?: Uint8Array;
  /** Proxy-ETR for destinations the mapping system says to forward natively. */
  petr?: string;
  /** Set p (sent by a PITR) in our Map-Requests. */
  pitr?: boolean;
  ports?: { control: number; data: number };
  /** Record TTL of our mappings, minutes (default 1440). */
  recordTtl?: number;
  timers?: Partial<Timers>;
  recorder?: Recorder;
  recordReceived?: SocketOptions['recordReceived'];
  log?: Logger;
  policy?: SendPolicy;
  /** Behind the lab's NAT: every socket sends through it. */
  gateway?: Gateway;
}

export type { ResolveOptions } from './itr.js';
export type { ProbeResult } from './probing.js';
export type { SmrSent } from './smr.js';

export class LispRouter extends EventEmitter {
  readonly name: string;
  readonly mapCache = new MapCache();
  readonly timers: Timers;
  readonly registrar: Registrar | undefined;
  readonly stats = { encapsulated: 0, decapsulated: 0, mapRequests: 0, mapReplies: 0, smrsSent: 0, smrsReceived: 0, dropped: 0 };
  protected rlocs: string[];
  protected readonly eids: Prefix[];
  protected readonly controlPort: number;
  protected readonly dataPort: number;
  protected readonly log: Logger;
  protected control: LispSocket[] = [];
  protected data: LispSocket[] = [];
  protected requests: LispSocket | undefined;
  protected gateway: Gateway | undefined;
  protected readonly replies = new NonceTable<ReplyIn>();
  /** Addresses we heard LISP from (or were asked to answer), ms since the epoch: see knowsRloc. */
  private readonly heardFrom = new Map<string, number>();
  private readonly itr: ItrRole;
  private readonly etr: EtrRole;
  private readonly pings: PingRole;
  private readonly smrs: SmrRole;
  private readonly prober: RlocProber;
  private stopped = false;

  constructor(readonly opts: RouterOptions) {
    super();
    this.name = opts.name;
    this.rlocs = [...opts.rlocs];
    this.eids = (opts.eids ?? []).map(toPrefix);
    this.controlPort = opts.ports?.control ?? LISP_CONTROL_PORT;
    this.dataPort = opts.ports?.data ?? LISP_DATA_PORT;
    this.timers = { ...DEFAULT_TIMERS, ...opts.timers };
    this.log = opts.log ?? silentLogger;
    this.gateway = opts.gateway;
    if (opts.mapServer && this.eids.length) {
      this.registrar = new Registrar({
        name: this.name,
        mapServer: opts.mapServer,
        records: () => this.mappingRecords(),
        ...opts.registration,
        ...(opts.xtrId !== undefined ? { xtrId: opts.xtrId } : {}),
        ...(opts.siteId ? { siteId: opts.siteId } : {}),
        send: (bytes, _nonce, sent) => this.sendControl(opts.mapServer!.address, opts.mapServer!.port ?? this.controlPort, bytes, undefined, sent),
        retry: { timeoutMs: this.timers.mapNotifyTimeoutMs, retries: this.timers.mapRegisterRetries },
        intervalMs: this.timers.registerIntervalMs,
        log: this.log,
      });
    }
    // The roles call the router's hooks (deliver, destination ...), so that a subclass's override
    // is what they reach.
    const common = {
      name: this.name,
      mapCache: this.mapCache,
      log: this.log,
      timers: this.timers,
      stats: this.stats,
      sourceEid: (family?: 'ipv4' | 'ipv6') => this.sourceEid(family),
      itrRlocs: () => this.itrRlocs(),
      eidPrefixes: () => this.eids,
      emit: (event: string, ...args: unknown[]) => this.emit(event, ...args),
    };
    this.prober = new RlocProber({
      ...common,
      replies: this.replies,
      sendRequest: (dst, bytes, sent) => this.sendRequest(dst, this.controlPort, bytes, sent),
    });
    this.itr = new ItrRole({
      ...common,
      replies: this.replies,
      dataPort: this.dataPort,
      controlPort: this.controlPort,
      mapResolver: opts.mapResolver,
      petr: opts.petr,
      pitr: opts.pitr ?? false,
      downLocators: this.prober.down,
      ownRlocs: () => this.rlocs,
      ownLocatorCount: () => this.ownLocators().length,
      dataSocket: () => this.data[0],
      requestPort: () => this.requests?.port,
      sendRequest: (dst, bytes, sent) => this.sendRequest(dst, this.controlPort, bytes, sent),
      isOwnEid: (eid) => this.isOwnEid(eid),
      deliver: (packet, info, rx) => this.deliver(packet, info, rx),
      destination: (dst, info) => this.destination(dst, info),
      nativeForward: (packet, info) => this.nativeForward(packet, info),
      stopped: () => this.stopped,
    });
    this.etr = new EtrRole({
      ...common,
      isOwnEid: (eid) => this.isOwnEid(eid),
      mappingRecords: (o) => this.mappingRecords(o),
      controlSocket: (address) => this.control.find((s) => s.address === address) ?? this.control[0],
      sendControl: (dst, port, bytes, from) => this.sendControl(dst, port, bytes, from),
      heard: (address) => this.heard(address),
      offerEcho: (info, at) => this.pings.offer(info, at),
      deliver: (packet, info, rx) => this.deliver(packet, info, rx),
      forward: (packet) => this.forward(packet),
    });
    this.pings = new PingRole({ ...common, forward: (packet, sent) => this.forward(packet, sent) });
    this.smrs = new SmrRole({
      ...common,
      ownRlocs: () => this.rlocs,
      recentItrs: () => this.etr.recentItrs,
      sendRequest: (dst, bytes) => this.sendRequest(dst, this.controlPort, bytes),
      resolve: (eid, o) => this.resolve(eid, o),
    });
    // An EventEmitter without 'error' listeners throws on emit('error'): we never emit it.
    this.setMaxListeners(100);
  }

  /** Opens the sockets. Subclasses register, discover NATs ... after this. */
  async start(): Promise<void> {
    await this.bind(this.rlocs, this.gateway);
    if (this.timers.probeIntervalMs > 0) this.prober.start();
  }

  /** Registers with the Map-Server now and keeps refreshing. */
  async register(): Promise<RegistrationResult | undefined> {
    if (!this.registrar) return undefined;
    const r = await this.registrar.register();
    this.registrar.start(false);
    if (r) this.emit('registered', r);
    return r;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.prober.stop();
    this.smrs.stop();
    this.registrar?.close();
    this.replies.close();
    this.pings.close();
    await this.unbind();
  }

  get primaryRloc(): string {
    return this.rlocs[0]!;
  }

  get currentRlocs(): readonly string[] {
    return this.rlocs;
  }

  get eidPrefixes(): readonly Prefix[] {
    return this.eids;
  }

  /** The port Map-Replies come back to (our requests socket). */
  get requestPort(): number | undefined {
    return this.requests?.port;
  }

  /**
   * Whether `address` is a peer this router has reason to send to: a locator in its map-cache, an
   * ITR that sent it data, or someone it heard from (or must answer) in the last five minutes.
   * The CLI's send guard lets a running node talk to these besides the addresses the user named.
   */
  knowsRloc(address: string): boolean {
    const t = this.heardFrom.get(address);
    if (t !== undefined && Date.now() - t < 300_000) return true;
    if (this.etr.recentItrs.has(address)) return true;
    return this.mapCache.entries().some((e) => e.locators.some((l) => locatorAddress(l) === address));
  }

  private heard(address: string): void {
    this.heardFrom.delete(address);
    this.heardFrom.set(address, Date.now());
    if (this.heardFrom.size > 10_000) this.heardFrom.delete(this.heardFrom.keys().next().value!);
  }

  // ---- sockets ---------------------------------------------------------------------------------

  protected async bind(rlocs: string[], gateway: Gateway | undefined): Promise<void> {
    const common = {
      recorder: this.opts.recorder,
      recordReceived: this.opts.recordReceived,
      log: this.log,
      gateway,
      policy: this.opts.policy,
      ports: { control: this.controlPort, data: this.dataPort },
    };
    const opened: LispSocket[] = [];
    try {
      for (const a of rlocs) {
        const c = await LispSocket.open({ ...common, name: this.name, address: a, port: this.controlPort, role: 'control' });
        opened.push(c);
        this.control.push(c);
        const d = await LispSocket.open({ ...common, name: this.name, address: a, port: this.dataPort, role: 'data' });
        opened.push(d);
        this.data.push(d);
      }
      this.requests = await LispSocket.open({ ...common, name: this.name, address: rlocs[0]!, port: 0, role: 'control' });
      opened.push(this.requests);
    } catch (e) {
      await Promise.all(opened.map((s) => s.close()));
      this.control = [];
      this.data = [];
      this.requests = undefined;
      throw e;
    }
    for (const s of opened) s.onReceive((rx) => this.receive(rx));
    this.rlocs = [...rlocs];
    this.gateway = gateway;
  }

  protected async unbind(): Promise<void> {
    const all = [...this.control, ...this.data, ...(this.requests ? [this.requests] : [])];
    this.control = [];
    this.data = [];
    this.requests = undefined;
    await Promise.all(all.map((s) => s.close()));
  }

  /** Sends a control message from our control port (Map-Register, Map-Reply, Info ...). */
  protected sendControl(dst: string, port: number, bytes: Uint8Array, from?: LispSocket, sent?: SentStamp): boolean {
    const s = from ?? this.control[0];
    return s ? s.send(dst, port, bytes, sent ? { onSent: sent } : {}) : false;
  }

  /** Sends from the requests socket (Map-Requests, probes, SMRs): answers come back to it. */
  protected sendRequest(dst: string, port: number, bytes: Uint8Array, sent?: SentStamp): boolean {
    return this.requests ? this.requests.send(dst, port, bytes, sent ? { onSent: sent } : {}) : false;
  }

  // ---- what we register and answer ----------------------------------------------------------

  /** The locators of our mapping. */
  protected ownLocators(): Array<{ rloc: string | LispAddress; local: boolean }> {
    return this.rlocs.map((r) => ({ rloc: r, local: true }));
  }

  /** Our mapping records, one per EID prefix (what we register and reply). */
  mappingRecords(opts: { probed?: string } = {}): MappingRecord[] {
    return ownMappingRecords(this.eids, this.ownLocators(), this.opts.recordTtl ?? 1440, opts.probed);
  }

  isOwnEid(eid: Prefix): boolean {
    return this.eids.some((p) => covers(p, eid));
  }

  /**
   * Our EID for the Source-EID of requests when no packet says which host asks: only a host prefix
   * (a Mobile Node's EID) names one; a site prefix does not (AFI 0 then).
   */
  protected sourceEid(family?: 'ipv4' | 'ipv6'): string | undefined {
    for (const p of this.eids) {
      const ip = eidIp(p.address);
      if (!ip || p.maskLen !== addressBits(p.address)) continue;
      if (!family || (ip.includes(':') ? 'ipv6' : 'ipv4') === family) return ip;
    }
    return undefined;
  }

  /** ITR-RLOCs of our Map-Requests (where Map-Replies must be sent). */
  protected itrRlocs(): string[] {
    return [this.primaryRloc];
  }

    // ---- receiving -----------------------------------------------------------------------------

  private receive(rx: Received): void {
    this.heard(rx.src);
    if (rx.notes.length) {
      this.stats.dropped++;
      this.log('warn', this.name, `dropped a malformed ${rx.kind} message from ${rx.src}:${rx.sport}: ${rx.notes[0]!.message}`);
      return;
    }
    if (rx.kind === 'data') this.handleData(rx);
    else this.handleControl(rx);
  }

  protected handleControl(rx: Received): void {
    const m = rx.control;
    if (!m || 'unknown' in m) {
      this.stats.dropped++;
      this.log('warn', this.name, `dropped an unknown control message from ${rx.src}:${rx.sport}`);
      return;
    }
    switch (m.type) {
      case MessageType.MapRequest:
        return this.onMapRequest(rx, m, rx.sport);
      case MessageType.MapReply:
        return this.onMapReply(rx, m);
      case MessageType.MapNotify: {
        if (!this.registrar) break;
        if (this.registrar.handleNotify(m, rx.bytes, rx.src, rx.at)) return;
        // Not the answer to a Map-Register of ours: an unsolicited one (an RLOC-set change) wants an ack.
        const ack = this.registrar.ackFor(m, rx.bytes, rx.src);
        if (ack) this.sendControl(rx.src, rx.sport, ack, this.control.find((c) => c.address === rx.socket.address));
        return;
      }
      case MessageType.ECM: {
        const inner = m.inner?.message;
        if (!inner || 'unknown' in inner) break;
        if (inner.type === MessageType.MapRequest) return this.onMapRequest(rx, inner, m.inner!.sport, m);
        if (inner.type === MessageType.MapNotify) {
          const bytes = ecmInnerBytes(rx.bytes);
          if (bytes && this.registrar?.handleNotify(inner, bytes, m.inner!.src, rx.at)) return;
        }
        break;
      }
    }
    if (!this.onControl(rx, m)) {
      this.log('debug', this.name, `ignored a ${logName(m)} from ${rx.src}:${rx.sport}`);
    }
  }

  /** Control messages the subclass handles (return true when it did). */
  protected onControl(_rx: Received, _m: ControlMessage): boolean {
    return false;
  }

  protected onMapReply(rx: Received, m: MapReply): void {
    this.itr.onMapReply(rx, m);
  }

  /** ETR: answers Map-Requests and RLOC-probes for our EID prefixes; ITR: acts on SMRs. */
  protected onMapRequest(rx: Received, m: MapRequest, replyPort: number, _viaEcm?: Ecm): void {
    if (m.smr) this.onSmr(rx, m);
    else this.etr.answer(rx, m, replyPort);
  }

  /** An SMR (RFC 9301 §6.1): re-resolve the EID it names, through the mapping system, rate-limited. */
  protected onSmr(rx: Received, m: MapRequest): void {
    this.smrs.received(rx, m);
  }

  protected handleData(rx: Received): void {
    this.etr.decapsulate(rx);
  }

  /** What happens to a packet for our side: our hosts answer pings and UDP echo. */
  protected deliver(packet: Uint8Array, info: InnerPacket, rx: Received | undefined): void {
    this.etr.deliver(packet, info, rx);
  }

  // ---- ITR -----------------------------------------------------------------------------------

  /**
   * Sends an IP packet from our side: to our own EIDs directly, else encapsulated to the RLOC the
   * map-cache (resolving first if needed) gives, to the PETR or natively for negative entries.
   */
  forward(packet: Uint8Array, sent?: SentStamp): Promise<boolean> {
    return this.itr.forward(packet, sent);
  }

  /** Where a packet for `dst` goes: an RLOC, natively, or nowhere. */
  protected destination(dst: Prefix, info: InnerPacket): Promise<Destination> {
    return this.itr.destination(dst, info);
  }

  /** Packets the mapping system says to forward natively (the PxTR overrides this). */
  protected nativeForward(_packet: Uint8Array, info: InnerPacket): boolean {
    this.stats.dropped++;
    this.log('info', this.name, `${info.dst} is not a LISP EID and there is no PETR: packet dropped`);
    return false;
  }

  /** Encapsulates (RFC 9300 §5.3: N with a random nonce, L with our locator status) and sends. */
  encapsulate(packet: Uint8Array, rloc: string, port = this.dataPort, sent?: SentStamp): boolean {
    return this.itr.encapsulate(packet, rloc, port, sent);
  }

  /**
   * Resolves an EID through the Map-Resolver: ECM'd Map-Request, retransmitted with back-off, the
   * Map-Reply's records cached. Concurrent lookups of one prefix share one request.
   */
  resolve(eid: string | Prefix, o: ResolveOptions = {}): Promise<MapCacheEntry | undefined> {
    return this.itr.resolve(eid, o);
  }

  /** An RLOC-probe (RFC 9301 §7.1): Map-Request with P straight to `rloc`; the reply marks it with p. */
  probe(rloc: string, eid?: string | Prefix): Promise<ProbeResult | undefined> {
    return this.prober.probe(rloc, eid);
  }

  /**
   * SMRs (RFC 9301 §6.1) to the peers that talked to us in the last `smrWindowMs`, at most one per
   * destination per `smrMinIntervalMs`.
   */
  sendSmrs(): SmrSent[] {
    return this.smrs.sendAll();
  }

  /** Pings `dst` from our EID (ICMP echo, or UDP to the echo port). */
  ping(dst: string, o: PingOptions = {}): Promise<EchoResult | undefined> {
    return this.pings.ping(dst, o);
  }
}

/** The message's name, an ECM's with what it carries (for the logs). */
function logName(m: ControlMessage): string {
  return m.type === MessageType.ECM && !('unknown' in m) && m.inner?.message ? `ECM(${messageName(m.inner.message)})` : messageName(m);
}
