// Publish/Subscribe in the Map-Server (RFC 9437). A Map-Request with the I bit (the xTR-ID and
// site-ID follow the records) whose EID-records set N subscribes the xTR to those EID-prefixes: the
// Map-Server keeps the subscription (by xTR-ID and site-ID, each prefix), confirms it with a
// Map-Notify carrying the request's nonce and the current mapping, and from then on publishes every
// change of a registration that overlaps the prefix (a new RLOC-set, a deregistration, an expiry)
// in a Map-Notify whose nonce is the previous one plus one; each Map-Notify is retransmitted until
// the subscriber's Map-Notify-Ack. A subscription Map-Request whose only ITR-RLOC has AFI 0
// withdraws it. The Map-Notifies go to the subscriber's first ITR-RLOC at the LISP control port.
//
// They are signed with the key of the subscriber's own site: the Map-Server knows it from the
// subscriber's registration with the same xTR-ID. An xTR that registered nothing here has no key
// to verify publications with, and the Map-Server will not send Map-Notifies to whatever address a
// Map-Request names: its subscription is refused (the Map-Request is answered as any other).

import { fromHex, toHex } from '../dissect/addr.js';
import { addressText } from '../dissect/address.js';
import { verifyAuth } from '../dissect/auth.js';
import { EID_RECORD_N, mapNotify, mappingRecord } from '../dissect/build.js';
import type { MapNotify, MappingRecord, MapRequest } from '../dissect/types.js';
import { covers, prefixKey, type Prefix } from './eid.js';
import type { Logger } from './log.js';
import { NonceTable, type RetryTimers } from './requests.js';

/** The key of a subscriber's site, as its registration used it. */
export interface SubscriberAuth {
  site: string;
  key: string;
  keyId: number;
  authLength: number;
}

export interface Subscription {
  /** The EID-prefix subscribed to, as the Map-Request's EID-record gave it. */
  eid: Prefix;
  /** The subscriber's xTR-ID and site-ID (hex). */
  xtrId: string;
  siteId: string;
  /** Where its Map-Notifies go: the first ITR-RLOC. */
  itrRloc: string;
  /** The nonce of the last Map-Notify sent to it (the subscription's, then +1 per publication). */
  nonce: bigint;
  auth: SubscriberAuth;
  /** ms since the epoch. */
  since: number;
  publications: number;
}

export interface PublisherHost {
  name: string;
  /** The LISP control port Map-Notifies go to. */
  port: number;
  send(to: string, port: number, bytes: Uint8Array): boolean;
  /** The current mapping of `eid`: the registration covering it, or a negative record. */
  mapping(eid: Prefix): MappingRecord;
  /** The key of the site the xTR with this xTR-ID (hex) registered with. */
  subscriberAuth(xtrId: string): SubscriberAuth | undefined;
  isClosed(): boolean;
  log: Logger;
  emit(event: string, detail: unknown): void;
}

/** Map-Notify retransmission for subscriptions when the operator set none: every 2 s, 3 times (lispers.net). */
export const PUBLICATION_RETRY: RetryTimers = { timeoutMs: 2000, retries: 3, backoff: 1 };

export type SubscribeOutcome = 'subscribed' | 'withdrawn' | 'refused' | 'not-a-subscription';

export class Publisher {
  readonly stats = { subscriptions: 0, withdrawals: 0, refused: 0, publications: 0, acked: 0, unacknowledged: 0 };
  private readonly subs = new Map<string, Subscription>();
  private readonly acks = new NonceTable<MapNotify>();
  /** The subscription each outstanding Map-Notify nonce belongs to, for its Ack's key. */
  private readonly pending = new Map<bigint, Subscription>();

  constructor(
    private readonly host: PublisherHost,
    private readonly retry: RetryTimers = PUBLICATION_RETRY,
  ) {}

  /** The subscriptions in force. */
  list(): Subscription[] {
    return [...this.subs.values()];
  }

