/**
 * The release artifacts in dist/ (`npm run build`), each run on its own architecture: started with a
 * configuration file, a QoS 1 round trip through it from the host, and `broker stop`.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import process from "node:process";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import mqtt from "mqtt";
import pkg from "../../package.json" with { type: "json" };
import { makeTestCerts } from "../helpers/certs.ts";
import { freePort, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";
import { type Artifact, artifacts, DIST } from "./artifacts.ts";
import { PACKETS } from "../fixtures/packets.ts";

/** Emulated start-up takes seconds; these bound a hang, they do not measure. */
const EMULATED_MS = 120_000;

function cli(a: Artifact, args: string[], env: Record<string, string> = {}) {
  return run(a.argv[0]!, [...a.argv.slice(1), ...args], EMULATED_MS, { ...a.env, ...env });
}

/** A fresh folder with a configuration file listening on a free port, and its pid file. */
async function setup(
  extra: (dir: string) => string = () => "",
): Promise<{ conf: string; port: number; env: Record<string, string>; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), "broker-release-"));
  const port = await freePort();
  const conf = join(dir, "nanomq.conf");
  writeFileSync(conf, `listeners.tcp.bind = "127.0.0.1:${port}"\nlog.level = info\n${extra(dir)}`);
  return { conf, port, dir, env: { NANOMQ_PID_FILE: join(dir, "nanomq.pid") } };
}

/** Subscribes at QoS 1 (MQTT 5), publishes at QoS 1 (MQTT 3.1.1), and returns what arrived. */
async function roundTrip(port: number, topic: string): Promise<mqtt.IPublishPacket> {
  const url = `mqtt://127.0.0.1:${port}`;
  const sub = await mqtt.connectAsync(url, {
    protocolVersion: 5,
    clientId: "release-sub",
    reconnectPeriod: 0,
  });
  const pub = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    clientId: "release-pub",
    reconnectPeriod: 0,
  });
  try {
    await sub.subscribeAsync(topic, { qos: 1 });
    const got = new Promise<mqtt.IPublishPacket>((resolve) =>
      sub.once("message", (_t, _p, packet) => resolve(packet))
    );
    await pub.publishAsync(topic, "hello from the host", { qos: 1 });
    return await got;
  } finally {
    pub.end(true);
    sub.end(true);
  }
}

/**
 * With `sqlite { }`: a persistent session subscribes and leaves, QoS 1 messages are acknowledged for
 * it, the broker is killed with SIGKILL, and after a restart the session gets them all.
 */
async function survivesKill(a: Artifact): Promise<string[]> {
  const { conf, port, env, dir } = await setup((d) => `sqlite {\n  mounted_file_path = "${d}"\n}\n`);
  const url = `mqtt://127.0.0.1:${port}`;
  const started = async () => {
    const b = cli(a, ["start", "--conf", conf], env);
    const mine = () =>
      existsSync(env.NANOMQ_PID_FILE!) && readFileSync(env.NANOMQ_PID_FILE!, "utf8").trim() === String(b.pid);
    await waitFor(mine, `${a.target} to start`, EMULATED_MS);
    return b;
  };
  const session = { clientId: "release-durable", clean: false, reconnectPeriod: 0 };
  const first = await started();
  const sub = await mqtt.connectAsync(url, session);
  await sub.subscribeAsync("durable/#", { qos: 1 });
  await sub.endAsync();
  const pub = await mqtt.connectAsync(url, { clientId: "release-durable-pub", reconnectPeriod: 0 });
  for (let i = 0; i < 20; i++) await pub.publishAsync(`durable/${i}`, `m${i}`, { qos: 1 });
  process.kill(first.pid, "SIGKILL");
  await first.done;
  pub.end(true);

  const second = await started();
  const got: string[] = [];
  const back = mqtt.connect(url, session);
  back.on("message", (_t, payload) => got.push(payload.toString()));
  await waitFor(() => got.length >= 20, "the stored messages", EMULATED_MS);
  back.end(true);
  assert.equal((await cli(a, ["stop"], env).done).code, 0);
  assert.match((await second.done).stderr, /Persistence on: .*broker\.db, 1 sessions? /);
  assert.ok(existsSync(join(dir, "broker.db")));
  return got;
}

