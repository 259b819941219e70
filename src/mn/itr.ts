// The ITR side of a tunnel router (RFC 9300 §5, RFC 9301 §5): where a packet from our side goes
// (the map-cache, resolving through the Map-Resolver first when it holds nothing), the ECM'd
// Map-Requests with retransmission and back-off, and encapsulation to the chosen locator.

import { performance } from 'node:perf_hooks';
import { randomInt } from 'node:crypto';
import { encodeControl } from '../dissect/control.js';
import { encodeData } from '../dissect/data.js';
import { ecm, lispDataHeader, mapRequest } from '../dissect/build.js';
import { actionSlug } from '../dissect/registry.js';
import type { MapReply } from '../dissect/types.js';
import { covers, eidIp, hostPrefix, prefixKey, toPrefix, type Prefix } from './eid.js';
import { parseInner, type InnerPacket } from './host.js';
import type { Logger } from './log.js';
import { locatorAddress, selectLocator, type MapCache, type MapCacheEntry } from './map-cache.js';
import type { NonceTable, SentStamp } from './requests.js';
import type { LispSocket, Received } from './socket.js';

export interface ResolveOptions {
  /** Ask even when the map-cache has an entry. */
  force?: boolean;
  /** An SMR-invoked Map-Request (s bit). */
  smrInvoked?: boolean;
  /** Source-EID of the Map-Request: the host whose packet needs the mapping. */
  sourceEid?: string;
}

/** A Map-Reply and the datagram it came in. */
export interface ReplyIn {
  reply: MapReply;
  rx: Received;
}

/** Where a packet goes: a locator (and port), natively, or nowhere. */
export type Destination = { rloc: string; port?: number } | 'native' | undefined;

/** What the ITR role uses of its router (the hooks are the router's, which subclasses override). */
export interface ItrHost {
  readonly name: string;
  readonly mapCache: MapCache;
  readonly log: Logger;
  readonly timers: { mapRequestTimeoutMs: number; mapRequestRetries: number };
  readonly stats: { encapsulated: number; mapRequests: number; mapReplies: number; dropped: number };
  readonly replies: NonceTable<ReplyIn>;
  readonly dataPort: number;
  readonly controlPort: number;
  readonly mapResolver: string | undefined;
  /** Proxy-ETR for negative entries whose action says to forward natively. */
  readonly petr: string | undefined;
  /** Set p in our Map-Requests. */
  readonly pitr: boolean;
  /** Locators RLOC-probing found down. */
  readonly downLocators: ReadonlySet<string>;
  ownRlocs(): readonly string[];
  ownLocatorCount(): number;
  dataSocket(): LispSocket | undefined;
  /** The port Map-Replies come back to. */
  requestPort(): number | undefined;
  /** Sends from the requests socket to `dst`'s control port. */
  sendRequest(dst: string, bytes: Uint8Array, sent?: SentStamp): boolean;
  sourceEid(family?: 'ipv4' | 'ipv6'): string | undefined;
  itrRlocs(): string[];
  isOwnEid(eid: Prefix): boolean;
  deliver(packet: Uint8Array, info: InnerPacket, rx: Received | undefined): void;
  destination(dst: Prefix, info: InnerPacket): Promise<Destination>;
  nativeForward(packet: Uint8Array, info: InnerPacket): boolean;
  stopped(): boolean;
  emit(event: 'encapsulated' | 'resolved' | 'resolve-failed', ...args: unknown[]): boolean;
}

export class ItrRole {
  private readonly inflight = new Map<string, Promise<MapCacheEntry | undefined>>();
  private readonly failedUntil = new Map<string, number>();
  private waitingPackets = 0;

  constructor(private readonly host: ItrHost) {}

  /**
   * Sends an IP packet from our side: to our own EIDs directly, else encapsulated to the RLOC the
   * map-cache (resolving first if needed) gives, to the PETR or natively for negative entries.
   */
  async forward(packet: Uint8Array, sent?: SentStamp): Promise<boolean> {
    const h = this.host;
    const info = parseInner(packet);
    if (!info) return false;
    const dst = hostPrefix(info.dst);
    if (h.isOwnEid(dst)) {
      h.deliver(packet, info, undefined);
      return true;
    }
    if (this.waitingPackets >= 256) {
      h.stats.dropped++;
      return false;
    }
    this.waitingPackets++;
    let to: Destination;
    try {
      to = await h.destination(dst, info);
    } finally {
      this.waitingPackets--;
    }
    if (to === 'native') return h.nativeForward(packet, info);
    if (!to) {
      h.stats.dropped++;
      h.log('info', h.name, `no route for ${info.dst}: packet dropped`);
      return false;
    }
    if (h.ownRlocs().includes(to.rloc) && (to.port ?? h.dataPort) === h.dataPort) {
      h.stats.dropped++;
      h.log('warn', h.name, `the mapping of ${info.dst} points back at us: packet dropped`);
      return false;
    }
    return this.encapsulate(packet, to.rloc, to.port, sent);
  }

