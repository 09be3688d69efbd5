import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pair5, TestBroker } from "../helpers/mem_client.ts";

describe("route()", () => {
  test("delivery QoS is the lower of publish and subscription QoS", () => {
    const { sub, pub } = new TestBroker().pair(4, "d", 1);
    pub.publish("d", "x", 2);
    assert.equal(sub.take("publish").qos, 1);
  });

  test("overlapping subscriptions deliver once at the highest QoS [MQTT-3.3.4-2]", () => {
    const tb = new TestBroker();
    const sub = tb.client(4);
    sub.connect("s");
    sub.subscribe("o/#", 0);
    sub.subscribe("o/+", 1);
    const pub = tb.client(4);
    pub.connect("p");
    pub.publish("o/x", "x", 1);
    const all = sub.takeAll("publish");
    assert.equal(all.length, 1);
    assert.equal(all[0]!.qos, 1);
  });

  test("a live message to an existing subscription has RETAIN 0 in MQTT 3.1.1 [MQTT-3.3.1-9]", () => {
    const tb = new TestBroker();
    const s = tb.client(4);
    s.connect("s");
    s.subscribe("live", 0);
    const pub = tb.client(4);
    pub.connect("p");
    pub.publish("live", "x", 0, { retain: true });
    assert.equal(s.take("publish").retain, false);
  });

  test("publish properties are forwarded unchanged", () => {
    const { sub, pub } = pair5();
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

  test("subscription identifiers come with the messages they matched [MQTT-3.3.4-3]", () => {
    const { sub, pub } = pair5();
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
    const { sub, pub } = pair5();
    sub.subscribe("rap/1", 0, { rap: true });
    sub.subscribe("rap/2", 0, { rap: false });
    pub.publish("rap/1", "x", 0, { retain: true });
    pub.publish("rap/2", "y", 0, { retain: true });
    assert.deepEqual(sub.takeAll("publish").map((p) => p.retain), [true, false]);
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

  test("each subscriber gets one publisher's messages in the order sent, QoS 0, 1 and 2 mixed [MQTT-4.6.0-6]", () => {
    const tb = new TestBroker();
    const subs = [4, 5].map((v, i) => {
      const s = tb.client(v);
      s.connect(`s${i}`);
      s.subscribe("o/#", 2);
      return s;
    });
    const pub = tb.client(5);
    pub.connect("p");
    const sent = Array.from({ length: 30 }, (_, i) => String(i));
    sent.forEach((n, i) => pub.publish(`o/${i % 3}`, n, (i % 3) as 0 | 1 | 2, { messageId: i + 1 }));
    for (const s of subs) assert.deepEqual(s.payloads(), sent);
  });

  test("an offline session queues QoS 1 and 2, not QoS 0, which is counted as dropped", () => {
    const tb = new TestBroker();
    const s = tb.client(4);
    s.connect("off", { clean: false });
    s.subscribe("t", 2);
    tb.broker.detach(s.client);
    const pub = tb.client(4);
    pub.connect("p");
    pub.publish("t", "q0", 0);
    pub.publish("t", "q1", 1);
    pub.publish("t", "q2", 2, { messageId: 8 });
    assert.equal(tb.broker.session("off")?.queued, 2);
    assert.equal(tb.broker.metrics.droppedOffline, 1);
    const back = tb.client(4);
    back.connect("off", { clean: false });
    assert.deepEqual(back.payloads(), ["q1", "q2"]);
  });
});
