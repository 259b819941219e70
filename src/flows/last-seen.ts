// Where data was seen going: per destination or EID, the last time each peer (ITR RLOC) and each
// ETR RLOC sent or received its data. Data packets are most of a capture, and each one updates a
// peer's and an ETR's time here: what a packet reads is kept in as few objects as possible.

/** An address as the data path keeps it: IPv4 as its 32-bit value (signed), anything else as text. */
export type Addr = number | string;

/** LastSeen finds addresses by a scan up to this many. */
const SCAN_MAX = 16;
/** A LastSeen's others before its second address (replaced, never added to). */
const NO_ADDRS = Object.freeze([]) as unknown as Addr[];
const NO_TIMES = Object.freeze([]) as unknown as number[];

/**
 * The last time each address was seen, in the order first seen. Per data packet one time changes:
 * times are kept as numbers (no boxed number per packet), and addresses are found by a scan while
 * they are few (most destinations have one or two peers), by a map beyond.
 *
 * The first address and its time are fields of their own: most hold one address (a destination's
 * one peer, its one ETR), and a data packet then reads this object alone, where the arrays were four
 * objects more to reach, scattered over the old generation (cache misses, for stats and mappings
 * the most of a data packet's time). The others follow in `keys` and `times`.
 */
export class LastSeen {
  private k0: Addr | undefined = undefined;
  /** NaN, not 0: a double from the start, so the field is never generalised from a small integer. */
  private t0 = NaN;
  private keys: Addr[] = NO_ADDRS;
  private times: number[] = NO_TIMES;
  /** The others' places (1 + their index in `keys`), once they are many. */
  private index: Map<Addr, number> | undefined;

  get size(): number {
    return this.k0 === undefined ? 0 : 1 + this.keys.length;
  }

  /** The place of `k` (0: the first), or -1. */
  private find(k: Addr): number {
    if (this.k0 === k) return 0;
    if (this.index) return this.index.get(k) ?? -1;
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === k) return i + 1;
    return -1;
  }

  private setTime(i: number, t: number): void {
    if (i === 0) this.t0 = t;
    else this.times[i - 1] = t;
  }

  has(k: Addr): boolean {
    return this.find(k) >= 0;
  }

  get(k: Addr): number | undefined {
    const i = this.find(k);
    return i < 0 ? undefined : i === 0 ? this.t0 : this.times[i - 1];
  }

  set(k: Addr, t: number): void {
    const i = this.find(k);
    if (i >= 0) this.setTime(i, t);
    else this.add(k, t);
  }

  /** `set`, except that a new address beyond `max` is not kept. */
  note(k: Addr, t: number, max: number): void {
    const i = this.find(k);
    if (i >= 0) this.setTime(i, t);
    else if (this.size < max) this.add(k, t);
  }

  private add(k: Addr, t: number): void {
    if (this.k0 === undefined) {
      this.k0 = k;
      this.t0 = t;
      return;
    }
    if (this.keys === NO_ADDRS) {
      this.keys = [];
      this.times = [];
    }
    this.keys.push(k);
    this.times.push(t);
    const i = this.keys.length;
    if (this.index) this.index.set(k, i);
    else if (i >= SCAN_MAX) this.index = new Map(this.keys.map((a, j) => [a, j + 1]));
  }

  *[Symbol.iterator](): IterableIterator<[Addr, number]> {
    if (this.k0 === undefined) return;
    yield [this.k0, this.t0];
    for (let i = 0; i < this.keys.length; i++) yield [this.keys[i]!, this.times[i]!];
  }
}

/**
 * The peers and the ETRs data to one EID or destination went through, with the last time of each
 * (two LastSeen lists, `peers` and `etrs`, in one object). Their first address and time are fields
 * of this object: most destinations have one peer and one ETR, and a data packet to one then reads
 * these four fields alone. As two LastSeen objects beside this one they were two more cache misses
 * in the old generation per packet, about 5% of `stats --json`'s time on the bench capture, where
 * every data packet goes to such a destination (docs/benchmarks.md). The others follow in a
 * LastSeen of their own.
 */
