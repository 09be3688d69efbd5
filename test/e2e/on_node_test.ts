/**
 * The transport's end-to-end tests once more on Node.js 22.13's own node:net, node:tls and
 * node:http, which the armv7 bundle runs on: under Bun, "node:net" is Bun's emulation of them.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { run } from "../helpers/run.ts";

const FILES = [
  "bad_input",
  "lingering_close",
  "tls_robustness",
  "websocket_frames",
  "mqttjs",
  "mqttjs_mqtt5",
  "backpressure",
].map((f) => `test/e2e/${f}_test.ts`);

test(`${FILES.length} transport test files pass on Node.js 22.13`, { timeout: 120_000 }, async () => {
  const node = resolve(".cache/node22/bin/node");
  if (!existsSync(node)) throw new Error(`${node} is missing: run scripts/install_test_deps.sh`);
  const r = await run(node, ["--experimental-transform-types", "--no-warnings", "--test", ...FILES], 110_000)
    .done;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^# fail 0$/m);
  assert.match(r.stdout, /^# skipped 0$/m, "nothing is skipped on real Node.js");
  assert.ok(Number(/^# pass (\d+)$/m.exec(r.stdout)?.[1]) >= 40, r.stdout.slice(-500));
});
