/** A latency histogram with fixed buckets, as Prometheus exposes one; observing is a loop over 12 bounds. */

/** Upper bounds in seconds: 50 µs to 1 s. */
export const LATENCY_BUCKETS = [
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.1,
  0.25,
  1,
] as const;

/** Cumulative counts per bucket, their sum and count. */
export class Histogram {
  /** Observations up to each bound (not cumulative; the exposition adds them up). */
  readonly counts: number[] = LATENCY_BUCKETS.map(() => 0);
  /** Observations over the last bound. */
  over = 0;
  sum = 0;
  count = 0;

  /** Records one observation, in seconds. */
  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
      if (seconds <= LATENCY_BUCKETS[i]!) {
        this.counts[i]!++;
        return;
      }
    }
    this.over++;
  }
}
