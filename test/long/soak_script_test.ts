/**
 * scripts/soak.ts, shortened to a minute with 200 connections: the figures the docs quote come
 * from this script, so the suite keeps it working and checks that its accounting adds up.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { run } from "../helpers/run.ts";

test(
  "a one-minute soak of 200 connections loses nothing, and its summary adds up",
  { timeout: 240_000 },
  async () => {
    const out = mkdtempSync(join(tmpdir(), "soak-"));
    const args = [
      "scripts/soak.ts",
      "--minutes",
      "1",
      "--connections",
      "200",
      "--sample-s",
      "20",
      "--out",
      out,
    ];
    const r = await run(process.execPath, args, 200_000).done;
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"));
    assert.equal(s.unexpectedDisconnects, 0);
    assert.equal(s.lostQos0, 0);
    assert.equal(s.lostQos1, 0);
    assert.ok(s.churnReconnects > 0, "the churn clients reconnected");
    assert.ok(s.ackedQos1 > 1000, `${s.ackedQos1} QoS 1 messages`);
    assert.equal(s.duplicates, 0);
    assert.equal(
      s.received,
      s.sentQos0 + s.ackedQos1 + s.redelivered,
      "every message sent was received once",
    );
    const rows = readFileSync(join(out, "samples.csv"), "utf8").trim().split("\n");
    assert.match(rows[0]!, /^minute,rss_mb,cpu_pct,broker_connections,/);
    assert.equal(rows.length, 4, "a header and one row per 20 s");
    // 20 of the 200 churn: some of them are between two connections at any moment
    const conns = rows.slice(1).map((l) => Number(l.split(",")[3]));
    assert.ok(conns.every((n) => n >= 180 && n <= 200), `connections at each sample: ${conns.join(", ")}`);
  },
);
