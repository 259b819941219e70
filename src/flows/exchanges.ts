// Matches LISP control messages into exchanges (json-contract.md, "Exchange rules"): one exchange
// per request nonce; retransmissions (same nonce, or same requester and EID before an answer) join
// the first request's exchange; an ECM'd Map-Request, its forwards and the Map-Reply are one
// resolution; an SMR, the peer's SMR-invoked Map-Request and its Map-Reply are one smr exchange.
// Registrations over the Map-Server reliable transport (TCP) become registration exchanges too:
// see `reliable` below. State is bounded: exchanges close `timeout` after their last packet
// (capture time), at most `maxOpen` are open, and exchanges are handed out in order of their start.

import { addressBits, coreAddress, parsePrefix, prefixText, type Prefix } from '../dissect/address.js';
import { prefixCovers } from '../dissect/prefix.js';
import { referralActionSlug, actionSlug } from '../dissect/registry.js';
import { isOpaque, rejectReasonSlug, type MappingNotification, type Registration, type RegistrationReject } from '../dissect/reliable.js';
import type { InfoMessage, LispAddress, MapNotify, MapRegister, MapReply, MapRequest } from '../dissect/types.js';
import type { MappingTracker } from './mappings.js';
import type { Exchange, ExchangeKind, FrameRef } from './types.js';
import { locatorSet, nonceText, recordEid, rlocText, type ControlView, type ReliableView } from './view.js';

export interface ExchangeOptions {
  /** Seconds after its last packet an exchange closes; unanswered ones are then `unanswered`. */
  timeout?: number;
  /** Open exchanges at most; the oldest is closed early beyond it (counted in `dropped`). */
  maxOpen?: number;
  /** An exchange still open this long after its start is closed anyway (endless retransmissions). */
  maxLifetime?: number;
  /** Receives exchanges in order of start time as they close. */
  onExchange: (e: Exchange) => void;
}

interface Open extends Exchange {
  /** Capture time of the last packet that belonged to it. */
  last: number;
  /** Time of the last request (retransmissions restart the timeout). */
  lastRequest: number;
  /** Who sent the request (and the SMR-invoked request): a repeat from them is a retransmission, from elsewhere a forward. */
  senders: string[];
  answered: boolean;
  closed: boolean;
  nonces: string[];
  /** Registration: the EIDs and locators registered, to recognise a new-nonce retransmission. */
  key?: string;
  /** smr: the peer that must send the SMR-invoked request, and the EIDs it may ask for. */
  smrPeer?: string;
  smrEids?: Prefix[];
  /** Reliable transport: the connection + EID prefix keys it is filed under (one per record). */
  tcpKeys?: string[];
}

export interface ExchangeCounters {
  /** Exchanges closed early because too many were open. */
  dropped: number;
  /** Answers that arrived after their exchange closed. */
  lateAnswers: number;
  /** Answers whose request was never seen (their exchanges have requestSeen: false). */
  orphanAnswers: number;
  /**
   * Registration ACKs and Rejects (reliable transport) with no open Registration of their EID
   * prefix on their connection: it was before the capture, or its exchange had closed.
   */
  unmatchedRegistrationAnswers: number;
}

/** An exchange not reported yet (ExchangeTracker.pending). */
export interface PendingExchange {
  exchange: Exchange;
  open: boolean;
}

const AUTH_FAILED = 'auth-failed' as const;
const MAX_CLOSED_NONCES = 65_536;

export class ExchangeTracker {
  private readonly timeout: number;
  private readonly maxOpen: number;
  private readonly maxLifetime: number;
  /** Open exchanges in order of start; closed ones wait here until everything before them closed. */
  private queue: Open[] = [];
  private head = 0;
  private openCount = 0;
  private readonly byNonce = new Map<string, Open>();
  /** Unanswered requests by requester + EID (+ kind), for retransmissions with a fresh nonce. */
  private readonly byRequest = new Map<string, Open>();
  /** SMRs waiting for their SMR-invoked request, by the peer they went to. */
  private readonly smrByPeer = new Map<string, Open[]>();
  /** Nonces of closed exchanges, kept a while to recognise late answers; oldest first in closedOrder. */
  private readonly closedNonces = new Map<string, number>();
  private closedOrder: string[] = [];
  private closedHead = 0;
  /** Last registration time per site and EID (for intervalMs). */
  private readonly lastRegistration = new Map<string, number>();
  /** Open reliable-transport registrations by connection + EID prefix, oldest first. */
  private readonly byConnectionEid = new Map<string, Open[]>();
  private lastSweep = -Infinity;
  readonly counters: ExchangeCounters = { dropped: 0, lateAnswers: 0, orphanAnswers: 0, unmatchedRegistrationAnswers: 0 };

