// Matches LISP control messages into exchanges (json-contract.md, "Exchange rules").
//
// One exchange per request and its retransmissions. A retransmission is a request of the same
// kind, from the same sender to the same destination for the same EID set (a registration: the
// same records), sent while the exchange still waits for its answer; real stacks retransmit with
// the same nonce or a fresh one. A request to another destination is never a retransmission; a
// copy of the request sent on by a node it was sent to (Map-Resolver → Map-Server → ETR, ITR →
// RTR → Map-Server) is a forward, matched by nonce. Answers are matched by nonce; where several
// open exchanges share a nonce (OOR sends every SMR with nonce 0; `replay` resends old ones), the
// one still waiting and addressed by the answer wins.
//
// Timing (see WAIT_BASE): an exchange waits for its answer or a retransmission WAIT_BASE[kind]
// seconds after its last transmission, or WAIT_FACTOR times the last interval between its
// transmissions when that is longer (exponential back-off), never more than WAIT_MAX. An answered
// exchange takes copies of its answer (relays, duplicates) for LINGER more seconds; a request after
// the answer starts a new exchange, as does a nonce reused after its exchange closed.
//
// Registrations over the Map-Server reliable transport (TCP) become registration exchanges too:
// see `reliable` below. State is bounded: at most `maxOpen` exchanges are open, each closes after
// `maxLifetime`, and exchanges are handed out in order of their start (or as they close: `order`).

import { keyIdField } from '../dissect/auth.js';
import { addressBits, coreAddress, parseAddress, prefixText, type Prefix } from '../dissect/address.js';
import { prefixCovers } from '../dissect/prefix.js';
import { actionSlug, MessageType, referralActionSlug } from '../dissect/registry.js';
import { isOpaque, type MappingNotification, type Registration, type RegistrationReject, rejectReasonSlug, ReliableType } from '../dissect/reliable.js';
import type { LispAddress, Locator, MapRegister } from '../dissect/types.js';
import type { InfoView, NotifyView, ReferralView, RegisterView, ReplyView, RequestView } from './view.js';
import type { MappingTracker } from './mappings.js';
import { ExchangeSlots, NO_FRAME, OUTCOMES, outcomeCode, SlotFlag } from './exchange-slots.js';
import { NonceTable } from './nonce-table.js';
import { lists, texts } from './text-pool.js';
import type { Exchange, ExchangeKind, ExchangeSummary, FrameRef, Outcome } from './types.js';
import { locatorSet, nonceText, recordEid, rlocText, type ControlView, type ReliableView } from './view.js';

/**
 * Seconds an unanswered exchange waits after its last transmission, per kind. Each sits well above
 * the retransmission intervals implementations use and well below their periodic intervals, so
 * that ±10% jitter cannot move a transmission across it:
 * - registration: OOR retries a Map-Register every 3 s, lispscope mn backs off 1-2-4 s, lispers.net
 *   retransmits an unsolicited Map-Notify every 2 s; refreshes come every 60 s (RFC 9301 §8.2);
 * - resolution, smr, referral: Map-Requests at most once per second per EID-prefix with back-off
 *   (RFC 9301 §5.3), OOR and lispscope mn retry after 1-2 s;
 * - rloc-probe: OOR retries every 5 s, lispers.net probes every 10 s and waits 15 s; probe cycles
 *   are 30 s and more;
 * - nat-info: OOR retries about every 0.3 s; periodic Info-Requests (lispers.net) come every 15 s.
 */
export const WAIT_BASE: Readonly<Record<ExchangeKind, number>> = {
  registration: 10,
  resolution: 10,
  smr: 10,
  referral: 10,
  'rloc-probe': 20,
  'nat-info': 10,
  subscription: 10,
  publication: 10,
};
/** A back-off is followed: the wait is at least this many times the last retransmission interval. */
export const WAIT_FACTOR = 3;
/** ...but never longer than this (a periodic refresh is not a retransmission). */
export const WAIT_MAX = 60;
/** Seconds an answered exchange still takes copies of its answer. */
export const LINGER = 3;

export interface ExchangeOptions {
  /** Seconds an unanswered exchange waits after its last transmission, for every kind (default: WAIT_BASE). */
  timeout?: number;
  /** Open exchanges at most; the oldest is closed early beyond it (counted in `dropped`). */
  maxOpen?: number;
  /** An exchange still open this long after its start is closed anyway (endless retransmissions). */
  maxLifetime?: number;
  /**
   * When exchanges are handed to onExchange: `start` (the default), in order of start time, each
   * once it and every exchange started before it closed; `close`, each as soon as it closes, for a
   * consumer that orders them itself or needs no order. Behind one long-lived exchange, `start`
   * holds every later one (closed, final) until it closes; `close` holds none.
   */
  order?: ExchangeOrder;
  /**
   * Receives each exchange once it is final, with `startIndex`, its place in order of start time
   * (0, 1, 2, ... without gaps: under order `start` they arrive in that order).
   */
  onExchange?: (e: Exchange, startIndex: number) => void;
  /**
   * Without onExchange: receives the same, as its summary only (the exchange itself is not built).
   * With neither, exchanges are matched and closed but handed to nobody.
   */
  onSummary?: (e: ExchangeSummary, startIndex: number) => void;
  /**
   * Nobody reads the exchanges, only what the mapping tracker makes of the messages (`mappings`
   * without `--fail-on`): only the kinds it depends on are followed (MAPPING_INPUTS). Resolutions,
   * RLOC probes, SMRs and referrals are neither started nor made orphans of an answer: on a busy
   * capture they are most of the exchanges. The mapping tracker is told what it is told with every
   * exchange followed, unless an answer's nonce is shared by one of those and a subscription.
   */
  mappingInputsOnly?: boolean;
}

export type ExchangeOrder = 'start' | 'close';

/** The message that answers an exchange (a subscription: the Map-Server's Map-Notify, or a Map-Reply). */
type Answer = 'map-reply' | 'map-notify' | 'map-notify-ack' | 'info-reply' | 'registration-answer' | 'subscription';

/** A subscription in force (RFC 9437): its Map-Notifies to the subscriber are publications. */
interface Subscription {
  nonce: string;
  eid: Prefix;
  /** Where publications go: the subscriber's ITR-RLOCs and the address it asked from. */
  subscriber: string[];
  site?: string;
}

const MAX_SUBSCRIPTIONS = 65_536;

/**
 * The exchanges what the mapping tracker is told depends on: registrations (their Map-Notify is not
 * a publication), subscriptions and publications (theirs is), NAT Info (the RTRs an Info-Reply
 * names relay data). See ExchangeOptions.mappingInputsOnly.
 */
const MAPPING_INPUTS: ReadonlySet<ExchangeKind> = new Set<ExchangeKind>(['registration', 'subscription', 'publication', 'nat-info']);

/** The exchange fields few exchanges have (kept in Rare). */
type RarePublic =
  'notes' | 'icmp' | 'smrInvoked' | 'withdraw' | 'subscriptionNonce' | 'lispSec' | 'invokedNonce' | 'invokedMs' |
  'probedRloc' | 'nat' | 'action' | 'authError' | 'transport' | 'messageId' | 'rejectReason';

/**
 * What few exchanges have, in an object of its own made for the one that needs it (`rare`): in the
 * exchange itself, these fields made every exchange 144 bytes larger, and every exchange (open for
 * seconds of capture) is moved to the old generation with all of them. One shape for all (every
 * field from the start), as for Open.
 */
interface Rare extends Pick<Exchange, RarePublic> {
  /** Reliable transport: the connection + EID prefix keys it is filed under (one per record). */
  tcpKeys: string[] | undefined;
}

function newRare(): Rare {
  return {
    notes: undefined,
    icmp: undefined,
    smrInvoked: undefined,
    withdraw: undefined,
    subscriptionNonce: undefined,
    lispSec: undefined,
    invokedNonce: undefined,
    invokedMs: undefined,
    probedRloc: undefined,
    nat: undefined,
    action: undefined,
    authError: undefined,
    transport: undefined,
    messageId: undefined,
    rejectReason: undefined,
    tcpKeys: undefined,
  };
}

/** Every exchange's Rare until it needs one of its own (never written to). */
const NO_RARE: Rare = newRare();

/** The exchange's own Rare, for writing. */
function rare(e: Open): Rare {
  if (e.x === NO_RARE) e.x = newRare();
  return e.x;
}

/** The exchange fields kept in the tracker's ExchangeSlots instead. */
type InSlots = 'frames' | 'start' | 'rttMs' | 'timeToAnswerMs' | 'retransmissions' | 'outcome' | 'keyId' | 'wantMapNotify' | 'intervalMs' | 'requestSeen';

/**
 * An exchange in flight. The nonce that ties it together, as decoded, is in its slot (slots.nonce):
 * its text is written when the exchange is reported.
 */
