// What every LISP tunnel router of the stack does (RFC 9300, RFC 9301): the ITR side (map-cache,
// Map-Requests to the Map-Resolver in ECMs with retransmission and back-off, encapsulation) and the
// ETR side (decapsulation, Map-Replies for its own EID prefixes, RLOC-probe replies with the p bit,
// registration with a Map-Server). SMRs, both ways, are smr.ts's; RLOC-probing is probing.ts's.
// The xTR peer, the Mobile Node, the PxTR and the RTR are this router with a few parts changed.

import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import { ecmInnerBytes } from '../dissect/ecm.js';
import { encodeControl } from '../dissect/control.js';
import { DataFlag, encodeData } from '../dissect/data.js';
import { ecm, lispDataHeader, mapReply, mapRequest, mappingRecord } from '../dissect/build.js';
import { messageName } from '../dissect/names.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT, MessageType } from '../dissect/registry.js';
import type { ControlMessage, Ecm, LispAddress, MapReply, MapRequest, MappingRecord } from '../dissect/types.js';
import { addressBits } from '../dissect/address.js';
import { covers, eidIp, hostPrefix, longestMatch, prefixKey, toPrefix, type Prefix } from './eid.js';
import { answerFor, parseInner, Pinger, type EchoResult, type InnerPacket } from './host.js';
import { silentLogger, type Logger } from './log.js';
import { locatorAddress, MapCache, selectLocator, type MapCacheEntry } from './map-cache.js';
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

export interface ResolveOptions {
  /** Ask even when the map-cache has an entry. */
  force?: boolean;
  /** An SMR-invoked Map-Request (s bit). */
  smrInvoked?: boolean;
  /** Source-EID of the Map-Request: the host whose packet needs the mapping. */
  sourceEid?: string;
}

export type { ProbeResult } from './probing.js';
export type { SmrSent } from './smr.js';

