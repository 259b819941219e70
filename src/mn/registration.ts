// Registering EID prefixes with a Map-Server (RFC 9301 §5.6, §8.2): a signed Map-Register with
// want-map-notify, retransmitted (with a new nonce each time) until the Map-Notify with the same
// nonce and a valid authentication arrives, then refreshed periodically. How the Map-Register
// travels is up to the owner: straight to the Map-Server, or as a Data-Map-Register through an RTR.

import { createHmac, randomBytes } from 'node:crypto';
import { authAlgorithm, keyIdField, splitKeyIdField, verifyAuth } from '../dissect/auth.js';
import { icmpErrorText, type IcmpError } from './icmp.js';
import { mapNotifyAck, mapRegister, randomNonce } from '../dissect/build.js';
import type { MapNotify, MappingRecord } from '../dissect/types.js';
import { prefixKey, type Prefix } from './eid.js';
import { silentLogger, type Logger } from './log.js';
import { NonceTable, type RetryTimers, type SentStamp } from './requests.js';

export interface MapServerAccess {
  address: string;
  /** Default 4342. */
  port?: number;
  /** The site's shared key (never logged). */
  key: string;
  /** 1 HMAC-SHA-1-96, 2 HMAC-SHA-256-128 (default). */
  keyId?: number;
}

export interface RegistrationFlags {
  /** P: the Map-Server answers Map-Requests for us. */
  proxyReply?: boolean;
  /** M (default true): ask for a Map-Notify. */
  wantMapNotify?: boolean;
  /** a: merge with other xTRs' registrations of the site. */
  merge?: boolean;
  /** Bit 22 ("m" in lispers.net/OOR): a mobile node. */
  mobileNode?: boolean;
  /** R (bit 7, NAT traversal): built for an RTR. */
  rtr?: boolean;
}

/**
 * The xTR-ID a node keeps across runs: the first 128 bits of HMAC-SHA-256 over its EID prefix,
 * keyed with the site key (so it reveals nothing of the key, and two sites' nodes do not collide).
 */
export function stableXtrId(eid: Prefix, key: string): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(`lispscope xTR-ID ${prefixKey(eid)}`).digest().subarray(0, 16));
}

export type RegisterSender = (bytes: Uint8Array, nonce: bigint, sent?: SentStamp) => boolean;

export interface RegistrarOptions extends RegistrationFlags {
  name: string;
  mapServer: MapServerAccess;
  /** The records to register, asked again at every attempt (the RLOCs may have changed). */
  records: () => MappingRecord[];
  /** 128-bit xTR-ID, sent with I set (random by default); null sends none (I clear), as OOR wants from an xTR that is not an RTR. */
  xtrId?: Uint8Array | null;
  /** 64-bit site-ID (default 0); sent only with an xTR-ID. */
  siteId?: Uint8Array;
  /** Puts the encoded Map-Register on the wire (calling `sent` when it left); false when it could not. */
  send: RegisterSender;
  /** Wait for the Map-Notify, and how often to retransmit. */
  retry: RetryTimers;
  /** Refresh period (RFC 9301 §8.2: 60 s). */
  intervalMs: number;
  log?: Logger;
}

export interface RegistrationResult {
  /** The nonce the Map-Notify answered. */
  nonce: bigint;
  /** Every nonce sent (retransmissions). */
  nonces: bigint[];
  attempts: number;
  rttMs: number;
  notify?: MapNotify;
  /** Who sent the Map-Notify. */
  from?: string;
}

export class Registrar {
  readonly xtrId: Uint8Array | undefined;
  readonly siteId: Uint8Array;
  private readonly notifies = new NonceTable<{ notify: MapNotify; from: string }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  /** The last successful registration. */
  last: RegistrationResult | undefined;
  /** Map-Notifies that arrived with a bad authentication or an unknown nonce. */
  rejected = 0;
  private closed = false;

  constructor(private readonly opts: RegistrarOptions) {
    this.xtrId = opts.xtrId === null ? undefined : (opts.xtrId ?? new Uint8Array(randomBytes(16)));
    this.siteId = opts.siteId ?? new Uint8Array(8);
    this.log = opts.log ?? silentLogger;
  }

  /** Changes how the Map-Register travels (after a move behind or out of a NAT). */
  setSender(send: RegisterSender, flags: RegistrationFlags = {}): void {
    this.opts.send = send;
    Object.assign(this.opts, flags);
  }

  /** The signed Map-Register for `nonce`. */
  build(nonce: bigint): Uint8Array {
    const o = this.opts;
    return mapRegister({
      nonce,
      keyId: o.mapServer.keyId ?? 2,
      key: o.mapServer.key,
      records: o.records(),
      proxyReply: o.proxyReply ?? false,
      wantMapNotify: o.wantMapNotify ?? true,
      merge: o.merge ?? false,
      mobileNode: o.mobileNode ?? false,
      builtForRtr: o.rtr ?? false,
      ...(this.xtrId ? { xtrId: this.xtrId, siteId: this.siteId } : {}),
    });
  }

