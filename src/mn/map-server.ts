// The Map-Server (RFC 9301 §5.6, §5.7, §8.2; NAT-traversal draft for Info and RTRs): sites with EID
// prefixes and shared keys. A Map-Register is accepted only when it verifies with the key of the
// site whose prefixes contain every EID it registers, and its nonce was not seen before from that
// site; then it replaces (or, with the merge bit, joins) the registration, and with want-map-notify
// a signed Map-Notify with the same nonce goes back to where it came from. A Map-Register an RTR
// relays inside an ECM is checked the same way (the node's own signature) and answered inside an
// ECM to the RTR. When a merged registration's RLOC-set changes, the other xTRs of the prefix get
// an unsolicited Map-Notify, retransmitted until their Map-Notify-Ack when asked to. Registrations
// expire when not refreshed. Info-Requests are answered with what the Map-Server sees of the
// requester: the NAT-Traversal LCAF. The Map-Resolver (map-resolver.ts) shares its socket and its
// registrations; Publish/Subscribe (pubsub.ts) is told of every RLOC-set change. The lab and
// `lispscope ms` both run this one.

import { EventEmitter } from 'node:events';
import { nonceHex, toHex } from '../dissect/addr.js';
import { addressText } from '../dissect/address.js';
import { keyIdField, verifyAuth } from '../dissect/auth.js';
import { ecm, infoReply, mapNotify, mappingRecord, randomNonce } from '../dissect/build.js';
import { encodeControl } from '../dissect/control.js';
import { ecmInnerBytes } from '../dissect/ecm.js';
import { LISP_CONTROL_PORT, LISP_DATA_PORT, MessageType } from '../dissect/registry.js';
import type { InfoMessage, Locator, MapNotify, MapRegister, MappingRecord } from '../dissect/types.js';
import { covers, longestMatch, prefixKey, recordPrefix, toPrefix, type Prefix } from './eid.js';
import { RateLimiter } from './guard.js';
import { silentLogger, type Logger } from './log.js';
import { MapResolver } from './map-resolver.js';
import type { Recorder } from './recorder.js';
import { negativeRecord, Publisher, PUBLICATION_RETRY } from './pubsub.js';
import { NonceTable, type RetryTimers } from './requests.js';
import { LispSocket, type Received, type SendPolicy, type SocketOptions } from './socket.js';

export interface SiteConfig {
  name: string;
  /** Shared key of the site's xTRs (never logged). */
  key: string;
  /** EID prefixes the site may register. */
  prefixes: Array<string | Prefix>;
  /** Accept registrations of more-specific prefixes (default true). */
  allowMoreSpecifics?: boolean;
}

/** Who answers a Map-Request for a registered EID: as the registration's P bit says, always the Map-Server, or never (the ETR). */
export type ProxyReplyMode = 'registration' | 'always' | 'never';

export interface MapServerOptions {
  name?: string;
  address: string;
  /** Default 4342. */
  port?: number;
  sites: SiteConfig[];
  /** RTR RLOCs announced in Info-Replies. */
  rtrs?: string[];
  /**
   * The key this Map-Server shares with an RTR, by the RTR's address: what it sends the RTR (the
   * Map-Notify for a node behind a NAT) carries the MS-RTR authentication Open Overlay Router's RTR checks.
   */
  rtrKey?: (rtr: string) => string | undefined;
  /** A registration not refreshed for this long is dropped (RFC 9301 §8.2: 3 minutes), unless T set. */
  registrationTimeoutMs?: number;
  /** Info-Reply TTL, minutes (default 15). */
  infoTtl?: number;
  /** Answer ECM Map-Requests too (default true): a co-located Map-Resolver. */
  mapResolver?: boolean;
  /** Map-Resolver negative replies: TTL for non-LISP space (RFC 9301 §8.4: 15 min), for configured-but-unregistered prefixes (1 min). */
  negativeTtl?: number;
  unregisteredTtl?: number;
  /** Default 'registration' (the P bit). */
  proxyReply?: ProxyReplyMode;
  /** Unsolicited Map-Notifies wait for a Map-Notify-Ack, retransmitted on these timers; without, each is sent once. */
  mapNotifyAck?: RetryTimers;
  /** Messages handled per second from one source address after a burst (default 0: no limit). */
  perSourceRate?: number;
  perSourceBurst?: number;
  dataPort?: number;
  recorder?: Recorder;
  /** Record what arrives too (the `ms` command; the lab records each datagram once, by its sender). */
  recordReceived?: SocketOptions['recordReceived'];
  /** What may be sent, how fast (refuses non-unicast answers). */
  policy?: SendPolicy;
  log?: Logger;
}

