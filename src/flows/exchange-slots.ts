// What each exchange in flight keeps in typed arrays by slot rather than as fields of its own: its
// capture times (start, last packet, last transmission), its first two frames, its answer's timing,
// its retransmission count and interval, and its flags. As fields of the exchange a time was a heap
// number of its own (V8 boxes a double held in an object), two frames an array, and every field
// eight bytes more of an object that outlives the young generation: the collector copied each
// exchange twice and then marked it until it left. A slot stays the exchange's until it is reported.

import type { Outcome } from './types.js';
import { nonceHalves } from './nonce-table.js';

const MIN_SLOTS = 1024;

/** Bits of `flags`. */
export const SlotFlag = {
  /** It waits for an answer (a Map-Register with M=0 does not). */
  WantsAnswer: 1,
  Answered: 2,
  /** The answer rtt_ms was measured to was addressed to the requester (not to a relay on its way). */
  AnswerToRequester: 4,
  /** A node it was sent to sent it on: its answer may travel where this capture cannot see. */
  ForwardSeen: 8,
  /** reply-only: the request is not in the capture (requestSeen false). */
  RequestUnseen: 16,
  /** A registration: wantMapNotify is known (its value in WantMapNotify). */
  MapNotifyKnown: 32,
  WantMapNotify: 64,
  /** Its first retransmission key (the exchange's firstId) is filed in the tracker's byIdentity. */
  Filed: 128,
  /** A resolution asked for an EID prefix (its eid's text): a reply's record should cover it. */
  Asked: 256,
} as const;

/** The outcomes by their code in `outcome`. */
export const OUTCOMES: readonly Outcome[] = ['unanswered', 'answered', 'negative', 'auth-failed', 'unacknowledged', 'rejected', 'forwarded', 'unreachable', 'reply-only'];
const OUTCOME_CODE = new Map(OUTCOMES.map((o, i) => [o, i]));

/** An outcome's code in `outcome`. */
export function outcomeCode(o: Outcome): number {
  return OUTCOME_CODE.get(o)!;
}

/** A frame slot with no frame (frame numbers start at 1). */
export const NO_FRAME = 0;

type SlotArray = Float64Array<ArrayBuffer> | BigUint64Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Uint16Array<ArrayBuffer> | Uint8Array<ArrayBuffer>;

export class ExchangeSlots {
  start = new Float64Array(MIN_SLOTS);
  last = new Float64Array(MIN_SLOTS);
  lastTx = new Float64Array(MIN_SLOTS);
  /** Its first and second frame (NO_FRAME while it has fewer); a third and later are the exchange's own. */
  frame0 = new Float64Array(MIN_SLOTS);
  frame1 = new Float64Array(MIN_SLOTS);
  /** rtt_ms and time_to_answer_ms in whole microseconds; NaN while unanswered. */
  rttUs = new Float64Array(MIN_SLOTS);
  timeToAnswerUs = new Float64Array(MIN_SLOTS);
  /** Seconds between its last two transmissions (0 before a retransmission). */
  interval = new Float64Array(MIN_SLOTS);
  /** Registration: intervalMs; NaN when there was no earlier registration. */
  intervalMs = new Float64Array(MIN_SLOTS);
  retransmissions = new Uint32Array(MIN_SLOTS);
  /** How many nonces it is filed under (the first is the exchange's nonce; the others its moreNonces). */
  nonceCount = new Uint32Array(MIN_SLOTS);
  /** Registration: the Map-Register's Key ID field; NaN when none. */
  keyId = new Float64Array(MIN_SLOTS);
  /** Its outcome so far, as its place in OUTCOMES. */
  outcome = new Uint8Array(MIN_SLOTS);
  flags = new Uint16Array(MIN_SLOTS);
  /**
   * The nonce the exchange started with (its first as decoded), and the same bytes as 32-bit halves
   * (`nonceHalves`, two per slot) to compare one with no bigint made. A bigint field of the exchange
   * was one more heap object per exchange, moved to the old generation with it.
   */
  private nonces = new BigUint64Array(MIN_SLOTS);
  private nonceHalves = new Uint32Array(this.nonces.buffer);
  /**
   * smr: the peer that must send the SMR-invoked request, and the texts of the EID prefixes it may
   * ask for (`askedPrefix` decodes one when a request must be checked against it); undefined for
   * another kind, and once the SMR closed. In an object of the exchange's own, with the prefixes
   * decoded, an SMR kept some seven objects more than other exchanges for the collector to copy.
   */
  smrPeer: (string | undefined)[] = new Array<string | undefined>(MIN_SLOTS).fill(undefined);
  smrEids: (readonly string[] | undefined)[] = new Array<readonly string[] | undefined>(MIN_SLOTS).fill(undefined);
  /** Slots given back, reused first (`take` overwrites all they hold). */
  private readonly free: number[] = [];
  /** Slots ever handed out: the next new one. */
  private used = 0;

