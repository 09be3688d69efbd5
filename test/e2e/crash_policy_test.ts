/**
 * An exception that no connection's handling caught ends the broker with code 70, its stack in
 * the log, on Bun, Node.js and Deno alike: a service manager restarts a broker that exits, not
 * one that keeps running half-dead. (Bugs within one connection's handling close only that
 * connection: test/transport/link_test.ts.)
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { freePort } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

const dir = mkdtempSync(join(tmpdir(), "broker-crash-"));
const node22 = resolve(".cache/node22/bin/node");
const FIXTURE = "test/fixtures/crash_after_start.ts";
const RUNTIMES: [string, string[]][] = [
  ["Bun", [process.execPath]],
  ["Node.js 22", [node22, "--experimental-transform-types", "--no-warnings"]],
  ["Deno", ["bash", "scripts/deno.sh", "run", "--allow-all"]],
];

describe("internal errors outside any connection", () => {
  for (const [name, argv] of RUNTIMES) {
    for (const how of ["immediate", "rejection", "socket"]) {
      test(`on ${name}, an exception thrown in ${how === "immediate" ? "a timer callback" : how === "rejection" ? "a promise nobody awaits" : "a socket callback"} logs its stack and exits 70`, async () => {
        if (argv[0] === node22 && !existsSync(node22)) {
          throw new Error(`${node22} is missing: run scripts/install_test_deps.sh`);
        }
        const conf = join(dir, `${name.replace(/\W/g, "")}-${how}.conf`);
        writeFileSync(conf, `listeners.tcp.bind = "127.0.0.1:${await freePort()}"\n`);
        const r = await run(argv[0]!, [...argv.slice(1), FIXTURE, conf, how], 30_000, {
          NANOMQ_PID_FILE: join(dir, `${name}-${how}.pid`),
        }).done;
        assert.equal(r.code, 70, r.stderr);
        assert.match(r.stderr, /fatal.*Internal error: Error: boom[^\n]*\n\s+at /);
        assert.match(r.stderr, /exits with code 70 so that its service manager starts it again/);
      });
    }
  }
});
