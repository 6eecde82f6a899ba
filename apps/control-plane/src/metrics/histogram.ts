/**
 * A latency histogram over fixed upper bounds (ms) plus one overflow bucket,
 * the shape nodes report (`LATENCY_BOUNDS_MS`).
 */
export class LatencyHistogram {
  readonly counts: number[];

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  get total(): number {
    return this.counts.reduce((sum, count) => sum + count, 0);
  }

  /**
   * Adds a node's buckets, reported over `reportedBounds`. Equal bounds add
   * bucket by bucket. Other bounds (an agent built against other constants) are
   * mapped bucket by bucket onto the first of ours whose upper bound is at least
   * theirs, which never makes latency look better than it was.
   */
  add(reportedBounds: readonly number[], buckets: readonly number[]): void {
    const same = reportedBounds.length === 0 || sameBounds(reportedBounds, this.bounds);
    buckets.forEach((raw, index) => {
      const count = Number.isFinite(raw) && raw > 0 ? raw : 0;
      if (count === 0) return;
      const target = same
        ? Math.min(index, this.bounds.length)
        : this.bucketFor(reportedBounds[index] ?? Number.POSITIVE_INFINITY);
      this.counts[target] = (this.counts[target] ?? 0) + count;
    });
  }

  merge(other: LatencyHistogram): void {
    this.add(other.bounds, other.counts);
  }

  /**
   * The q-quantile (0 < q <= 1), interpolated linearly inside the bucket that
   * holds it (the first bucket spans 0 to its bound). The overflow bucket has no
   * upper bound, so a quantile landing there is reported as the last bound: a
   * lower bound of the truth. 0 when there is no data.
   */
  quantile(q: number): number {
    const total = this.total;
    if (total === 0) return 0;
    const rank = Math.min(1, Math.max(0, q)) * total;
    let below = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const count = this.counts[i] ?? 0;
      if (count > 0 && below + count >= rank) {
        const upper = this.bounds[i];
        const lower = i === 0 ? 0 : (this.bounds[i - 1] ?? 0);
        if (upper === undefined) return round(lower);
        return round(lower + ((upper - lower) * (rank - below)) / count);
      }
      below += count;
    }
    return round(this.bounds[this.bounds.length - 1] ?? 0);
  }

  private bucketFor(upperBound: number): number {
    const index = this.bounds.findIndex((bound) => bound >= upperBound);
    return index === -1 ? this.bounds.length : index;
  }
}

function sameBounds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}

/** Microsecond precision is plenty and keeps float noise out of the API. */
function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
