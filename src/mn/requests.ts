// Outstanding requests by nonce, with retransmission and exponential back-off. Each
// retransmission carries a fresh nonce (a repeated Map-Register must not look like a replay), and
// an answer to any attempt of a request settles it. An answer whose nonce nobody waits for is
// reported as unmatched: RFC 9301 §5.5 says to drop it. The RTT runs from when the answered
// attempt left (its sender says when the kernel took it) to when the answer arrived (the
// receiving socket's stamp), not from when the request was built or queued by a rate limit.

import { performance } from 'node:perf_hooks';
import { randomNonce } from '../dissect/build.js';

export interface RetryTimers {
  /** Wait for the first answer this long (ms). */
  timeoutMs: number;
  /** Retransmissions after the first attempt. */
  retries: number;
  /** Each wait is this many times the previous one (default 2). */
  backoff?: number;
  /** Cap on a single wait (default 30 s). */
  maxTimeoutMs?: number;
}

export interface Answer<T> {
  value: T;
  /** Attempts sent until the answer came (1 = no retransmission). */
  attempts: number;
  /** From sending the answered attempt to the answer, ms. */
  rttMs: number;
  /** When the answered attempt left and the answer arrived (performance.now()). */
  sentAt: number;
  receivedAt: number;
  /** The nonce that was answered. */
  nonce: bigint;
  /** Every nonce sent for this request. */
  nonces: bigint[];
}

interface Waiter<T> {
  sentAt: number;
  settle: (value: T, nonce: bigint, sentAt: number, at: number) => void;
}

/** Tells the table when an attempt actually left (performance.now()). */
export type SentStamp = (at: number) => void;

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

export class NonceTable<T> {
  private readonly waiting = new Map<bigint, Waiter<T>>();
  private readonly stop = new AbortController();

  /** Hands an answer (arrived at `at`, performance.now()) to whoever waits for `nonce`; false when nobody does. */
  deliver(nonce: bigint, value: T, at = performance.now()): boolean {
    const w = this.waiting.get(nonce);
    if (!w) return false;
    w.settle(value, nonce, w.sentAt, at);
    return true;
  }

  has(nonce: bigint): boolean {
    return this.waiting.has(nonce);
  }

  get size(): number {
    return this.waiting.size;
  }

  /**
   * Sends attempt after attempt (each with a new nonce from `nonce`) until one is answered or the
   * retries run out (undefined). `send` returns false when it could not send at all (stop early);
   * it calls `sent` when the datagram left, else the time of the call counts.
   */
  request(
    send: (nonce: bigint, attempt: number, sent: SentStamp) => boolean | void,
    timers: RetryTimers,
    opts: { nonce?: () => bigint; signal?: AbortSignal } = {},
  ): Promise<Answer<T> | undefined> {
    const nonces: bigint[] = [];
    const newNonce = opts.nonce ?? randomNonce;
    return new Promise((resolve) => {
      let done = false;
      let attempt = 0;
      let timer: NodeJS.Timeout | undefined;
      const finish = (a: Answer<T> | undefined) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        for (const n of nonces) this.waiting.delete(n);
        this.stop.signal.removeEventListener('abort', abort);
        opts.signal?.removeEventListener('abort', abort);
        resolve(a);
      };
      const abort = () => finish(undefined);
      this.stop.signal.addEventListener('abort', abort, { once: true });
      opts.signal?.addEventListener('abort', abort, { once: true });
      const settle = (value: T, nonce: bigint, sentAt: number, at: number) =>
        finish({ value, attempts: attempt, rttMs: Math.max(0, at - sentAt), sentAt, receivedAt: at, nonce, nonces: [...nonces] });
      const fire = () => {
        if (done) return;
        if (attempt > timers.retries) return finish(undefined);
        const nonce = newNonce();
        nonces.push(nonce);
        const w: Waiter<T> = { sentAt: performance.now(), settle };
        this.waiting.set(nonce, w);
        attempt++;
        if (send(nonce, attempt - 1, (at) => (w.sentAt = at)) === false) return finish(undefined);
        const wait = Math.min(timers.timeoutMs * Math.pow(timers.backoff ?? 2, attempt - 1), timers.maxTimeoutMs ?? 30_000);
        timer = setTimeout(fire, wait);
      };
      if (this.stop.signal.aborted || opts.signal?.aborted) return finish(undefined);
      fire();
    });
  }

  /** Gives up every outstanding request (their promises resolve undefined). */
  close(): void {
    this.stop.abort();
    this.waiting.clear();
  }
}
