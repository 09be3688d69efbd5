/**
 * Bridges that lose something on the way: the edge killed, the upstream restarted, a full cache,
 * rules changed while messages wait, messages the upstream refuses, a server lost for another.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import {
  assertDelivered,
  bridgeState,
  bridgeWorld,
  collector,
  edge,
  mosquitto,
  publish,
} from "../helpers/bridge_world.ts";
import { freePort, mqttListening, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";
import { startTcpProxy } from "../helpers/tcp_proxy.ts";

describe("MQTT bridge to Mosquitto: recovery", () => {
  const { cleanups, setup, runEdge } = bridgeWorld();

  test("edge killed with SIGKILL while the link is down: the cache survives and drains in order", async () => {
    const s = await setup();
    s.proxy.cut();
    const acked = await publish(s.e.url, 0, 500);
    process.kill(s.broker().pid, "SIGKILL");
    await s.broker().done;
    s.proxy.restore();
    await s.restart();
    await waitFor(
      () => acked.every((k) => s.c.got.includes(String(k))),
      "every acknowledged message",
      30_000,
    );
    assertDelivered(acked, s.c.got);
  });

  test("upstream restart during QoS 1 traffic: nothing acknowledged is lost", async () => {
    const { e, c, up } = await setup("", { persist: true });
    let restarted: Promise<void> | null = null;
    const acked = await publish(e.url, 0, 600, (n) => {
      if (n === 150 && restarted === null) restarted = up.stop().then(() => up.start());
    });
    await restarted;
    await waitFor(() => acked.every((k) => c.got.includes(String(k))), "every acknowledged message", 30_000);
    assertDelivered(acked, c.got);
  });

  test("full cache, then SIGKILL: the oldest messages are kept and forwarded in order, the drops are counted and logged", async () => {
    const s = await setup("", { cacheSize: 50 });
    s.proxy.cut();
    await bridgeState(s.e.url, (st) => st.state === "disconnected");
    const acked = await publish(s.e.url, 0, 80);
    assert.equal(acked.length, 80, "the edge acknowledges every message it takes");
    const st = await bridgeState(s.e.url, (st) => st.dropped === 30);
    assert.equal(st.cached, 50);
    process.kill(s.broker().pid, "SIGKILL");
    const out = await s.broker().done;
    assert.match(
      out.stdout + out.stderr,
      /Bridge cloud: the cache is full \(50 messages waiting for upstream\); 30 new messages were dropped/,
    );
    await s.restart();
    s.proxy.restore();
    await waitFor(() => s.c.got.length >= 50, "50 messages upstream", 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(s.c.got.map(Number), [...Array(50).keys()]);
  });

  test("forward rules changed while messages wait: each goes by the rule that now matches it, or not at all", async () => {
    const s = await setup();
    s.proxy.cut();
    await bridgeState(s.e.url, (st) => st.state === "disconnected");
    const before = await publish(s.e.url, 0, 30); // on data/0, data/1, data/2 in turn
    process.kill(s.broker().pid, "SIGTERM");
    await s.broker().done;
    // the old rule data/# becomes stale; its number (1) now names other/#
    s.e.amend(
      `bridges.mqtt.cloud.forwards = [ { local_topic = "other/#", remote_topic = "", prefix = "edge/" },\n` +
        `  { local_topic = "data/0", remote_topic = "", prefix = "edge/" } ]\n`,
    );
    await s.restart();
    const after = await publish(s.e.url, 30, 30);
    // the 30 queued before, and of the new ones only data/0: data/# is no longer subscribed
    await bridgeState(s.e.url, (st) => st.cached === 40);
    s.proxy.restore();
    const expected = [...before, ...after].filter((k) => k % 3 === 0).sort((a, b) => a - b);
    await waitFor(() => s.c.got.length >= expected.length, "the data/0 messages upstream", 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(s.c.got.map(Number), expected);
    // the 20 queued on data/1 and data/2 before the change are counted as they are dropped
    await bridgeState(s.e.url, (st) => st.unmatched === 20);
  });

  test("a message the upstream refuses (MQTT 5, ACL: PUBACK 0x87) is counted and logged; the others go on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bridge-strict-"));
    const port = await freePort();
    writeFileSync(join(dir, "acl.conf"), "deny clientid * 1 edge/data/2\nallow clientid * 3 #\n");
    writeFileSync(
      join(dir, "up.conf"),
      `listeners.tcp.bind = "127.0.0.1:${port}"\nauth { acl_file = "${dir}/acl.conf" }\n`,
    );
    const up = run(process.execPath, ["src/main.ts", "start", "--conf", join(dir, "up.conf")], 120_000, {
      NANOMQ_PID_FILE: join(dir, "pid"),
    });
    cleanups.push(() => process.kill(up.pid, "SIGKILL"));
    await mqttListening(port);
    const e = await edge(port, "  proto_ver = 5\n");
    const c = await collector(port);
    cleanups.push(c.end);
    const broker = await runEdge(e);
    const acked = await publish(e.url, 0, 30); // on data/0, data/1, data/2 in turn
    const st = await bridgeState(e.url, (st) => st.refused === 10);
    assert.equal(st.cached, 0);
    await waitFor(() => c.got.length >= 20, "the 20 allowed upstream", 10_000);
    assert.deepEqual(c.got.map(Number), acked.filter((k) => k % 3 !== 2).sort((a, b) => a - b));
    process.kill(broker.pid, "SIGTERM");
    const out = await broker.done;
    assert.match(
      out.stderr + out.stdout,
      /Bridge cloud: upstream refused \d+ forwarded messages \(last reason code 0x87\)/,
    );
  });

  test("hybrid_servers: when the server is lost the bridge fails over to the next one, losing nothing", async () => {
    const a = await mosquitto();
    cleanups.push(() => a.stop());
    const b = await mosquitto();
    cleanups.push(() => b.stop());
    const proxy = await startTcpProxy(a.port);
    cleanups.push(() => proxy.close());
    const e = await edge(
      proxy.port,
      `  hybrid_bridging = true\n  hybrid_servers = [ "mqtt-tcp://127.0.0.1:${b.port}" ]\n`,
    );
    const ca = await collector(a.port);
    cleanups.push(ca.end);
    const cb = await collector(b.port);
    cleanups.push(cb.end);
    await runEdge(e);
    const first = await publish(e.url, 0, 100);
    await waitFor(() => ca.got.length >= 100, "100 messages on the first server", 30_000);
    proxy.cut();
    const then = await publish(e.url, 100, 100);
    await waitFor(
      () => then.every((k) => cb.got.includes(String(k))),
      "the rest on the second server",
      30_000,
    );
    // QoS 1 across servers: what the first one had not acknowledged when the link went is sent to the second too
    assert.deepEqual(ca.got.map(Number), first.sort((x, y) => x - y));
    assertDelivered([...first, ...then], [...ca.got, ...cb.got]);
    assert.ok(
      cb.got.map(Number).every((k) => k >= 100 - 64),
      "the second server got no more than a window again",
    );
    const st = await bridgeState(e.url, (st) => st.state === "connected");
    assert.equal(st.server, `mqtt-tcp://127.0.0.1:${b.port}`);
  });
});
