import assert from "node:assert/strict";
import { describe, test } from "node:test";
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from "mqtt";
import { liveBrokerFixture, waitFor } from "../helpers/live_broker.ts";

const fx = liveBrokerFixture();
const v5 = (opts: IClientOptions = {}) => fx.client({ protocolVersion: 5, ...opts });

/** Received packets; `resolved` is the topic after MQTT.js applied any topic alias. */
function packets(c: MqttClient): (IPublishPacket & { resolved: string })[] {
  const got: (IPublishPacket & { resolved: string })[] = [];
  c.on("message", (topic, _p, packet) => got.push({ ...packet, resolved: topic }));
  return got;
}

const text = (ps: IPublishPacket[]) => ps.map((p) => String(p.payload));

describe("MQTT 5 features through MQTT.js", () => {
  test("No Local, Retain As Published and Retain Handling", async () => {
    const c = await v5();
    const got = packets(c);
    const other = await v5();
    await other.publishAsync("f/rh", "retained", { retain: true, qos: 1 });
    await c.subscribeAsync("f/nl", { qos: 1, nl: true });
    await c.subscribeAsync("f/rap", { qos: 1, rap: true });
    await c.subscribeAsync("f/rh", { qos: 1, rh: 2 });
    await c.publishAsync("f/nl", "mine", { qos: 1 });
    await other.publishAsync("f/nl", "theirs", { qos: 1 });
    await other.publishAsync("f/rap", "kept-flag", { qos: 1, retain: true });
    await waitFor(() => got.length === 2, "two messages");
    assert.deepEqual(text(got), ["theirs", "kept-flag"]);
    assert.equal(got[1]!.retain, true);
  });

  test("the broker assigns topic aliases toward a client that allows them", async () => {
    const c = await v5({ properties: { topicAliasMaximum: 5 } });
    const got = packets(c);
    await c.subscribeAsync("f/alias", { qos: 0 });
    const pub = await v5();
    await pub.publishAsync("f/alias", "1");
    await pub.publishAsync("f/alias", "2");
    await waitFor(() => got.length === 2, "two messages");
    // the second PUBLISH carries only the alias: an empty topic on the wire
    assert.deepEqual(got.map((p) => [p.topic, p.resolved, p.properties?.topicAlias]), [[
      "f/alias",
      "f/alias",
      1,
    ], ["", "f/alias", 1]]);
  });

  test("a message larger than the client's Maximum Packet Size is not sent to it", async () => {
    const c = await v5({ properties: { maximumPacketSize: 200 } });
    const got = packets(c);
    await c.subscribeAsync("f/size", { qos: 1 });
    const pub = await v5();
    await pub.publishAsync("f/size", "x".repeat(500), { qos: 1 });
    await pub.publishAsync("f/size", "fits", { qos: 1 });
    await waitFor(() => got.length === 1, "the small message");
    assert.deepEqual(text(got), ["fits"]);
    assert.ok(fx.lb.broker.metrics.droppedTooLarge >= 1);
  });

  test("an expired message is not delivered to a session that comes back later", async () => {
    const props = { sessionExpiryInterval: 60 };
    const first = await v5({ clientId: "f-exp", clean: false, properties: props });
    await first.subscribeAsync("f/exp", { qos: 1 });
    await first.endAsync();
    const pub = await v5();
    await pub.publishAsync("f/exp", "short", { qos: 1, properties: { messageExpiryInterval: 1 } });
    await pub.publishAsync("f/exp", "long", { qos: 1, properties: { messageExpiryInterval: 60 } });
    await new Promise((r) => setTimeout(r, 2100));
    const back = mqtt.connect(fx.lb.url, {
      protocolVersion: 5,
      clientId: "f-exp",
      clean: false,
      reconnectPeriod: 0,
      properties: props,
    });
    fx.track(back);
    const got = packets(back);
    await waitFor(() => got.length === 1, "the long-lived message");
    assert.deepEqual(text(got), ["long"]);
    const left = got[0]!.properties!.messageExpiryInterval!;
    assert.ok(left <= 58 && left > 0, `remaining expiry ${left}`);
  });

  test("a delayed will waits for its Will Delay Interval", async () => {
    const watch = await v5();
    const got = packets(watch);
    await watch.subscribeAsync("f/will", { qos: 1 });
    const dying = await v5({
      clientId: "f-will",
      clean: false,
      properties: { sessionExpiryInterval: 30 },
      will: {
        topic: "f/will",
        payload: Buffer.from("late"),
        qos: 1,
        retain: false,
        properties: { willDelayInterval: 1 },
      },
    });
    dying.stream.destroy();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got.length, 0, "the will must wait for its delay");
    await waitFor(() => got.length === 1, "the delayed will");
    assert.deepEqual(text(got), ["late"]);
  });

  test("# does not match $SYS topics [MQTT-4.7.2-1]", async () => {
    const c = await v5();
    const got = packets(c);
    await c.subscribeAsync("#", { qos: 1 });
    const pub = await v5();
    await pub.publishAsync("$SYS/f", "hidden", { qos: 1 });
    await pub.publishAsync("f/visible", "shown", { qos: 1 });
    await waitFor(() => got.some((p) => p.resolved === "f/visible"), "the visible message");
    assert.ok(!got.some((p) => p.resolved.startsWith("$SYS")));
    await c.unsubscribeAsync("#");
  });

  test("Clean Start discards the session and UNSUBACK reports 0x11 for an unknown filter", async () => {
    const a = await v5({ clientId: "f-clean", clean: false, properties: { sessionExpiryInterval: 60 } });
    await a.subscribeAsync("f/clean", { qos: 1 });
    await a.endAsync();
    const b = await v5({ clientId: "f-clean", clean: true });
    const unsub = (await b.unsubscribeAsync("f/clean")) as unknown as {
      reasonCode?: number;
      granted?: number[];
    } | undefined;
    const codes = unsub?.granted ?? [unsub?.reasonCode];
    assert.deepEqual(codes, [0x11]);
  });

  test("CONNECT with an authentication method is refused with 0x8C", async () => {
    await assert.rejects(
      mqtt.connectAsync(fx.lb.url, {
        protocolVersion: 5,
        reconnectPeriod: 0,
        properties: { authenticationMethod: "SCRAM-SHA-1" },
      }),
      (e: Error & { code?: number }) => e.code === 0x8c,
    );
  });
});

