/**
 * The HTTP API's bridge endpoints on a broker process bridged to an upstream broker started
 * here: list and show (password masked), switch off (the cache fills, upstream sees the bridge
 * go) and on again (the cache drains upstream), the bridge metrics.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { type ApiBroker, json, startApiBroker } from "../helpers/api_broker.ts";
import { type LiveBroker, startLiveBroker, waitFor } from "../helpers/live_broker.ts";

let up: LiveBroker;
let b: ApiBroker;
const clients: MqttClient[] = [];

before(async () => {
  up = await startLiveBroker();
  b = await startApiBroker({
    conf: `bridges.mqtt.cloud {\n  server = "mqtt-tcp://127.0.0.1:${up.port}"\n  clientid = "edge-1"\n` +
      `  password = "bridge-secret"\n  username = "edge"\n  backoff_max = 1s\n` +
      `  forwards = [ { local_topic = "up/#", remote_topic = "", qos = 1 } ]\n}\n`,
  });
});
after(async () => {
  for (const c of clients) c.end(true);
  await b.stop();
  await up.stop();
});

type BridgeView = {
  name: string;
  state: string;
  cached: number;
  forwarded: number;
  password?: string;
  server?: string;
};

/** Polls an async condition (a hang guard of 10 s, not a timing assertion). */
async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; !(await cond()); i++) {
    if (i > 500) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function bridge(): Promise<BridgeView> {
  return (await json(b.api("/api/v4/bridges/cloud"))).bridge as BridgeView;
}

describe("HTTP API: bridges", () => {
  test("list and show: NanoMQ's keys, state and counters, the password masked", async () => {
    await waitFor(() => b.output().includes("Bridge cloud: connected"), "the bridge");
    const list = (await json(b.api("/api/v4/bridges"))).bridges as BridgeView[];
    assert.equal(list.length, 1);
    const one = await bridge();
    assert.equal(one.name, "cloud");
    assert.equal(one.state, "connected");
    assert.equal(one.server, `mqtt-tcp://127.0.0.1:${up.port}`);
    assert.equal(one.password, "******");
    assert.equal((await json(b.api("/api/v4/bridges/nothing"), 404)).code, 108);
  });

  test("switch off: upstream sees the bridge go and the cache fills; switch on: the cache goes up in order", async () => {
    const cloud = await mqtt.connectAsync(up.url, { clientId: "cloud-sub", reconnectPeriod: 0 });
    clients.push(cloud);
    const got: string[] = [];
    cloud.on("message", (_t, p) => got.push(String(p)));
    await cloud.subscribeAsync("up/#", { qos: 1 });
    const off = await json(
      b.api("/api/v4/bridges/switch/cloud", { body: { data: { bridge_switch: false } } }),
    );
    assert.equal(off.code, 0);
    assert.equal((await bridge()).state, "stopped");
    await waitFor(
      () => !up.broker.clients().some((c) => c.clientId === "edge-1"),
      "the bridge to leave upstream",
    );
    const local = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.mqttPort}`, {
      clientId: "device",
      reconnectPeriod: 0,
    });
    clients.push(local);
    for (let i = 0; i < 5; i++) await local.publishAsync("up/t", `m${i}`, { qos: 1 });
    await until(async () => (await bridge()).cached === 5, "5 messages in the cache");
    const prom = await (await b.api("/api/v4/prometheus")).text();
    assert.match(prom, /^broker_bridge_up\{bridge="cloud"\} 0$/m);
    assert.match(prom, /^broker_bridge_cached_messages\{bridge="cloud"\} 5$/m);
    assert.deepEqual(got, []);
    await json(b.api("/api/v4/bridges/switch/cloud", { body: { data: { bridge_switch: true } } }));
    await waitFor(() => got.length === 5, "the cached messages upstream");
    assert.deepEqual(got, ["m0", "m1", "m2", "m3", "m4"]);
    assert.equal((await bridge()).state, "connected");
    const missing = await json(b.api("/api/v4/bridges/switch/cloud", { body: { data: {} } }), 400);
    assert.equal(missing.code, 107);
  });
});
