// The subscriber's side of Publish/Subscribe (RFC 9437): an ECM'd Map-Request with the I bit, our
// xTR-ID and site-ID, and N on the EID-record, retransmitted with back-off until the Map-Server's
// Map-Notify with its nonce confirms the subscription; then every Map-Notify it publishes (nonce
// one more than the last) is verified with our site key and acknowledged with a Map-Notify-Ack of
// the same nonce and records. A Map-Notify sent again (its Ack was lost) is acknowledged again but
// reported once; one with an older nonce is a replay and dropped. Withdrawing is the same
// Map-Request with one ITR-RLOC of AFI 0, which nothing answers.

import { keyIdField, verifyAuth } from '../dissect/auth.js';
import { encodeControl } from '../dissect/control.js';
import { ecm, mapNotifyAck, mapRequest } from '../dissect/build.js';
import { LISP_CONTROL_PORT } from '../dissect/registry.js';
import type { MapNotify } from '../dissect/types.js';
import { eidIp, toPrefix, type Prefix } from './eid.js';
import { silentLogger, type Logger } from './log.js';
import { NonceTable, type Answer, type RetryTimers, type SentStamp } from './requests.js';

export interface SubscriberOptions {
  /** Our site key (the one we register with), which signs the Map-Server's Map-Notifies to us. */
  key: string;
  xtrId: Uint8Array;
  siteId: Uint8Array;
  /** Our ITR-RLOC and the port we listen on (inner source of the ECM). */
  itrRloc: string;
  port: number;
  /** Destination LISP control port (default 4342). */
  controlPort?: number;
  /** Puts an ECM on the wire to the Map-Resolver. */
  send: (bytes: Uint8Array, sent?: SentStamp) => boolean;
  /** Sends a Map-Notify-Ack back to whoever sent the Map-Notify. */
  reply: (to: string, port: number, bytes: Uint8Array) => boolean;
  retry: RetryTimers;
  log?: Logger;
}

export interface Confirmation {
  notify: MapNotify;
  from: string;
}

export interface Publication {
  notify: MapNotify;
  from: string;
  /** The subscription's Map-Notify arrived (performance.now()). */
  at: number;
}

export class Subscriber {
  private readonly confirmations = new NonceTable<Confirmation>();
  private readonly listeners: Array<(p: Publication) => void> = [];
  /** The nonce of the last Map-Notify we took (the subscription's, then each publication's). */
  private last: bigint | undefined;
  private readonly log: Logger;
  /** Publications verified and acknowledged; Map-Notifies dropped (authentication, replay). */
  readonly stats = { publications: 0, repeats: 0, dropped: 0 };

  constructor(private readonly o: SubscriberOptions) {
    this.log = o.log ?? silentLogger;
  }

  /** Subscribes to `eid`; resolves with the confirming Map-Notify, or undefined when none came. */
  async subscribe(eid: string | Prefix, signal?: AbortSignal): Promise<Answer<Confirmation> | undefined> {
    const p = toPrefix(eid);
    const a = await this.confirmations.request((nonce, _attempt, sent) => this.o.send(this.request(p, nonce, false), sent), this.o.retry, signal ? { signal } : {});
    if (a) this.last = a.nonce;
    return a;
  }

  /** Withdraws the subscription to `eid` (nothing answers a withdrawal). */
  withdraw(eid: string | Prefix, nonce: bigint): boolean {
    return this.o.send(this.request(toPrefix(eid), nonce, true));
  }

  onPublication(listener: (p: Publication) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Offers a received Map-Notify (its bytes for the authentication, its source to acknowledge):
   * true when it was the Map-Server's to us, a confirmation or a publication.
   */
  handleNotify(m: MapNotify, bytes: Uint8Array, from: string, sport: number, at: number): boolean {
    const confirming = this.confirmations.has(m.nonce);
    if (!confirming && this.last === undefined) return false;
    const auth = verifyAuth(bytes, this.o.key);
    if (!auth.ok) {
      this.stats.dropped++;
      this.log('warn', 'subscriber', `Map-Notify from ${from} failed authentication (${auth.reason}): dropped`);
      return true;
    }
    if (confirming) {
      this.ack(m, from, sport);
      this.confirmations.deliver(m.nonce, { notify: m, from }, at);
      return true;
    }
    // Nonces grow by one per publication (RFC 9437): one already taken is a retransmission, an
    // older one a replay. Compared modulo 2^64 over half the space.
    const ahead = (m.nonce - this.last! + (1n << 64n)) % (1n << 64n);
    if (ahead === 0n) {
      this.stats.repeats++;
      this.ack(m, from, sport);
      return true;
    }
    if (ahead >= 1n << 63n) {
      this.stats.dropped++;
      this.log('warn', 'subscriber', `Map-Notify from ${from} with an older nonce 0x${m.nonce.toString(16)} than the last one: a replay, dropped`);
      return true;
    }
    this.last = m.nonce;
    this.stats.publications++;
    this.ack(m, from, sport);
    for (const l of this.listeners) l({ notify: m, from, at });
    return true;
  }

  close(): void {
    this.confirmations.close();
  }

  private ack(m: MapNotify, to: string, port: number): void {
    const bytes = mapNotifyAck({
      nonce: m.nonce,
      keyId: keyIdField(m),
      key: this.o.key,
      authLength: m.authData.length,
      records: m.records,
      xtrId: this.o.xtrId,
      siteId: this.o.siteId,
    });
    this.o.reply(to, port, bytes);
  }

  private request(eid: Prefix, nonce: bigint, withdraw: boolean): Uint8Array {
    const dst = eidIp(eid.address);
    if (!dst) throw new RangeError(`cannot put ${eid.address.kind} EID in an inner IP header`);
    const req = mapRequest({
      nonce,
      eids: [eid],
      itrRlocs: [withdraw ? { kind: 'none', afi: 0 } : this.o.itrRloc],
      xtrId: this.o.xtrId,
      siteId: this.o.siteId,
      subscribe: !withdraw,
    });
    const sameFamily = dst.includes(':') === this.o.itrRloc.includes(':');
    const inner = { src: sameFamily ? this.o.itrRloc : dst.includes(':') ? '::' : '0.0.0.0', dst, sport: this.o.port, dport: this.o.controlPort ?? LISP_CONTROL_PORT };
    return encodeControl(ecm({ inner, message: req }));
  }
}
