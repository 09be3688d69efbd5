import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RC } from "../../src/protocol/reason_code.ts";
import { TestBroker } from "../helpers/mem_client.ts";

describe("PUBLISH flows", () => {
  test("QoS 1 is acknowledged with PUBACK and delivered with a packet id", () => {
    const { sub, pub } = new TestBroker().pair(4, "a/b", 1);
    pub.publish("a/b", "hi", 1);
    assert.equal(pub.take("puback").messageId, 7);
    const got = sub.take("publish");
    assert.equal(got.qos, 1);
    assert.ok((got.messageId as number) > 0);
    assert.equal(String(got.payload), "hi");
  });

  test("QoS 2 inbound: PUBREC, then PUBCOMP on PUBREL; a resent PUBLISH is not routed twice [MQTT-4.3.3-10]", () => {
    const { sub, pub } = new TestBroker().pair(4, "q2", 2);
    pub.publish("q2", "once", 2);
    pub.take("pubrec");
    pub.publish("q2", "once", 2, { dup: true });
    pub.take("pubrec");
    pub.send({ cmd: "pubrel", messageId: 7 });
    assert.equal(pub.take("pubcomp").messageId, 7);
    assert.deepEqual(sub.payloads(), ["once"]);
  });

  test("QoS 2 outbound: PUBREC from the subscriber gets PUBREL, PUBCOMP completes", () => {
    const { sub, pub } = new TestBroker().pair(4, "q2", 2);
    pub.publish("q2", "x", 2);
    const p = sub.take("publish");
    sub.send({ cmd: "pubrec", messageId: p.messageId as number });
    assert.equal(sub.take("pubrel").messageId, p.messageId);
    sub.send({ cmd: "pubcomp", messageId: p.messageId as number });
    assert.equal(sub.client.session!.inflight.size, 0);
  });

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

  test("MQTT 5 PUBACK says 0x10 when nobody subscribed", () => {
    const pub = new TestBroker().client(5);
    pub.connect("p");
    pub.publish("nobody", "x", 1);
    assert.equal(pub.take("puback").reasonCode, RC.NO_MATCHING_SUBSCRIBERS);
  });

  test("the send quota holds QoS 1 deliveries until PUBACKs arrive (Receive Maximum) [MQTT-3.3.4-7]", () => {
    const tb = new TestBroker();
    const sub = tb.client(5);
    sub.connect("s", { properties: { receiveMaximum: 2 } });
    sub.subscribe("rm", 1);
    const pub = tb.client(5);
    pub.connect("p");
    for (let i = 0; i < 5; i++) pub.publish("rm", String(i), 1);
    sub.flush();
    const first = sub.takeAll("publish");
    assert.deepEqual(first.map((p) => String(p.payload)), ["0", "1"]);
    sub.send({ cmd: "puback", messageId: first[0]!.messageId as number });
    assert.deepEqual(sub.payloads(), ["2"]);
  });

  test("a delivery larger than the client's Maximum Packet Size is discarded [MQTT-3.1.2-25]", () => {
    const tb = new TestBroker();
    const sub = tb.client(5);
    sub.connect("s", { properties: { maximumPacketSize: 50 } });
    sub.subscribe("big", 0);
    const pub = tb.client(5);
    pub.connect("p");
    pub.publish("big", "x".repeat(100));
    pub.publish("big", "small");
    assert.deepEqual(sub.payloads(), ["small"]);
    assert.equal(tb.broker.metrics.droppedTooLarge, 1);
  });

  test("a payload that is not UTF-8 despite its format indicator gets PUBACK 0x99", () => {
    const pub = new TestBroker().client(5);
    pub.connect("p");
    pub.send({
      cmd: "publish",
      topic: "t",
      payload: Buffer.from([0xff, 0xfe]),
      qos: 1,
      messageId: 3,
      retain: false,
      dup: false,
      properties: { payloadFormatIndicator: true },
    });
    assert.equal(pub.take("puback").reasonCode, RC.PAYLOAD_FORMAT_INVALID);
  });
});

describe("retained messages", () => {
  test("are stored, replaced, sent on subscribe with RETAIN set, and deleted by an empty payload [MQTT-3.3.1-5..10]", () => {
    const tb = new TestBroker();
    const pub = tb.client(4);
    pub.connect("p");
    pub.publish("r/1", "old", 1, { retain: true });
    pub.publish("r/1", "new", 1, { retain: true });
    const s1 = tb.client(4);
    s1.connect("s1");
    s1.subscribe("r/#", 1);
    const got = s1.take("publish");
    assert.equal(String(got.payload), "new");
    assert.equal(got.retain, true);
    pub.publish("r/1", "", 0, { retain: true });
    const s2 = tb.client(4);
    s2.connect("s2");
    s2.subscribe("r/#", 1);
    assert.equal(s2.takeAll("publish").length, 0);
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
});

describe("inbound quotas", () => {
  test("more unreleased QoS 2 messages than Receive Maximum is DISCONNECT 0x93 [MQTT-3.3.4-9]", () => {
    const c = new TestBroker({ maxInflight: 2 }).client(5);
    c.connect("q");
    for (let id = 1; id <= 3; id++) c.publish("q", "x", 2, { messageId: id });
    assert.equal(c.takeAll("pubrec").length, 2);
    const d = c.take("disconnect");
    assert.equal(d.reasonCode, RC.RECEIVE_MAXIMUM_EXCEEDED);
    assert.ok(typeof (d.properties as Record<string, string>).reasonString === "string");
  });
});
