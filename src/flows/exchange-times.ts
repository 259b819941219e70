// The capture times of the exchanges in flight (start, last packet, last transmission), in typed
// arrays by slot. As fields of the exchange each was a heap number of its own (V8 boxes a double
// held in an object): three more objects per exchange, and every exchange outlives the young
// generation, so the collector copied them twice and then marked them until the exchange left.

const MIN_SLOTS = 1024;

export class ExchangeTimes {
  start = new Float64Array(MIN_SLOTS);
  last = new Float64Array(MIN_SLOTS);
  lastTx = new Float64Array(MIN_SLOTS);
  /** Slots given back, reused first (their times are overwritten by `take`). */
  private readonly free: number[] = [];
  /** Slots ever handed out: the next new one. */
  private used = 0;

  /** A slot for an exchange starting at `ts` (its last packet and transmission: that one). */
  take(ts: number): number {
    const slot = this.free.length ? this.free.pop()! : this.used++;
    if (slot === this.start.length) this.grow();
    this.start[slot] = ts;
    this.last[slot] = ts;
    this.lastTx[slot] = ts;
    return slot;
  }

  /** The exchange of `slot` is gone (reported): its slot may go to a new one. */
  release(slot: number): void {
    this.free.push(slot);
  }

  private grow(): void {
    this.start = doubled(this.start);
    this.last = doubled(this.last);
    this.lastTx = doubled(this.lastTx);
  }
}

function doubled(a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