describe("redelivery through MQTT.js", () => {
  test("an unacknowledged QoS 1 message is resent with DUP when the session resumes [MQTT-4.4.0-1]", async () => {
    const id = "f-dup";
    const props = { sessionExpiryInterval: 60 };
    const got: IPublishPacket[] = [];
    // first connection: receives the message but never acknowledges it, then drops
    const first = await v5({
      clientId: id,
      clean: false,
      properties: props,
      customHandleAcks: (_t, _m, p) => got.push(p),
    });
    await first.subscribeAsync("f/dup", { qos: 1 });
    const pub = await v5();
    await pub.publishAsync("f/dup", "again", { qos: 1 });
    await waitFor(() => got.length === 1, "the first delivery");
    assert.equal(got[0]!.dup, false);
    const connected = fx.lb.broker.stats().clients;
    first.stream.destroy();
    await waitFor(() => fx.lb.broker.stats().clients < connected, "the broker to see the drop");
    const back = fx.track(
      mqtt.connect(fx.lb.url, {
        protocolVersion: 5,
        clientId: id,
        clean: false,
        reconnectPeriod: 0,
        properties: props,
      }),
    );
    const again = packets(back);
    await waitFor(() => again.length === 1, "the redelivery");
    assert.equal(again[0]!.dup, true);
    assert.equal(again[0]!.messageId, got[0]!.messageId);
    assert.equal(String(again[0]!.payload), "again");
  });
});
