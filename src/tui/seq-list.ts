// The packet filter's matches: ascending sequence numbers, added at the end and dropped from the
// front (live and lab sources evict their oldest packets). A filter over a big capture can match a
// million packets; one array grown by doubling would hold its old copy and its new one at once
// (12 MB at that size, most of the `/` filter's memory), so they are kept in fixed-size chunks,
// and the chunks before the first match kept are let go.

/** Matches per chunk: 64 KB. */
const CHUNK_BITS = 13;
const CHUNK = 1 << CHUNK_BITS;
const MASK = CHUNK - 1;

export class SeqList {
  private readonly chunks: Float64Array[] = [];
  /** Where the first kept entry is in chunks[0]. */
  private offset = 0;
  /** Entries kept. */
  length = 0;

  /** Entry `i` of those kept (0 ≤ i < length). */
  get(i: number): number {
    const j = this.offset + i;
    return this.chunks[j >>> CHUNK_BITS]![j & MASK]!;
  }

  push(seq: number): void {
    const j = this.offset + this.length;
    if (j >>> CHUNK_BITS === this.chunks.length) this.chunks.push(new Float64Array(CHUNK));
    this.chunks[j >>> CHUNK_BITS]![j & MASK] = seq;
    this.length++;
  }

  /** Drops the first `k` entries (k ≤ length). */
  dropFront(k: number): void {
    this.offset += k;
    this.length -= k;
    const whole = this.offset >>> CHUNK_BITS;
    if (whole) {
      this.chunks.splice(0, whole);
      this.offset &= MASK;
    }
  }
}