/** One xTR's registration of a prefix. */
export interface RegistrationEntry {
  /** xTR-ID (hex) when present, else the source address:port. */
  id: string;
  locators: Locator[];
  ttl: number;
  proxyReply: boolean;
  mapVersion: number;
  /** ms since the epoch. */
  registeredAt: number;
  expires: number;
  /** Where the Map-Register came from (an RTR for a NATed xTR). */
  source: string;
  sourcePort: number;
  /** The Map-Register came inside an ECM, from an RTR: its inner source is the xTR's own address. */
  viaRtr?: { private: string };
  /** The merge bit: the xTR shares the prefix with others. */
  merge: boolean;
  nonce: bigint;
  keyId: number;
  authLength: number;
}

export interface Registration {
  prefix: Prefix;
  key: string;
  site: string;
  entries: Map<string, RegistrationEntry>;
}

export type RejectReason = 'malformed' | 'no-site' | 'auth' | 'replay' | 'mixed-sites';

/** A site as `lispscope ms` shows it (SIGUSR1, exit). */
export interface SiteReport {
  name: string;
  prefixes: string[];
  accepted: number;
  rejected: number;
  /** Why the last Map-Register for the site was rejected. */
  lastRejection?: string;
  registrations: Array<{
    eid: string;
    xtrId?: string;
    source: string;
    viaRtr?: string;
    rlocs: string[];
    proxyReply: boolean;
    merge: boolean;
    registeredAt: number;
    expires: number;
  }>;
}

interface Site extends SiteConfig {
  prefixList: Prefix[];
  nonces: Map<bigint, number>;
  accepted: number;
  rejected: number;
  lastRejection?: string;
}

/** Where an accepted Map-Register came from, and how to answer it. */
interface Origin {
  /** The message's own bytes (inside the ECM when relayed), for the authentication. */
  bytes: Uint8Array;
  /** Relayed by an RTR in an ECM: the inner source address and port (the xTR behind the NAT). */
  ecm?: { src: string; sport: number };
}

export class MapServer extends EventEmitter {
  readonly socket: LispSocket;
  readonly resolver: MapResolver | undefined;
  /** Publish/Subscribe (RFC 9437): the subscriptions and their Map-Notifies. */
  readonly publisher: Publisher;
  readonly name: string;
  readonly stats = { accepted: 0, rejected: 0, notifies: 0, unsolicitedNotifies: 0, acks: 0, unacknowledged: 0, infoReplies: 0, expired: 0, rateLimited: 0 };
  private readonly regs = new Map<string, Registration>();
  private readonly sites: Site[];
  private readonly log: Logger;
  private readonly limiter: RateLimiter | undefined;
  private readonly acks = new NonceTable<MapNotify>();
  /** RTRs already warned about for want of a key (once each). */
  private readonly keylessRtrs = new Set<string>();
  private sweeper: NodeJS.Timeout | undefined;

