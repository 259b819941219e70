// Solicit-Map-Request (RFC 9301 §6.1), both ways: a router whose mapping changed sends SMRs to the
// peers that talked to it lately, and a router that receives one re-resolves the EID it names
// through the mapping system (an SMR-invoked Map-Request). Both are rate-limited per peer and per
// EID; what waits on the limit is sent once, when it is over.

import { performance } from 'node:perf_hooks';
import { encodeControl } from '../dissect/control.js';
import { mapRequest, randomNonce } from '../dissect/build.js';
import type { MapRequest } from '../dissect/types.js';
import { hostPrefix, prefixKey, type Prefix } from './eid.js';
import type { Logger } from './log.js';
import { locatorAddress, type MapCache } from './map-cache.js';
import type { Received } from './socket.js';

export interface SmrSent {
  rloc: string;
  /** The peer's EID prefix the SMR names. */
  eid: string;
  nonce: bigint;
  /** Rate-limited: sent this many ms later. */
  delayedMs?: number;
}

/** What the SMR role uses of its router. */
export interface SmrHost {
  readonly name: string;
  readonly mapCache: MapCache;
  readonly log: Logger;
  readonly stats: { smrsSent: number; smrsReceived: number };
  readonly timers: { smrWindowMs: number; smrMinIntervalMs: number; smrInvokedMinIntervalMs: number };
  /** Our own RLOCs (no SMR to ourselves). */
  ownRlocs(): readonly string[];
  /** ITRs that sent us data: RLOC → the EID that sent it and when (ms since the epoch). */
  recentItrs(): ReadonlyMap<string, { eid: Prefix; last: number }>;
  /** Sends a Map-Request from the requests socket to the peer's control port. */
  sendRequest(dst: string, bytes: Uint8Array): boolean;
  sourceEid(): string | undefined;
  itrRlocs(): string[];
  resolve(eid: Prefix, o: { force: boolean; smrInvoked: boolean; sourceEid?: string }): Promise<unknown>;
  emit(event: 'smr-sent' | 'smr-received', ...args: unknown[]): boolean;
}

export class SmrRole {
  private readonly lastSmrTo = new Map<string, number>();
  private readonly lastSmrInvoked = new Map<string, number>();
  private readonly later = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(private readonly host: SmrHost) {}

  /**
   * SMRs to the peers that talked to us in the last `smrWindowMs`: the RLOCs of the map-cache
   * entries traffic used, and the ITRs that sent us data. At most one per destination per
   * `smrMinIntervalMs`.
   */
  sendAll(): SmrSent[] {
    const h = this.host;
    const since = Date.now() - h.timers.smrWindowMs;
    const targets = new Map<string, Prefix>();
    for (const e of h.mapCache.entries()) {
      if (e.negative || e.lastUsed < since) continue;
      for (const l of e.locators) {
        const a = locatorAddress(l);
        if (a && !targets.has(a)) targets.set(a, e.prefix);
      }
    }
    for (const [rloc, r] of h.recentItrs()) if (r.last >= since && !targets.has(rloc)) targets.set(rloc, r.eid);
    const out: SmrSent[] = [];
    for (const [rloc, peerEid] of targets) {
      if (h.ownRlocs().includes(rloc)) continue;
      const wait = (this.lastSmrTo.get(rloc) ?? -Infinity) + h.timers.smrMinIntervalMs - performance.now();
      const nonce = randomNonce();
      if (wait <= 0) {
        if (this.send(rloc, peerEid, nonce)) out.push({ rloc, eid: prefixKey(peerEid), nonce });
        continue;
      }
      // Rate-limited: this destination had an SMR moments ago; it gets one when the interval is over.
      if (this.later.has(rloc)) continue;
      h.log('info', h.name, `SMR to ${rloc}: rate-limited, sending in ${Math.ceil(wait)} ms`);
      this.after(rloc, wait, () => {
        if (this.send(rloc, peerEid, nonce)) h.emit('smr-sent', [{ rloc, eid: prefixKey(peerEid), nonce }]);
      });
      out.push({ rloc, eid: prefixKey(peerEid), nonce, delayedMs: wait });
    }
    const now = out.filter((x) => x.delayedMs === undefined);
    if (now.length) h.emit('smr-sent', now);
    return out;
  }

  /** An SMR arrived: re-resolve the EID it names, through the mapping system, rate-limited. */
  received(rx: Received, m: MapRequest): void {
    const h = this.host;
    h.stats.smrsReceived++;
    const src = m.sourceEid.kind === 'none' ? undefined : hostPrefix(m.sourceEid);
    const entry = src && h.mapCache.lookup(src);
    h.emit('smr-received', { from: rx.src, eid: src && prefixKey(src), nonce: m.nonce });
    if (!entry) {
      h.log('info', h.name, `SMR from ${rx.src} for ${src ? prefixKey(src) : 'no EID'}, not in our map-cache: ignored`);
      return;
    }
    const invoke = () => {
      this.lastSmrInvoked.set(entry.key, performance.now());
      h.log('info', h.name, `SMR from ${rx.src}: SMR-invoked Map-Request for ${entry.key}`);
      void h.resolve(entry.prefix, { force: true, smrInvoked: true, ...(entry.lastSource ? { sourceEid: entry.lastSource } : {}) });
    };
    const wait = (this.lastSmrInvoked.get(entry.key) ?? -Infinity) + h.timers.smrInvokedMinIntervalMs - performance.now();
    if (wait <= 0) return invoke();
    // One SMR-invoked request when the interval is over, however many SMRs came.
    const pending = `invoke ${entry.key}`;
    if (this.later.has(pending)) return;
    h.log('info', h.name, `SMR from ${rx.src} for ${entry.key}: rate-limited, asking in ${Math.ceil(wait)} ms`);
    this.after(pending, wait, invoke);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.later.values()) clearTimeout(t);
    this.later.clear();
  }

  private after(key: string, wait: number, f: () => void): void {
    const t = setTimeout(() => {
      this.later.delete(key);
      if (!this.stopped) f();
    }, wait);
    t.unref?.();
    this.later.set(key, t);
  }

  private send(rloc: string, peerEid: Prefix, nonce: bigint): boolean {
    const h = this.host;
    this.lastSmrTo.set(rloc, performance.now());
    const src = h.sourceEid();
    const smr = mapRequest({ nonce, smr: true, eids: [peerEid], itrRlocs: h.itrRlocs(), ...(src ? { sourceEid: src } : {}) });
    if (!h.sendRequest(rloc, encodeControl(smr))) return false;
    h.stats.smrsSent++;
    return true;
  }
}
