import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import mqtt from "mqtt";
import { freePort, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

const dir = mkdtempSync(join(tmpdir(), "broker-control-"));
const pidFile = join(dir, "broker.pid");
/** The pid in the pid file; "" while there is none (between stop and start). */
function pidIn(): string {
  try {
    return readFileSync(pidFile, "utf8").trim();
  } catch {
    return "";
  }
}

describe("broker process control", () => {
  test("a stale pid file is replaced; NANOMQ_CONF_PATH picks the file; reload --conf switches it; restart", async () => {
    const port = await freePort();
    const a = join(dir, "a.conf");
    const b = join(dir, "b.conf");
    writeFileSync(a, `listeners.tcp.bind = "127.0.0.1:${port}"\nlog.level = warn\n`);
    writeFileSync(
      b,
      `listeners.tcp.bind = "127.0.0.1:${port}"\nlisteners.tcp.extra.bind = "127.0.0.1:0"\nlog.level = info\n` +
        `bridges.mqtt.cloud { server = "mqtt-tcp://127.0.0.1:9", backoff_max = 1s }\n`,
    );
    const gone = run("true", []);
    await gone.done;
    writeFileSync(pidFile, `${gone.pid}\n`); // a process that has exited: stale
    const env = { NANOMQ_PID_FILE: pidFile, NANOMQ_CONF_PATH: a };
    const cli = (args: string[]) => run(process.execPath, ["src/main.ts", ...args], 20_000, env);

    const first = cli(["start"]);
    await waitFor(() => pidIn() === String(first.pid), "the new pid file");
    const c1 = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      reconnectPeriod: 0,
      clientId: "before-reload",
    });
    c1.end(true);

    const reload = await cli(["reload", "--conf", b]).done;
    assert.equal(reload.code, 0, reload.stderr);
    const c2 = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      reconnectPeriod: 0,
      clientId: "after-reload",
    });
    c2.end(true);

    const second = cli(["restart"]);
    const r1 = await first.done;
    assert.equal(r1.code, 0, r1.stderr);
    assert.match(r1.stderr, new RegExp(`config: ${a}`), "NANOMQ_CONF_PATH chose the file");
    assert.doesNotMatch(r1.stderr, /\[before-reload\] Connected/, "info lines were off before the reload");
    assert.match(r1.stderr, /Configuration reloaded from .*b\.conf/);
    assert.match(r1.stderr, /Listener changes take effect at the next restart/);
    assert.match(r1.stderr, /Bridge changes take effect at the next restart/);
    assert.match(
      r1.stderr,
      /info {2}\[after-reload\] Connected from/,
      "log.level from --conf b.conf applies",
    );

    await waitFor(() => pidIn() === String(second.pid), "the restarted broker");
    const stop = await cli(["stop"]).done;
    assert.equal(stop.code, 0, stop.stderr);
    const r2 = await second.done;
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(
      r2.stderr,
      /broker stopped \(pid \d+\)[\s\S]*listening on 127\.0\.0\.1:/,
      "restart stopped, then started",
    );
  });
});