  private constructor(
    socket: LispSocket,
    readonly opts: MapServerOptions,
  ) {
    super();
    this.socket = socket;
    this.name = opts.name ?? 'ms';
    this.log = opts.log ?? silentLogger;
    this.sites = opts.sites.map((s) => ({ ...s, prefixList: s.prefixes.map(toPrefix), nonces: new Map(), accepted: 0, rejected: 0 }));
    if (opts.perSourceRate) this.limiter = new RateLimiter(opts.perSourceRate, opts.perSourceBurst ?? opts.perSourceRate * 2);
    this.publisher = new Publisher(
      {
        name: this.name,
        port: socket.opts.ports?.control ?? LISP_CONTROL_PORT,
        send: (to, port, bytes) => this.socket.send(to, port, bytes),
        mapping: (eid) => this.currentRecord(eid),
        subscriberAuth: (xtrId) => this.subscriberAuth(xtrId),
        isClosed: () => this.socket.isClosed,
        log: this.log,
        emit: (event, detail) => this.emit(event, detail),
      },
      opts.mapNotifyAck ?? PUBLICATION_RETRY,
    );
    if (opts.mapResolver !== false) {
      this.resolver = new MapResolver(this, socket, { log: this.log, negativeTtl: opts.negativeTtl, unregisteredTtl: opts.unregisteredTtl, proxyReply: opts.proxyReply ?? 'registration' });
    }
    socket.onReceive((rx) => this.receive(rx));
    const timeout = this.registrationTimeoutMs;
    this.sweeper = setInterval(() => this.expire(), Math.max(50, Math.min(1000, timeout / 4)));
    this.sweeper.unref?.();
  }

