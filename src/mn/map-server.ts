// The Map-Server (RFC 9301 §5.6, §8.2; NAT-traversal draft for Info): sites with EID prefixes and
// shared keys. A Map-Register is accepted only when it verifies with the key of the site whose
// prefixes contain every EID it registers, and its nonce was not seen before from that site; then
// it replaces (or, with the merge bit, joins) the registration, and with want-map-notify a signed
// Map-Notify with the same nonce goes back to where it came from. Registrations expire when not
// refreshed. Info-Requests are answered with what the Map-Server sees of the requester: the
// NAT-Traversal LCAF. The Map-Resolver (map-resolver.ts) shares its socket and its registrations.

import { EventEmitter } from 'node:events';
import { toHex } from '../dissect/addr.js';
import { verifyAuth } from '../dissect/auth.js';
import { infoReply, mapNotify, mappingRecord } from '../dissect/build.js';
import { LISP_CONTROL_PORT } from '../dissect/registry.js';
import type { InfoMessage, Locator, MapRegister, MappingRecord } from '../dissect/types.js';
import { covers, longestMatch, prefixKey, recordPrefix, toPrefix, type Prefix } from './eid.js';
import { silentLogger, type Logger } from './log.js';
import { MapResolver } from './map-resolver.js';
import type { Recorder } from './recorder.js';
import { LispSocket, type Received } from './socket.js';

export interface SiteConfig {
  name: string;
  /** Shared key of the site's xTRs (never logged). */
  key: string;
  /** EID prefixes the site may register. */
  prefixes: Array<string | Prefix>;
  /** Accept registrations of more-specific prefixes (default true). */
  allowMoreSpecifics?: boolean;
}

export interface MapServerOptions {
  name?: string;
  address: string;
  /** Default 4342. */
  port?: number;
  sites: SiteConfig[];
  /** RTR RLOCs announced in Info-Replies. */
  rtrs?: string[];
  /** A registration not refreshed for this long is dropped (RFC 9301 §8.2: 3 minutes), unless T set. */
  registrationTimeoutMs?: number;
  /** Info-Reply TTL, minutes (default 15). */
  infoTtl?: number;
  /** Answer ECM Map-Requests too (default true): a co-located Map-Resolver. */
  mapResolver?: boolean;
  /** Map-Resolver negative replies: TTL for non-LISP space (RFC 9301 §8.4: 15 min), for configured-but-unregistered prefixes (1 min). */
  negativeTtl?: number;
  unregisteredTtl?: number;
  dataPort?: number;
  recorder?: Recorder;
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
  nonce: bigint;
}

export interface Registration {
  prefix: Prefix;
  key: string;
  site: string;
  entries: Map<string, RegistrationEntry>;
}

export type RejectReason = 'malformed' | 'no-site' | 'auth' | 'replay' | 'mixed-sites';

export class MapServer extends EventEmitter {
  readonly socket: LispSocket;
  readonly resolver: MapResolver | undefined;
  readonly name: string;
  readonly stats = { accepted: 0, rejected: 0, notifies: 0, infoReplies: 0, expired: 0 };
  private readonly regs = new Map<string, Registration>();
  private readonly sites: Array<SiteConfig & { prefixList: Prefix[]; nonces: Map<bigint, number> }>;
  private readonly log: Logger;
  private sweeper: NodeJS.Timeout | undefined;

  private constructor(
    socket: LispSocket,
    readonly opts: MapServerOptions,
  ) {
    super();
    this.socket = socket;
    this.name = opts.name ?? 'ms';
    this.log = opts.log ?? silentLogger;
    this.sites = opts.sites.map((s) => ({ ...s, prefixList: s.prefixes.map(toPrefix), nonces: new Map() }));
    if (opts.mapResolver !== false) this.resolver = new MapResolver(this, socket, { log: this.log, negativeTtl: opts.negativeTtl, unregisteredTtl: opts.unregisteredTtl });
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
      ports: { control: port, data: opts.dataPort ?? 4341 },
      ...(opts.recorder ? { recorder: opts.recorder } : {}),
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

  private receive(rx: Received): void {
    const m = rx.control;
    if (!m || 'unknown' in m) {
      this.log('warn', this.name, `dropped an unknown message from ${rx.src}:${rx.sport}`);
      return;
    }
    if (m.type === 3) return this.onMapRegister(rx, m);
    if (m.type === 7 && !m.reply) return this.onInfoRequest(rx, m);
    if (this.resolver?.handle(rx)) return;
    this.log('debug', this.name, `ignored a message of type ${m.type} from ${rx.src}:${rx.sport}`);
  }

  private reject(rx: Received, reason: RejectReason, detail: string, nonce?: bigint): void {
    this.stats.rejected++;
    this.log('warn', this.name, `rejected a Map-Register from ${rx.src}:${rx.sport}: ${detail}`);
    this.emit('rejected', { from: rx.src, reason, detail, nonce });
  }

  private siteFor(eid: Prefix) {
    let best: (typeof this.sites)[number] | undefined;
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

  private onMapRegister(rx: Received, m: MapRegister): void {
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
    const auth = verifyAuth(rx.bytes, site.key);
    if (!auth.ok) return this.reject(rx, 'auth', `authentication failed for site ${site.name} (${auth.reason})`, m.nonce);
    const now = Date.now();
    for (const [n, exp] of site.nonces) if (exp <= now) site.nonces.delete(n);
    if (site.nonces.has(m.nonce)) return this.reject(rx, 'replay', `replayed nonce 0x${m.nonce.toString(16).padStart(16, '0')}`, m.nonce);
    site.nonces.set(m.nonce, now + 2 * this.registrationTimeoutMs);
    if (site.nonces.size > 4096) site.nonces.delete(site.nonces.keys().next().value!);

    const id = m.xtrId ? toHex(m.xtrId) : `${rx.src}:${rx.sport}`;
    for (const r of m.records) {
      const prefix = recordPrefix(r);
      const key = prefixKey(prefix);
      let reg = this.regs.get(key);
      if (r.ttl === 0) {
        reg?.entries.delete(id);
        this.log('info', this.name, `${key} deregistered by ${rx.src}`);
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
        nonce: m.nonce,
      });
    }
    this.stats.accepted++;
    this.log('info', this.name, `registered ${m.records.map((r) => prefixKey(recordPrefix(r))).join(', ')} for site ${site.name} from ${rx.src}`);
    this.emit('registered', { from: rx.src, nonce: m.nonce, eids: m.records.map((r) => prefixKey(recordPrefix(r))), site: site.name });
    if (m.wantMapNotify) {
      const bytes = mapNotify({
        nonce: m.nonce,
        keyId: m.keyId,
        key: site.key,
        authLength: m.authData.length,
        records: m.records,
        ...(m.xtrId ? { xtrId: m.xtrId, siteId: m.siteId ?? new Uint8Array(8) } : {}),
      });
      this.stats.notifies++;
      this.socket.send(rx.src, rx.sport, bytes);
    }
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
      keyId: m.keyId,
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
    for (const [k, r] of this.regs) {
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
  }
}
