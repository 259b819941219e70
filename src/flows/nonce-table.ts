// A map from 64-bit nonces to values, for the exchange tracker's tables of open and closed nonces.
//
// A Map<bigint> hashes and compares a heap number per lookup and scatters its entries: with tens of
// thousands of open exchanges nearly every lookup missed the cache. Here the keys are the nonce's
// two 32-bit halves side by side in typed arrays (open addressing, linear probing, deletion by
// shifting back: no tombstones), and a bigint is split by storing it in a BigUint64Array that shares
// its bytes with a Uint32Array (no bigint arithmetic, nothing allocated).

const split64 = new BigUint64Array(1);
const halves = new Uint32Array(split64.buffer);
const MIN_CAPACITY = 16;

/**
 * The nonce's two 32-bit halves (in the order their bytes lie in memory), in one view shared by
 * every caller: read both before the next call. Nothing is allocated, and no bigint arithmetic done.
 */
export function nonceHalves(nonce: bigint): Uint32Array {
  split64[0] = nonce;
  return halves;
}

export class NonceTable<V> {
  private a = new Uint32Array(MIN_CAPACITY);
  private b = new Uint32Array(MIN_CAPACITY);
  /** The value of each slot; undefined marks a free slot (values are never undefined). */
  private values: (V | undefined)[] = new Array<V | undefined>(MIN_CAPACITY).fill(undefined);
  private mask = MIN_CAPACITY - 1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(nonce: bigint): V | undefined {
    const i = this.slot(nonce);
    return i < 0 ? undefined : this.values[i];
  }

  has(nonce: bigint): boolean {
    return this.slot(nonce) >= 0;
  }

  set(nonce: bigint, value: V): void {
    const h = nonceHalves(nonce);
    const a = h[0]!;
    const b = h[1]!;
    let i = hash(a, b) & this.mask;
    for (;;) {
      const x = this.values[i];
      if (x === undefined) break;
      if (this.a[i] === a && this.b[i] === b) {
        this.values[i] = value;
        return;
      }
      i = (i + 1) & this.mask;
    }
    this.a[i] = a;
    this.b[i] = b;
    this.values[i] = value;
    // At most half full: probes stay short.
    if (++this.count * 2 > this.values.length) this.grow();
  }

  delete(nonce: bigint): boolean {
    let i = this.slot(nonce);
    if (i < 0) return false;
    this.count--;
    // Shift back the entries after it that probed past it, so that no search stops at the hole.
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (this.values[j] === undefined) break;
      const home = hash(this.a[j]!, this.b[j]!) & mask;
      // The entry at j may move to i when its home is not in (i, j] (cyclically).
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        this.a[i] = this.a[j]!;
        this.b[i] = this.b[j]!;
        this.values[i] = this.values[j];
        i = j;
      }
    }
    this.values[i] = undefined;
    return true;
  }

  /** The slot holding the nonce, or -1. */
  private slot(nonce: bigint): number {
    const h = nonceHalves(nonce);
    const a = h[0]!;
    const b = h[1]!;
    const mask = this.mask;
    for (let i = hash(a, b) & mask; ; i = (i + 1) & mask) {
      if (this.values[i] === undefined) return -1;
      if (this.a[i] === a && this.b[i] === b) return i;
    }
  }

  private grow(): void {
    const { a, b, values } = this;
    const capacity = values.length * 2;
    this.a = new Uint32Array(capacity);
    this.b = new Uint32Array(capacity);
    this.values = new Array<V | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    for (let j = 0; j < values.length; j++) {
      const v = values[j];
      if (v === undefined) continue;
      let i = hash(a[j]!, b[j]!) & this.mask;
      while (this.values[i] !== undefined) i = (i + 1) & this.mask;
      this.a[i] = a[j]!;
      this.b[i] = b[j]!;
      this.values[i] = v;
    }
  }
}

/**
 * Mixes the halves one after the other (MurmurHash3's steps), from a seed drawn per process: a
 * sum of the halves, as first written, sent every nonce of a counter-like generator (high half i,
 * low half i times a constant) to one slot, and made lookups linear in the table's size. The seed
 * keeps a crafted flood from doing the same; nothing iterates the table, so output does not depend on it.
 */
export function nonceHash(a: number, b: number, seed: number = SEED): number {
  let h = Math.imul(a ^ seed, 0xcc9e2d51);
  h = Math.imul((h << 15) | (h >>> 17), 0x1b873593);
  h ^= b;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const SEED = (Math.random() * 0x1_0000_0000) >>> 0;
const hash = (a: number, b: number): number => nonceHash(a, b);