  static async start(opts: MapServerOptions): Promise<MapServer> {
    const name = opts.name ?? 'ms';
    const port = opts.port ?? LISP_CONTROL_PORT;
    const socket = await LispSocket.open({
      name,
      address: opts.address,
      port,
      role: 'control',
      ports: { control: port, data: opts.dataPort ?? LISP_DATA_PORT },
      ...(opts.recorder ? { recorder: opts.recorder } : {}),
      ...(opts.recordReceived ? { recordReceived: opts.recordReceived } : {}),
      ...(opts.policy ? { policy: opts.policy } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    return new MapServer(socket, opts);
  }

  get registrationTimeoutMs(): number {
    return this.opts.registrationTimeoutMs ?? 180_000;
  }

  async close(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.acks.close();
    this.publisher.close();
    await this.socket.close();
  }

  /** Every configured site prefix. */
  configuredPrefixes(): Prefix[] {
    return this.sites.flatMap((s) => s.prefixList);
  }

  /** The registrations in force. */
  registrations(): Registration[] {
    this.expire();
    return [...this.regs.values()].filter((r) => r.entries.size > 0);
  }

  /** The most specific registration covering `eid`. */
  lookup(eid: Prefix): Registration | undefined {
    return longestMatch(this.registrations(), eid, (r) => r.prefix);
  }

  /** The sites, their counters and registrations, for people. */
  siteReports(): SiteReport[] {
    const regs = this.registrations();
    return this.sites.map((s) => ({
      name: s.name,
      prefixes: s.prefixList.map(prefixKey),
      accepted: s.accepted,
      rejected: s.rejected,
      ...(s.lastRejection ? { lastRejection: s.lastRejection } : {}),
      registrations: regs
        .filter((r) => r.site === s.name)
        .flatMap((r) =>
          [...r.entries.values()].map((e) => ({
            eid: r.key,
            ...(/^[0-9a-f]{32}$/.test(e.id) ? { xtrId: e.id } : {}),
            source: e.source,
            ...(e.viaRtr ? { viaRtr: e.viaRtr.private } : {}),
            rlocs: e.locators.map((l) => addressText(l.rloc)),
            proxyReply: e.proxyReply,
            merge: e.merge,
            registeredAt: e.registeredAt,
            expires: e.expires,
          })),
        ),
    }));
  }

  /** The locators of a registration, merged over its xTRs. */
  static locators(r: Registration): Locator[] {
    const seen = new Set<string>();
    const out: Locator[] = [];
    for (const e of r.entries.values()) {
      for (const l of e.locators) {
        const k = JSON.stringify(l.rloc);
        if (!seen.has(k)) {
          seen.add(k);
          out.push(l);
        }
      }
    }
    return out;
  }

  /** The mapping record a proxy Map-Reply carries (A=0: the mapping system answers, not the site). */
  static proxyRecord(r: Registration): MappingRecord {
    const first = [...r.entries.values()][0]!;
    const rec = mappingRecord({ eid: r.prefix, ttl: first.ttl, authoritative: false, mapVersion: first.mapVersion });
    rec.locators = MapServer.locators(r).map((l) => ({ ...l, local: false, probed: false }));
    return rec;
  }

  /** The mapping of `eid` now, for subscribers: the registration covering it, else a negative record. */
  currentRecord(eid: Prefix): MappingRecord {
    const reg = this.lookup(eid);
    if (!reg) {
      const inSite = !!this.siteFor(eid);
      return negativeRecord(eid, inSite ? (this.opts.unregisteredTtl ?? 1) : (this.opts.negativeTtl ?? 15));
    }
    return MapServer.publishedRecord(reg);
  }

  /** What subscribers are told of a registration: its locators, none of them local to the sender. */
  static publishedRecord(reg: Registration): MappingRecord {
    const record = MapServer.notifyRecord(reg);
    record.locators = record.locators.map((l) => ({ ...l, local: false, probed: false }));
    return record;
  }

  /** The record a Map-Notify carries for a registration: every xTR's locators, authoritative. */
  static notifyRecord(reg: Registration): MappingRecord {
    const record = mappingRecord({ eid: reg.prefix, ttl: [...reg.entries.values()][0]!.ttl, authoritative: true, locators: [] });
    record.locators = MapServer.locators(reg);
    return record;
  }

  /** The key of the site where the xTR with xTR-ID `xtrId` (hex) registered, as it used it. */
  private subscriberAuth(xtrId: string): { site: string; key: string; keyId: number; authLength: number } | undefined {
    for (const r of this.registrations()) {
      const e = r.entries.get(xtrId);
      const site = e && this.sites.find((s) => s.name === r.site);
      if (e && site) return { site: site.name, key: site.key, keyId: e.keyId, authLength: e.authLength };
    }
    return undefined;
  }

  /** Registrations whose RLOC-set changed (`before`: locatorSet then) are published to their subscribers. */
  private publishChanges(touched: Map<string, { prefix: Prefix; before: string }>): void {
    for (const [key, t] of touched) {
      const reg = this.regs.get(key);
      const now = reg && reg.entries.size ? locatorSet(reg) : '';
      if (now === t.before) continue;
      this.publisher.changed(t.prefix, reg && reg.entries.size ? MapServer.publishedRecord(reg) : negativeRecord(t.prefix, this.opts.unregisteredTtl ?? 1));
    }
  }

  private receive(rx: Received): void {
    if (this.limiter && !this.limiter.allow(rx.src)) {
      // A flood from one address costs one counter, not work or answers.
      if (this.stats.rateLimited++ % 1000 === 0) this.log('warn', this.name, `rate-limiting ${rx.src}: messages beyond ${this.opts.perSourceRate}/s are dropped`);
      return;
    }
    const m = rx.control;
    if (!m || 'unknown' in m) {
      this.log('warn', this.name, `dropped an unknown message from ${rx.src}:${rx.sport}`);
      return;
    }
    if (m.type === MessageType.MapRegister) return this.onMapRegister(rx, m, { bytes: rx.bytes });
    if (m.type === MessageType.MapNotifyAck) return this.onMapNotifyAck(rx, m);
    if (m.type === MessageType.Info && !m.reply) return this.onInfoRequest(rx, m);
    if (m.type === MessageType.ECM && m.inner?.message && !('unknown' in m.inner.message) && m.inner.message.type === MessageType.MapRegister) {
      // A Map-Register an RTR relays for an xTR behind a NAT (NAT-traversal draft).
      const bytes = ecmInnerBytes(rx.bytes);
      if (!bytes) return this.reject(rx, 'malformed', 'ECM: the Map-Register inside could not be located');
      return this.onMapRegister(rx, m.inner.message, { bytes, ecm: { src: m.inner.src, sport: m.inner.sport } });
    }
    if (this.resolver?.handle(rx)) return;
    this.log('debug', this.name, `ignored a message of type ${m.type} from ${rx.src}:${rx.sport}`);
  }

  private reject(rx: Received, reason: RejectReason, detail: string, nonce?: bigint, site?: Site): void {
    this.stats.rejected++;
    if (site) {
      site.rejected++;
      site.lastRejection = detail;
    }
    this.log('warn', this.name, `rejected a Map-Register from ${rx.src}:${rx.sport}: ${detail}`);
    this.emit('rejected', { from: rx.src, reason, detail, nonce });
  }

  private siteFor(eid: Prefix): Site | undefined {
    let best: Site | undefined;
    let bestLen = -1;
    for (const s of this.sites) {
      for (const p of s.prefixList) {
        const ok = s.allowMoreSpecifics === false ? p.maskLen === eid.maskLen && covers(p, eid) : covers(p, eid);
        if (ok && p.maskLen > bestLen) {
          best = s;
          bestLen = p.maskLen;
        }
      }
    }
    return best;
  }

  private onMapRegister(rx: Received, m: MapRegister, origin: Origin): void {
    if (rx.notes.length) return this.reject(rx, 'malformed', `malformed (${rx.notes[0]!.message})`);
    if (m.records.length === 0) return this.reject(rx, 'malformed', 'no EID-records', m.nonce);
    // Every EID must belong to one site, whose key must verify the message.
    const sites = new Set(m.records.map((r) => this.siteFor(recordPrefix(r))));
    if (sites.has(undefined)) {
      const bad = m.records.find((r) => !this.siteFor(recordPrefix(r)))!;
      return this.reject(rx, 'no-site', `EID ${prefixKey(recordPrefix(bad))} is not within any site's prefixes`, m.nonce);
    }
    if (sites.size > 1) return this.reject(rx, 'mixed-sites', 'EIDs of more than one site in one Map-Register', m.nonce);
    const site = [...sites][0]!;
    const auth = verifyAuth(origin.bytes, site.key);
    if (!auth.ok) return this.reject(rx, 'auth', `authentication failed for site ${site.name} (${auth.reason})`, m.nonce, site);
    const now = Date.now();
    for (const [n, exp] of site.nonces) if (exp <= now) site.nonces.delete(n);
    if (site.nonces.has(m.nonce)) return this.reject(rx, 'replay', `replayed nonce 0x${nonceHex(m.nonce)}`, m.nonce, site);
    site.nonces.set(m.nonce, now + 2 * this.registrationTimeoutMs);
    if (site.nonces.size > 4096) site.nonces.delete(site.nonces.keys().next().value!);
    site.accepted++;

    const id = m.xtrId ? toHex(m.xtrId) : `${origin.ecm?.src ?? rx.src}:${origin.ecm?.sport ?? rx.sport}`;
    const changed: Registration[] = [];
    const touched = new Map<string, { prefix: Prefix; before: string }>();
    for (const r of m.records) {
      const prefix = recordPrefix(r);
      const key = prefixKey(prefix);
      let reg = this.regs.get(key);
      const before = reg && reg.entries.size ? locatorSet(reg) : '';
      if (!touched.has(key)) touched.set(key, { prefix, before });
      if (r.ttl === 0) {
        reg?.entries.delete(id);
        this.log('info', this.name, `${key} deregistered by ${rx.src}`);
        if (reg && reg.entries.size && locatorSet(reg) !== before) changed.push(reg);
        continue;
      }
      if (!reg) {
        reg = { prefix, key, site: site.name, entries: new Map() };
        this.regs.set(key, reg);
      }
      if (!m.merge) reg.entries.clear();
      reg.entries.set(id, {
        id,
        locators: r.locators,
        ttl: r.ttl,
        proxyReply: m.proxyReply,
        mapVersion: r.mapVersion,
        registeredAt: now,
        expires: now + (m.ttlTimeout ? r.ttl * 60_000 : this.registrationTimeoutMs),
        source: rx.src,
        sourcePort: rx.sport,
        ...(origin.ecm ? { viaRtr: { private: origin.ecm.src } } : {}),
        merge: m.merge,
        nonce: m.nonce,
        keyId: keyIdField(m),
        authLength: m.authData.length,
      });
      if (m.merge && before && locatorSet(reg) !== before) changed.push(reg);
    }
    this.stats.accepted++;
    this.log('info', this.name, `registered ${m.records.map((r) => prefixKey(recordPrefix(r))).join(', ')} for site ${site.name} from ${rx.src}${origin.ecm ? ` (relayed by an RTR for ${origin.ecm.src})` : ''}`);
    this.emit('registered', { from: rx.src, nonce: m.nonce, eids: m.records.map((r) => prefixKey(recordPrefix(r))), site: site.name });
    if (m.wantMapNotify) {
      const bytes = mapNotify({
        nonce: m.nonce,
        keyId: keyIdField(m),
        key: site.key,
        authLength: m.authData.length,
        records: m.records,
        ...(m.xtrId ? { xtrId: m.xtrId, siteId: m.siteId ?? new Uint8Array(8) } : {}),
      });
      this.stats.notifies++;
      if (origin.ecm) this.notifyThroughRtr(rx, m, origin.ecm, bytes);
      else this.socket.send(rx.src, rx.sport, bytes);
    }
    for (const reg of changed) this.notifyOthers(reg, id, site);
    this.publishChanges(touched);
  }

  /**
   * The Map-Notify for a node behind a NAT goes back through the RTR that relayed its Map-Register,
   * in an ECM addressed to the node's private address, marked for the RTR to process, and signed for
   * the RTR with the key the Map-Server shares with it (MS-RTR authentication: S set, AD type 2, the
   * HMAC over the Map-Notify as sent), as Open Overlay Router's Map-Server does and its RTR requires.
   * Without a key for the RTR the ECM goes unsigned, which only lispscope's RTR accepts.
   */
  private notifyThroughRtr(rx: Received, m: MapRegister, node: { src: string; sport: number }, notify: Uint8Array): void {
    const key = this.opts.rtrKey?.(rx.src);
    if (!key && !this.keylessRtrs.has(rx.src)) {
      this.keylessRtrs.add(rx.src);
      this.log('warn', this.name, `no key for the RTR ${rx.src}: its Map-Notifies go without MS-RTR authentication (Open Overlay Router's RTR drops them; give "${rx.src} KEY" in the key file)`);
    }
    const wrapped = ecm({
      inner: { src: rx.dst, dst: node.src, sport: this.socket.port, dport: node.sport },
      message: notify,
      rtrProcess: true,
      ...(key ? { msRtr: { keyId: keyIdField(m), key, authLength: m.authData.length } } : {}),
    });
    this.socket.send(rx.src, rx.sport, encodeControl(wrapped));
  }

  /**
   * RFC 9301 §5.7: the RLOC-set of a merged registration changed: every other xTR of the prefix is
   * told with an unsolicited Map-Notify (a fresh nonce), retransmitted until it acknowledges when
   * --map-notify-ack asks for it.
   */
  private notifyOthers(reg: Registration, changedBy: string, site: Site): void {
    const record = MapServer.notifyRecord(reg);
    for (const e of reg.entries.values()) {
      if (e.id === changedBy) continue;
      const build = (nonce: bigint) => mapNotify({ nonce, keyId: e.keyId, key: site.key, authLength: e.authLength, records: [record] });
      const to = e.source;
      const port = this.socket.opts.ports?.control ?? LISP_CONTROL_PORT;
      this.stats.unsolicitedNotifies++;
      const retry = this.opts.mapNotifyAck;
      if (!retry) {
        this.socket.send(to, port, build(randomNonce()));
        continue;
      }
      void this.acks
        .request((nonce, _attempt, sent) => this.socket.send(to, port, build(nonce), { onSent: sent }), retry)
        .then((a) => {
          if (a) {
            this.stats.acks++;
            this.emit('notify-acked', { to, eid: reg.key, nonce: a.nonce, attempts: a.attempts });
          } else if (!this.socket.isClosed) {
            this.stats.unacknowledged++;
            this.log('warn', this.name, `no Map-Notify-Ack from ${to} for ${reg.key} after ${retry.retries + 1} Map-Notifies`);
            this.emit('notify-unacknowledged', { to, eid: reg.key });
          }
        });
    }
  }

  private onMapNotifyAck(rx: Received, m: MapNotify): void {
    if (this.publisher.ack(m, rx.bytes, rx.src, rx.at)) return;
    if (!this.acks.has(m.nonce)) {
      this.log('debug', this.name, `ignored a Map-Notify-Ack from ${rx.src} for no Map-Notify of ours`);
      return;
    }
    const site = m.records[0] ? this.siteFor(recordPrefix(m.records[0])) : undefined;
    const auth = site ? verifyAuth(rx.bytes, site.key) : { ok: false, reason: 'no site for its EIDs' };
    if (!auth.ok) {
      this.log('warn', this.name, `Map-Notify-Ack from ${rx.src} failed authentication (${'reason' in auth ? auth.reason : ''}): ignored`);
      return;
    }
    this.acks.deliver(m.nonce, m, rx.at);
  }

  private onInfoRequest(rx: Received, m: InfoMessage): void {
    if (rx.notes.length) {
      this.log('warn', this.name, `dropped a malformed Info-Request from ${rx.src}`);
      return;
    }
    const eid = { address: m.eid, maskLen: m.eidMaskLen };
    const site = this.siteFor(eid);
    if (!site) {
      this.log('warn', this.name, `Info-Request from ${rx.src} for ${prefixKey(eid)}: not within any site: dropped`);
      return;
    }
    const auth = verifyAuth(rx.bytes, site.key);
    if (!auth.ok) {
      this.log('warn', this.name, `Info-Request from ${rx.src} failed authentication (${auth.reason}): dropped`);
      this.emit('rejected', { from: rx.src, reason: 'auth', detail: 'Info-Request authentication failed', nonce: m.nonce });
      return;
    }
    // What we see of the requester: its address and port after any NAT, and where it reached us.
    // Its private address is not visible from here: AFI 0 (the RTR learns it from the ECM).
    const bytes = infoReply({
      nonce: m.nonce,
      keyId: keyIdField(m),
      key: site.key,
      authLength: m.authData.length,
      eid,
      ttl: this.opts.infoTtl ?? 15,
      nat: {
        msUdpPort: rx.dport,
        etrUdpPort: rx.sport,
        globalEtrRloc: rx.src,
        msRloc: rx.dst,
        rtrRlocs: this.opts.rtrs ?? [],
      },
    });
    this.stats.infoReplies++;
    this.socket.send(rx.src, rx.sport, bytes);
    this.emit('info', { from: rx.src, port: rx.sport, nonce: m.nonce });
  }

  private expire(): void {
    const now = Date.now();
    const touched = new Map<string, { prefix: Prefix; before: string }>();
    for (const [k, r] of this.regs) {
      if ([...r.entries.values()].some((e) => e.expires <= now)) touched.set(k, { prefix: r.prefix, before: locatorSet(r) });
      for (const [id, e] of r.entries) {
        if (e.expires <= now) {
          r.entries.delete(id);
          this.stats.expired++;
          this.log('info', this.name, `registration of ${k} by ${e.source} expired`);
          this.emit('expired', { eid: k, source: e.source });
        }
      }
      if (r.entries.size === 0) this.regs.delete(k);
    }
    if (touched.size) this.publishChanges(touched);
  }
}

/** The RLOC-set of a registration, to see whether it changed. */
function locatorSet(r: Registration): string {
  return MapServer.locators(r)
    .map((l) => addressText(l.rloc))
    .sort()
    .join(',');
}
