import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import mqtt from "mqtt";
import { freePort, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

const dir = mkdtempSync(join(tmpdir(), "broker-auth-"));
const pidFile = join(dir, "broker.pid");
const cli = (args: string[], input?: string) =>
  run(process.execPath, ["src/main.ts", ...args], 20_000, { NANOMQ_PID_FILE: pidFile }, input);

async function waitForPort(port: number): Promise<void> {
  const open = () =>
    new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1", () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
  for (let i = 0; i < 300 && !(await open()); i++) await new Promise((r) => setTimeout(r, 50));
}

const ACL = `# hmq format: 1 = publish, 2 = subscribe, 3 = both
allow username alice 3 #
allow username bob   1 bob/%u
allow username bob   2 news/#
deny  username *     3 #
`;

function writeConf(port: number, extra = ""): string {
  const f = join(dir, "nanomq.conf");
  writeFileSync(
    f,
    `listeners.tcp.bind = "127.0.0.1:${port}"\n${extra}auth {\n  allow_anonymous = false\n` +
      `  password = {include "${dir}/pwd.conf"}\n  acl_file = "${dir}/acl.conf"\n}\n`,
  );
  return f;
}

describe("authentication, ACL, reload and stop through the broker command", () => {
  test("passwords (plain and hashed by broker passwd), the hmq ACL, reload, stop", async () => {
    writeFileSync(join(dir, "pwd.conf"), '# NanoMQ password file\n"alice": "pw-a"\n');
    writeFileSync(join(dir, "acl.conf"), ACL);
    const added = await cli(["passwd", join(dir, "pwd.conf"), "bob"], "pw-b\n").done;
    assert.equal(added.code, 0, added.stderr);
    assert.match(
      readFileSync(join(dir, "pwd.conf"), "utf8"),
      /^# NanoMQ password file\n"alice": "pw-a"\n"bob": "\$7\$10000\$/,
    );

    const port = await freePort();
    const conf = writeConf(port);
    const check = await cli(["check", "--conf", conf]).done;
    assert.equal(check.code, 0, check.stderr);
    const effective = JSON.parse(check.stdout);
    assert.equal(effective.auth.allow_anonymous, false);
    assert.deepEqual(effective.auth.password, { alice: "(hidden)", bob: "(hidden)" }, "check hides secrets");

    const broker = cli(["start", "--conf", conf, "--log_level", "info"]);
    try {
      await _exercise(port, conf, broker);
    } finally {
      broker.kill();
      await broker.done;
    }
  });

  async function _exercise(port: number, conf: string, broker: ReturnType<typeof cli>): Promise<void> {
    await waitForPort(port);
    const again = await cli(["start", "--conf", conf]).done;
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already running/);

    const url = `mqtt://127.0.0.1:${port}`;
    const opts = { reconnectPeriod: 0, connectTimeout: 5000 };
    await assert.rejects(mqtt.connectAsync(url, opts), /Not authorized|not authorized/i, "anonymous refused");
    await assert.rejects(
      mqtt.connectAsync(url, { ...opts, username: "alice", password: "nope" }),
      /Bad user/i,
    );
    const pubNoAuth = await run("mosquitto_pub", ["-p", String(port), "-t", "x", "-m", "1"]).done;
    assert.notEqual(pubNoAuth.code, 0, "mosquitto_pub without credentials is refused");

    const alice = await mqtt.connectAsync(url, {
      ...opts,
      username: "alice",
      password: "pw-a",
      protocolVersion: 5,
    });
    let aliceClosed = false;
    alice.on("close", () => (aliceClosed = true));
    const got: string[] = [];
    alice.on("message", (t) => got.push(t));
    await alice.subscribeAsync("#", { qos: 1 });

    const bob = await mqtt.connectAsync(url, {
      ...opts,
      username: "bob",
      password: "pw-b",
      protocolVersion: 5,
    });
    const granted = await bob.subscribeAsync({ "news/#": { qos: 1 }, "secret/#": { qos: 1 } }).then(
      () => [],
      (e: { packet?: { granted?: number[] } }) => e.packet?.granted ?? [],
    );
    assert.deepEqual(granted, [1, 0x87], "secret/# denied with 0x87");
    await bob.publishAsync("bob/bob", "ok", { qos: 1 });
    await assert.rejects(bob.publishAsync("secret/x", "no", { qos: 1 }), /135|Not authorized/i);
    const v3 = await run("mosquitto_pub", [
      "-p",
      String(port),
      "-u",
      "bob",
      "-P",
      "pw-b",
      "-t",
      "secret/y",
      "-m",
      "no",
      "-q",
      "1",
    ]).done;
    assert.equal(v3.code, 0, "MQTT 3.1.1 cannot be told: the publish is acknowledged and dropped");
    await bob.publishAsync("bob/bob", "last", { qos: 1 });
    await waitFor(() => got.filter((t) => t === "bob/bob").length === 2, "bob's allowed messages");
    assert.deepEqual(got.filter((t) => t.startsWith("secret")), [], "denied messages never arrive");

    writeFileSync(join(dir, "pwd.conf"), '"alice": "pw-a2"\n"bob": "pw-b"\n');
    const reload = await cli(["reload"]).done;
    assert.equal(reload.code, 0, reload.stderr);
    await assert.rejects(
      mqtt.connectAsync(url, { ...opts, username: "alice", password: "pw-a" }),
      /Bad user/i,
    );
    const alice2 = await mqtt.connectAsync(url, { ...opts, username: "alice", password: "pw-a2" });
    alice2.end(true);
    assert.equal(aliceClosed, false, "connected clients stay connected across a reload");

    writeFileSync(conf, `${readFileSync(conf, "utf8")}mqtt.max_mqueue_len = "lots"\n`);
    const bad = await cli(["reload"]).done;
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /mqtt\.max_mqueue_len: "lots" is not a whole number/);
    const alice3 = await mqtt.connectAsync(url, { ...opts, username: "alice", password: "pw-a2" });
    alice3.end(true);

    let reason = -1;
    alice.on("disconnect", (p) => (reason = p.reasonCode ?? 0));
    const stop = await cli(["stop"]).done;
    assert.equal(stop.code, 0, stop.stderr);
    const r = await broker.done;
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => reason !== -1, "DISCONNECT");
    assert.equal(reason, 0x8b);
    assert.equal(existsSync(pidFile), false, "the pid file is removed");
    assert.match(r.stderr, /info {2}\[[^\]]+\] Connected from 127\.0\.0\.1/);
    assert.match(r.stderr, /warn {2}\[[^\]]+\] Authentication failed .*user "alice"/);
    assert.match(r.stderr, /warn {2}\[[^\]]+\] Not authorized to subscribe to "secret\/#" \(.*acl\.conf:5\)/);
    assert.match(r.stderr, /Reload failed, the running configuration stays/);
    alice.end(true);
    bob.end(true);
    const none = await cli(["stop"]).done;
    assert.equal(none.code, 1);
    assert.match(none.stderr, /No broker is running/);
  }

  test("--daemon detaches: the log goes to the log file, stop ends it", async () => {
    const port = await freePort();
    writeFileSync(join(dir, "pwd.conf"), '"alice": "pw-a"\n');
    const conf = writeConf(port, `log {\n  to = [file]\n  level = info\n  dir = "${dir}/log"\n}\n`);
    const r = await cli(["start", "-d", "--conf", conf]).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /started in the background \(pid \d+/);
    const pid = Number(readFileSync(pidFile, "utf8"));
    assert.ok(pid > 0);
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      reconnectPeriod: 0,
      username: "alice",
      password: "pw-a",
    });
    c.end(true);
    const stop = await cli(["stop"]).done;
    assert.equal(stop.code, 0, stop.stderr);
    await waitFor(
      () => readFileSync(join(dir, "log", "nanomq.log"), "utf8").includes("Connected from"),
      "the log line",
    );
  });
});