  constructor(
    private readonly opts: ExchangeOptions,
    private readonly mappings?: MappingTracker,
  ) {
    this.timeout = opts.timeout ?? 3;
    this.maxOpen = opts.maxOpen ?? 100_000;
    this.maxLifetime = opts.maxLifetime ?? 300;
  }

  get open(): number {
    return this.openCount;
  }

  control(v: ControlView, ref: FrameRef): void {
    this.sweep(v.ts);
    const m = v.m;
    if ('unknown' in m) return;
    switch (m.type) {
      case 1:
        if (m.smr) this.smr(v, m, ref);
        else this.request(v, m, ref);
        break;
      case 2:
        this.reply(v, m, ref);
        break;
      case 3:
        this.register(v, m, ref);
        break;
      case 4:
        this.notify(v, m, ref);
        break;
      case 5:
        this.notifyAck(v, m, ref);
        break;
      case 6:
        this.answer(v, nonceText(m.nonce), ref, (e) => {
          e.kind = 'referral';
          const r = m.records[0];
          if (r) {
            e.referralAction = referralActionSlug(r.action);
            e.rlocs = locatorSet(r.referrals);
          }
          e.outcome = 'answered';
        }, 'referral', m.records[0] ? recordEid(m.records[0]) : undefined);
        break;
      case 7:
        if (m.reply) this.infoReply(v, m, ref);
        else this.infoRequest(v, m, ref);
        break;
    }
  }

