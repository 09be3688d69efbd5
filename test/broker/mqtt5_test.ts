import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RC } from "../../src/protocol/reason_code.ts";
import { TestBroker } from "../helpers/mem_client.ts";

function pair(tb = new TestBroker()) {
  return { tb, ...tb.pair(5) };
}

describe("MQTT 5 features", () => {
  test("publish properties are forwarded unchanged", () => {
    const { sub, pub } = pair();
    sub.subscribe("p", 1);
    const properties = {
      payloadFormatIndicator: true,
      contentType: "text/plain",
      responseTopic: "reply/here",
      correlationData: Buffer.from("corr"),
      userProperties: { a: "1", b: "2" },
    };
    pub.publish("p", "x", 1, { properties });
    const got = sub.take("publish").properties as Record<string, unknown>;
    assert.equal(got.payloadFormatIndicator, true);
    assert.equal(got.contentType, "text/plain");
    assert.equal(got.responseTopic, "reply/here");
    assert.equal(String(got.correlationData), "corr");
    assert.deepEqual({ ...(got.userProperties as object) }, { a: "1", b: "2" });
  });

  test("message expiry counts down while queued and drops expired messages [MQTT-3.3.2-6]", () => {
    const tb = new TestBroker();
    const sub = tb.client(5);
    sub.connect("s", { clean: false, properties: { sessionExpiryInterval: 100 } });
    sub.subscribe("e", 1);
    sub.send({ cmd: "disconnect" });
    const pub = tb.client(5);
    pub.connect("p");
    pub.publish("e", "short", 1, { properties: { messageExpiryInterval: 2 } });
    pub.publish("e", "long", 1, { properties: { messageExpiryInterval: 20 } });
    tb.advance(5_000);
    const back = tb.client(5);
    back.connect("s", { clean: false, properties: { sessionExpiryInterval: 100 } });
    const got = back.takeAll("publish");
    assert.deepEqual(got.map((p) => String(p.payload)), ["long"]);
    assert.equal((got[0]!.properties as Record<string, number>).messageExpiryInterval, 15);
    assert.equal(tb.broker.metrics.droppedExpired, 1);
  });

  test("topic aliases from the client are resolved [MQTT-3.3.2-12]", () => {
    const { sub, pub } = pair();
    sub.subscribe("alias/t", 0);
    pub.publish("alias/t", "first", 0, { properties: { topicAlias: 1 } });
    pub.publish("", "second", 0, { properties: { topicAlias: 1 } });
    const got = sub.takeAll("publish");
    assert.deepEqual(got.map((p) => `${p.topic}:${p.payload}`), ["alias/t:first", "alias/t:second"]);
  });

  test("an unknown topic alias is a protocol error; one above the maximum is 0x94 [MQTT-3.3.2-9]", () => {
    const { pub } = pair();
    pub.publish("", "x", 0, { properties: { topicAlias: 2 } });
    assert.equal(pub.take("disconnect").reasonCode, RC.PROTOCOL_ERROR);
    const p2 = new TestBroker({ topicAliasMaximum: 2 }).client(5);
    p2.connect("p2");
    p2.publish("t", "x", 0, { properties: { topicAlias: 3 } });
    assert.equal(p2.take("disconnect").reasonCode, RC.TOPIC_ALIAS_INVALID);
  });

  test("the broker assigns topic aliases up to the client's Topic Alias Maximum", () => {
    const tb = new TestBroker();
    const sub = tb.client(5);
    sub.connect("s", { properties: { topicAliasMaximum: 1 } });
    sub.subscribe("ta/#", 0);
    const pub = tb.client(5);
    pub.connect("p");
    pub.publish("ta/1", "a");
    pub.publish("ta/1", "b");
    pub.publish("ta/2", "c");
    const got = sub.takeAll("publish").map((
      p,
    ) => [p.topic, (p.properties as Record<string, number> | undefined)?.topicAlias]);
    assert.deepEqual(got, [["ta/1", 1], ["", 1], ["ta/2", undefined]]);
  });

  test("subscription identifiers come with the messages they matched [MQTT-3.3.4-3]", () => {
    const { sub, pub } = pair();
    sub.subscribe("si/#", 0, {}, { subscriptionIdentifier: 7 });
    pub.publish("si/x", "x");
    assert.deepEqual((sub.take("publish").properties as Record<string, unknown>).subscriptionIdentifier, 7);
  });

  test("No Local keeps a client's own messages from it [MQTT-3.8.3-3]", () => {
    const tb = new TestBroker();
    const c = tb.client(5);
    c.connect("self");
    c.subscribe("nl", 0, { nl: true });
    c.publish("nl", "mine");
    assert.deepEqual(c.payloads(), []);
    const other = tb.client(5);
    other.connect("other");
    other.publish("nl", "theirs");
    assert.deepEqual(c.payloads(), ["theirs"]);
  });

  test("Retain As Published keeps RETAIN on live messages", () => {
    const { sub, pub } = pair();
    sub.subscribe("rap/1", 0, { rap: true });
    sub.subscribe("rap/2", 0, { rap: false });
    pub.publish("rap/1", "x", 0, { retain: true });
    pub.publish("rap/2", "y", 0, { retain: true });
    assert.deepEqual(sub.takeAll("publish").map((p) => p.retain), [true, false]);
  });

  test("Retain Handling 0 sends retained on every subscribe, 1 only on a new one, 2 never", () => {
    const { sub, pub } = pair();
    pub.publish("rh/0", "a", 0, { retain: true });
    pub.publish("rh/1", "b", 0, { retain: true });
    pub.publish("rh/2", "c", 0, { retain: true });
    for (let round = 0; round < 2; round++) {
      sub.subscribe("rh/0", 0, { rh: 0 });
      sub.subscribe("rh/1", 0, { rh: 1 });
      sub.subscribe("rh/2", 0, { rh: 2 });
    }
    assert.deepEqual(sub.payloads(), ["a", "b", "a"]);
  });

  test("shared subscriptions deliver each message to one member, round robin", () => {
    const tb = new TestBroker();
    const a = tb.client(5);
    a.connect("a");
    a.subscribe("$share/g/sh/#", 1);
    const b = tb.client(5);
    b.connect("b");
    b.subscribe("$share/g/sh/#", 1);
    const pub = tb.client(5);
    pub.connect("p");
    for (let i = 0; i < 4; i++) pub.publish("sh/x", String(i), 1);
    const pa = a.payloads();
    const pb = b.payloads();
    assert.equal(pa.length, 2);
    assert.equal(pb.length, 2);
    assert.deepEqual([...pa, ...pb].sort(), ["0", "1", "2", "3"]);
  });

  test("shared subscriptions prefer connected members [MQTT-4.8.2-3]", () => {
    const tb = new TestBroker();
    const away = tb.client(5);
    away.connect("away", { clean: false, properties: { sessionExpiryInterval: 60 } });
    away.subscribe("$share/g/pref", 1);
    away.send({ cmd: "disconnect" });
    const here = tb.client(5);
    here.connect("here");
    here.subscribe("$share/g/pref", 1);
    const pub = tb.client(5);
    pub.connect("p");
    for (let i = 0; i < 4; i++) pub.publish("pref", String(i), 1);
    assert.deepEqual(here.payloads(), ["0", "1", "2", "3"]);
  });

  test("No Local on a shared subscription is a protocol error [MQTT-3.8.3-4]", () => {
    const c = new TestBroker().client(5);
    c.connect("x");
    c.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "$share/g/a", qos: 0, nl: true }] });
    assert.equal(c.take("disconnect").reasonCode, RC.PROTOCOL_ERROR);
  });

  test("SUBACK reports an invalid filter with 0x8F (MQTT 5) and 0x80 (MQTT 3.1.1)", () => {
    const tb = new TestBroker();
    const v5 = tb.client(5);
    v5.connect("v5");
    assert.deepEqual(v5.subscribe("a/#/b", 0).granted, [RC.TOPIC_FILTER_INVALID]);
    const v4 = tb.client(4);
    v4.connect("v4");
    assert.deepEqual(v4.subscribe("a+", 1).granted, [0x80]);
  });

  test("UNSUBACK says 0x11 for a filter that was not subscribed", () => {
    const { sub } = pair();
    sub.subscribe("u", 0);
    sub.send({ cmd: "unsubscribe", messageId: 2, unsubscriptions: ["u", "nope"] });
    assert.deepEqual(sub.take("unsuback").granted, [0, RC.NO_SUBSCRIPTION_EXISTED]);
  });

  test("a replaced subscription takes the new options and is not duplicated [MQTT-3.8.4-3]", () => {
    const { tb, sub, pub } = pair();
    sub.subscribe("rep", 0);
    sub.subscribe("rep", 1);
    assert.equal(tb.broker.stats().subscriptions, 1);
    pub.publish("rep", "x", 1);
    const got = sub.takeAll("publish");
    assert.equal(got.length, 1);
    assert.equal(got[0]!.qos, 1);
  });

  test("reason strings are left out when Request Problem Information is 0 [MQTT-3.1.2-29]", () => {
    const c = new TestBroker().client(5);
    c.connect("rp", { properties: { requestProblemInformation: false } });
    c.sendRaw(Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]));
    const d = c.take("disconnect");
    assert.equal(d.reasonCode, RC.MALFORMED_PACKET);
    assert.equal(d.properties, undefined);
  });
});