export class DataSeen {
  private peer0: Addr | undefined = undefined;
  /** NaN, not 0: see LastSeen.t0. */
  private peerT0 = NaN;
  private etr0: Addr | undefined = undefined;
  private etrT0 = NaN;
  private morePeers: LastSeen | undefined = undefined;
  private moreEtrs: LastSeen | undefined = undefined;

  /** A data packet from `itr` through `etr` (either may be absent) at `ts`; an address new beyond its list's cap is not kept. */
  note(ts: number, itr: Addr | undefined, etr: Addr | undefined, maxPeers: number, maxEtrs: number): void {
    // Most packets come from a destination's first peer through its first ETR. This much is small
    // enough for V8 to inline into the data path (the plain-data packet handler): a call, which the
    // rest is, takes `ts` as a heap number made per packet (13 MB a run of the bench capture).
    if (itr !== undefined && etr !== undefined && this.peer0 === itr && this.etr0 === etr) {
      this.peerT0 = ts;
      this.etrT0 = ts;
    } else this.noteAny(ts, itr, etr, maxPeers, maxEtrs);
  }

  private noteAny(ts: number, itr: Addr | undefined, etr: Addr | undefined, maxPeers: number, maxEtrs: number): void {
    // The latest time each was seen (captures merged by time may step back a little: it stays "recent").
    if (itr !== undefined) {
      if (this.peer0 === itr) this.peerT0 = ts;
      else if (this.peer0 === undefined) {
        if (maxPeers > 0) {
          this.peer0 = itr;
          this.peerT0 = ts;
        }
      } else if (this.morePeers !== undefined || maxPeers > 1) (this.morePeers ??= new LastSeen()).note(itr, ts, maxPeers - 1);
    }
    if (etr !== undefined) {
      if (this.etr0 === etr) this.etrT0 = ts;
      else if (this.etr0 === undefined) {
        if (maxEtrs > 0) {
          this.etr0 = etr;
          this.etrT0 = ts;
        }
      } else if (this.moreEtrs !== undefined || maxEtrs > 1) (this.moreEtrs ??= new LastSeen()).note(etr, ts, maxEtrs - 1);
    }
  }

  hasPeer(a: Addr): boolean {
    return this.peer0 === a || (this.morePeers?.has(a) ?? false);
  }

  /** Every peer with its last time, in the order first seen. */
  *peers(): IterableIterator<[Addr, number]> {
    if (this.peer0 === undefined) return;
    yield [this.peer0, this.peerT0];
    if (this.morePeers) yield* this.morePeers;
  }

  /** Every ETR with its last time, in the order first seen. */
  *etrs(): IterableIterator<[Addr, number]> {
    if (this.etr0 === undefined) return;
    yield [this.etr0, this.etrT0];
    if (this.moreEtrs) yield* this.moreEtrs;
  }

  /** Takes `from`'s later times (its addresses new here only up to the caps): another destination's data, now this EID's. */
  takeLatest(from: DataSeen, maxPeers: number, maxEtrs: number): void {
    for (const [a, t] of from.peers()) {
      const known = this.peer0 === a ? this.peerT0 : this.morePeers?.get(a);
      if ((known !== undefined || this.peerCount < maxPeers) && (known ?? -Infinity) < t) this.setPeer(a, t);
    }
    for (const [a, t] of from.etrs()) {
      const known = this.etr0 === a ? this.etrT0 : this.moreEtrs?.get(a);
      if ((known !== undefined || this.etrCount < maxEtrs) && (known ?? -Infinity) < t) this.setEtr(a, t);
    }
  }

  private get peerCount(): number {
    return this.peer0 === undefined ? 0 : 1 + (this.morePeers?.size ?? 0);
  }

  private get etrCount(): number {
    return this.etr0 === undefined ? 0 : 1 + (this.moreEtrs?.size ?? 0);
  }

  private setPeer(a: Addr, t: number): void {
    if (this.peer0 === undefined || this.peer0 === a) {
      this.peer0 = a;
      this.peerT0 = t;
    } else (this.morePeers ??= new LastSeen()).set(a, t);
  }

  private setEtr(a: Addr, t: number): void {
    if (this.etr0 === undefined || this.etr0 === a) {
      this.etr0 = a;
      this.etrT0 = t;
    } else (this.moreEtrs ??= new LastSeen()).set(a, t);
  }
}
