/** Inclusive range of seqs. */
export type SeqRange = readonly [first: number, last: number];

/**
 * The set of acknowledged seqs: every seq up to `watermark`, plus sorted, disjoint, non-adjacent ranges
 * above it. Acks arrive roughly in order, so the ranges stay few and the watermark does most of the work.
 */
export class AckSet {
  #watermark: number;
  #ranges: [number, number][];

  constructor(watermark = 0, ranges: readonly SeqRange[] = []) {
    this.#watermark = watermark;
    this.#ranges = [];
    for (const [first, last] of ranges) this.addRange(first, last);
  }

  /** Every seq at or below this is acknowledged. */
  get watermark(): number {
    return this.#watermark;
  }

  /** Acknowledged ranges above the watermark, sorted. */
  get ranges(): readonly SeqRange[] {
    return this.#ranges;
  }

  /** The highest acknowledged seq (the watermark when there are no ranges). */
  get highest(): number {
    return this.#ranges.at(-1)?.[1] ?? this.#watermark;
  }

  /** True when `seq` is acknowledged. */
  has(seq: number): boolean {
    if (seq <= this.#watermark) return true;
    const index = this.#firstRangeEndingAtOrAfter(seq);
    const range = this.#ranges[index];
    return range !== undefined && range[0] <= seq;
  }

  /** Adds one seq; returns false when it was already acknowledged. */
  add(seq: number): boolean {
    if (this.has(seq)) return false;
    this.addRange(seq, seq);
    return true;
  }

  /** Adds every seq in `[first, last]`. */
  addRange(first: number, last: number): void {
    if (last < first || last <= this.#watermark) return;
    let lo = Math.max(first, this.#watermark + 1);
    let hi = last;
    // Ranges that overlap or touch [lo, hi] are merged into it.
    const start = this.#firstRangeEndingAtOrAfter(lo - 1);
    let end = start;
    while (end < this.#ranges.length) {
      const range = this.#ranges[end]!;
      if (range[0] > hi + 1) break;
      lo = Math.min(lo, range[0]);
      hi = Math.max(hi, range[1]);
      end += 1;
    }
    this.#ranges.splice(start, end - start, [lo, hi]);
    this.#absorbIntoWatermark();
  }

  /** Raises the watermark to at least `seq`, dropping ranges it covers. */
  raiseWatermark(seq: number): void {
    if (seq <= this.#watermark) return;
    this.#watermark = seq;
    const keepFrom = this.#firstRangeEndingAtOrAfter(seq + 1);
    this.#ranges.splice(0, keepFrom);
    const first = this.#ranges[0];
    if (first !== undefined && first[0] <= seq) first[0] = seq + 1;
    this.#absorbIntoWatermark();
  }

  /** How many seqs in `[first, last]` are not acknowledged. */
  countMissing(first: number, last: number): number {
    if (last < first) return 0;
    let acknowledged = Math.max(0, Math.min(last, this.#watermark) - first + 1);
    for (const [lo, hi] of this.#ranges) {
      if (lo > last) break;
      acknowledged += Math.max(0, Math.min(hi, last) - Math.max(lo, first) + 1);
    }
    return last - first + 1 - acknowledged;
  }

  #absorbIntoWatermark(): void {
    const first = this.#ranges[0];
    if (first !== undefined && first[0] <= this.#watermark + 1) {
      this.#watermark = Math.max(this.#watermark, first[1]);
      this.#ranges.shift();
    }
  }

  /** Index of the first range whose end is at or after `seq` (binary search). */
  #firstRangeEndingAtOrAfter(seq: number): number {
    let lo = 0;
    let hi = this.#ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#ranges[mid]![1] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