  /** Advances capture time: closes what timed out. */
  sweep(now: number, force = false): void {
    if (!force && now - this.lastSweep < 0.5) return;
    this.lastSweep = now;
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i]!;
      if (e.closed) continue;
      const idle = e.answered ? now - e.last : now - e.lastRequest;
      if (idle > this.timeout || now - e.start > this.maxLifetime) this.close(e);
    }
    this.emit();
    while (this.closedHead < this.closedOrder.length) {
      const n = this.closedOrder[this.closedHead]!;
      if (now - (this.closedNonces.get(n) ?? -Infinity) <= 60) break;
      this.forgetOldestClosed();
    }
  }

  /**
   * The exchanges started but not handed to onExchange yet, in the order it will get them: copies,
   * so that a viewer (the terminal UI) can show a request still waiting for its answer. `open` is
   * false for one already closed that waits for an earlier one (exchanges go out in start order);
   * an open one's outcome is provisional (`unanswered` until an answer comes).
   */
  pending(): PendingExchange[] {
    const out: PendingExchange[] = [];
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i]!;
      out.push({ exchange: { ...publicView(e), frames: [...e.frames] }, open: !e.closed });
    }
    return out;
  }

  /** End of input: everything open closes. */
  finish(): void {
    for (let i = this.head; i < this.queue.length; i++) if (!this.queue[i]!.closed) this.close(this.queue[i]!);
    this.emit();
  }

  // ---- requests ----------------------------------------------------------------------------

  private start(v: ControlView, kind: ExchangeKind, nonce: string, eid: string, requester: string, ref: FrameRef): Open {
    const e = this.enqueue(v.ts, v.src, kind, nonce, eid, requester, ref);
    e.nonces.push(nonce);
    if (v.ecm) e.via = v.ecm.outerDst;
    this.byNonce.set(nonce, e);
    return e;
  }

  /** A new exchange in the queue, not yet findable by nonce (`start` files it). */
  private enqueue(ts: number, sender: string, kind: ExchangeKind, nonce: string, eid: string, requester: string, ref: FrameRef): Open {
    if (this.openCount >= this.maxOpen) {
      let i = this.head;
      while (i < this.queue.length && this.queue[i]!.closed) i++;
      const oldest = this.queue[i];
      if (oldest) {
        this.counters.dropped++;
        this.close(oldest);
        this.emit();
      }
    }
    const e: Open = {
      kind,
      eid,
      nonce,
      frames: [ref],
      start: ts,
      requester,
      rttMs: null,
      retransmissions: 0,
      outcome: 'unanswered',
      last: ts,
      lastRequest: ts,
      senders: [sender],
      answered: false,
      closed: false,
      nonces: [],
    };
    this.queue.push(e);
    this.openCount++;
    return e;
  }

  /** A request whose nonce (or requester + EID) is already open: a retransmission or a forward. */
  private repeat(e: Open, v: ControlView, nonce: string, ref: FrameRef): void {
    e.frames.push(ref);
    e.last = v.ts;
    if (!e.nonces.includes(nonce)) {
      e.nonces.push(nonce);
      this.byNonce.set(nonce, e);
    }
    // The same request again from its sender is a retransmission; from another hop
    // (Map-Resolver → Map-Server → ETR) it is the request being forwarded.
    if (e.senders.includes(v.src) && !e.answered) {
      e.retransmissions++;
      e.lastRequest = v.ts;
    }
  }

  private request(v: ControlView, m: MapRequest, ref: FrameRef): void {
    const nonce = nonceText(m.nonce);
    const eid = m.eids[0] ? prefixText(m.eids[0].prefix, m.eids[0].maskLen) : '(none)';
    const requester = (m.itrRlocs[0] && coreAddress(m.itrRlocs[0])) ?? v.ecm?.innerSrc ?? v.src;
    const kind: ExchangeKind = m.probe ? 'rloc-probe' : 'resolution';
    const known = this.byNonce.get(nonce);
    if (known && !known.closed && !(known.answered && known.kind === 'referral')) {
      this.repeat(known, v, nonce, ref);
      return;
    }
    if (m.smrInvoked && this.invoked(v, nonce, requester, eid, ref)) return;
    const reqKey = `${kind} ${requester} ${eid}`;
    const pending = this.byRequest.get(reqKey);
    if (pending && !pending.closed && !pending.answered) {
      this.repeat(pending, v, nonce, ref);
      return;
    }
    const e = this.start(v, kind, nonce, eid, requester, ref);
    e.key = reqKey;
    if (v.ecm?.lispSec) e.lispSec = 'requested';
    this.byRequest.set(reqKey, e);
  }

  private smr(v: ControlView, m: MapRequest, ref: FrameRef): void {
    const nonce = nonceText(m.nonce);
    const known = this.byNonce.get(nonce);
    if (known && !known.closed) {
      this.repeat(known, v, nonce, ref);
      return;
    }
    // The peer re-requests "the EID copied from the SMR" (RFC 9301 §6.1); implementations copy
    // either the EID record or the SMR's source EID (the mapping that changed): accept both.
    const candidates: Prefix[] = m.eids.map((p) => ({ address: p.prefix, maskLen: p.maskLen }));
    if (m.sourceEid.kind !== 'none') candidates.unshift({ address: m.sourceEid, maskLen: addressBits(m.sourceEid) });
    const texts = candidates.map((p) => prefixText(p.address, p.maskLen));
    const e = this.start(v, 'smr', nonce, texts[0] ?? '(none)', v.src, ref);
    e.responder = v.dst;
    e.smrPeer = v.dst;
    e.smrEids = candidates;
    const list = this.smrByPeer.get(v.dst) ?? [];
    list.push(e);
    this.smrByPeer.set(v.dst, list);
    this.mappings?.smr(v.ts, v.dst, texts);
  }

  /** Links an SMR-invoked Map-Request to the SMR that caused it; false when there is none. */
  private invoked(v: ControlView, nonce: string, requester: string, eid: string, ref: FrameRef): boolean {
    const peers = [requester, v.ecm?.innerSrc, v.src].filter((x): x is string => !!x);
    for (const peer of peers) {
      const list = this.smrByPeer.get(peer);
      if (!list) continue;
      const asked = parsePrefix(eid);
      const e = asked && list.find((s) => !s.closed && !s.invokedNonce && s.smrEids!.some((x) => prefixCovers(x, asked)));
      if (!e) continue;
      e.invokedNonce = nonce;
      e.invokedMs = ms(v.ts - e.start);
      e.eid = eid;
      e.frames.push(ref);
      e.last = v.ts;
      e.lastRequest = v.ts;
      e.nonces.push(nonce);
      e.senders.push(v.src);
      this.byNonce.set(nonce, e);
      if (v.ecm) e.via = v.ecm.outerDst;
      return true;
    }
    return false;
  }

  private register(v: ControlView, m: MapRegister, ref: FrameRef): void {
    const nonce = nonceText(m.nonce);
    const eids = m.records.map(recordEid);
    const rlocs = [...new Set(m.records.flatMap((r) => locatorSet(r.locators)))].sort();
    // The registering xTR: the ECM's inner source for a Data-Map-Register through an RTR.
    const requester = v.ecm?.innerSrc ?? v.src;
    const site = m.xtrId ? hex(m.xtrId) : requester;
    for (const r of m.records) this.mappings?.announce(v.ts, ref, 'map-register', requester, recordEid(r), locatorSet(r.locators));
    const known = this.byNonce.get(nonce);
    if (known && !known.closed) {
      this.repeat(known, v, nonce, ref);
      this.authCheck(known, v);
      return;
    }
    const key = `registration ${site} ${eids.join(',')} ${rlocs.join(',')}`;
    const pending = this.byRequest.get(key);
    if (pending && !pending.closed && !pending.answered) {
      this.repeat(pending, v, nonce, ref);
      this.authCheck(pending, v);
      return;
    }
    const e = this.start(v, 'registration', nonce, eids[0] ?? '(none)', requester, ref);
    e.key = key;
    e.site = site;
    e.rlocs = rlocs;
    e.wantMapNotify = m.wantMapNotify;
    e.responder = v.ecm ? v.ecm.innerDst : v.dst;
    if (!m.wantMapNotify) e.outcome = 'unacknowledged';
    this.interval(e, v.ts);
    this.byRequest.set(key, e);
    this.authCheck(e, v);
  }

  /** intervalMs: the time since this site's previous registration of the EID (either transport). */
  private interval(e: Open, ts: number): void {
    const seriesKey = `${e.site} ${e.eid}`;
    const prev = this.lastRegistration.get(seriesKey);
    if (prev !== undefined) e.intervalMs = ms(ts - prev);
    if (this.lastRegistration.size < 100_000 || prev !== undefined) this.lastRegistration.set(seriesKey, ts);
  }

  private notify(v: ControlView, m: MapNotify, ref: FrameRef): void {
    const nonce = nonceText(m.nonce);
    for (const r of m.records) this.mappings?.announce(v.ts, ref, 'map-notify', v.ecm?.innerSrc ?? v.src, recordEid(r), locatorSet(r.locators));
    const e = this.byNonce.get(nonce);
    if (e && !e.closed) {
      if (e.kind === 'registration' && !e.senders.includes(v.src) && !e.answered) {
        // The Map-Notify answering a Map-Register (possibly relayed by an RTR).
        this.answered(e, v, ref);
        e.responder = v.ecm?.innerSrc ?? v.src;
        if (e.outcome !== AUTH_FAILED) e.outcome = 'answered';
        this.authCheck(e, v);
      } else {
        // A retransmitted or relayed Map-Notify.
        this.repeat(e, v, nonce, ref);
        this.authCheck(e, v);
      }
      return;
    }
    if (this.late(nonce)) return;
    // Unsolicited (RLOC-set change, merge): its Map-Notify-Ack answers it.
    const n = this.start(v, 'registration', nonce, m.records[0] ? recordEid(m.records[0]) : '(none)', v.src, ref);
    n.rlocs = [...new Set(m.records.flatMap((r) => locatorSet(r.locators)))].sort();
    n.responder = v.dst;
    n.site = m.xtrId ? hex(m.xtrId) : v.dst;
    this.authCheck(n, v);
  }

  private notifyAck(v: ControlView, m: MapNotify, ref: FrameRef): void {
    this.answer(v, nonceText(m.nonce), ref, (e) => {
      if (e.outcome !== AUTH_FAILED) e.outcome = 'answered';
      this.authCheck(e, v);
    });
  }

  private infoRequest(v: ControlView, m: InfoMessage, ref: FrameRef): void {
    const nonce = nonceText(m.nonce);
    const known = this.byNonce.get(nonce);
    if (known && !known.closed) {
      this.repeat(known, v, nonce, ref);
      return;
    }
    const e = this.start(v, 'nat-info', nonce, prefixText(m.eid, m.eidMaskLen), v.src, ref);
    e.responder = v.dst;
    this.authCheck(e, v);
  }

  private infoReply(v: ControlView, m: InfoMessage, ref: FrameRef): void {
    this.answer(v, nonceText(m.nonce), ref, (e) => {
      e.outcome = e.outcome === AUTH_FAILED ? AUTH_FAILED : 'answered';
      const a = m.address;
      if (a.kind === 'lcaf' && a.lcaf.body.kind === 'nat-traversal') {
        const n = a.lcaf.body;
        e.nat = {
          etrUdpPort: n.etrUdpPort,
          msUdpPort: n.msUdpPort,
          rtrRlocs: n.rtrRlocs.map(rlocText),
        };
        if (n.globalEtrRloc.kind !== 'none') e.nat.globalEtrRloc = rlocText(n.globalEtrRloc);
        if (n.msRloc.kind !== 'none') e.nat.msRloc = rlocText(n.msRloc);
        if (n.privateEtrRloc.kind !== 'none') e.nat.privateEtrRloc = rlocText(n.privateEtrRloc);
      }
      this.authCheck(e, v);
    }, 'nat-info', prefixText(m.eid, m.eidMaskLen));
  }

  // ---- the Map-Server reliable transport (TCP) ----------------------------------------------
  //
  // draft-ietf-lisp-map-server-reliable-transport: on one TCP session the ETR sends a Registration
  // (a Map-Register without UDP) per EID-record set, and the Map-Server answers each EID prefix
  // with a Registration ACK or a Registration Reject. Those carry the EID prefix and no reference
  // to the Registration: their Message ID is the Map-Server's own (each side numbers its messages;
  // Cisco IOS counts from 0 on each session), and one Map-Register's nonce may be reused for
  // several Registrations. So an answer belongs to the oldest open Registration of its EID prefix
  // on the same connection (only the Map-Server sends them). Nonces play no part:
  // these exchanges are not filed by nonce, so UDP Map-Registers reusing a nonce stay apart.

  /** One reliable-transport message, at the frame that completed it. */
  reliable(v: ReliableView, ref: FrameRef): void {
    this.sweep(v.ts);
    const m = v.m;
    if (isOpaque(m)) return;
    switch (m.type) {
      case 17:
        if (m.mapRegister.type === 3 && !('unknown' in m.mapRegister)) this.registration(v, m, m.mapRegister, ref);
        break;
      case 18:
        this.registrationAnswer(v, m.eid, m.eidMaskLen, ref);
        break;
      case 19:
        this.registrationAnswer(v, m.eid, m.eidMaskLen, ref, m);
        break;
      case 21:
        this.mappingNotification(v, m, ref);
        break;
      // Registration Refresh (the Map-Server asks for registrations again) and Error Notification
      // are not exchanges of their own; the Registrations a Refresh brings are.
    }
  }

  private registration(v: ReliableView, r: Registration, m: MapRegister, ref: FrameRef): void {
    const eids = m.records.map(recordEid);
    const rlocs = [...new Set(m.records.flatMap((x) => locatorSet(x.locators)))].sort();
    for (const x of m.records) this.mappings?.announce(v.ts, ref, 'map-register', v.src, recordEid(x), locatorSet(x.locators), 'tcp');
    const keys = m.records.map((x) => connectionEidKey(v.connection, x.eid, x.eidMaskLen));
    // The same prefixes and locators again before an answer: a retransmission (contract: same
    // requester and EID before an answer), as for a UDP Map-Register with a fresh nonce.
    const pending = keys.length
      ? this.byConnectionEid.get(keys[0]!)?.find((e) => !e.answered && sameList(e.tcpKeys!, keys) && sameList(e.rlocs!, rlocs))
      : undefined;
    if (pending) {
      pushFrame(pending, ref);
      pending.last = v.ts;
      pending.lastRequest = v.ts;
      pending.retransmissions++;
      this.authCheck(pending, v);
      return;
    }
    const e = this.enqueue(v.ts, v.src, 'registration', nonceText(m.nonce), eids[0] ?? '(none)', v.src, ref);
    e.transport = 'tcp';
    e.messageId = r.messageId;
    e.responder = v.dst;
    e.site = m.xtrId ? hex(m.xtrId) : v.src;
    e.rlocs = rlocs;
    // Kept as a fact of the Map-Register; over the session every Registration is answered, so an
    // unanswered one is `unanswered` whatever M says.
    e.wantMapNotify = m.wantMapNotify;
    e.tcpKeys = keys;
    for (const k of new Set(keys)) {
      const list = this.byConnectionEid.get(k);
      if (list) list.push(e);
      else this.byConnectionEid.set(k, [e]);
    }
    this.interval(e, v.ts);
    this.authCheck(e, v);
  }

  /** A Registration ACK, or a Registration Reject (`reject`), for one EID prefix. */
  private registrationAnswer(v: ReliableView, eid: LispAddress, maskLen: number, ref: FrameRef, reject?: RegistrationReject): void {
    const open = this.byConnectionEid.get(connectionEidKey(v.connection, eid, maskLen)) ?? [];
    // The oldest unanswered Registration; else a repeated answer, or the answer for another prefix
    // of a Registration of several records: it joins the latest.
    const e = open.find((x) => !x.answered) ?? open[open.length - 1];
    if (!e) {
      this.counters.unmatchedRegistrationAnswers++;
      return;
    }
    if (!e.answered) {
      this.answered(e, v, ref);
      if (e.outcome !== AUTH_FAILED) e.outcome = 'answered';
    } else {
      pushFrame(e, ref);
      e.last = v.ts;
    }
    // A refusal of any of its prefixes is not hidden by the acceptance of another.
    if (reject) {
      if (e.outcome !== AUTH_FAILED) e.outcome = 'rejected';
      e.rejectReason ??= rejectReasonSlug(reject.reason);
    }
  }

  /** The Map-Server tells the ETR the mapping it now holds: on the timeline, and in the registration's story. */
  private mappingNotification(v: ReliableView, m: MappingNotification, ref: FrameRef): void {
    this.mappings?.announce(v.ts, ref, 'mapping-notification', v.src, recordEid(m.record), locatorSet(m.record.locators), 'tcp');
    const list = this.byConnectionEid.get(connectionEidKey(v.connection, m.record.eid, m.record.eidMaskLen));
    const e = list?.[list.length - 1];
    if (!e) return;
    pushFrame(e, ref);
    e.last = v.ts;
  }

  // ---- answers -----------------------------------------------------------------------------

  private reply(v: ControlView, m: MapReply, ref: FrameRef): void {
    const nonce = nonceText(m.nonce);
    const rec = m.records[0];
    for (const r of m.records) {
      const eid = recordEid(r);
      const rlocs = locatorSet(r.locators);
      if (rlocs.length) {
        this.mappings?.announce(v.ts, ref, 'map-reply', v.src, eid, rlocs);
        this.mappings?.learned(v.ts, v.dst, eid, rlocs);
      }
    }
    this.answer(
      v,
      nonce,
      ref,
      (e) => {
        if (e.kind === 'rloc-probe' || m.probe) {
          const probed = m.records.flatMap((r) => r.locators).find((l) => l.probed);
          if (probed) e.probedRloc = rlocText(probed.rloc);
        }
        const negative = m.records.length > 0 && m.records.every((r) => r.locators.length === 0);
        e.outcome = negative ? 'negative' : 'answered';
        if (m.lispSec?.eidAd && m.lispSec.pktAd) e.lispSec = 'protected';
        else if (e.lispSec === 'requested') e.lispSec = 'unprotected';
        if (negative && rec) e.action = actionSlug(rec.action);
        e.rlocs = [...new Set(m.records.flatMap((r) => locatorSet(r.locators)))].sort();
      },
      m.probe ? 'rloc-probe' : 'resolution',
      rec ? recordEid(rec) : undefined,
    );
  }

  /**
   * Applies an answer to the exchange of `nonce`. Without one: a late answer is counted; an answer
   * whose request was never captured still becomes an exchange (requestSeen: false).
   */
  private answer(v: ControlView, nonce: string, ref: FrameRef, apply: (e: Open) => void, orphanKind?: ExchangeKind, eid?: string): void {
    const e = this.byNonce.get(nonce);
    if (e && !e.closed) {
      if (!e.answered) {
        this.answered(e, v, ref);
        // For an SMR the responder stays the peer that was solicited.
        if (e.kind !== 'smr') e.responder = v.src;
      } else {
        e.frames.push(ref);
        e.last = v.ts;
      }
      apply(e);
      return;
    }
    if (this.late(nonce) || !orphanKind) return;
    this.counters.orphanAnswers++;
    const o = this.start(v, orphanKind, nonce, eid ?? '(none)', v.dst, ref);
    o.responder = v.src;
    o.answered = true;
    o.requestSeen = false;
    apply(o);
  }

  private answered(e: Open, v: { ts: number }, ref: FrameRef): void {
    e.answered = true;
    e.rttMs = ms(v.ts - e.start);
    e.frames.push(ref);
    e.last = v.ts;
    if (e.key) this.byRequest.delete(e.key);
  }

  private late(nonce: string): boolean {
    if (!this.closedNonces.has(nonce)) return false;
    this.counters.lateAnswers++;
    return true;
  }

  private authCheck(e: Open, v: Pick<ControlView, 'authOk' | 'authError'>): void {
    if (v.authOk === false) {
      e.outcome = AUTH_FAILED;
      e.authError = v.authError;
    }
  }

  // ---- closing -----------------------------------------------------------------------------

  private close(e: Open): void {
    e.closed = true;
    this.openCount--;
    for (const n of e.nonces) {
      if (this.byNonce.get(n) === e) this.byNonce.delete(n);
      this.closedNonces.set(n, e.last);
      this.closedOrder.push(n);
    }
    // Late answers are recognised for a minute, but never by more than a bounded table.
    while (this.closedNonces.size > MAX_CLOSED_NONCES) this.forgetOldestClosed();
    if (e.key && this.byRequest.get(e.key) === e) this.byRequest.delete(e.key);
    if (e.smrPeer) {
      const list = this.smrByPeer.get(e.smrPeer)?.filter((x) => x !== e);
      if (list?.length) this.smrByPeer.set(e.smrPeer, list);
      else this.smrByPeer.delete(e.smrPeer);
    }
    for (const k of e.tcpKeys ?? []) {
      const list = this.byConnectionEid.get(k)?.filter((x) => x !== e);
      if (list?.length) this.byConnectionEid.set(k, list);
      else this.byConnectionEid.delete(k);
    }
    if (!e.answered && e.outcome !== 'unacknowledged' && e.outcome !== AUTH_FAILED) e.outcome = 'unanswered';
  }

  private forgetOldestClosed(): void {
    const n = this.closedOrder[this.closedHead++]!;
    this.closedNonces.delete(n);
    if (this.closedHead > 4096 && this.closedHead * 2 > this.closedOrder.length) {
      this.closedOrder = this.closedOrder.slice(this.closedHead);
      this.closedHead = 0;
    }
  }

  private emit(): void {
    while (this.head < this.queue.length && this.queue[this.head]!.closed) {
      const e = this.queue[this.head++]!;
      this.opts.onExchange(publicView(e));
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

function publicView(e: Open): Exchange {
  const {
    last: _l,
    lastRequest: _r,
    senders: _s,
    answered: _a,
    closed: _c,
    nonces: _n,
    key: _k,
    smrPeer: _p,
    smrEids: _e,
    tcpKeys: _t,
    ...x
  } = e;
  return x;
}

/**
 * Where a reliable-transport registration of an EID prefix is filed: the connection and the prefix,
 * Instance ID 0 written as no Instance ID (a Registration's record may name the prefix plainly and
 * the Map-Server's ACK as `[0]` prefix, as Cisco IOS does).
 */
function connectionEidKey(connection: string, eid: LispAddress, maskLen: number): string {
  const plain = eid.kind === 'lcaf' && eid.lcaf.body.kind === 'instance-id' && eid.lcaf.body.iid === 0 ? eid.lcaf.body.address : eid;
  return `${connection} ${prefixText(plain, maskLen)}`;
}

/** Adds a frame to an exchange, once (one frame may carry several messages of the session). */
function pushFrame(e: Open, ref: FrameRef): void {
  const last = e.frames[e.frames.length - 1];
  if (!last || last.frame !== ref.frame || last.file !== ref.file) e.frames.push(ref);
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function ms(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e3;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const v of b) s += v.toString(16).padStart(2, '0');
  return s;
}