  /**
   * Registers now. With want-map-notify, resolves when the Map-Notify arrives (undefined when
   * every retransmission went unanswered); without, resolves once the Map-Register is sent.
   */
  async register(signal?: AbortSignal): Promise<RegistrationResult | undefined> {
    const o = this.opts;
    if (o.wantMapNotify === false) {
      const nonce = randomNonce();
      if (!o.send(this.build(nonce), nonce)) return undefined;
      return { nonce, nonces: [nonce], attempts: 1, rttMs: 0 };
    }
    const a = await this.notifies.request(
      (nonce, attempt, sent) => {
        if (attempt > 0) this.log('info', o.name, `no Map-Notify yet: retransmitting the Map-Register (attempt ${attempt + 1})`);
        return o.send(this.build(nonce), nonce, sent);
      },
      o.retry,
      signal ? { signal } : {},
    );
    if (!a) {
      if (this.closed) return undefined;
      this.log('warn', o.name, `no Map-Notify from ${o.mapServer.address} after ${o.retry.retries + 1} Map-Registers`);
      return undefined;
    }
    this.last = { nonce: a.nonce, nonces: a.nonces, attempts: a.attempts, rttMs: a.rttMs, notify: a.value.notify, from: a.value.from };
    return this.last;
  }

  /**
   * Offers a received Map-Notify (its bytes, for the authentication). True when it was for us: the
   * nonce is one we wait for; it settles the registration only when it verifies with the site key.
   */
  handleNotify(notify: MapNotify, bytes: Uint8Array, from: string, at?: number): boolean {
    if (!this.notifies.has(notify.nonce)) return false;
    const auth = verifyAuth(bytes, this.opts.mapServer.key);
    if (!auth.ok) {
      this.rejected++;
      this.log('warn', this.opts.name, `Map-Notify from ${from} failed authentication (${auth.reason}): dropped`);
      return true;
    }
    this.notifies.deliver(notify.nonce, { notify, from }, at);
    return true;
  }

  /**
   * The Map-Notify-Ack (RFC 9301 §5.7) for an unsolicited Map-Notify (an RLOC-set change the
   * Map-Server tells us about): same nonce and records, signed with the site key. Undefined when the
   * Map-Notify does not verify with our key (then it is not for us).
   */
  ackFor(notify: MapNotify, bytes: Uint8Array, from: string): Uint8Array | undefined {
    const auth = verifyAuth(bytes, this.opts.mapServer.key);
    if (!auth.ok) {
      this.rejected++;
      this.log('warn', this.opts.name, `unsolicited Map-Notify from ${from} failed authentication (${auth.reason}): not acknowledged`);
      return undefined;
    }
    return mapNotifyAck({
      nonce: notify.nonce,
      keyId: keyIdField(notify),
      key: this.opts.mapServer.key,
      authLength: notify.authData.length,
      records: notify.records,
      ...(notify.xtrId ? { xtrId: notify.xtrId, siteId: notify.siteId ?? new Uint8Array(8) } : {}),
    });
  }

  /** Refreshes the registration every intervalMs from now on (the first one at once unless `now` is false). */
  start(now = true): void {
    this.stop();
    if (this.closed) return;
    const tick = () => {
      void this.register();
      this.timer = setTimeout(tick, this.opts.intervalMs);
      this.timer.unref?.();
    };
    if (now) tick();
    else {
      this.timer = setTimeout(tick, this.opts.intervalMs);
      this.timer.unref?.();
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops and gives up any registration in progress. */
  close(): void {
    this.closed = true;
    this.stop();
    this.notifies.close();
  }
}

/**
 * Why a Map-Register went unanswered, in one line: the ICMP error when one came back, else the
 * likely causes, most likely first (a Map-Server drops what it cannot accept without a word).
 */
export function registerFailure(o: { ms: string; port: number; eid: string; attempts: number; keyId: number; xtrId: boolean; icmp?: IcmpError | undefined }): { text: string; causes: string[] } {
  const head = `No Map-Notify from ${o.ms} for ${o.eid}`;
  if (o.icmp) {
    const cause = `${icmpErrorText(o.icmp)}${o.icmp.portUnreachable ? ': check the Map-Server address and port' : ''}`;
    return { text: `${head}: ${cause}`, causes: [cause] };
  }
  const alg = authAlgorithm(splitKeyIdField(o.keyId).algorithmId)?.name ?? `algorithm ${o.keyId}`;
  const causes = [
    'the key (a Map-Server drops a Map-Register that does not verify, without a word)',
    o.keyId === 1 ? `the key id (1, ${alg}: some Map-Servers want 2)` : `the key id (${o.keyId}, ${alg}: Open Overlay Router accepts only 1, --key-id 1)`,
    ...(o.xtrId ? ['the xTR-ID (OOR drops an I-bit Map-Register from an xTR that is not one of its RTRs: --xtr-id none)'] : []),
    `the Map-Server address or port (${o.ms.includes(':') ? `[${o.ms}]` : o.ms}:${o.port}; no ICMP error came back)`,
  ];
  const n = o.attempts;
  return { text: `${head} after ${n} Map-Register${n === 1 ? '' : 's'}; likely causes, most likely first: ${causes.map((c, i) => `${i + 1}. ${c}`).join('; ')}`, causes };
}
