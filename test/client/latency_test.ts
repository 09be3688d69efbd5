import assert from "node:assert/strict";
import { test } from "node:test";
import { Latency } from "../../src/client/latency.ts";

test("Latency: percentiles within 2% of the exact ones, the maximum exact, nothing recorded gives zeros", () => {
  assert.deepEqual(new Latency().summary(), { count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
  const l = new Latency();
  const samples = Array.from({ length: 10_000 }, (_, i) => 0.05 + (i * 7919 % 10_000) / 100);
  for (const s of samples) l.record(s);
  const sorted = [...samples].sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.99, 0.999]) {
    const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
    const got = l.quantile(q);
    assert.ok(got >= exact && got <= exact * 1.021, `q${q}: ${got} vs ${exact}`);
  }
  assert.equal(l.summary().max, Math.round(sorted.at(-1)! * 1000) / 1000);
  assert.equal(l.count, 10_000);
});
