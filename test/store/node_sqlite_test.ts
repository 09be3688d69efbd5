/**
 * The store conformance suite once more, on Node.js 22.13's node:sqlite (the armv7 bundle's SQLite,
 * and Deno's): the suite itself runs under Bun, whose bun:sqlite differs in what SQL it accepts.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import { run } from "../helpers/run.ts";

test("the store conformance suite passes on Node.js 22.13 (node:sqlite)", async () => {
  const node = resolve(".cache/node22/bin/node");
  if (!existsSync(node)) throw new Error(`${node} is missing: run scripts/install_test_deps.sh`);
  const args = ["--experimental-transform-types", "--no-warnings", "--test", "test/store/store_test.ts"];
  const r = await run(node, args, 60_000).done;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^# fail 0$/m);
  assert.match(r.stdout, /^# pass [1-9]\d*$/m);
  assert.match(r.stdout, /Store conformance: sqlite/);
});
