/**
 * Latency samples in logarithmic buckets (2% wide, from 1 µs to about an hour): constant memory
 * however long a benchmark runs, percentiles within 2%.
 */

const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets up to GROWTH^BUCKETS µs, beyond an hour; larger samples go in the last. */
const BUCKETS = 1200;

/** Percentiles of what was recorded, in milliseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** A latency histogram. */
export class Latency {
  private readonly counts = new Float64Array(BUCKETS);
  private n = 0;
  private maxMs = 0;

  /** Records one sample, in milliseconds. */
  record(ms: number): void {
    const us = Math.max(1, ms * 1000);
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(us) / LOG_GROWTH));
    this.counts[i]!++;
    this.n++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  get count(): number {
    return this.n;
  }

  /** The value below which `q` (0..1) of the samples fall (a bucket's upper bound), in ms. */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    const want = Math.ceil(q * this.n);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= want) return Math.min(this.maxMs, GROWTH ** (i + 1) / 1000);
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    const r = (v: number) => Math.round(v * 1000) / 1000;
    return {
      count: this.n,
      p50: r(this.quantile(0.5)),
      p90: r(this.quantile(0.9)),
      p99: r(this.quantile(0.99)),
      p999: r(this.quantile(0.999)),
      max: r(this.maxMs),
    };
  }
}