/** A Map-Reply and the datagram it came in. */
interface ReplyIn {
  reply: MapReply;
  rx: Received;
}

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
  protected readonly pinger = new Pinger();
  private readonly inflight = new Map<string, Promise<MapCacheEntry | undefined>>();
  private readonly failedUntil = new Map<string, number>();
  /** ITRs that sent us data: RLOC → the EID that sent it and when. */
  private readonly recentItrs = new Map<string, { eid: Prefix; last: number }>();
  private waitingPackets = 0;
  /** Addresses we heard LISP from (or were asked to answer), ms since the epoch: see knowsRloc. */
  private readonly heardFrom = new Map<string, number>();
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
    const common = {
      name: this.name,
      mapCache: this.mapCache,
      log: this.log,
      timers: this.timers,
      sourceEid: () => this.sourceEid(),
      itrRlocs: () => this.itrRlocs(),
    };
    this.smrs = new SmrRole({
      ...common,
      stats: this.stats,
      ownRlocs: () => this.rlocs,
      recentItrs: () => this.recentItrs,
      sendRequest: (dst, bytes) => this.sendRequest(dst, this.controlPort, bytes),
      resolve: (eid, o) => this.resolve(eid, o),
      emit: (event, ...args) => this.emit(event, ...args),
    });
    this.prober = new RlocProber({
      ...common,
      replies: this.replies,
      eidPrefixes: () => this.eids,
      sendRequest: (dst, bytes, sent) => this.sendRequest(dst, this.controlPort, bytes, sent),
      emit: (event, ...args) => this.emit(event, ...args),
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
    this.pinger.close();
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
    if (this.recentItrs.has(address)) return true;
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
    const locs = this.ownLocators();
    const weight = Math.floor(100 / Math.max(1, locs.length));
    return this.eids.map((eid) =>
      mappingRecord({
        eid,
        ttl: this.opts.recordTtl ?? 1440,
        authoritative: true,
        locators: locs.map((l) => ({
          rloc: l.rloc,
          priority: 1,
          weight,
          local: l.local,
          probed: opts.probed !== undefined && typeof l.rloc === 'string' && l.rloc === opts.probed,
        })),
      }),
    );
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
    this.stats.mapReplies++;
    if (!this.replies.deliver(m.nonce, { reply: m, rx }, rx.at)) {
      // RFC 9301 §5.5: a Map-Reply whose nonce matches no request is dropped.
      this.log('debug', this.name, `dropped a Map-Reply from ${rx.src} with an unknown nonce`);
    }
  }

  /** ETR: answers Map-Requests and RLOC-probes for our EID prefixes; ITR: acts on SMRs. */
  protected onMapRequest(rx: Received, m: MapRequest, replyPort: number, _viaEcm?: Ecm): void {
    if (m.smr) {
      this.onSmr(rx, m);
      return;
    }
    const asked = m.eids[0];
    if (!asked) return;
    const prefix = { address: asked.prefix, maskLen: asked.maskLen };
    const own = longestMatch(this.eids, prefix, (p) => p);
    if (!own) {
      this.log('debug', this.name, `Map-Request for ${prefixKey(prefix)}, not one of our EIDs: ignored`);
      return;
    }
    if (m.dontMapReply) return;
    for (const a of m.itrRlocs) if (a.kind === 'ipv4' || a.kind === 'ipv6') this.heard(a.addr);
    const family = rx.socket.address.includes(':') ? 'ipv6' : 'ipv4';
    const itr = m.itrRlocs.find((a) => a.kind === family);
    const to = itr && (itr.kind === 'ipv4' || itr.kind === 'ipv6') ? itr.addr : undefined;
    if (!to) {
      this.log('warn', this.name, `Map-Request from ${rx.src} has no usable ITR-RLOC: dropped`);
      return;
    }
    const records = this.mappingRecords({ probed: m.probe ? rx.dst : undefined }).filter((r) =>
      covers({ address: r.eid, maskLen: r.eidMaskLen }, own),
    );
    const reply = mapReply({ nonce: m.nonce, records, probe: m.probe });
    const from = this.control.find((s) => s.address === rx.dst) ?? this.control[0];
    this.sendControl(to, replyPort, encodeControl(reply), from);
    if (m.probe) this.emit('probe-answered', { from: rx.src, rloc: rx.dst, nonce: m.nonce });
  }

  /** An SMR (RFC 9301 §6.1): re-resolve the EID it names, through the mapping system, rate-limited. */
  protected onSmr(rx: Received, m: MapRequest): void {
    this.smrs.received(rx, m);
  }

  protected handleData(rx: Received): void {
    const d = rx.data;
    if (!d || !d.inner) {
      this.stats.dropped++;
      this.log('warn', this.name, `dropped a data packet from ${rx.src} without an IP packet inside`);
      return;
    }
    if (d.header.flags & DataFlag.K) {
      this.stats.dropped++;
      this.log('warn', this.name, `dropped an encrypted data packet from ${rx.src} (no keys)`);
      return;
    }
    const info = parseInner(d.payload);
    if (!info) {
      this.stats.dropped++;
      return;
    }
    this.stats.decapsulated++;
    this.recentItrs.set(rx.src, { eid: hostPrefix(info.src), last: Date.now() });
    this.emit('decapsulated', { from: rx.src, src: info.src, dst: info.dst, proto: info.proto });
    this.deliver(new Uint8Array(d.payload), info, rx);
  }

  /** What happens to a packet for our side: our hosts answer pings and UDP echo. */
  protected deliver(packet: Uint8Array, info: InnerPacket, _rx: Received | undefined): void {
    if (!this.isOwnEid(hostPrefix(info.dst))) {
      this.stats.dropped++;
      this.log('debug', this.name, `dropped a packet for ${info.dst}: not one of our EIDs`);
      return;
    }
    if (this.pinger.offer(info, _rx?.at)) return;
    const answer = answerFor(info);
    if (answer) void this.forward(answer);
    else this.emit('packet', info, packet);
  }

  // ---- ITR -----------------------------------------------------------------------------------

  /**
   * Sends an IP packet from our side: to our own EIDs directly, else encapsulated to the RLOC the
   * map-cache (resolving first if needed) gives, to the PETR or natively for negative entries.
   */
  async forward(packet: Uint8Array, sent?: SentStamp): Promise<boolean> {
    const info = parseInner(packet);
    if (!info) return false;
    const dst = hostPrefix(info.dst);
    if (this.isOwnEid(dst)) {
      this.deliver(packet, info, undefined);
      return true;
    }
    if (this.waitingPackets >= 256) {
      this.stats.dropped++;
      return false;
    }
    this.waitingPackets++;
    let to: { rloc: string; port?: number } | 'native' | undefined;
    try {
      to = await this.destination(dst, info);
    } finally {
      this.waitingPackets--;
    }
    if (to === 'native') return this.nativeForward(packet, info);
    if (!to) {
      this.stats.dropped++;
      this.log('info', this.name, `no route for ${info.dst}: packet dropped`);
      return false;
    }
    if (this.rlocs.includes(to.rloc) && (to.port ?? this.dataPort) === this.dataPort) {
      this.stats.dropped++;
      this.log('warn', this.name, `the mapping of ${info.dst} points back at us: packet dropped`);
      return false;
    }
    return this.encapsulate(packet, to.rloc, to.port, sent);
  }

  /** Where a packet for `dst` goes: an RLOC, natively, or nowhere. */
  protected async destination(dst: Prefix, info: InnerPacket): Promise<{ rloc: string; port?: number } | 'native' | undefined> {
    const e = this.mapCache.lookup(dst) ?? (await this.resolve(dst, { sourceEid: info.src }));
    if (!e) return undefined;
    this.mapCache.touch(e, info.src);
    if (e.negative) {
      if (e.action !== 1) return undefined; // drop / send-map-request / no-action
      return this.opts.petr ? { rloc: this.opts.petr } : 'native';
    }
    const l = selectLocator(e.locators, flowHash(info), this.prober.down);
    const rloc = l && locatorAddress(l);
    return rloc ? { rloc } : undefined;
  }

  /** Packets the mapping system says to forward natively (the PxTR overrides this). */
  protected nativeForward(_packet: Uint8Array, info: InnerPacket): boolean {
    this.stats.dropped++;
    this.log('info', this.name, `${info.dst} is not a LISP EID and there is no PETR: packet dropped`);
    return false;
  }

  /** Encapsulates (RFC 9300 §5.3: N with a random nonce, L with our locator status) and sends. */
  encapsulate(packet: Uint8Array, rloc: string, port = this.dataPort, sent?: SentStamp): boolean {
    const s = this.data[0];
    if (!s) return false;
    const n = Math.min(this.ownLocators().length, 32);
    const lsb = n >= 32 ? 0xffffffff : (1 << n) - 1;
    const h = lispDataHeader({ nonce: randomInt(0, 0x1000000), lsb: lsb >>> 0 });
    this.stats.encapsulated++;
    this.emit('encapsulated', { to: rloc, port });
    return s.send(rloc, port, encodeData(h, packet), { checksum: false, ...(sent ? { onSent: sent } : {}) });
  }

  /**
   * Resolves an EID through the Map-Resolver: ECM'd Map-Request, retransmitted with back-off, the
   * Map-Reply's records cached. Concurrent lookups of one prefix share one request.
   */
  resolve(eid: string | Prefix, o: ResolveOptions = {}): Promise<MapCacheEntry | undefined> {
    const p = toPrefix(eid);
    if (!o.force) {
      const cached = this.mapCache.lookup(p);
      if (cached) return Promise.resolve(cached);
    }
    const key = `${prefixKey(p)}${o.smrInvoked ? ' smr' : ''}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const mr = this.opts.mapResolver;
    if (!mr || this.stopped) return Promise.resolve(undefined);
    if ((this.failedUntil.get(key) ?? 0) > performance.now() && !o.smrInvoked) {
      this.log('debug', this.name, `not asking for ${key} again yet (backing off)`);
      return Promise.resolve(undefined);
    }
    const started = performance.now();
    const job = (async () => {
      const a = await this.replies.request(
        (nonce, attempt, sent) => {
          if (attempt > 0) this.log('info', this.name, `no Map-Reply for ${prefixKey(p)}: retransmitting (attempt ${attempt + 1})`);
          this.stats.mapRequests++;
          return this.sendMapRequest(mr, p, nonce, o.smrInvoked ?? false, o.sourceEid, sent);
        },
        { timeoutMs: this.timers.mapRequestTimeoutMs, retries: this.timers.mapRequestRetries },
      );
      if (!a) {
        this.failedUntil.set(key, performance.now() + this.timers.mapRequestTimeoutMs * 2 ** (this.timers.mapRequestRetries + 1));
        this.emit('resolve-failed', { eid: prefixKey(p) });
        this.log('warn', this.name, `no Map-Reply for ${prefixKey(p)} from ${mr}`);
        return undefined;
      }
      this.failedUntil.delete(key);
      let hit: MapCacheEntry | undefined;
      for (const r of a.value.reply.records) {
        const e = this.mapCache.insert(r, a.value.rx.src);
        if (e && covers(e.prefix, p)) hit = e;
      }
      this.emit('resolved', {
        eid: prefixKey(p),
        entry: hit,
        from: a.value.rx.src,
        rttMs: a.rttMs,
        attempts: a.attempts,
        smrInvoked: o.smrInvoked ?? false,
        totalMs: performance.now() - started,
      });
      return hit;
    })().finally(() => this.inflight.delete(key));
    this.inflight.set(key, job);
    return job;
  }

  /** An ECM'd Map-Request for `p` to the Map-Resolver (RFC 9301 §5.2, §5.8). */
  protected sendMapRequest(mr: string, p: Prefix, nonce: bigint, smrInvoked: boolean, sourceEid?: string, sent?: SentStamp): boolean {
    const port = this.requests?.port;
    if (port === undefined) return false;
    const itr = this.itrRlocs();
    const family = itr[0]!.includes(':') ? 'ipv6' : 'ipv4';
    const src = sourceEid ?? this.sourceEid();
    const req = mapRequest({
      nonce,
      eids: [p],
      itrRlocs: itr,
      ...(src ? { sourceEid: src } : {}),
      smrInvoked,
      pitr: this.opts.pitr ?? false,
    });
    const dstIp = eidIp(p.address) ?? itr[0]!;
    const innerFamily = dstIp.includes(':') ? 'ipv6' : 'ipv4';
    const innerSrc = innerFamily === family ? itr[0]! : (this.sourceEid(innerFamily) ?? (innerFamily === 'ipv6' ? '::' : '0.0.0.0'));
    const e = ecm({ inner: { src: innerSrc, dst: dstIp, sport: port, dport: this.controlPort }, message: req });
    return this.sendRequest(mr, this.controlPort, encodeControl(e), sent);
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
  ping(dst: string, o: { proto?: 'icmp' | 'udp'; timeoutMs?: number; src?: string } = {}): Promise<EchoResult | undefined> {
    const family = dst.includes(':') ? 'ipv6' : 'ipv4';
    const src = o.src ?? this.sourceEid(family) ?? this.eids.map((p) => eidIp(p.address)).find((a) => a && a.includes(':') === (family === 'ipv6'));
    if (!src) return Promise.resolve(undefined);
    return this.pinger.echo((p, sent) => void this.forward(p, sent), {
      src,
      dst,
      proto: o.proto ?? 'icmp',
      timeoutMs: o.timeoutMs ?? this.timers.echoTimeoutMs,
    });
  }
}

/** A small hash of the inner flow, to spread flows over equal locators. */
function flowHash(info: InnerPacket): number {
  let h = 0x811c9dc5;
  for (const ch of `${info.src}>${info.dst}/${info.proto}/${info.udp?.sport ?? 0}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/** The message's name, an ECM's with what it carries (for the logs). */
function logName(m: ControlMessage): string {
  return m.type === MessageType.ECM && !('unknown' in m) && m.inner?.message ? `ECM(${messageName(m.inner.message)})` : messageName(m);
}