interface Open extends Omit<Exchange, RarePublic | InSlots | 'nonce'> {
  /**
   * Its frames after the first two (those are in its slot: see pushFrame), and the capture of each
   * frame while any is not the first capture (else NO_FILES). Numbers, not the packets' FrameRef
   * objects: every exchange is old enough to be copied by the collector, and a frame reference each
   * made most exchanges three objects larger.
   */
  moreFrames: number[];
  frameFiles: number[];
  /** Its rare fields (NO_RARE when it has none). */
  x: Rare;
  /** Its place in order of start (onExchange's startIndex). */
  startIndex: number;
  /**
   * Its place in the tracker's ExchangeSlots until it is reported: its times, `start`, `last` (of
   * the last packet that belonged to it) and `lastTx` (of the requester's last transmission:
   * retransmissions restart the wait), its first frames, answer timing and flags. Read only while
   * it is open or waits in the queue: once reported, the slot is another exchange's.
   */
  slot: number;
  /**
   * Its nonces after the first as decoded (bigint keys: no text per packet). The first is its slot's,
   * the one it starts with; how many it is filed under is in its slot (nonceCount: none
   * for one not filed by nonce, and none any more once closed). Most have one: no array of their own.
   */
  moreNonces: bigint[];
  /**
   * Per nonce (the first, then `moreNonces`): time of the requester's latest transmission with it,
   * NaN or missing when none (rtt_ms). NO_TIMES while the first transmission, at `start`, is the
   * only one: most exchanges have no other, and a time of their own is one more object each.
   */
  txAt: number[];
  /** Outer source (address and port) of the first transmission; its repeats are retransmissions, not forwards. */
  sender: string;
  senderPort: number;
  /**
   * Where the request was sent (outer destinations): a copy sent on by one of them is a forward.
   * Lists of the pool, shared (`lists`): replaced, never changed.
   */
  hops: readonly string[];
  /** Where an answer to the requester goes (its addresses, ITR-RLOCs, the sender); as `hops`. */
  replyTo: readonly string[];
  closed: boolean;
  /**
   * Retransmission keys it is filed under after its first (smr: its SMR-invoked request's). The
   * first is `firstId`, filed while the slot's flag Filed says so.
   */
  moreIdentities: string[];
  /** The retransmission key of its first transmission, to recognise a copy of it translated by a NAT. */
  firstId: string;
  expects: Answer;
}

export interface ExchangeCounters {
  /** Exchanges closed early because too many were open. */
  dropped: number;
  /** Answers that arrived after their exchange closed. */
  lateAnswers: number;
  /** Answers whose request was never seen (their exchanges are `reply-only`). */
  orphanAnswers: number;
  /**
   * Registration ACKs and Rejects (reliable transport) with no open Registration of their EID
   * prefix on their connection: it was before the capture, or its exchange had closed.
   */
  unmatchedRegistrationAnswers: number;
}

/** An ICMP error quoting a control message (the nonce of the message it quotes, inside an ECM too). */
export interface IcmpView {
  ts: number;
  /** Who sent the error. */
  from: string;
  /** The quoted message's nonce, when the quote reaches it. */
  nonce?: bigint;
  /** The quoted datagram's addresses and ports. */
  src: string;
  dst: string;
  sport?: number;
  dport?: number;
  icmp: NonNullable<Exchange['icmp']>;
}

/** An exchange not reported yet (ExchangeTracker.pending). */
export interface PendingExchange {
  exchange: Exchange;
  open: boolean;
  startIndex: number;
}

const AUTH_FAILED = 'auth-failed' as const;
/**
 * Open exchanges at most (the oldest closes early beyond it, counted): 5,000 new unanswered requests
 * a second for the 10 s they wait, far beyond a real deployment's rate, within 100 MB of heap.
 */
const MAX_OPEN = 50_000;
/** A copy of a request translated by a NAT follows it within this many seconds (the lab's: 0.1 ms). */
const TRANSLATED_WITHIN = 1;
/** An ICMP error that quotes no nonce is looked for among this many of the latest exchanges. */
const ICMP_SCAN = 4096;
const MAX_CLOSED_NONCES = 65_536;
/** Sites and EIDs whose registrations are followed for intervalMs, at most. */
const MAX_REGISTRATION_SERIES = 100_000;
/** Kinds whose answer goes straight from the last hop to the requester, bypassing the forwarder. */
const ANSWERED_AROUND: ReadonlySet<ExchangeKind> = new Set(['resolution', 'rloc-probe', 'smr', 'referral']);

export class ExchangeTracker {
  private readonly timeout: number | undefined;
  private readonly maxOpen: number;
  private readonly maxLifetime: number;
  /** Order `close`: each exchange goes out as it closes, and the queue keeps only the latest (ICMP_SCAN). */
  private readonly byClose: boolean;
  /** ExchangeOptions.mappingInputsOnly. */
  private readonly inputsOnly: boolean;
  /**
   * Exchanges in order of start: open ones, and closed ones (their matching state let go) waiting
   * until everything before them closed. A closed one becomes its public view only when it leaves:
   * built at close, the view of every exchange behind a long-lived one lived long enough to be
   * copied into the old generation, next to the exchange it came from.
   */
  private queue: Open[] = [];
  private head = 0;
  /** Exchanges started so far (the next one's startIndex). */
  private started = 0;
  /** The open exchanges in order of start (closed ones leave at a later sweep). */
  private live: Open[] = [];
  /**
   * For each of `live`, a capture time up to which it cannot be over (-Infinity: not known yet):
   * the sweep passes over it without reading the exchange. Reading each of tens of thousands of
   * open exchanges, scattered over the heap, twice a second of capture missed the cache every time.
   * The bound is the exchange's end (`end`) when the sweep last looked; whatever can bring the end
   * earlier voids it (`moved`). A bound that allowed for any later packet (the end, or `now` plus
   * the shortest wait a packet starts, whichever came first) had an unanswered exchange looked at
   * three times before its end and once at it.
   */
  private liveUntil: number[] = [];
  /** For each of `live`, its startIndex: `moved` finds an exchange's place by it (`live` is in order of start). */
  private liveStart: number[] = [];
  /** Everything in `live` before it is closed (the cap closes the oldest: it starts looking here). */
  private liveHead = 0;
  private openCount = 0;
  /** Open exchanges by each of their nonces (several may share one: then a list). */
  private readonly byNonce = new NonceTable<Open | Open[]>();
  private readonly slots = new ExchangeSlots();
  /** Exchanges waiting for their answer, by retransmission key. */
  private readonly byIdentity = new Map<string, Open>();
  /**
   * SMRs waiting for their SMR-invoked request, by the peer they went to, oldest first. Closed
   * ones leave in bulk, once they are most of the list: a busy peer's SMRs, closing one by one,
   * must not each cost a pass over all the others.
   */
  private readonly smrByPeer = new Map<string, { list: Open[]; closed: number }>();
  /**
   * Nonces of closed exchanges, kept a while to recognise late answers: oldest first in closedOrder
   * from closedHead to closedTail (an array of bigints kept each nonce's object), with the time of
   * each in closedAt, and by nonce in closedNonces, where each has the place of its latest entry
   * counted from the first ever (closedBase: closedOrder[0]'s). The time as the table's value was a
   * heap number of its own per nonce, moved to the old generation with the table.
   */
  private readonly closedNonces = new NonceTable<number>();
  private closedOrder = new BigUint64Array(4096);
  private closedAt = new Float64Array(4096);
  private closedBase = 0;
  private closedHead = 0;
  private closedTail = 0;
  /**
   * The last registration per site and EID (for intervalMs): its place in registeredAt, which holds
   * the time. Keyed by the exchange's own texts, not by a text made of both, and the times unboxed:
   * both were objects of their own per series, moved to the old generation with the map.
   */
  private readonly lastRegistration = new Map<string, Map<string, number>>();
  private registeredAt = new Float64Array(1024);
  private registrationSeries = 0;
  /** Open reliable-transport registrations by connection + EID prefix, oldest first. */
  private readonly byConnectionEid = new Map<string, Open[]>();
  /** Subscriptions in force by subscriber address (each of its addresses), for its publications. */
  private readonly subscriptions = new Map<string, Subscription[]>();
  private subscriptionCount = 0;
  private lastSweep = -Infinity;
  /** `finish` was called: the input is over. */
  private ended = false;
  readonly counters: ExchangeCounters = { dropped: 0, lateAnswers: 0, orphanAnswers: 0, unmatchedRegistrationAnswers: 0 };

  constructor(
    private readonly opts: ExchangeOptions,
    private readonly mappings?: MappingTracker,
  ) {
    this.timeout = opts.timeout;
    this.maxOpen = opts.maxOpen ?? MAX_OPEN;
    this.maxLifetime = opts.maxLifetime ?? 300;
    this.byClose = opts.order === 'close';
    this.inputsOnly = opts.mappingInputsOnly ?? false;
  }

  get open(): number {
    return this.openCount;
  }

  control(v: ControlView, ref: FrameRef): void {
    this.sweep(v.ts);
    const m = v.m;
    if ('unknown' in m) return;
    switch (m.type) {
      case MessageType.MapRequest:
        if (m.smr) this.smr(v, m, ref);
        else this.request(v, m, ref);
        break;
      case MessageType.MapReply:
        this.reply(v, m, ref);
        break;
      case MessageType.MapRegister:
        this.register(v, m, ref);
        break;
      case MessageType.MapNotify:
        this.notify(v, m, ref);
        break;
      case MessageType.MapNotifyAck:
        this.notifyAck(v, m, ref);
        break;
      case MessageType.MapReferral:
        this.referral(v, m, ref);
        break;
      case MessageType.Info:
        if (m.reply) this.infoReply(v, m, ref);
        else this.infoRequest(v, m, ref);
        break;
    }
  }

  /** Advances capture time: closes what timed out. */
  sweep(now: number, force = false): void {
    if (!force && now - this.lastSweep < 0.5) return;
    this.lastSweep = now;
    // Only the open ones are looked at: behind one long-lived exchange, the queue can hold
    // everything that started after it. Of those, only the ones whose bound has passed.
    const live = this.live;
    const until = this.liveUntil;
    const starts = this.liveStart;
    let n = 0;
    for (let i = 0; i < live.length; i++) {
      const t = until[i]!;
      if (now <= t) {
        live[n] = live[i]!;
        starts[n] = starts[i]!;
        until[n++] = t;
        continue;
      }
      const e = live[i]!;
      if (e.closed) continue;
      const end = this.end(e);
      if (now > end) {
        this.close(e);
        continue;
      }
      live[n] = e;
      starts[n] = starts[i]!;
      until[n++] = end;
    }
    live.length = n;
    until.length = n;
    starts.length = n;
    this.liveHead = 0;
    this.emit();
    while (this.closedHead < this.closedTail) {
      const latest = this.closedNonces.get(this.closedOrder[this.closedHead]!);
      if (latest !== undefined && now - this.closedAt[latest - this.closedBase]! <= 60) break;
      this.forgetOldestClosed();
    }
  }