  /** A slot for an exchange starting at `ts` with `frame` (its last packet and transmission: that one). */
  take(ts: number, frame: number, nonce: bigint): number {
    const slot = this.free.length ? this.free.pop()! : this.used++;
    if (slot === this.start.length) this.grow();
    this.nonces[slot] = nonce;
    this.start[slot] = ts;
    this.last[slot] = ts;
    this.lastTx[slot] = ts;
    this.frame0[slot] = frame;
    this.frame1[slot] = NO_FRAME;
    this.rttUs[slot] = NaN;
    this.timeToAnswerUs[slot] = NaN;
    this.interval[slot] = 0;
    this.intervalMs[slot] = NaN;
    this.retransmissions[slot] = 0;
    this.nonceCount[slot] = 0;
    this.keyId[slot] = NaN;
    this.outcome[slot] = 0;
    this.flags[slot] = SlotFlag.WantsAnswer;
    this.smrPeer[slot] = undefined;
    this.smrEids[slot] = undefined;
    return slot;
  }

  /** The nonce the exchange of `slot` started with. */
  nonce(slot: number): bigint {
    return this.nonces[slot]!;
  }

  /** Is `nonce` the one the exchange of `slot` started with. */
  startedWith(slot: number, nonce: bigint): boolean {
    const n = nonceHalves(nonce);
    const h = this.nonceHalves;
    return h[2 * slot] === n[0] && h[2 * slot + 1] === n[1];
  }

  /** The exchange of `slot` is gone (reported): its slot may go to a new one. */
  release(slot: number): void {
    this.free.push(slot);
  }

  /** Has any of `flags` (bits of SlotFlag). */
  has(slot: number, flags: number): boolean {
    return (this.flags[slot]! & flags) !== 0;
  }

  /** Sets `flags` (bits of SlotFlag), or clears them. */
  set(slot: number, flags: number, on = true): void {
    this.flags[slot] = on ? this.flags[slot]! | flags : this.flags[slot]! & ~flags;
  }

  private grow(): void {
    this.start = doubled(this.start);
    this.last = doubled(this.last);
    this.lastTx = doubled(this.lastTx);
    this.frame0 = doubled(this.frame0);
    this.frame1 = doubled(this.frame1);
    this.rttUs = doubled(this.rttUs);
    this.timeToAnswerUs = doubled(this.timeToAnswerUs);
    this.interval = doubled(this.interval);
    this.intervalMs = doubled(this.intervalMs);
    this.retransmissions = doubled(this.retransmissions);
    this.nonceCount = doubled(this.nonceCount);
    this.keyId = doubled(this.keyId);
    this.outcome = doubled(this.outcome);
    this.flags = doubled(this.flags);
    this.nonces = doubled(this.nonces);
    this.nonceHalves = new Uint32Array(this.nonces.buffer);
    this.smrPeer = this.smrPeer.concat(new Array<undefined>(this.smrPeer.length).fill(undefined));
    this.smrEids = this.smrEids.concat(new Array<undefined>(this.smrEids.length).fill(undefined));
  }
}

function doubled<A extends SlotArray>(a: A): A {
  const b = new (a.constructor as new (length: number) => A)(a.length * 2);
  b.set(a as never);
  return b;
}
