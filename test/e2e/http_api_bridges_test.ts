/**
 * The HTTP API's bridge endpoints on a broker process bridged to an upstream broker started
 * here: list and show (password masked), switch off (the cache fills, upstream sees the bridge
 * go) and on again (the cache drains upstream), the bridge metrics; upstream subscriptions added
 * and removed at run time; the settings replaced (PUT), the masked password kept.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { type ApiBroker, json, startApiBroker } from "../helpers/api_broker.ts";
import { type LiveBroker, startLiveBroker, waitFor } from "../helpers/live_broker.ts";
import type { AuthHooks } from "../../src/broker/auth_port.ts";

let up: LiveBroker;
let b: ApiBroker;
const clients: MqttClient[] = [];

/** Upstream lets the user "edge" in with the bridge's password only. */
const UPSTREAM_AUTH: AuthHooks = {
  authenticate: (who, pw) => (who.username === "edge" && String(pw) !== "bridge-secret" ? 0x86 : 0),
  authorize: () => ({ allow: true, rule: "" }),
  recheck: () => null,
  authorizeRead: () => ({ allow: true, rule: "" }),
  readClass: () => 0,
  stillAuthenticated: () => true,
  denyAction: "ignore",
};

before(async () => {
  up = await startLiveBroker();
  up.broker.setAuth(UPSTREAM_AUTH);
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

/** The filters upstream has for the bridge's client `id`. */
function upstreamFilters(id: string): string[] {
  return up.broker.subscriptions().filter((x) => x.clientId === id).map((x) => x.topic).sort();
}

describe("HTTP API: bridge changes at run time", () => {
  test("bridges/sub subscribes upstream at once, bridges/unsub unsubscribes; both show in the bridge", async () => {
    const local = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.mqttPort}`, { clientId: "local-sub" });
    clients.push(local);
    const got: string[] = [];
    local.on("message", (t, p) => got.push(`${t}=${p}`));
    await local.subscribeAsync("down/#", { qos: 1 });
    const sub = await json(b.api("/api/v4/bridges/sub/cloud", {
      body: {
        data: {
          subscription: [{ remote_topic: "cmd/#", local_topic: "", prefix: "down/", qos: 1 }],
          sub_properties: { user_properties: [{ key: "k", value: "v" }] },
        },
      },
    }));
    assert.equal(sub.code, 0);
    // NanoMQ's documented method
    await json(b.api("/api/v4/bridges/sub/cloud", {
      method: "PUT",
      body: { data: { subscription: [{ remote_topic: "mark", local_topic: "down/mark" }] } },
    }));
    await waitFor(() => upstreamFilters("edge-1").length === 2, "both subscriptions upstream");
    assert.deepEqual(upstreamFilters("edge-1"), ["cmd/#", "mark"]);
    const cloud = await mqtt.connectAsync(up.url, { clientId: "cloud-pub" });
    clients.push(cloud);
    await cloud.publishAsync("cmd/a", "1", { qos: 1 });
    await waitFor(() => got.length === 1, "cmd/a brought down");
    assert.deepEqual(got, ["down/cmd/a=1"]);
    const shown = (await bridge() as unknown as { subscription: { remote_topic: string; qos: number }[] })
      .subscription;
    assert.deepEqual(shown.map((x) => [x.remote_topic, x.qos]), [["cmd/#", 1], ["mark", 1]]);

    const unsub = await json(b.api("/api/v4/bridges/unsub/cloud", {
      body: { data: { unsubscription: [{ topic: "cmd/#" }] } },
    }));
    assert.equal(unsub.code, 0);
    await waitFor(() => upstreamFilters("edge-1").length === 1, "cmd/# unsubscribed upstream");
    assert.deepEqual(upstreamFilters("edge-1"), ["mark"]);
    // what upstream sends after the unsubscribe no longer comes down; the marker behind it does
    await cloud.publishAsync("cmd/b", "2", { qos: 1 });
    await cloud.publishAsync("mark", "3", { qos: 1 });
    await waitFor(() => got.length === 2, "the marker");
    assert.deepEqual(got, ["down/cmd/a=1", "down/mark=3"]);
  });

  test("bridges/sub and unsub refuse what they cannot do, and change nothing", async () => {
    const unknown = await json(
      b.api("/api/v4/bridges/unsub/cloud", { body: { data: { unsubscription: [{ topic: "no/such" }] } } }),
      404,
    );
    assert.match(String(unknown.message), /no subscription to "no\/such"/);
    const badFilter = await json(
      b.api("/api/v4/bridges/sub/cloud", { body: { data: { subscription: [{ remote_topic: "a/#/b" }] } } }),
      400,
    );
    assert.equal(badFilter.code, 115);
    const badQos = await json(
      b.api("/api/v4/bridges/sub/cloud", {
        body: { data: { subscription: [{ remote_topic: "q", qos: 5 }] } },
      }),
      400,
    );
    assert.equal(badQos.code, 108);
    assert.match(String(badQos.message), /bridges\.mqtt\.cloud\.subscription\.1\.qos/);
    assert.equal((await json(b.api("/api/v4/bridges/sub/cloud", { body: {} }), 400)).code, 107);
    assert.deepEqual(upstreamFilters("edge-1"), ["mark"]);
  });

  test("PUT replaces the settings and reconnects with them; the masked password and the cache are kept", async () => {
    const view = await bridge() as unknown as Record<string, unknown>;
    assert.equal(view.keepalive, "60s", "durations shown as a file gives them");
    assert.equal(view.backoff_max, "1s");
    const section = {
      ...view,
      clientid: "edge-2",
      forwards: [{ local_topic: "up/#", remote_topic: "", prefix: "edge2/", qos: 1 }],
    };
    const bad = await json(
      b.api("/api/v4/bridges/cloud", { method: "PUT", body: { cloud: { ...section, server: "nowhere" } } }),
      400,
    );
    assert.match(String(bad.message), /bridges\.mqtt\.cloud\.server/);
    assert.deepEqual(upstreamFilters("edge-1"), ["mark"], "a refused PUT changes nothing");
    assert.equal(
      (await json(b.api("/api/v4/bridges/cloud", { method: "PUT", body: { x: {} } }), 400)).code,
      107,
    );

    const cloud = await mqtt.connectAsync(up.url, { clientId: "cloud-sub2" });
    clients.push(cloud);
    const got: string[] = [];
    cloud.on("message", (t, p) => got.push(`${t}=${p}`));
    await cloud.subscribeAsync("edge2/#", { qos: 1 });
    assert.equal(
      (await json(b.api("/api/v4/bridges/cloud", { method: "PUT", body: { cloud: section } }))).code,
      0,
    );
    // upstream lets the user "edge" in only with the password the PUT gave as "******"
    await waitFor(() => up.broker.clients().some((c) => c.clientId === "edge-2"), "the bridge as edge-2");
    assert.ok(!up.broker.clients().some((c) => c.clientId === "edge-1"));
    await until(async () => (await bridge()).state === "connected", "the bridge connected");
    const local = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.mqttPort}`, { clientId: "device-2" });
    clients.push(local);
    await local.publishAsync("up/t", "x", { qos: 1 });
    await waitFor(() => got.length === 1, "the message under the new prefix");
    assert.deepEqual(got, ["edge2/up/t=x"]);
    const after = await bridge() as unknown as Record<string, unknown>;
    assert.equal(after.clientid, "edge-2");
    assert.equal(after.password, "******");

    await json(
      b.api("/api/v4/bridges/cloud", { method: "PUT", body: { cloud: { ...section, enable: false } } }),
    );
    await waitFor(() => !up.broker.clients().some((c) => c.clientId === "edge-2"), "the bridge to go");
    assert.equal((await bridge()).state, "stopped");
    await local.publishAsync("up/t", "y", { qos: 1 });
    await until(async () => (await bridge()).cached === 1, "the message cached while off");
    await json(b.api("/api/v4/bridges/switch/cloud", { body: { data: { bridge_switch: true } } }));
    await waitFor(() => got.length === 2, "the cached message after the switch on");
    assert.deepEqual(got, ["edge2/up/t=x", "edge2/up/t=y"]);
  });
});