describe("release artifacts", () => {
  const all = artifacts();

  test("SHA256SUMS covers every artifact and verifies with sha256sum -c", async () => {
    const r = await run("sh", ["-c", `cd ${DIST} && sha256sum -c SHA256SUMS`]).done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const a of all) assert.match(r.stdout, new RegExp(`^broker-${a.target}: OK$`, "m"));
    assert.match(r.stdout, /^broker-armv7\.mjs: OK$/m);
  });

  for (const a of all) {
    test(`${a.target}: --version, start --conf, a QoS 1 round trip from the host, its own pub, stop`, async () => {
      const v = await cli(a, ["--version"]).done;
      assert.equal(v.code, 0, v.stderr);
      assert.match(v.stdout, new RegExp(`^broker ${pkg.version} ${a.target} `));
      assert.match(v.stdout, a.runtime);

      const { conf, port, env } = await setup();
      const broker = cli(a, ["start", "--conf", conf], env);
      await waitFor(() => existsSync(env.NANOMQ_PID_FILE!), `${a.target} to write its pid file`, EMULATED_MS);
      const packet = await roundTrip(port, `release/${a.target}`);
      assert.equal(packet.payload.toString(), "hello from the host");
      assert.equal(packet.qos, 1);
      // the client tools are in the artifact too
      const watch = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
      const got = new Promise<string>((r) => watch.once("message", (_t, p) => r(String(p))));
      await watch.subscribeAsync(`tools/${a.target}`, { qos: 1 });
      const pub = await cli(a, [
        "pub",
        "-p",
        String(port),
        "-t",
        `tools/${a.target}`,
        "-m",
        "from pub",
        "-q",
        "1",
      ]).done;
      assert.equal(pub.code, 0, pub.stderr);
      assert.equal(await got, "from pub");
      watch.end(true);

      const stop = await cli(a, ["stop"], env).done;
      assert.equal(stop.code, 0, stop.stderr);
      const r = await broker.done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`listening on 127\\.0\\.0\\.1:${port}`));
      assert.match(r.stderr, /\[release-sub\] Connected from 127\.0\.0\.1/);
      assert.equal(existsSync(env.NANOMQ_PID_FILE!), false, "stop removed the pid file");
    });
  }

  test("armv7 on Node.js 18: a sqlite { } section is refused at start with the reason", async () => {
    const arm = all.find((a) => a.target === "armv7")!;
    const { conf } = await setup(() => "sqlite {\n  disk_cache_size = 1000\n}\n");
    const r = await cli(arm, ["start", "--conf", conf]).done;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /sqlite: persistence needs SQLite, and Node\.js 18\.\d+\.\d+ has no node:sqlite/);
    assert.match(r.stderr, /set sqlite\.enable = false/);
  });

  const twenty = Array.from({ length: 20 }, (_, i) => `m${i}`);
  test("linux-x86_64 with sqlite { } (bun:sqlite): acknowledged QoS 1 messages for an offline session survive SIGKILL", async () => {
    assert.deepEqual(await survivesKill(all.find((a) => a.target === "linux-x86_64")!), twenty);
  });

  test("the armv7 bundle on Node.js 22.13 with sqlite { } (node:sqlite): the same after SIGKILL", async () => {
    const node22 = resolve(".cache/node22/bin/node");
    if (!existsSync(node22)) throw new Error(`${node22} is missing: run scripts/install_release_deps.sh`);
    const arm = all.find((a) => a.target === "armv7")!;
    assert.deepEqual(await survivesKill({ ...arm, env: { NODE: node22 } }), twenty);
  });

  test("linux-x86_64: start -d detaches, logs to log.dir, and stop ends it", async () => {
    const x64 = all.find((a) => a.target === "linux-x86_64")!;
    const { conf, port, env, dir } = await setup((d) => `log { to = [file], dir = "${d}" }\n`);
    const started = await cli(x64, ["start", "-d", "--conf", conf], env).done;
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stderr, /broker started in the background \(pid \d+/);
    const packet = await roundTrip(port, "release/daemon");
    assert.equal(packet.qos, 1);
    const stop = await cli(x64, ["stop"], env).done;
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(readFileSync(join(dir, "nanomq.log"), "utf8"), /\[release-pub\] Connected from/);
  });

  test("the armv7 launcher finds its bundle through a symlink (/usr/bin/broker on OpenWrt); NODE picks the Node.js", async () => {
    const link = join(mkdtempSync(join(tmpdir(), "broker-link-")), "broker");
    symlinkSync(join(DIST, "broker-armv7"), link);
    const r = await run(link, ["--version"], EMULATED_MS, { NODE: "node" }).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^broker ${pkg.version} armv7 \\(node \\d+\\.\\d+\\.\\d+\\)$`, "m"));
  });

  test("the armv7 bundle on this host's Node.js: plain MQTT sent to its TLS port is closed", async () => {
    const arm = all.find((a) => a.target === "armv7")!;
    const certs = makeTestCerts();
    const tlsPort = await freePort();
    const { conf, port, env } = await setup(() =>
      `listeners.ssl {\n  bind = "127.0.0.1:${tlsPort}"\n  keyfile = "${certs.keyFile}"\n` +
      `  certfile = "${certs.certFile}"\n}\n`
    );
    const hostNode = { ...arm, env: { NODE: "node" } };
    const broker = cli(hostNode, ["start", "--conf", conf], env);
    await waitFor(() => existsSync(env.NANOMQ_PID_FILE!), "the bundle to start", EMULATED_MS);
    let closed = false;
    const s = connect(tlsPort, "127.0.0.1", () => s.write(PACKETS.connectV4));
    s.on("error", () => {});
    s.on("close", () => (closed = true));
    await waitFor(() => closed, "the plain client to be closed", 30_000);
    assert.equal((await roundTrip(port, "release/tls-still-serves")).qos, 1);
    assert.equal((await cli(hostNode, ["stop"], env).done).code, 0);
    assert.equal((await broker.done).code, 0);
  });
});
