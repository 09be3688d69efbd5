/**
 * The fuzzer's short run (scripts/fuzz.ts is the long one): mutated and random packets of every
 * type and MQTT level on 8 connections at once for FUZZ_SECONDS (20), beside a canary publisher
 * and subscriber, against the release binary. Then every saved case of test/fuzz_corpus/ again.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import { caseFromJson, runCase } from "../helpers/fuzz.ts";
import { fuzzSession } from "../helpers/fuzz_session.ts";
import { startTcpBroker, type TcpBroker } from "../helpers/tcp_broker.ts";

const SECONDS = Number(process.env.FUZZ_SECONDS ?? 20);
const CORPUS = "test/fuzz_corpus";

describe("fuzzing", () => {
  let b: TcpBroker;
  before(async () => (b = await startTcpBroker()));
  after(async () => await b.stop());

  test(`${SECONDS} s of fuzz cases: no finding, the canary loses nothing, the broker lives and lets every connection go`, async () => {
    const seed0 = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const r = await fuzzSession(b, { seed0, parallel: 8, untilMs: Date.now() + SECONDS * 1000 });
    const where = `seeds ${seed0}..${seed0 + r.cases - 1} (FUZZ_SEED=${seed0} repeats them)`;
    assert.deepEqual(r.findings.map((f) => `seed ${f.c.seed}: ${f.why}`), [], where);
    assert.deepEqual(r.problems, [], where);
    assert.ok(
      r.cases > 100 && r.canaryMessages > 100,
      `${r.cases} cases, ${r.canaryMessages} canary messages`,
    );
    assert.ok(r.closedByBroker > 0, "the broker closed some of the connections");
  });

  test("every case of the corpus", async () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith(".json"));
    assert.ok(files.length > 0, `${CORPUS} holds the cases scripts/fuzz.ts found`);
    for (const f of files) {
      const out = await runCase(b.port, caseFromJson(readFileSync(`${CORPUS}/${f}`, "utf8")));
      assert.equal(out.finding, null, f);
      assert.equal(b.exited(), null, `the broker died on ${f}`);
    }
    assert.doesNotMatch(b.log(), /Internal error|uncaught/i);
  });
});
