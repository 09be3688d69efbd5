import assert from "node:assert/strict";
import { describe, test } from "node:test";
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";
import { liveBrokerFixture, waitFor } from "../helpers/live_broker.ts";

const fx = liveBrokerFixture();
const client = (opts: IClientOptions) => fx.client(opts);

interface Got {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  properties: Record<string, unknown> | undefined;
}

function collect(c: MqttClient): Got[] {
  const got: Got[] = [];
  c.on("message", (topic, payload, packet) => {
    got.push({
      topic,
      payload: payload.toString(),
      qos: packet.qos,
      retain: packet.retain,
      properties: packet.properties as Record<string, unknown> | undefined,
    });
  });
  return got;
}

for (const protocolVersion of [4, 5] as const) {
  describe(`MQTT.js at protocol level ${protocolVersion}`, () => {
    test("QoS 0, 1 and 2 round trip", async () => {
      const sub = await client({ protocolVersion, clientId: `qsub${protocolVersion}` });
      const got = collect(sub);
      await sub.subscribeAsync(`rt${protocolVersion}/#`, { qos: 2 });
      const pub = await client({ protocolVersion, clientId: `qpub${protocolVersion}` });
      for (const qos of [0, 1, 2] as const) {
        await pub.publishAsync(`rt${protocolVersion}/q${qos}`, `m${qos}`, { qos });
      }
      await waitFor(() => got.length === 3, "three messages");
      assert.deepEqual(got.map((g) => [g.topic, g.payload, g.qos]).sort(), [
        [`rt${protocolVersion}/q0`, "m0", 0],
        [`rt${protocolVersion}/q1`, "m1", 1],
        [`rt${protocolVersion}/q2`, "m2", 2],
      ]);
    });

    test("a retained message arrives on subscribe with RETAIN set", async () => {
      const pub = await client({ protocolVersion });
      await pub.publishAsync(`ret${protocolVersion}/a`, "kept", { qos: 1, retain: true });
      const sub = await client({ protocolVersion });
      const got = collect(sub);
      await sub.subscribeAsync(`ret${protocolVersion}/+`, { qos: 1 });
      await waitFor(() => got.length === 1, "the retained message");
      assert.equal(got[0]!.payload, "kept");
      assert.equal(got[0]!.retain, true);
    });

    test("the will is published when the connection breaks", async () => {
      const watch = await client({ protocolVersion });
      const got = collect(watch);
      await watch.subscribeAsync(`will${protocolVersion}`, { qos: 1 });
      const dying = await client({
        protocolVersion,
        will: { topic: `will${protocolVersion}`, payload: Buffer.from("bye"), qos: 1, retain: false },
      });
      dying.stream.destroy();
      await waitFor(() => got.length === 1, "the will");
      assert.equal(got[0]!.payload, "bye");
    });

    test("a persistent session receives what was published while it was away", async () => {
      const id = `persist${protocolVersion}`;
      const session = protocolVersion === 5 ? { properties: { sessionExpiryInterval: 300 } } : {};
      const first = await client({ protocolVersion, clientId: id, clean: false, ...session });
      await first.subscribeAsync(`away${protocolVersion}`, { qos: 1 });
      await first.endAsync();
      const pub = await client({ protocolVersion });
      await pub.publishAsync(`away${protocolVersion}`, "while away", { qos: 1 });
      const back = mqtt.connect(fx.lb.url, {
        protocolVersion,
        clientId: id,
        clean: false,
        reconnectPeriod: 0,
        ...session,
      });
      fx.track(back);
      const got = collect(back);
      await waitFor(() => got.length === 1, "the queued message");
      assert.equal(got[0]!.payload, "while away");
    });
  });
}

describe("MQTT.js at MQTT 5", () => {
  test("user properties, content type, response topic and correlation data pass through", async () => {
    const sub = await client({ protocolVersion: 5 });
    const got = collect(sub);
    await sub.subscribeAsync("props", { qos: 1 });
    const pub = await client({ protocolVersion: 5 });
    await pub.publishAsync("props", "x", {
      qos: 1,
      properties: {
        userProperties: { k: "v", k2: ["a", "b"] },
        contentType: "application/json",
        responseTopic: "resp",
        correlationData: Buffer.from("id-1"),
      },
    });
    await waitFor(() => got.length === 1, "the message");
    const p = got[0]!.properties!;
    assert.deepEqual({ ...(p.userProperties as object) }, { k: "v", k2: ["a", "b"] });
    assert.equal(p.contentType, "application/json");
    assert.equal(p.responseTopic, "resp");
    assert.equal(String(p.correlationData), "id-1");
  });

  test("topic aliases set by the client and subscription identifiers", async () => {
    const sub = await client({ protocolVersion: 5 });
    const got = collect(sub);
    await sub.subscribeAsync("alias/#", { qos: 0, properties: { subscriptionIdentifier: 42 } });
    const pub = await client({ protocolVersion: 5, properties: { topicAliasMaximum: 10 } });
    await pub.publishAsync("alias/one", "a", { properties: { topicAlias: 3 } });
    await pub.publishAsync("", "b", { properties: { topicAlias: 3 } });
    await waitFor(() => got.length === 2, "two messages");
    assert.deepEqual(got.map((g) => `${g.topic}:${g.payload}`), ["alias/one:a", "alias/one:b"]);
    assert.equal(got[0]!.properties!.subscriptionIdentifier, 42);
  });

  test("a shared subscription splits messages between its members", async () => {
    const a = await client({ protocolVersion: 5 });
    const b = await client({ protocolVersion: 5 });
    const ga = collect(a);
    const gb = collect(b);
    await a.subscribeAsync("$share/workers/jobs", { qos: 1 });
    await b.subscribeAsync("$share/workers/jobs", { qos: 1 });
    const pub = await client({ protocolVersion: 5 });
    for (let i = 0; i < 10; i++) await pub.publishAsync("jobs", String(i), { qos: 1 });
    await waitFor(() => ga.length + gb.length === 10, "ten jobs");
    assert.ok(ga.length > 0 && gb.length > 0);
    assert.deepEqual([...ga, ...gb].map((g) => Number(g.payload)).sort((x, y) => x - y), [
      0,
      1,
      2,
      3,
      4,
      5,
      6,
      7,
      8,
      9,
    ]);
  });

  test("session takeover: the old client is told 0x8E", async () => {
    const old = await client({ protocolVersion: 5, clientId: "taken" });
    let code = -1;
    old.on("disconnect", (p) => (code = p.reasonCode ?? 0));
    await client({ protocolVersion: 5, clientId: "taken" });
    await waitFor(() => code !== -1, "the DISCONNECT");
    assert.equal(code, 0x8e);
  });
});