  /** Where a packet for `dst` goes by the map-cache: an RLOC, natively, or nowhere. */
  async destination(dst: Prefix, info: InnerPacket): Promise<Destination> {
    const h = this.host;
    const e = h.mapCache.lookup(dst) ?? (await this.resolve(dst, { sourceEid: info.src }));
    if (!e) return undefined;
    h.mapCache.touch(e, info.src);
    if (e.negative) {
      if (actionSlug(e.action) !== 'native-forward') return undefined; // drop / send-map-request / no-action
      return h.petr ? { rloc: h.petr } : 'native';
    }
    const l = selectLocator(e.locators, flowHash(info), h.downLocators);
    const rloc = l && locatorAddress(l);
    return rloc ? { rloc } : undefined;
  }

  /** Encapsulates (RFC 9300 §5.3: N with a random nonce, L with our locator status) and sends. */
  encapsulate(packet: Uint8Array, rloc: string, port = this.host.dataPort, sent?: SentStamp): boolean {
    const h = this.host;
    const s = h.dataSocket();
    if (!s) return false;
    const n = Math.min(h.ownLocatorCount(), 32);
    const lsb = n >= 32 ? 0xffffffff : (1 << n) - 1;
    const header = lispDataHeader({ nonce: randomInt(0, 0x1000000), lsb: lsb >>> 0 });
    h.stats.encapsulated++;
    h.emit('encapsulated', { to: rloc, port });
    return s.send(rloc, port, encodeData(header, packet), { checksum: false, ...(sent ? { onSent: sent } : {}) });
  }

  /** A Map-Reply: the answer to the request of its nonce, else dropped (RFC 9301 §5.5). */
  onMapReply(rx: Received, m: MapReply): void {
    const h = this.host;
    h.stats.mapReplies++;
    if (!h.replies.deliver(m.nonce, { reply: m, rx }, rx.at)) {
      h.log('debug', h.name, `dropped a Map-Reply from ${rx.src} with an unknown nonce`);
    }
  }

  /**
   * Resolves an EID through the Map-Resolver: ECM'd Map-Request, retransmitted with back-off, the
   * Map-Reply's records cached. Concurrent lookups of one prefix share one request.
   */
  resolve(eid: string | Prefix, o: ResolveOptions = {}): Promise<MapCacheEntry | undefined> {
    const h = this.host;
    const p = toPrefix(eid);
    if (!o.force) {
      const cached = h.mapCache.lookup(p);
      if (cached) return Promise.resolve(cached);
    }
    const key = `${prefixKey(p)}${o.smrInvoked ? ' smr' : ''}`;
    const running = this.inflight.get(key);
    if (running) return running;
    const mr = h.mapResolver;
    if (!mr || h.stopped()) return Promise.resolve(undefined);
    if ((this.failedUntil.get(key) ?? 0) > performance.now() && !o.smrInvoked) {
      h.log('debug', h.name, `not asking for ${key} again yet (backing off)`);
      return Promise.resolve(undefined);
    }
    const started = performance.now();
    const job = (async () => {
      const a = await h.replies.request(
        (nonce, attempt, sent) => {
          if (attempt > 0) h.log('info', h.name, `no Map-Reply for ${prefixKey(p)}: retransmitting (attempt ${attempt + 1})`);
          h.stats.mapRequests++;
          return this.sendMapRequest(mr, p, nonce, o.smrInvoked ?? false, o.sourceEid, sent);
        },
        { timeoutMs: h.timers.mapRequestTimeoutMs, retries: h.timers.mapRequestRetries },
      );
      if (!a) {
        this.failedUntil.set(key, performance.now() + h.timers.mapRequestTimeoutMs * 2 ** (h.timers.mapRequestRetries + 1));
        h.emit('resolve-failed', { eid: prefixKey(p) });
        h.log('warn', h.name, `no Map-Reply for ${prefixKey(p)} from ${mr}`);
        return undefined;
      }
      this.failedUntil.delete(key);
      let hit: MapCacheEntry | undefined;
      for (const r of a.value.reply.records) {
        const e = h.mapCache.insert(r, a.value.rx.src);
        if (e && covers(e.prefix, p)) hit = e;
      }
      h.emit('resolved', {
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
  private sendMapRequest(mr: string, p: Prefix, nonce: bigint, smrInvoked: boolean, sourceEid?: string, sent?: SentStamp): boolean {
    const h = this.host;
    const port = h.requestPort();
    if (port === undefined) return false;
    const itr = h.itrRlocs();
    const family = itr[0]!.includes(':') ? 'ipv6' : 'ipv4';
    const src = sourceEid ?? h.sourceEid();
    const req = mapRequest({
      nonce,
      eids: [p],
      itrRlocs: itr,
      ...(src ? { sourceEid: src } : {}),
      smrInvoked,
      pitr: h.pitr,
    });
    const dstIp = eidIp(p.address) ?? itr[0]!;
    const innerFamily = dstIp.includes(':') ? 'ipv6' : 'ipv4';
    const innerSrc = innerFamily === family ? itr[0]! : (h.sourceEid(innerFamily) ?? (innerFamily === 'ipv6' ? '::' : '0.0.0.0'));
    const e = ecm({ inner: { src: innerSrc, dst: dstIp, sport: port, dport: h.controlPort }, message: req });
    return h.sendRequest(mr, encodeControl(e), sent);
  }
}

/** A small hash of the inner flow, to spread flows over equal locators. */
function flowHash(info: InnerPacket): number {
  let h = 0x811c9dc5;
  for (const ch of `${info.src}>${info.dst}/${info.proto}/${info.udp?.sport ?? 0}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}
