// A growable column of numbers for the capture index, 4 bytes an entry for what nearly every
// capture holds (file offsets below 4 GiB, capture times in whole seconds since 1970): 32-bit
// cells, with 16 more bits per entry only once a value reaches 2^32 (a file past 4 GiB), and whole
// 64-bit floats only once a value is not a whole number in [0, 2^48) (never seen from a reader;
// kept exact all the same).

const TWO32 = 2 ** 32;
const TWO48 = 2 ** 48;

export class NumberColumn {
  private lo = new Uint32Array(0);
  private hi: Uint16Array | undefined;
  private wide: Float64Array | undefined;

  /** Entries the column has room for. */
  get capacity(): number {
    return this.wide ? this.wide.length : this.lo.length;
  }

  /** Makes room for `cap` entries, keeping the first `count`. */
  grow(cap: number, count: number): void {
    if (this.wide) {
      const w = new Float64Array(cap);
      w.set(this.wide.subarray(0, count));
      this.wide = w;
      return;
    }
    const lo = new Uint32Array(cap);
    lo.set(this.lo.subarray(0, count));
    this.lo = lo;
    if (this.hi) {
      const hi = new Uint16Array(cap);
      hi.set(this.hi.subarray(0, count));
      this.hi = hi;
    }
  }

  /** Entry `i` is `v`; `count` entries before it are in use (kept when the cells widen). */
  set(i: number, v: number, count: number): void {
    if (this.wide) {
      this.wide[i] = v;
      return;
    }
    if (!(Number.isInteger(v) && v >= 0 && v < TWO48) || Object.is(v, -0)) {
      const w = new Float64Array(this.lo.length);
      for (let k = 0; k < count; k++) w[k] = this.get(k);
      this.wide = w;
      this.hi = undefined;
      this.lo = new Uint32Array(0);
      w[i] = v;
      return;
    }
    this.lo[i] = v >>> 0;
    if (v >= TWO32) this.hi ??= new Uint16Array(this.lo.length);
    if (this.hi) this.hi[i] = Math.floor(v / TWO32);
  }

  get(i: number): number {
    if (this.wide) return this.wide[i]!;
    return this.hi ? this.lo[i]! + this.hi[i]! * TWO32 : this.lo[i]!;
  }
}
