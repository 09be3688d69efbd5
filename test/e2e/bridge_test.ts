/**
 * Bridges against a real upstream: Mosquitto on another loopback port, behind a TCP proxy that can
 * cut, blackhole and restore the link. The edge broker is a real process with sqlite { }.
 */
import assert from "node:assert/strict";
import { chmodSync, readdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import mqtt from "mqtt";
import {
  assertDelivered,
  bridgeState,
  bridgeWorld,
  collector,
  edge,
  mosquitto,
  publish,
} from "../helpers/bridge_world.ts";
import { makeTestCerts } from "../helpers/certs.ts";
import { freePort, waitFor } from "../helpers/live_broker.ts";
import { startTcpProxy } from "../helpers/tcp_proxy.ts";

describe("MQTT bridge to Mosquitto", () => {
  const { cleanups, setup, runEdge } = bridgeWorld();

  test("steady forwarding at QoS 1: exactly the messages, once each, in order, with the prefix; state on $SYS", async () => {
    const { e, c } = await setup();
    const acked = await publish(e.url, 0, 300);
    await waitFor(() => c.got.length >= 300, "300 messages upstream", 30_000);
    assert.deepEqual(c.got.map(Number), acked.sort((a, b) => a - b));
    const s = await bridgeState(e.url, (s) => s.forwarded === 300);
    assert.equal(s.state, "connected");
    assert.equal(s.cached, 0);
    assert.equal(s.dropped, 0);
  });

  test("link cut during QoS 1 traffic: the messages acknowledged meanwhile arrive after it is restored", async () => {
    const { e, c, proxy } = await setup();
    let cut = false;
    const acked = await publish(e.url, 0, 600, (n) => {
      if (n === 150 && !cut) {
        cut = true;
        proxy.cut();
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    proxy.restore();
    await waitFor(() => acked.every((k) => c.got.includes(String(k))), "every acknowledged message", 30_000);
    assertDelivered(acked, c.got);
  });

  test("QoS 2 over MQTT 5 with a lasting upstream session: a cut mid-traffic, each message arrives exactly once, in order", async () => {
    // clean_start = false is in edge(); MQTT 5 also needs a Session Expiry Interval to keep the session
    const { e, up, proxy } = await setup(
      "  proto_ver = 5\n  conn_properties { session_expiry_interval = 3600 }\n",
    );
    const c2 = await collector(up.port, "edge/#", 2);
    cleanups.push(c2.end);
    let cut = false;
    const acked = await publish(e.url, 0, 400, (n) => {
      if (n === 100 && !cut) {
        cut = true;
        proxy.cut();
        setTimeout(() => proxy.restore(), 500);
      }
    }, 2);
    await waitFor(() => acked.every((k) => c2.got.includes(String(k))), "every acknowledged message", 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(c2.got.map(Number), [...acked].sort((a, b) => a - b), "once each, in publishing order");
  });

  test("messages published before the uplink was ever up are forwarded when it comes up", async () => {
    const up = await mosquitto();
    cleanups.push(up.stop);
    const proxy = await startTcpProxy(up.port);
    cleanups.push(() => proxy.close());
    proxy.cut();
    const e = await edge(proxy.port);
    const c = await collector(up.port);
    cleanups.push(c.end);
    await runEdge(e);
    const acked = await publish(e.url, 0, 100);
    proxy.restore();
    await waitFor(() => acked.every((k) => c.got.includes(String(k))), "every acknowledged message", 30_000);
    assertDelivered(acked, c.got);
  });

  test("blackholed link: keepalive notices, the bridge reconnects, nothing is lost", async () => {
    const { e, c, proxy } = await setup();
    proxy.blackhole();
    const acked = await publish(e.url, 0, 200);
    await new Promise((r) => setTimeout(r, 3500)); // 1.5 x keepalive 2 s
    proxy.restore();
    await waitFor(() => acked.every((k) => c.got.includes(String(k))), "every acknowledged message", 30_000);
    assertDelivered(acked, c.got);
  });

  test("subscription direction: cloud messages come down; a message that came down is not forwarded back up", async () => {
    const { e, up } = await setup(
      `  subscription = [ { remote_topic = "cmd/#", local_topic = "", qos = 1 } ]\n` +
        `  forwards = [ { local_topic = "cmd/#", remote_topic = "", qos = 1 } ]\n`,
    );
    const local = await collector(Number(new URL(e.url).port), "cmd/#");
    cleanups.push(local.end);
    const cloud = await collector(up.port, "cmd/#");
    cleanups.push(cloud.end);
    await new Promise((r) => setTimeout(r, 300));
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${up.port}`, { reconnectPeriod: 0 });
    await pub.publishAsync("cmd/reboot", "now", { qos: 1 });
    pub.end(true);
    await waitFor(() => local.got.length === 1, "the command at the edge", 10_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(local.got, ["now"]);
    assert.deepEqual(cloud.got, ["now"], "the cloud saw it once: the bridge did not send it back");
  });

  test("MQTT 5 upstream: the message's properties go through", async () => {
    const { e, up } = await setup("  proto_ver = 5\n");
    const cloud = await mqtt.connectAsync(`mqtt://127.0.0.1:${up.port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    cleanups.push(() => cloud.end(true));
    const got = new Promise<mqtt.IPublishPacket>((r) => cloud.once("message", (_t, _p, packet) => r(packet)));
    await cloud.subscribeAsync("edge/#", { qos: 1 });
    const pub = await mqtt.connectAsync(e.url, { protocolVersion: 5, reconnectPeriod: 0 });
    await pub.publishAsync("data/props", "with properties", {
      qos: 1,
      properties: {
        contentType: "text/plain",
        userProperties: { site: "north", line: "3" },
        messageExpiryInterval: 600,
      },
    });
    pub.end(true);
    const p = await got;
    assert.equal(p.topic, "edge/data/props");
    assert.equal(p.properties?.contentType, "text/plain");
    assert.deepEqual({ ...p.properties?.userProperties }, { site: "north", line: "3" });
    assert.ok((p.properties?.messageExpiryInterval ?? 0) > 590);
  });

  test("TLS upstream (tls+mqtt-tcp, the server verified against ssl.cacertfile)", async () => {
    const certs = makeTestCerts();
    chmodSync(certs.dir, 0o755); // Mosquitto reads them as its own user
    for (const f of readdirSync(certs.dir)) chmodSync(join(certs.dir, f), 0o644);
    const tlsPort = await freePort();
    const up = await mosquitto({ tls: { port: tlsPort, certs } });
    cleanups.push(up.stop);
    const e = await edge(`tls+mqtt-tcp://127.0.0.1:${tlsPort}`, `  ssl { cacertfile = "${certs.caFile}" }\n`);
    const c = await collector(up.port);
    cleanups.push(c.end);
    const broker = await runEdge(e);
    const acked = await publish(e.url, 0, 100);
    await waitFor(() => c.got.length >= 100, "100 messages over TLS", 10_000).catch(async (err) => {
      process.kill(broker.pid, "SIGTERM");
      throw new Error(`${err.message}; the edge said: ${(await broker.done).stderr}`);
    });
    assertDelivered(acked, c.got);
  });
});
