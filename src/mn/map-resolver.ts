// The Map-Resolver (RFC 9301 §8.1, §8.3, §8.4), co-located with the Map-Server: an ECM'd
// Map-Request for a registered EID is forwarded, still encapsulated, to one of the ETRs that
// registered it, or answered by the Map-Server itself when they asked it to (proxy-reply; the
// operator may also make it answer for every site, or for none); for an EID nobody registered, a
// negative Map-Reply says to forward natively: for non-LISP space with a 15-minute TTL and the
// least specific prefix that covers the EID and overlaps no site (never one that does not cover
// the EID), for a site prefix without a registration with a 1-minute TTL. A Map-Request that
// subscribes (RFC 9437) is handed to the Map-Server's publisher first (pubsub.ts).

import { encodeControl } from '../dissect/control.js';
import { mapReply, negativeMapReply } from '../dissect/build.js';
import type { MapRequest } from '../dissect/types.js';
import { covers, longestMatch, prefixKey, widestUncovered, type Prefix } from './eid.js';
import type { Logger } from './log.js';
import { locatorAddress, selectLocator } from './map-cache.js';
import { MapServer, type ProxyReplyMode, type Registration } from './map-server.js';
import type { LispSocket, Received } from './socket.js';
import { LISP_CONTROL_PORT, MessageType } from '../dissect/registry.js';

export interface MapResolverOptions {
  log: Logger;
  /** Negative Map-Reply TTL for EIDs outside every site, minutes (default 15). */
  negativeTtl?: number | undefined;
  /** For EIDs in a site prefix nobody registered, minutes (default 1). */
  unregisteredTtl?: number | undefined;
  /** Default 'registration': the P bit of the Map-Register decides. */
  proxyReply?: ProxyReplyMode;
}

export class MapResolver {
  readonly stats = { forwarded: 0, proxyReplies: 0, negativeReplies: 0 };

  constructor(
    private readonly ms: MapServer,
    private readonly socket: LispSocket,
    private readonly opts: MapResolverOptions,
  ) {}

  /** Handles an ECM'd (or plain) Map-Request; false when `rx` is not one. */
  handle(rx: Received): boolean {
    const m = rx.control;
    if (!m || 'unknown' in m) return false;
    if (m.type === MessageType.ECM) {
      const inner = m.inner?.message;
      if (!inner || 'unknown' in inner || inner.type !== MessageType.MapRequest) return false;
      this.answer(rx, inner, m.inner!.sport, true);
      return true;
    }
    if (m.type === MessageType.MapRequest && !m.smr && !m.probe) {
      this.answer(rx, m, rx.sport, false);
      return true;
    }
    return false;
  }

  private answer(rx: Received, m: MapRequest, replyPort: number, encapsulated: boolean): void {
    const name = this.ms.name;
    if (rx.notes.length) {
      this.opts.log('warn', name, `dropped a malformed Map-Request from ${rx.src}`);
      return;
    }
    // RFC 9437: a subscription is kept (or withdrawn) and the Map-Request answered as any other;
    // a withdrawal (its only ITR-RLOC of AFI 0) has nobody to answer.
    const itrRlocs = m.itrRlocs.flatMap((a) => (a.kind === 'ipv4' || a.kind === 'ipv6' ? [a.addr] : []));
    if (this.ms.publisher.request(m, itrRlocs, rx.src) === 'withdrawn') return;
    const asked = m.eids[0];
    const itr = m.itrRlocs.find((a) => a.kind === 'ipv4' || a.kind === 'ipv6');
    if (!asked || !itr || (itr.kind !== 'ipv4' && itr.kind !== 'ipv6')) {
      this.opts.log('warn', name, `Map-Request from ${rx.src} without an EID or a usable ITR-RLOC: dropped`);
      return;
    }
    const eid: Prefix = { address: asked.prefix, maskLen: asked.maskLen };
    const reg = this.ms.lookup(eid);
    if (reg) {
      const mode = this.opts.proxyReply ?? 'registration';
      const proxy = mode === 'always' || (mode === 'registration' && [...reg.entries.values()].some((e) => e.proxyReply));
      if (proxy) {
        this.stats.proxyReplies++;
        const reply = mapReply({ nonce: m.nonce, records: [MapServer.proxyRecord(reg)] });
        this.socket.send(itr.addr, replyPort, encodeControl(reply));
        this.opts.log('info', name, `proxy Map-Reply for ${prefixKey(eid)} to ${itr.addr}`);
        return;
      }
      const etr = this.etrFor(reg);
      if (etr && encapsulated) {
        // Forward the ECM as it came: the ETR answers the ITR directly.
        this.stats.forwarded++;
        this.socket.send(etr, this.socket.opts.ports?.control ?? LISP_CONTROL_PORT, rx.bytes);
        this.opts.log('info', name, `forwarded the Map-Request for ${prefixKey(eid)} to the ETR ${etr}`);
        return;
      }
      if (etr) {
        // A plain Map-Request: answer from the registration rather than forward it unencapsulated.
        this.stats.proxyReplies++;
        this.socket.send(itr.addr, replyPort, encodeControl(mapReply({ nonce: m.nonce, records: [MapServer.proxyRecord(reg)] })));
        return;
      }
    }
    // Nobody registered it: the widest prefix around it that overlaps nothing registered or configured.
    const sites = this.ms.configuredPrefixes();
    const site = longestMatch(sites, eid, (p) => p);
    const registered = this.ms.registrations().map((r) => r.prefix);
    const negative = site
      ? widestUncovered(eid, registered.filter((p) => covers(site, p)), site.maskLen)
      : widestUncovered(eid, [...sites, ...registered]);
    const ttl = site ? (this.opts.unregisteredTtl ?? 1) : (this.opts.negativeTtl ?? 15);
    this.stats.negativeReplies++;
    this.socket.send(itr.addr, replyPort, encodeControl(negativeMapReply({ nonce: m.nonce, eid: negative, ttl, action: 1 })));
    this.opts.log('info', name, `negative Map-Reply for ${prefixKey(eid)}: ${prefixKey(negative)} ttl ${ttl} native-forward`);
  }

  /** One ETR RLOC of the registration (by priority and weight). */
  private etrFor(reg: Registration): string | undefined {
    const l = selectLocator(MapServer.locators(reg));
    return l ? locatorAddress(l) : undefined;
  }
}
