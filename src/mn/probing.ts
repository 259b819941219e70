// RLOC-probing (RFC 9301 §7.1): a Map-Request with P straight to a locator, whose Map-Reply comes
// back with P and marks the probed locator with p. A locator that does not answer is marked down
// (the ITR then chooses another); a timer probes every locator of the map-cache periodically.

import { encodeControl } from '../dissect/control.js';
import { mapRequest } from '../dissect/build.js';
import type { MapReply } from '../dissect/types.js';
import { toPrefix, type Prefix } from './eid.js';
import type { Logger } from './log.js';
import { locatorAddress, type MapCache } from './map-cache.js';
import type { NonceTable, SentStamp } from './requests.js';

export interface ProbeResult {
  rloc: string;
  rttMs: number;
  reply: MapReply;
  /** The locator the reply marks with p. */
  probed?: string;
}

/** What the prober uses of its router. */
export interface ProbeHost {
  readonly name: string;
  readonly mapCache: MapCache;
  readonly log: Logger;
  readonly timers: { probeIntervalMs: number; probeTimeoutMs: number };
  /** The router's table of Map-Requests waiting for their Map-Reply. */
  readonly replies: Pick<NonceTable<{ reply: MapReply }>, 'request'>;
  /** Our EID prefixes: the first is what a probe asks for when the locator caches nothing. */
  eidPrefixes(): readonly Prefix[];
  sendRequest(dst: string, bytes: Uint8Array, sent?: SentStamp): boolean;
  sourceEid(): string | undefined;
  itrRlocs(): string[];
  emit(event: 'probe', ...args: unknown[]): boolean;
}

export class RlocProber {
  /** Locators found unreachable. */
  readonly down = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly host: ProbeHost) {}

  async probe(rloc: string, eid?: string | Prefix): Promise<ProbeResult | undefined> {
    const h = this.host;
    const cached = h.mapCache.entries().find((e) => e.locators.some((l) => locatorAddress(l) === rloc));
    const p = eid !== undefined ? toPrefix(eid) : (cached?.prefix ?? h.eidPrefixes()[0]);
    if (!p) return undefined;
    const src = cached?.lastSource ?? h.sourceEid();
    const a = await h.replies.request(
      (nonce, _attempt, sent) =>
        h.sendRequest(rloc, encodeControl(mapRequest({ nonce, probe: true, eids: [p], itrRlocs: h.itrRlocs(), ...(src ? { sourceEid: src } : {}) })), sent),
      { timeoutMs: h.timers.probeTimeoutMs, retries: 0 },
    );
    if (!a || !a.value.reply.probe) {
      this.down.add(rloc);
      h.emit('probe', { rloc, ok: false });
      h.log('info', h.name, `RLOC-probe to ${rloc}: no reply, marked down`);
      return undefined;
    }
    this.down.delete(rloc);
    const probed = a.value.reply.records.flatMap((r) => r.locators).find((l) => l.probed);
    const result: ProbeResult = { rloc, rttMs: a.rttMs, reply: a.value.reply, ...(probed ? { probed: locatorAddress(probed) ?? '' } : {}) };
    h.emit('probe', { rloc, ok: true, rttMs: a.rttMs, probed: result.probed });
    return result;
  }

  /** Probes every locator of the map-cache every `probeIntervalMs`. */
  start(): void {
    this.timer = setTimeout(async () => {
      const rlocs = new Set<string>();
      for (const e of this.host.mapCache.entries()) for (const l of e.locators) if (locatorAddress(l)) rlocs.add(locatorAddress(l)!);
      await Promise.all([...rlocs].map((r) => this.probe(r)));
      if (!this.stopped) this.start();
    }, this.host.timers.probeIntervalMs);
    this.timer.unref?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
