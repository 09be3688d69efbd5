/**
 * The long fuzzing run: fuzz cases (test/helpers/fuzz.ts) against the linux-x86_64 binary for N
 * minutes in rounds of one minute, each round a fresh canary and the checks of fuzz_session.ts.
 * Every failing case is saved to test/fuzz_corpus/ (replayed by test/e2e/fuzz_test.ts); a round
 * whose broker died is saved with the cases of that round that were running.
 *
 *   bun scripts/fuzz.ts [--minutes 60] [--parallel 16] [--seed N] [--conf "system.num_taskq_thread = 2"]
 *
 * --conf adds configuration lines: fuzz two workers (the relay reads each CONNECT to find its
 * worker) or persistence (`sqlite { mounted_file_path = "/tmp/fz/" }`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import { caseJson, type FuzzCase } from "../test/helpers/fuzz.ts";
import { fuzzSession } from "../test/helpers/fuzz_session.ts";
import { startTcpBroker } from "../test/helpers/tcp_broker.ts";

const { values: a } = parseArgs({
  options: {
    minutes: { type: "string", default: "60" },
    parallel: { type: "string", default: "16" },
    seed: { type: "string" },
    conf: { type: "string", default: "" },
  },
});
const CORPUS = "test/fuzz_corpus";
const end = Date.now() + Number(a.minutes) * 60_000;
let seed = a.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(a.seed);
let total = 0;
let found = 0;

function save(c: FuzzCase, why: string): void {
  mkdirSync(CORPUS, { recursive: true });
  writeFileSync(`${CORPUS}/seed-${c.seed}.json`, caseJson(c, why) + "\n");
  found++;
  console.log(`finding (seed ${c.seed}): ${why}`);
}

const conf = a.conf.replaceAll("\\n", "\n") + "\n";
let b = await startTcpBroker(conf);
console.log(`fuzzing for ${a.minutes} min from seed ${seed}`);
while (Date.now() < end) {
  const r = await fuzzSession(b, {
    seed0: seed,
    parallel: Number(a.parallel),
    untilMs: Math.min(end, Date.now() + 60_000),
    onFinding: save,
  });
  seed += r.cases;
  total += r.cases;
  console.log(
    `${
      new Date().toISOString()
    } ${total} cases (${r.cases} this round, ${r.closedByBroker} closed by the broker), ` +
      `canary ${r.canaryMessages} messages, RSS ${(r.rssBefore / 2 ** 20).toFixed(0)} -> ${
        (r.rssAfter / 2 ** 20).toFixed(0)
      } MB`,
  );
  for (const p of r.problems) console.log(`PROBLEM (seeds ${seed - r.cases}..${seed - 1}): ${p}`);
  if (b.exited() !== null) {
    found++;
    b = await startTcpBroker(conf);
  }
}
await b.stop();
console.log(`${total} cases, ${found} findings`);
process.exit(found === 0 ? 0 : 1);