  /**
   * The exchanges started but not handed to onExchange yet, in order of start: copies, so that a
   * viewer (the terminal UI) can show a request still waiting for its answer. `open` is false for
   * one already closed that waits for an earlier one (order `start`: under `close` none waits); an
   * open one's outcome is provisional (`unanswered` until an answer comes).
   */
  pending(): PendingExchange[] {
    const out: PendingExchange[] = [];
    const list = this.byClose ? this.live : this.queue;
    for (let i = this.byClose ? 0 : this.head; i < list.length; i++) {
      const e = list[i]!;
      if (this.byClose && e.closed) continue;
      out.push({ exchange: this.view(e), open: !e.closed, startIndex: e.startIndex });
    }
    return out;
  }

  /** Exchanges started so far: the next one's startIndex. */
  get startedCount(): number {
    return this.started;
  }

  /**
   * The exchange of `startIndex` as `pending` would list it (a copy), without copying the others:
   * a viewer shows a page of tens of thousands. Undefined once it was handed to onExchange, or
   * when it closed and waits for an earlier one under order `close` (the caller holds those).
   */
  pendingAt(startIndex: number): PendingExchange | undefined {
    // Both lists are in order of start.
    const list = this.byClose ? this.live : this.queue;
    let lo = this.byClose ? 0 : this.head;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.startIndex < startIndex) lo = mid + 1;
      else hi = mid;
    }
    const e = list[lo];
    if (!e || e.startIndex !== startIndex || (this.byClose && e.closed)) return undefined;
    return { exchange: this.view(e), open: !e.closed, startIndex };
  }

  /**
   * End of input: everything open closes and is handed out. With `batch`, this call hands out at
   * most that many and says whether some are left (call it again), so that a writer can drain in
   * between: behind one long-lived exchange, every later one of the capture goes out at the end.
   */
  finish(batch = Infinity): boolean {
    this.ended = true;
    if (this.live.length) {
      for (const e of this.live) if (!e.closed) this.close(e);
      this.live = [];
      this.liveUntil = [];
      this.liveStart = [];
      this.liveHead = 0;
    }
    this.emit(batch);
    return !this.byClose && this.head < this.queue.length;
  }

  // ---- timing -------------------------------------------------------------------------------

  private waitFor(e: Open): number {
    const base = this.timeout ?? WAIT_BASE[e.kind];
    return Math.max(base, Math.min(WAIT_MAX, WAIT_FACTOR * this.slots.interval[e.slot]!));
  }

  /**
   * The capture time after which the exchange is over, as things stand. It comes earlier only when
   * the exchange stops waiting (answered: one that wants no answer is told so as it starts, before
   * any sweep), its requester sends again (the wait restarts from then, perhaps shorter) or a packet
   * of it is stamped earlier than the last: each calls `moved`.
   */
  private end(e: Open): number {
    const t = this.slots;
    const end = !this.waiting(e) ? t.last[e.slot]! + Math.min(LINGER, this.timeout ?? LINGER) : t.lastTx[e.slot]! + this.waitFor(e);
    return Math.min(end, t.start[e.slot]! + this.maxLifetime);
  }

  /** The exchange's end may have come earlier: the sweep's bound for it is void. */
  private moved(e: Open): void {
    const starts = this.liveStart;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! < e.startIndex) lo = mid + 1;
      else hi = mid;
    }
    if (lo < starts.length && starts[lo] === e.startIndex) this.liveUntil[lo] = -Infinity;
  }

  /** Is the exchange over at capture time `now`. */
  private over(e: Open, now: number): boolean {
    return now > this.end(e);
  }

  /** Still open at `now` (closes it when its time has passed but no sweep closed it yet). */
  private alive(e: Open, now: number): boolean {
    if (e.closed) return false;
    if (!this.over(e, now)) return true;
    this.close(e);
    return false;
  }

  /** Still waiting for its answer at `now`: a same request now is a retransmission. */
  private waitingAt(e: Open, now: number): boolean {
    return this.alive(e, now) && this.waiting(e);
  }

  /** It wants an answer and has none yet (whether or not its time is over). */
  private waiting(e: Open): boolean {
    return (this.slots.flags[e.slot]! & (SlotFlag.WantsAnswer | SlotFlag.Answered)) === SlotFlag.WantsAnswer;
  }

  private outcomeOf(e: Open): Outcome {
    return OUTCOMES[this.slots.outcome[e.slot]!]!;
  }

  private setOutcome(e: Open, outcome: Outcome): void {
    this.slots.outcome[e.slot] = outcomeCode(outcome);
  }

  private answered(e: Open): boolean {
    return this.slots.has(e.slot, SlotFlag.Answered);
  }

  // ---- requests ----------------------------------------------------------------------------

  /** A new exchange from its first transmission, findable by nonce. */
  private begin(v: ControlView, kind: ExchangeKind, nonce: bigint, eid: string, requester: string, ref: FrameRef, expects: Answer, id: string): Open {
    const e = this.enqueue(v.ts, v.src, v.sport, kind, nonce, eid, requester, ref, expects);
    e.firstId = id;
    this.transmitted(e, nonce, v.ts);
    e.hops = lists.of(v.dst);
    const inner = v.ecm?.innerSrc;
    const replyTo = lists.with(lists.of(v.src), e.requester);
    e.replyTo = inner === undefined ? replyTo : lists.with(replyTo, inner);
    return e;
  }

  /** A new exchange in the queue, not yet findable by nonce (`begin` files it). */
  private enqueue(ts: number, sender: string, senderPort: number, kind: ExchangeKind, nonce: bigint, eid: string, requester: string, ref: FrameRef, expects: Answer): Open {
    if (this.openCount >= this.maxOpen) {
      const live = this.live;
      while (this.liveHead < live.length && live[this.liveHead]!.closed) this.liveHead++;
      const oldest = live[this.liveHead];
      if (oldest) {
        this.counters.dropped++;
        this.close(oldest);
        // Out at the next sweep, not once its bound passes: a flood closes exchanges here by the
        // thousand, and `live` must not hold them all for seconds.
        this.liveUntil[this.liveHead] = -Infinity;
        this.emit();
      }
    }
    const e: Open = {
      kind,
      eid,
      moreFrames: NO_FRAMES,
      frameFiles: ref.file === 0 ? NO_FILES : [ref.file],
      slot: this.slots.take(ts, ref.frame, nonce),
      // Kept as long as the exchange: the pool's copy, not this packet's (an ITR-RLOC's text).
      requester: texts.get(requester),
      moreNonces: NO_NONCES,
      txAt: NO_TIMES,
      sender,
      senderPort,
      hops: NO_TEXT,
      replyTo: NO_TEXT,
      closed: false,
      moreIdentities: NO_TEXT,
      firstId: '',
      expects,
      // Every optional field from the start, so that all exchanges share one shape: added as each
      // kind needs them, in orders of their own, they made the hot paths' property accesses
      // megamorphic, and put the extras in a second object that grew with each one.
      responder: undefined,
      rlocs: undefined,
      via: undefined,
      site: undefined,
      referralAction: undefined,
      x: NO_RARE,
      startIndex: this.started++,
    };
    this.queue.push(e);
    this.live.push(e);
    this.liveUntil.push(-Infinity);
    this.liveStart.push(e.startIndex);
    this.openCount++;
    return e;
  }

  private fileNonce(e: Open, nonce: bigint): number {
    const i = nonceIndex(e, this.slots, nonce);
    if (i >= 0) return i;
    const count = this.slots.nonceCount;
    // The first is the nonce it started with (`begin`, `orphan`).
    if (count[e.slot] !== 0) e.moreNonces = e.moreNonces.concat(nonce);
    const known = this.byNonce.get(nonce);
    if (known === undefined) this.byNonce.set(nonce, e);
    else if (Array.isArray(known)) known.push(e);
    else this.byNonce.set(nonce, [known, e]);
    return count[e.slot]!++;
  }

  /** A packet of the exchange at `ts`: its frame joins it, and its last packet is this one. */
  private joined(e: Open, ref: FrameRef, ts: number): void {
    pushFrame(e, this.slots, ref);
    // A packet stamped earlier than the last (captures merged by time may step back) brings an
    // answered exchange's end earlier.
    if (ts < this.slots.last[e.slot]!) this.moved(e);
    this.slots.last[e.slot] = ts;
  }

  /** The requester sent the request again at `ts` (the wait restarts, with the back-off it shows). */
  private resent(e: Open, ref: FrameRef, ts: number): void {
    this.joined(e, ref, ts);
    const s = this.slots;
    s.retransmissions[e.slot]!++;
    s.interval[e.slot] = ts - s.lastTx[e.slot]!;
    s.lastTx[e.slot] = ts;
    this.moved(e);
  }

  /** The requester (re)sent the request with `nonce` at `ts`. */
  private transmitted(e: Open, nonce: bigint, ts: number): void {
    const i = this.fileNonce(e, nonce);
    let times = e.txAt;
    if (times === NO_TIMES) {
      if (i === 0 && ts === this.slots.start[e.slot]!) return;
      times = [this.slots.start[e.slot]!];
    }
    if (times.length <= i) times = times.concat(new Array<number>(i + 1 - times.length).fill(NaN));
    times[i] = ts;
    e.txAt = times;
  }

  /** The open exchanges with a nonce, oldest first. */
  private withNonce(nonce: bigint): readonly Open[] {
    const known = this.byNonce.get(nonce);
    return known === undefined ? NONE : Array.isArray(known) ? known : [known];
  }

  /** Files a waiting exchange under a retransmission key. */
  private fileIdentity(e: Open, id: string): void {
    // The first is filed by `begin`'s caller with the id it began with.
    if (!this.slots.has(e.slot, SlotFlag.Filed)) this.slots.set(e.slot, SlotFlag.Filed);
    else e.moreIdentities = e.moreIdentities.concat(id);
    this.byIdentity.set(id, e);
  }

  /**
   * A copy of an open exchange's request sent on by a node it was sent to (a Map-Resolver to the
   * Map-Server, the Map-Server to the ETR, an RTR to the Map-Server), or the same request seen again
   * after a NAT changed its source (same nonce, destination and content): joins it.
   */
  private forward(v: ControlView, nonce: bigint, ref: FrameRef, expects: Answer, id: string): Open | undefined {
    const list = this.withNonce(nonce);
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i]!;
      if (e.expects !== expects || fromSender(e, v) || !this.alive(e, v.ts)) continue;
      if (e.hops.includes(v.src)) {
        this.joined(e, ref, v.ts);
        if (!e.hops.includes(v.dst)) {
          e.hops = lists.with(e.hops, v.dst);
          this.slots.set(e.slot, SlotFlag.ForwardSeen);
        }
        return e;
      }
      // The request on its way through a NAT: seen again at once, before it could be answered
      // (a copy from a new port after the answer is someone sending it again: `replay`).
      if (!this.answered(e) && v.ts - this.slots.lastTx[e.slot]! <= TRANSLATED_WITHIN && e.hops.includes(v.dst) && withoutSender(e.firstId) === withoutSender(id)) {
        // Translated: answers now go to the NAT's address.
        this.joined(e, ref, v.ts);
        e.replyTo = lists.with(e.replyTo, v.src);
        return e;
      }
    }
    return undefined;
  }

  /**
   * The same request again while its exchange waits: a retransmission, found by its key (same kind,
   * sender, destination and EIDs; same nonce or a new one), or by its nonce from the same sender to
   * the same destination (a Map-Server resending a Map-Notify with fewer records is still resending).
   */
  private retransmission(id: string, v: ControlView, nonce: bigint, ref: FrameRef): Open | undefined {
    let e = this.byIdentity.get(id);
    if (!e || !this.waitingAt(e, v.ts)) {
      e = undefined;
      // Most requests are new, their nonce unseen: no kind to cut out of the key and no closure for them.
      const list = this.withNonce(nonce);
      if (list.length > 0) {
        // Of the same kind of message: a Map-Notify after a Map-Register with its nonce is no resend of it.
        const kind = id.slice(0, id.indexOf('|') + 1);
        e = list.find((x) => fromSender(x, v) && x.hops.includes(v.dst) && x.firstId.startsWith(kind) && this.waitingAt(x, v.ts));
      }
    }
    if (!e) return undefined;
    this.resent(e, ref, v.ts);
    this.transmitted(e, nonce, v.ts);
    return e;
  }

  private request(v: ControlView, m: RequestView, ref: FrameRef): void {
    const subscription = m.xtrIdPresent && !m.probe && !m.smrInvoked;
    const kind: ExchangeKind = subscription ? 'subscription' : m.probe ? 'rloc-probe' : 'resolution';
    if (!this.follows(kind)) return;
    const nonce = m.nonce;
    const asked = m.eids.map((p) => ({ address: p.prefix, maskLen: p.maskLen }));
    const eids = asked.map((p) => prefixText(p.address, p.maskLen));
    const itrRlocs = m.itrRlocs.map(coreAddress).filter((x): x is string => x !== undefined);
    const requester = itrRlocs[0] ?? v.ecm?.innerSrc ?? v.src;
    if (subscription) {
      this.subscribe(v, m, nonce, asked, eids, itrRlocs, ref);
      return;
    }
    const id = identity(kind, v, eids);
    if (this.forward(v, nonce, ref, 'map-reply', id)) return;
    if (m.smrInvoked && this.invoked(v, nonce, requester, itrRlocs, asked, eids, ref)) return;
    if (this.retransmission(id, v, nonce, ref)) return;
    const e = this.begin(v, kind, nonce, eids[0] ?? '(none)', requester, ref, 'map-reply', id);
    for (const r of itrRlocs) e.replyTo = lists.with(e.replyTo, r);
    if (asked[0]) this.slots.set(e.slot, SlotFlag.Asked);
    if (m.smrInvoked) rare(e).smrInvoked = true;
    if (v.ecm) {
      e.via = v.ecm.outerDst;
      if (v.ecm.lispSec) rare(e).lispSec = 'requested';
    }
    this.fileIdentity(e, id);
  }

  /**
   * A subscription (RFC 9437): a Map-Request with the I bit and the subscriber's xTR-ID. The
   * Map-Server confirms it with a Map-Notify of the same nonce (or answers with a Map-Reply); from
   * then on its Map-Notifies to the subscriber for the EID are publications. An ITR-RLOC of AFI 0
   * withdraws it: nothing answers that.
   */
  private subscribe(v: ControlView, m: RequestView, nonce: bigint, asked: Prefix[], eids: string[], itrRlocs: string[], ref: FrameRef): void {
    const id = identity('subscription', v, eids);
    if (this.forward(v, nonce, ref, 'subscription', id) || this.retransmission(id, v, nonce, ref)) return;
    const requester = itrRlocs[0] ?? v.src;
    const e = this.begin(v, 'subscription', nonce, eids[0] ?? '(none)', requester, ref, 'subscription', id);
    for (const r of itrRlocs) e.replyTo = lists.with(e.replyTo, r);
    if (m.xtrId) e.site = hex(m.xtrId);
    e.responder = v.ecm ? v.ecm.outerDst : v.dst;
    const subscriber = [...new Set([...itrRlocs, v.src])];
    for (const eid of asked) this.forgetSubscription(subscriber, eid);
    if (itrRlocs.length === 0) {
      rare(e).withdraw = true;
      this.slots.set(e.slot, SlotFlag.WantsAnswer, false);
      this.setOutcome(e, 'unacknowledged');
      return;
    }
    this.fileIdentity(e, id);
    for (const eid of asked) {
      if (this.subscriptionCount >= MAX_SUBSCRIPTIONS) break;
      const sub: Subscription = { nonce: nonceText(this.slots.nonce(e.slot)), eid, subscriber, ...(e.site ? { site: e.site } : {}) };
      this.subscriptionCount++;
      for (const a of subscriber) this.subscriptions.set(a, [...(this.subscriptions.get(a) ?? []), sub]);
    }
  }

  private forgetSubscription(subscriber: string[], eid: Prefix): void {
    for (const a of subscriber) {
      const list = this.subscriptions.get(a);
      if (!list) continue;
      const rest = list.filter((x) => !(x.eid.maskLen === eid.maskLen && prefixCovers(x.eid, eid)));
      this.subscriptionCount -= list.length - rest.length;
      if (rest.length) this.subscriptions.set(a, rest);
      else this.subscriptions.delete(a);
    }
  }

  /**
   * The subscription a Map-Notify publishes to: one of the destination's overlapping its first
   * record (a Map-Server publishes the registered prefix, which may cover the host it was asked for).
   */
  private publishedTo(v: ControlView, m: NotifyView): Subscription | undefined {
    const rec = m.records[0];
    if (!rec) return undefined;
    const record = { address: rec.eid, maskLen: rec.eidMaskLen };
    for (const a of [v.dst, v.ecm?.innerDst, v.tunnel?.innerDst]) {
      const found = a === undefined ? undefined : this.subscriptions.get(a)?.find((x) => prefixCovers(x.eid, record) || prefixCovers(record, x.eid));
      if (found) return found;
    }
    return undefined;
  }

  private smr(v: ControlView, m: RequestView, ref: FrameRef): void {
    const nonce = m.nonce;
    // The peer re-requests "the EID copied from the SMR" (RFC 9301 §6.1); implementations copy
    // either the EID record or the SMR's source EID (the mapping that changed): accept both.
    const texts = m.eids.map((p) => prefixText(p.prefix, p.maskLen));
    if (m.sourceEid.kind !== 'none') texts.unshift(prefixText(m.sourceEid, addressBits(m.sourceEid)));
    this.mappings?.smr(v.ts, v.dst, texts);
    if (!this.follows('smr')) return;
    const id = identity('smr', v, texts);
    if (this.forward(v, nonce, ref, 'map-reply', id) || this.retransmission(id, v, nonce, ref)) return;
    const e = this.begin(v, 'smr', nonce, texts[0] ?? '(none)', v.src, ref, 'map-reply', id);
    e.responder = v.dst;
    this.slots.smrPeer[e.slot] = v.dst;
    this.slots.smrEids[e.slot] = texts;
    this.fileIdentity(e, id);
    const smrs = this.smrByPeer.get(v.dst);
    if (smrs) smrs.list.push(e);
    else this.smrByPeer.set(v.dst, { list: [e], closed: 0 });
  }

  /** Links an SMR-invoked Map-Request to the SMR that caused it; false when there is none. */
  private invoked(v: ControlView, nonce: bigint, requester: string, itrRlocs: string[], asked: Prefix[], eids: string[], ref: FrameRef): boolean {
    const first = asked[0];
    if (!first) return false;
    for (const peer of [requester, v.ecm?.innerSrc, v.src]) {
      const list = peer === undefined ? undefined : this.smrByPeer.get(peer)?.list;
      const e = list?.find((s) => this.waitingAt(s, v.ts) && !s.x.invokedNonce && this.slots.smrEids[s.slot]!.some((x) => covers(x, first)));
      if (!e) continue;
      const r = rare(e);
      r.invokedNonce = nonceText(nonce);
      r.invokedMs = ms(v.ts - this.slots.start[e.slot]!);
      e.eid = eids[0]!;
      this.slots.set(e.slot, SlotFlag.Asked);
      this.joined(e, ref, v.ts);
      this.slots.lastTx[e.slot] = v.ts;
      this.moved(e);
      this.transmitted(e, nonce, v.ts);
      e.hops = lists.with(e.hops, v.dst);
      e.replyTo = lists.with(e.replyTo, v.src);
      e.replyTo = lists.with(e.replyTo, requester);
      for (const r of itrRlocs) e.replyTo = lists.with(e.replyTo, r);
      // The peer's retries of its SMR-invoked request (new nonces) belong to this exchange.
      this.fileIdentity(e, identity('resolution', v, eids));
      if (v.ecm) e.via = v.ecm.outerDst;
      return true;
    }
    return false;
  }

  private register(v: ControlView, m: RegisterView, ref: FrameRef): void {
    const nonce = m.nonce;
    const eids = m.records.map(recordEid);
    const rlocs = rlocSet(m.records);
    // The registering xTR: the ECM's inner source for a Map-Register through an RTR.
    const requester = v.ecm?.innerSrc ?? v.src;
    // Each record's EID text is built once, for the key and the mapping tracker alike.
    if (this.mappings) for (let i = 0; i < m.records.length; i++) this.mappings.announce(v.ts, ref, 'map-register', requester, eids[i]!, locatorSet(m.records[i]!.locators));
    const id = identity('registration', v, [...eids, '→', ...rlocs]);
    const relayed = this.forward(v, nonce, ref, 'map-notify', id);
    if (relayed) {
      this.authCheck(relayed, v);
      return;
    }
    const again = m.wantMapNotify ? this.retransmission(id, v, nonce, ref) : undefined;
    if (again) {
      this.authCheck(again, v);
      return;
    }
    const e = this.begin(v, 'registration', nonce, eids[0] ?? '(none)', requester, ref, 'map-notify', id);
    e.site = m.xtrId ? hex(m.xtrId) : requester;
    e.rlocs = rlocs;
    this.slots.set(e.slot, m.wantMapNotify ? SlotFlag.MapNotifyKnown | SlotFlag.WantMapNotify : SlotFlag.MapNotifyKnown);
    this.slots.keyId[e.slot] = keyIdField(m);
    e.responder = v.ecm ? v.ecm.innerDst : v.dst;
    const via = relay(v, false);
    if (via) {
      e.via = via;
      if (m.builtForRtr) this.mappings?.relay(via);
    }
    if (m.wantMapNotify) this.fileIdentity(e, id);
    else {
      this.slots.set(e.slot, SlotFlag.WantsAnswer, false);
      this.setOutcome(e, 'unacknowledged');
    }
    this.interval(e, e.site, v.ts);
    this.authCheck(e, v);
  }

  /** intervalMs: the time since this site's previous registration of the EID (either transport). */
  private interval(e: Open, site: string, ts: number): void {
    let series = this.lastRegistration.get(site);
    const at = series?.get(e.eid);
    if (at !== undefined) {
      this.slots.intervalMs[e.slot] = ms(ts - this.registeredAt[at]!);
      this.registeredAt[at] = ts;
      return;
    }
    if (this.registrationSeries >= MAX_REGISTRATION_SERIES) return;
    if (!series) this.lastRegistration.set(site, (series = new Map()));
    if (this.registrationSeries === this.registeredAt.length) {
      const times = new Float64Array(this.registeredAt.length * 2);
      times.set(this.registeredAt);
      this.registeredAt = times;
    }
    series.set(e.eid, this.registrationSeries);
    this.registeredAt[this.registrationSeries++] = ts;
  }

  private notify(v: ControlView, m: NotifyView, ref: FrameRef): void {
    const nonce = m.nonce;
    // The Map-Notify answering a Map-Register (also as an RTR relays it on), or confirming a subscription.
    const e = this.match(nonce, 'map-notify', v);
    const sub = e ? undefined : this.publishedTo(v, m);
    // Without a mapping tracker (flows), the records' EID and locator texts would be built for nobody.
    if (this.mappings) for (const r of m.records) {
      const eid = recordEid(r);
      const rlocs = locatorSet(r.locators);
      this.mappings.announce(v.ts, ref, sub || e?.kind === 'subscription' ? 'publication' : 'map-notify', v.ecm?.innerSrc ?? v.src, eid, rlocs);
      if (sub || e?.kind === 'subscription') this.mappings.learned(v.ts, v.dst, eid, rlocs);
    }
    if (e) {
      this.answer(e, v, nonce, ref);
      if (this.outcomeOf(e) === 'unanswered' || this.outcomeOf(e) === 'unacknowledged') this.setOutcome(e, 'answered');
      if (!e.via) {
        const via = relay(v, true);
        if (via) e.via = via;
      }
      this.authCheck(e, v);
      return;
    }
    if (this.late(nonce)) return;
    // Unsolicited (RLOC-set change, merge) or a publication: its Map-Notify-Ack answers it.
    const eids = m.records.map(recordEid);
    const id = identity(sub ? 'publication' : 'notify', v, eids);
    const again = this.forward(v, nonce, ref, 'map-notify-ack', id) ?? this.retransmission(id, v, nonce, ref);
    if (again) {
      this.authCheck(again, v);
      return;
    }
    const n = this.begin(v, sub ? 'publication' : 'registration', nonce, eids[0] ?? '(none)', v.src, ref, 'map-notify-ack', id);
    n.rlocs = rlocSet(m.records);
    n.responder = v.dst;
    n.site = m.xtrId ? hex(m.xtrId) : (sub?.site ?? v.dst);
    if (sub) rare(n).subscriptionNonce = sub.nonce;
    this.fileIdentity(n, id);
    this.authCheck(n, v);
  }

  private notifyAck(v: ControlView, m: NotifyView, ref: FrameRef): void {
    const nonce = m.nonce;
    const e = this.match(nonce, 'map-notify-ack', v);
    if (!e) {
      // The subscriber acknowledging the Map-Notify that confirmed its subscription.
      const sub = this.withNonce(nonce).find((x) => x.kind === 'subscription' && this.alive(x, v.ts));
      if (sub) {
        this.joined(sub, ref, v.ts);
        this.authCheck(sub, v);
      } else this.late(nonce);
      return;
    }
    this.answer(e, v, nonce, ref);
    if (this.outcomeOf(e) === 'unanswered') this.setOutcome(e, 'answered');
    this.authCheck(e, v);
  }

  private infoRequest(v: ControlView, m: InfoView, ref: FrameRef): void {
    const nonce = m.nonce;
    const eid = prefixText(m.eid, m.eidMaskLen);
    const id = identity('nat-info', v, [eid]);
    const again = this.forward(v, nonce, ref, 'info-reply', id) ?? this.retransmission(id, v, nonce, ref);
    if (again) {
      this.authCheck(again, v);
      return;
    }
    const e = this.begin(v, 'nat-info', nonce, eid, v.src, ref, 'info-reply', id);
    e.responder = v.dst;
    this.fileIdentity(e, id);
    this.authCheck(e, v);
  }

  // ---- answers -----------------------------------------------------------------------------

  private infoReply(v: ControlView, m: InfoView, ref: FrameRef): void {
    const nonce = m.nonce;
    const e = this.match(nonce, 'info-reply', v) ?? this.orphan(v, nonce, ref, 'nat-info', prefixText(m.eid, m.eidMaskLen), 'info-reply');
    if (!e) return;
    this.answer(e, v, nonce, ref);
    if (this.outcomeOf(e) === 'unanswered') this.setOutcome(e, 'answered');
    const a = m.address;
    if (a.kind === 'lcaf' && a.lcaf.body.kind === 'nat-traversal') {
      const n = a.lcaf.body;
      const nat: NonNullable<Exchange['nat']> = { etrUdpPort: n.etrUdpPort, msUdpPort: n.msUdpPort, rtrRlocs: n.rtrRlocs.map(rlocText) };
      rare(e).nat = nat;
      for (const r of nat.rtrRlocs) this.mappings?.relay(r);
      if (n.globalEtrRloc.kind !== 'none') nat.globalEtrRloc = rlocText(n.globalEtrRloc);
      if (n.msRloc.kind !== 'none') nat.msRloc = rlocText(n.msRloc);
      if (n.privateEtrRloc.kind !== 'none') nat.privateEtrRloc = rlocText(n.privateEtrRloc);
    }
    this.authCheck(e, v);
  }

  private reply(v: ControlView, m: ReplyView, ref: FrameRef): void {
    const nonce = m.nonce;
    if (this.mappings) for (const r of m.records) {
      const rlocs = locatorSet(r.locators);
      if (rlocs.length === 0) continue;
      const eid = recordEid(r);
      this.mappings.announce(v.ts, ref, 'map-reply', v.src, eid, rlocs);
      this.mappings.learned(v.ts, v.dst, eid, rlocs);
    }
    const rec = m.records[0];
    const e = this.match(nonce, 'map-reply', v) ?? this.orphan(v, nonce, ref, m.probe ? 'rloc-probe' : 'resolution', rec ? recordEid(rec) : '(none)', 'map-reply');
    if (!e) return;
    const first = !this.answered(e);
    this.answer(e, v, nonce, ref);
    if (e.kind === 'rloc-probe' || m.probe) {
      const probed = m.records.flatMap((r) => r.locators).find((l) => l.probed);
      if (probed) rare(e).probedRloc = rlocText(probed.rloc);
    }
    const negative = m.records.length > 0 && m.records.every((r) => r.locators.length === 0);
    if (this.outcomeOf(e) !== 'reply-only') this.setOutcome(e, negative ? 'negative' : 'answered');
    if (m.lispSec?.eidAd && m.lispSec.pktAd) rare(e).lispSec = 'protected';
    else if (e.x.lispSec === 'requested') e.x.lispSec = 'unprotected';
    if (negative && rec) rare(e).action = actionSlug(rec.action);
    e.rlocs = rlocSet(m.records);
    if (first && rec && this.slots.has(e.slot, SlotFlag.Asked) && recordEid(rec) !== e.eid) {
      const covering = { address: rec.eid, maskLen: rec.eidMaskLen };
      const asked = askedPrefix(e.eid);
      if (!asked || !prefixCovers(covering, asked)) {
        note(e, 'warning', `the Map-Reply's record ${recordEid(rec)} does not cover the requested EID ${e.eid}`);
      }
    }
  }

  private referral(v: ControlView, m: ReferralView, ref: FrameRef): void {
    const nonce = m.nonce;
    const r = m.records[0];
    const e = this.match(nonce, 'map-reply', v) ?? this.orphan(v, nonce, ref, 'referral', r ? recordEid(r) : '(none)', 'map-reply');
    if (!e) return;
    this.answer(e, v, nonce, ref);
    e.kind = 'referral';
    if (r) {
      e.referralAction = referralActionSlug(r.action);
      e.rlocs = locatorSet(r.referrals);
    }
    if (this.outcomeOf(e) !== 'reply-only') this.setOutcome(e, 'answered');
  }

  /**
   * The open exchange an answer with this nonce belongs to: one still waiting before one already
   * answered (a copy of its answer), one the answer is addressed to before another, the latest.
   */
  private match(nonce: bigint, expects: Answer, v: ControlView): Open | undefined {
    const list = this.withNonce(nonce);
    let best: Open | undefined;
    let bestScore = -1;
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i]!;
      const fits = e.expects === expects || (e.expects === 'subscription' && (expects === 'map-notify' || expects === 'map-reply'));
      if (!fits || !this.alive(e, v.ts) || (e.kind !== 'smr' && sameWay(e, v))) continue;
      const score = (this.answered(e) ? 0 : 2) + (addressedTo(e, v) ? 1 : 0);
      if (score > bestScore) {
        best = e;
        bestScore = score;
      }
    }
    return best;
  }

  /**
   * Applies an answer: the first sets rtt_ms (from the transmission with the echoed nonce) and the
   * responder; a later copy that reaches the requester when the first went to a relay on its way
   * (an RTR handing the Map-Notify on) measures rtt_ms again, to the requester.
   */
  private answer(e: Open, v: ControlView, nonce: bigint, ref: FrameRef): void {
    const toRequester = addressedTo(e, v);
    const s = this.slots;
    if (!this.answered(e)) {
      s.set(e.slot, toRequester ? SlotFlag.Answered | SlotFlag.AnswerToRequester : SlotFlag.Answered);
      this.moved(e);
      this.measure(e, v.ts, nonce);
      // For an SMR the responder stays the peer that was solicited.
      if (e.kind !== 'smr' && e.expects !== 'map-notify-ack') e.responder = v.ecm?.innerSrc ?? v.tunnel?.innerSrc ?? v.src;
      this.unfileIdentities(e);
    } else if (toRequester && !s.has(e.slot, SlotFlag.AnswerToRequester) && !Number.isNaN(s.rttUs[e.slot]!)) {
      s.set(e.slot, SlotFlag.AnswerToRequester);
      this.measure(e, v.ts, nonce);
    }
    this.joined(e, ref, v.ts);
  }

  private measure(e: Open, ts: number, nonce: bigint | undefined): void {
    if (this.outcomeOf(e) === 'reply-only') return;
    const i = nonce === undefined ? -1 : nonceIndex(e, this.slots, nonce);
    const sent = i < 0 ? undefined : e.txAt[i];
    const s = this.slots;
    s.rttUs[e.slot] = us(ts - (sent === undefined || Number.isNaN(sent) ? s.start[e.slot]! : sent));
    s.timeToAnswerUs[e.slot] = us(ts - s.start[e.slot]!);
  }

  /** An answer whose request this capture does not hold: an exchange of its own, `reply-only`. */
  private orphan(v: ControlView, nonce: bigint, ref: FrameRef, kind: ExchangeKind, eid: string, expects: Answer): Open | undefined {
    if (!this.follows(kind) || this.late(nonce)) return undefined;
    this.counters.orphanAnswers++;
    const o = this.enqueue(v.ts, v.dst, v.dport, kind, nonce, eid, v.tunnel?.innerDst ?? v.ecm?.innerDst ?? v.dst, ref, expects);
    this.slots.frame0[o.slot] = NO_FRAME;
    o.frameFiles = NO_FILES;
    this.setOutcome(o, 'reply-only');
    this.slots.set(o.slot, SlotFlag.RequestUnseen);
    o.replyTo = lists.with(o.replyTo, v.dst);
    this.fileNonce(o, nonce);
    return o;
  }

  /** Whether exchanges of this kind are followed: every kind, unless only the mapping tracker's inputs are. */
  private follows(kind: ExchangeKind): boolean {
    return !this.inputsOnly || MAPPING_INPUTS.has(kind);
  }

  private late(nonce: bigint): boolean {
    if (!this.closedNonces.has(nonce)) return false;
    this.counters.lateAnswers++;
    return true;
  }

  private authCheck(e: Open, v: Pick<ControlView, 'authOk' | 'authError'>): void {
    if (v.authOk === false) {
      this.setOutcome(e, AUTH_FAILED);
      rare(e).authError = v.authError;
    }
  }

  // ---- ICMP errors ----------------------------------------------------------------------------

  /**
   * An ICMP error quoting a control message: it answers the request it quotes (a Map-Register to a
   * Map-Server that is down draws port unreachable), which ends `unreachable` unless an answer comes.
   */
  icmpError(v: IcmpView, ref: FrameRef): void {
    this.sweep(v.ts);
    // By the quoted nonce; when the quote stops before the LISP message (RFC 792 quotes 8 bytes of
    // UDP), by the quoted addresses and ports among the latest requests.
    const list = v.nonce !== undefined ? this.withNonce(v.nonce) : this.queue.slice(Math.max(this.head, this.queue.length - ICMP_SCAN)).filter((e) => !e.closed);
    for (let i = list.length - 1; i >= 0; i--) {
      const e = list[i]!;
      if (!this.alive(e, v.ts) || !e.hops.includes(v.dst)) continue;
      if (v.nonce === undefined && (this.answered(e) || e.sender !== v.src || (v.sport !== undefined && e.senderPort !== v.sport))) continue;
      this.joined(e, ref, v.ts);
      rare(e).icmp ??= v.icmp;
      return;
    }
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
      case ReliableType.Registration:
        if (m.mapRegister.type === MessageType.MapRegister && !('unknown' in m.mapRegister)) this.registration(v, m, m.mapRegister, ref);
        break;
      case ReliableType.RegistrationAck:
        this.registrationAnswer(v, m.eid, m.eidMaskLen, ref);
        break;
      case ReliableType.RegistrationReject:
        this.registrationAnswer(v, m.eid, m.eidMaskLen, ref, m);
        break;
      case ReliableType.MappingNotification:
        this.mappingNotification(v, m, ref);
        break;
      // Registration Refresh (the Map-Server asks for registrations again) and Error Notification
      // are not exchanges of their own; the Registrations a Refresh brings are.
    }
  }

  private registration(v: ReliableView, r: Registration, m: MapRegister, ref: FrameRef): void {
    const eids = m.records.map(recordEid);
    const rlocs = rlocSet(m.records);
    if (this.mappings) for (let i = 0; i < m.records.length; i++) this.mappings.announce(v.ts, ref, 'map-register', v.src, eids[i]!, locatorSet(m.records[i]!.locators), 'tcp');
    const keys = m.records.map((x) => connectionEidKey(v.connection, x.eid, x.eidMaskLen));
    // The same prefixes and locators again before an answer: a retransmission, as for a UDP
    // Map-Register with a fresh nonce.
    const pending = keys.length
      ? this.byConnectionEid.get(keys[0]!)?.find((e) => this.waitingAt(e, v.ts) && sameList(e.x.tcpKeys!, keys) && sameList(e.rlocs!, rlocs))
      : undefined;
    if (pending) {
      this.resent(pending, ref, v.ts);
      this.authCheck(pending, v);
      return;
    }
    const e = this.enqueue(v.ts, v.src, v.sport, 'registration', m.nonce, eids[0] ?? '(none)', v.src, ref, 'registration-answer');
    const x = rare(e);
    x.transport = 'tcp';
    x.messageId = r.messageId;
    e.responder = v.dst;
    e.site = m.xtrId ? hex(m.xtrId) : v.src;
    e.rlocs = rlocs;
    this.slots.keyId[e.slot] = keyIdField(m);
    // Kept as a fact of the Map-Register; over the session every Registration is answered, so an
    // unanswered one is `unanswered` whatever M says.
    this.slots.set(e.slot, m.wantMapNotify ? SlotFlag.MapNotifyKnown | SlotFlag.WantMapNotify : SlotFlag.MapNotifyKnown);
    x.tcpKeys = keys;
    for (const k of new Set(keys)) {
      const list = this.byConnectionEid.get(k);
      if (list) list.push(e);
      else this.byConnectionEid.set(k, [e]);
    }
    this.interval(e, e.site, v.ts);
    this.authCheck(e, v);
  }

  /** A Registration ACK, or a Registration Reject (`reject`), for one EID prefix. */
  private registrationAnswer(v: ReliableView, eid: LispAddress, maskLen: number, ref: FrameRef, reject?: RegistrationReject): void {
    const open = (this.byConnectionEid.get(connectionEidKey(v.connection, eid, maskLen)) ?? []).filter((x) => this.alive(x, v.ts));
    // The oldest unanswered Registration; else a repeated answer, or the answer for another prefix
    // of a Registration of several records: it joins the latest.
    const e = open.find((x) => !this.answered(x)) ?? open[open.length - 1];
    if (!e) {
      this.counters.unmatchedRegistrationAnswers++;
      return;
    }
    if (!this.answered(e)) {
      this.slots.set(e.slot, SlotFlag.Answered | SlotFlag.AnswerToRequester);
      this.moved(e);
      // Not filed by nonce: rtt_ms runs from the first transmission.
      this.measure(e, v.ts, undefined);
      if (this.outcomeOf(e) !== AUTH_FAILED) this.setOutcome(e, 'answered');
    }
    this.joined(e, ref, v.ts);
    // A refusal of any of its prefixes is not hidden by the acceptance of another.
    if (reject) {
      if (this.outcomeOf(e) !== AUTH_FAILED) this.setOutcome(e, 'rejected');
      rare(e).rejectReason ??= rejectReasonSlug(reject.reason);
    }
  }

  /** The Map-Server tells the ETR the mapping it now holds: on the timeline, and in the registration's story. */
  private mappingNotification(v: ReliableView, m: MappingNotification, ref: FrameRef): void {
    this.mappings?.announce(v.ts, ref, 'mapping-notification', v.src, recordEid(m.record), locatorSet(m.record.locators), 'tcp');
    const list = this.byConnectionEid.get(connectionEidKey(v.connection, m.record.eid, m.record.eidMaskLen));
    const e = list?.[list.length - 1];
    if (!e || !this.alive(e, v.ts)) return;
    this.joined(e, ref, v.ts);
  }

  // ---- closing -----------------------------------------------------------------------------

  private close(e: Open): void {
    e.closed = true;
    this.openCount--;
    // At the end of the input nothing will be looked up again: what finds an exchange can stay.
    if (!this.ended) this.unfile(e);
    if (!this.answered(e) && this.outcomeOf(e) === 'unanswered') {
      if (e.x.icmp) this.setOutcome(e, 'unreachable');
      else if (this.slots.has(e.slot, SlotFlag.ForwardSeen) && ANSWERED_AROUND.has(e.kind)) this.setOutcome(e, 'forwarded');
    }
    // Final now: what waits in the queue is what will be reported; the matching state goes. (A
    // closed exchange's lists are never looked at again, but its kind, expects, sender and
    // closed still are: by lists of open ones taken before it closed.)
    this.slots.nonceCount[e.slot] = 0;
    e.moreNonces = NO_NONCES;
    e.txAt = NO_TIMES;
    e.hops = NO_TEXT;
    e.replyTo = NO_TEXT;
    this.slots.smrPeer[e.slot] = undefined;
    this.slots.smrEids[e.slot] = undefined;
    if (e.x !== NO_RARE) e.x.tcpKeys = undefined;
    if (this.byClose) this.report(e);
  }

  /** Takes a closing exchange off everything that finds an exchange (nonces, keys, SMR and connection lists). */
  private unfile(e: Open): void {
    const nonces = this.slots.nonceCount[e.slot]!;
    for (let i = 0; i < nonces; i++) {
      const n = i === 0 ? this.slots.nonce(e.slot) : e.moreNonces[i - 1]!;
      const known = this.byNonce.get(n);
      if (known === e) this.byNonce.delete(n);
      else if (Array.isArray(known)) {
        const rest = known.filter((x) => x !== e);
        if (rest.length > 1) this.byNonce.set(n, rest);
        else if (rest.length === 1) this.byNonce.set(n, rest[0]!);
        else this.byNonce.delete(n);
      }
      this.closedNonces.set(n, this.closedInOrder(n, this.slots.last[e.slot]!));
    }
    // Late answers are recognised for a minute, but never by more than a bounded table.
    while (this.closedNonces.size > MAX_CLOSED_NONCES) this.forgetOldestClosed();
    this.unfileIdentities(e);
    const peer = this.slots.smrPeer[e.slot];
    if (peer !== undefined) {
      const smrs = this.smrByPeer.get(peer);
      if (smrs && ++smrs.closed * 2 > smrs.list.length) {
        // A new array: a search of the old one may be under way (it skips closed ones).
        const open = smrs.list.filter((x) => !x.closed);
        if (open.length) this.smrByPeer.set(peer, { list: open, closed: 0 });
        else this.smrByPeer.delete(peer);
      }
    }
    for (const k of e.x.tcpKeys ?? []) {
      const list = this.byConnectionEid.get(k)?.filter((x) => x !== e);
      if (list?.length) this.byConnectionEid.set(k, list);
      else this.byConnectionEid.delete(k);
    }
  }

  /**
   * Takes the exchange's retransmission keys off the table (those still pointing at it), for good:
   * once answered or closed, it is never filed again, and closing an answered one looks nothing up.
   * Its first key goes too, filed or not: it is read only while the exchange is unanswered
   * (retransmission, forward), and let go at the answer it dies young instead of being moved to
   * the old generation with the exchange, which lingers for seconds.
   */
  private unfileIdentities(e: Open): void {
    if (this.slots.has(e.slot, SlotFlag.Filed)) {
      this.slots.set(e.slot, SlotFlag.Filed, false);
      if (this.byIdentity.get(e.firstId) === e) this.byIdentity.delete(e.firstId);
      for (const id of e.moreIdentities) if (this.byIdentity.get(id) === e) this.byIdentity.delete(id);
      e.moreIdentities = NO_TEXT;
    }
    e.firstId = '';
  }

  private forgetOldestClosed(): void {
    const n = this.closedOrder[this.closedHead++]!;
    this.closedNonces.delete(n);
  }

  /**
   * Appends to closedOrder (and its time to closedAt), and returns its place counted from the first
   * ever: moves the entries to the front when the end is reached, or doubles the arrays once more
   * than half is in use.
   */
  private closedInOrder(n: bigint, at: number): number {
    let order = this.closedOrder;
    let times = this.closedAt;
    if (this.closedTail === order.length) {
      const head = this.closedHead;
      const used = this.closedTail - head;
      if (used * 2 > order.length) {
        order = new BigUint64Array(order.length * 2);
        order.set(this.closedOrder.subarray(head, this.closedTail));
        times = new Float64Array(order.length);
        times.set(this.closedAt.subarray(head, this.closedTail));
        this.closedOrder = order;
        this.closedAt = times;
      } else {
        order.copyWithin(0, head, this.closedTail);
        times.copyWithin(0, head, this.closedTail);
      }
      this.closedBase += head;
      this.closedHead = 0;
      this.closedTail = used;
    }
    order[this.closedTail] = n;
    times[this.closedTail] = at;
    return this.closedBase + this.closedTail++;
  }

  /** Hands the exchange out: it is gone, and its slot of `times` goes to a later one. */
  private report(e: Open): void {
    const { onExchange, onSummary } = this.opts;
    if (onExchange) onExchange(this.view(e), e.startIndex);
    else if (onSummary) onSummary(summaryOf(e, this.slots), e.startIndex);
    this.slots.release(e.slot);
  }

  private view(e: Open): Exchange {
    return publicView(e, this.slots);
  }

  private emit(max = Infinity): void {
    // Order `close`: handed out as they closed; the ICMP match still looks among the latest started.
    if (this.byClose) this.head = Math.max(this.head, this.queue.length - ICMP_SCAN);
    else {
      for (let n = 0; n < max && this.head < this.queue.length; n++) {
        const e = this.queue[this.head]!;
        if (!e.closed) break;
        this.head++;
        this.report(e);
      }
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/** The fields of an Exchange publicView copies: adding one to Exchange without copying it here fails to compile. */
type Copied =
  'kind' | 'eid' | 'nonce' | 'frames' | 'start' | 'requester' | 'rttMs' | 'timeToAnswerMs' |
  'retransmissions' | 'outcome' | 'responder' | 'rlocs' | 'via' | 'notes' | 'icmp' | 'smrInvoked' | 'keyId' |
  'withdraw' | 'subscriptionNonce' | 'lispSec' | 'site' | 'wantMapNotify' | 'intervalMs' | 'requestSeen' |
  'invokedNonce' | 'invokedMs' | 'probedRloc' | 'nat' | 'referralAction' | 'action' | 'authError' |
  'transport' | 'messageId' | 'rejectReason';
const everyFieldCopied: [Exclude<keyof Exchange, Copied>] extends [never] ? true : never = true;
void everyFieldCopied;

/**
 * The exchange without the matching state, field by field: a rest pattern leaving out the internal
 * fields took ten times as long (a generic copy checking each key against the excluded ones).
 */
function publicView(e: Open, s: ExchangeSlots): Exchange {
  const i = e.slot;
  const rttUs = s.rttUs[i]!;
  const timeToAnswerUs = s.timeToAnswerUs[i]!;
  const x: Exchange = {
    kind: e.kind,
    eid: e.eid,
    nonce: nonceText(s.nonce(i)),
    frames: frameRefs(e, s),
    start: s.start[i]!,
    requester: e.requester,
    rttMs: Number.isNaN(rttUs) ? null : rttUs / 1e3,
    timeToAnswerMs: Number.isNaN(timeToAnswerUs) ? null : timeToAnswerUs / 1e3,
    retransmissions: s.retransmissions[i]!,
    outcome: OUTCOMES[s.outcome[i]!]!,
  };
  const r = e.x;
  if (e.responder !== undefined) x.responder = e.responder;
  if (e.rlocs !== undefined) x.rlocs = e.rlocs;
  if (e.via !== undefined) x.via = e.via;
  if (r.notes !== undefined) x.notes = r.notes;
  if (r.icmp !== undefined) x.icmp = r.icmp;
  if (r.smrInvoked !== undefined) x.smrInvoked = r.smrInvoked;
  if (!Number.isNaN(s.keyId[i]!)) x.keyId = s.keyId[i]!;
  if (r.withdraw !== undefined) x.withdraw = r.withdraw;
  if (r.subscriptionNonce !== undefined) x.subscriptionNonce = r.subscriptionNonce;
  if (r.lispSec !== undefined) x.lispSec = r.lispSec;
  if (e.site !== undefined) x.site = e.site;
  const flags = s.flags[i]!;
  if (flags & SlotFlag.MapNotifyKnown) x.wantMapNotify = (flags & SlotFlag.WantMapNotify) !== 0;
  if (!Number.isNaN(s.intervalMs[i]!)) x.intervalMs = s.intervalMs[i]!;
  if (flags & SlotFlag.RequestUnseen) x.requestSeen = false;
  if (r.invokedNonce !== undefined) x.invokedNonce = r.invokedNonce;
  if (r.invokedMs !== undefined) x.invokedMs = r.invokedMs;
  if (r.probedRloc !== undefined) x.probedRloc = r.probedRloc;
  if (r.nat !== undefined) x.nat = r.nat;
  if (e.referralAction !== undefined) x.referralAction = e.referralAction;
  if (r.action !== undefined) x.action = r.action;
  if (r.authError !== undefined) x.authError = r.authError;
  if (r.transport !== undefined) x.transport = r.transport;
  if (r.messageId !== undefined) x.messageId = r.messageId;
  if (r.rejectReason !== undefined) x.rejectReason = r.rejectReason;
  return x;
}

/** The fields of an ExchangeSummary summaryOf copies: adding one to the summary without copying it here fails to compile. */
type Summarised = 'kind' | 'eid' | 'start' | 'rttMs' | 'retransmissions' | 'outcome' | 'via' | 'site' | 'wantMapNotify' | 'keyId' | 'intervalMs' | 'rlocs';
const everySummaryFieldCopied: [Exclude<keyof ExchangeSummary, Summarised>] extends [never] ? true : never = true;
void everySummaryFieldCopied;

/** What publicView would give of the summary's fields, as publicView computes them. */
function summaryOf(e: Open, s: ExchangeSlots): ExchangeSummary {
  const i = e.slot;
  const rttUs = s.rttUs[i]!;
  const x: ExchangeSummary = {
    kind: e.kind,
    eid: e.eid,
    start: s.start[i]!,
    rttMs: Number.isNaN(rttUs) ? null : rttUs / 1e3,
    retransmissions: s.retransmissions[i]!,
    outcome: OUTCOMES[s.outcome[i]!]!,
  };
  if (e.via !== undefined) x.via = e.via;
  if (e.site !== undefined) x.site = e.site;
  const flags = s.flags[i]!;
  if (flags & SlotFlag.MapNotifyKnown) x.wantMapNotify = (flags & SlotFlag.WantMapNotify) !== 0;
  if (!Number.isNaN(s.keyId[i]!)) x.keyId = s.keyId[i]!;
  if (!Number.isNaN(s.intervalMs[i]!)) x.intervalMs = s.intervalMs[i]!;
  if (e.rlocs !== undefined) x.rlocs = e.rlocs;
  return x;
}

const NONE: readonly Open[] = [];
const NO_TIMES: number[] = [];
const NO_NONCES: bigint[] = [];
const NO_TEXT: string[] = [];
const NO_FRAMES: number[] = [];
const NO_FILES: number[] = [];

/** Where the exchange keeps a nonce (0: the first), or -1. */
function nonceIndex(e: Open, s: ExchangeSlots, nonce: bigint): number {
  if (s.nonceCount[e.slot] === 0) return -1;
  if (s.startedWith(e.slot, nonce)) return 0;
  const i = e.moreNonces.indexOf(nonce);
  return i < 0 ? -1 : i + 1;
}

/**
 * Sent by the exchange's first sender: the same address and port (a Map-Server forwarding from the
 * address a Mobile Node also uses, as on one host's loopback, is not the Mobile Node).
 */
function fromSender(e: Open, v: ControlView): boolean {
  return e.sender === v.src && e.senderPort === v.sport;
}

/**
 * The EID prefix a resolution asked for, from its text (its eid, prefixText's): equal for
 * prefixCovers to the decoded one (IPv4, IPv6, MAC, in Instance-IDs or not), and undefined for
 * another kind, which nothing covers either. Kept as the decoded prefix, it was three objects more
 * per resolution for the collector to copy, for a check that few replies need.
 */
export function askedPrefix(eid: string): Prefix | undefined {
  const slash = eid.lastIndexOf('/');
  if (slash < 0 || !/^\d+$/.test(eid.slice(slash + 1))) return undefined;
  const maskLen = Number(eid.slice(slash + 1));
  const address = parseAddress(eid.slice(0, slash), maskLen);
  return address && { address, maskLen };
}

/** Does the EID prefix of the text (prefixText's) cover `inner`, as the decoded prefix would. */
function covers(outer: string, inner: Prefix): boolean {
  const p = askedPrefix(outer);
  return p !== undefined && prefixCovers(p, inner);
}

/** A retransmission key: kind, sender, destination and what is asked (or registered). */
function identity(kind: string, v: ControlView, what: string[]): string {
  // join, not a template: a template builds a tree of concatenated strings, 200 bytes more per open exchange.
  return [kind, v.src, v.dst, v.ecm ? v.ecm.innerDst : '', what.join(',')].join('|');
}

/** A retransmission key with its sender left out: equal for a request and its copy after a NAT. */
function withoutSender(id: string): string {
  const a = id.indexOf('|');
  return id.slice(0, a) + id.slice(id.indexOf('|', a + 1));
}

/**
 * Is the answer delivered to the requester (one of its addresses) by this packet, rather than sent
 * to a relay on its way: the outer destination counts (an ECM from the Map-Server to the RTR names
 * the Mobile Node inside, yet goes to the RTR).
 */
/**
 * Does the message travel the way the request did (from its sender's address and port to one of
 * the places it was sent)? An answer comes back, so such a message echoing the nonce is the
 * requester's own (a Map-Notify an xTR hands to its Map-Server, a test tool's forgery), never the
 * answer. (Not for an SMR, whose sender answers the SMR-invoked request it solicited.)
 */
function sameWay(e: Open, v: ControlView): boolean {
  return v.src === e.sender && v.sport === e.senderPort && e.hops.includes(v.dst);
}

function addressedTo(e: Open, v: ControlView): boolean {
  return e.replyTo.includes(v.dst);
}

/**
 * The relay (an RTR) a message carried in an ECM or in LISP data went through: an outer endpoint
 * that is not the inner message's own. A request travels towards the server, so its relay is
 * looked for at the outer destination first (the MN sends to the RTR); an answer comes back from
 * it, so at the outer source first (the RTR hands it on, through a NAT that changes the outer
 * destination too).
 */
function relay(v: ControlView, answer: boolean): string | undefined {
  const inner = v.ecm ?? v.tunnel;
  if (!inner) return undefined;
  const atDst = v.dst !== inner.innerDst ? v.dst : undefined;
  const atSrc = v.src !== inner.innerSrc ? v.src : undefined;
  return answer ? (atSrc ?? atDst) : (atDst ?? atSrc);
}

function note(e: Open, level: 'error' | 'warning' | 'note', text: string): void {
  (rare(e).notes ??= []).push({ level, text });
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
function pushFrame(e: Open, s: ExchangeSlots, ref: FrameRef): void {
  const i = e.slot;
  const more = e.moreFrames;
  const count = s.frame0[i] === NO_FRAME ? 0 : s.frame1[i] === NO_FRAME ? 1 : 2 + more.length;
  if (count > 0) {
    const files = e.frameFiles;
    const lastFile = files === NO_FILES ? 0 : files[count - 1];
    const lastFrame = count === 1 ? s.frame0[i] : count === 2 ? s.frame1[i] : more[more.length - 1];
    if (lastFrame === ref.frame && lastFile === ref.file) return;
  }
  if (e.frameFiles !== NO_FILES) e.frameFiles = e.frameFiles.concat(ref.file);
  else if (ref.file !== 0) e.frameFiles = new Array<number>(count).fill(0).concat(ref.file);
  if (count === 0) s.frame0[i] = ref.frame;
  else if (count === 1) s.frame1[i] = ref.frame;
  // Exchanges of more than two frames hold three or four mostly: arrays of their exact size (concat),
  // not pushed or spread ones, which V8 gives room for 17 (100,000 open exchanges carried 100 MB of
  // empty slots).
  else if (more.length < 15) e.moreFrames = more.concat(ref.frame);
  else more.push(ref.frame);
}

/** The exchange's frames as the public view has them. */
function frameRefs(e: Open, s: ExchangeSlots): FrameRef[] {
  const i = e.slot;
  if (s.frame0[i] === NO_FRAME) return [];
  const files = e.frameFiles;
  const file = (n: number): number => (files === NO_FILES ? 0 : files[n]!);
  const refs: FrameRef[] = [{ frame: s.frame0[i]!, file: file(0) }];
  if (s.frame1[i] === NO_FRAME) return refs;
  refs.push({ frame: s.frame1[i]!, file: file(1) });
  const more = e.moreFrames;
  for (let k = 0; k < more.length; k++) refs.push({ frame: more[k]!, file: file(k + 2) });
  return refs;
}

/** The locators of all the records, sorted, each once (see pooledSet). */
function rlocSet(records: readonly { locators: readonly Pick<Locator, 'rloc'>[] }[]): string[] {
  let all: string[];
  if (records.length !== 1) all = [...new Set(records.flatMap((r) => locatorSet(r.locators)))].sort();
  else {
    // One record's are sorted already: only repeats to drop, and mostly none.
    all = locatorSet(records[0]!.locators);
    for (let i = 1; i < all.length; i++) {
      if (all[i] === all[i - 1]) {
        all = all.filter((x, j) => j === 0 || x !== all[j - 1]);
        break;
      }
    }
  }
  return pooledSet(all);
}

/**
 * Kept as long as the exchange: for a single locator the pool's list of it (shared, never changed;
 * one copy of the text, whichever packet's), not an array of the exchange's own. Most registrations
 * name one, and an array each was one more object per exchange for the collector to copy. Sets of
 * several are mostly distinct: pooled, they cost more than their arrays; their texts are the pool's.
 */
function pooledSet(rlocs: string[]): string[] {
  if (rlocs.length === 1) return lists.of(rlocs[0]!) as string[];
  texts.list(rlocs);
  return rlocs;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function ms(seconds: number): number {
  return us(seconds) / 1e3;
}

/** Seconds in whole microseconds (ms's precision). */
function us(seconds: number): number {
  return Math.round(seconds * 1e6);
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const v of b) s += v.toString(16).padStart(2, '0');
  return s;
}