  /**
   * A Map-Request offered as a possible subscription (its ITR-RLOCs already read): subscribes,
   * withdraws, or refuses; 'not-a-subscription' when it asks for none (no I bit, or no N record).
   */
  request(m: MapRequest, itrRlocs: string[], from: string): SubscribeOutcome {
    if (!m.xtrIdPresent || !m.xtrId || m.probe || m.smr) return 'not-a-subscription';
    const xtrId = toHex(m.xtrId);
    const siteId = toHex(m.siteId ?? new Uint8Array(8));
    const asked = m.eids.filter((e) => ((e.reserved ?? 0) & EID_RECORD_N) !== 0).map((e) => ({ address: e.prefix, maskLen: e.maskLen }));
    if (itrRlocs.length === 0) {
      // Withdrawal: its only ITR-RLOC has AFI 0 (N may be clear: nothing is asked to be notified).
      let n = 0;
      for (const e of m.eids) if (this.subs.delete(subKey(xtrId, siteId, { address: e.prefix, maskLen: e.maskLen }))) n++;
      this.stats.withdrawals += n;
      const eids = m.eids.map((e) => prefixKey({ address: e.prefix, maskLen: e.maskLen })).join(', ');
      this.host.log('info', this.host.name, n ? `xTR-ID ${xtrId} withdrew its subscription to ${eids}` : `xTR-ID ${xtrId} withdrew a subscription to ${eids} it did not hold`);
      this.host.emit('unsubscribed', { xtrId, eids: m.eids.map((e) => prefixKey({ address: e.prefix, maskLen: e.maskLen })), from });
      return 'withdrawn';
    }
    if (asked.length === 0) return 'not-a-subscription';
    const auth = this.host.subscriberAuth(xtrId);
    if (!auth) {
      this.stats.refused++;
      this.host.log('warn', this.host.name, `subscription from ${from} (xTR-ID ${xtrId}) refused: no registration of that xTR-ID here, so no key to sign its Map-Notifies with`);
      this.host.emit('subscription-refused', { xtrId, from });
      return 'refused';
    }
    for (const eid of asked) {
      const sub: Subscription = { eid, xtrId, siteId, itrRloc: itrRlocs[0]!, nonce: m.nonce, auth, since: Date.now(), publications: 0 };
      this.subs.set(subKey(xtrId, siteId, eid), sub);
      this.stats.subscriptions++;
      this.host.log('info', this.host.name, `xTR-ID ${xtrId} (site ${auth.site}) subscribed to ${prefixKey(eid)}: Map-Notifies to ${sub.itrRloc}`);
      this.host.emit('subscribed', { xtrId, eid: prefixKey(eid), itrRloc: sub.itrRloc, nonce: m.nonce });
      // The confirmation: the request's nonce, the mapping as it is now.
      this.notify(sub, m.nonce, this.host.mapping(eid), 'subscription');
    }
    return 'subscribed';
  }

  /**
   * The registration of `prefix` changed (`record` is its mapping now, negative when it is gone):
   * every subscription overlapping it gets a publication.
   */
  changed(prefix: Prefix, record: MappingRecord): void {
    for (const sub of this.subs.values()) {
      if (!covers(sub.eid, prefix) && !covers(prefix, sub.eid)) continue;
      sub.nonce = (sub.nonce + 1n) & 0xffff_ffff_ffff_ffffn;
      sub.publications++;
      this.stats.publications++;
      this.host.log('info', this.host.name, `publishing ${prefixKey(prefix)} -> [${record.locators.map((l) => addressText(l.rloc)).join(', ')}] to xTR-ID ${sub.xtrId} at ${sub.itrRloc}`);
      this.notify(sub, sub.nonce, record, 'publication');
    }
  }

  /** A Map-Notify-Ack: true when it was for one of ours (acknowledging it only when it verifies). */
  ack(m: MapNotify, bytes: Uint8Array, from: string, at?: number): boolean {
    const sub = this.pending.get(m.nonce);
    if (!sub || !this.acks.has(m.nonce)) return false;
    const auth = verifyAuth(bytes, sub.auth.key);
    if (!auth.ok) {
      this.host.log('warn', this.host.name, `Map-Notify-Ack from ${from} for xTR-ID ${sub.xtrId} failed authentication (${auth.reason}): ignored`);
      return true;
    }
    this.acks.deliver(m.nonce, m, at);
    return true;
  }

  close(): void {
    this.acks.close();
    this.pending.clear();
  }

  private notify(sub: Subscription, nonce: bigint, record: MappingRecord, kind: 'subscription' | 'publication'): void {
    const bytes = mapNotify({
      nonce,
      keyId: sub.auth.keyId,
      key: sub.auth.key,
      authLength: sub.auth.authLength,
      records: [record],
      xtrId: fromHex(sub.xtrId)!,
      siteId: fromHex(sub.siteId)!,
    });
    this.pending.set(nonce, sub);
    void this.acks
      .request(() => this.host.send(sub.itrRloc, this.host.port, bytes), this.retry, { nonce: () => nonce })
      .then((a) => {
        this.pending.delete(nonce);
        if (a) {
          this.stats.acked++;
          this.host.emit(kind === 'subscription' ? 'subscription-acked' : 'publication-acked', { xtrId: sub.xtrId, eid: prefixKey(sub.eid), nonce, attempts: a.attempts });
        } else if (!this.host.isClosed()) {
          this.stats.unacknowledged++;
          this.host.log('warn', this.host.name, `no Map-Notify-Ack from ${sub.itrRloc} (xTR-ID ${sub.xtrId}) for the ${kind} of ${prefixKey(sub.eid)} after ${this.retry.retries + 1} Map-Notifies`);
          this.host.emit(`${kind}-unacknowledged`, { xtrId: sub.xtrId, eid: prefixKey(sub.eid), nonce });
        }
      });
  }
}

/** A negative mapping of `eid` (nobody registered it): forward natively, ask again in `ttl` minutes. */
export function negativeRecord(eid: Prefix, ttl: number): MappingRecord {
  return mappingRecord({ eid, ttl, action: 1, authoritative: true, locators: [] });
}

function subKey(xtrId: string, siteId: string, eid: Prefix): string {
  return `${xtrId}/${siteId} ${prefixKey(eid)}`;
}
