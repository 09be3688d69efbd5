import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RC } from "../../../src/protocol/reason_code.ts";
import { pair5, TestBroker } from "../../helpers/mem_client.ts";

describe("PUBLISH from a client", () => {
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

  test("MQTT 5 PUBACK says 0x10 when nobody subscribed", () => {
    const pub = new TestBroker().client(5);
    pub.connect("p");
    pub.publish("nobody", "x", 1);
    assert.equal(pub.take("puback").reasonCode, RC.NO_MATCHING_SUBSCRIBERS);
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

  test("more unreleased QoS 2 messages than Receive Maximum is DISCONNECT 0x93 [MQTT-3.3.4-9]", () => {
    const c = new TestBroker({ maxInflight: 2 }).client(5);
    c.connect("q");
    for (let id = 1; id <= 3; id++) c.publish("q", "x", 2, { messageId: id });
    assert.equal(c.takeAll("pubrec").length, 2);
    const d = c.take("disconnect");
    assert.equal(d.reasonCode, RC.RECEIVE_MAXIMUM_EXCEEDED);
    assert.ok(typeof (d.properties as Record<string, string>).reasonString === "string");
  });

  test("topic aliases from the client are resolved [MQTT-3.3.2-12]", () => {
    const { sub, pub } = pair5();
    sub.subscribe("alias/t", 0);
    pub.publish("alias/t", "first", 0, { properties: { topicAlias: 1 } });
    pub.publish("", "second", 0, { properties: { topicAlias: 1 } });
    const got = sub.takeAll("publish");
    assert.deepEqual(got.map((p) => `${p.topic}:${p.payload}`), ["alias/t:first", "alias/t:second"]);
  });

  test("an unknown topic alias is a protocol error; one above the maximum is 0x94 [MQTT-3.3.2-9]", () => {
    const { pub } = pair5();
    pub.publish("", "x", 0, { properties: { topicAlias: 2 } });
    assert.equal(pub.take("disconnect").reasonCode, RC.PROTOCOL_ERROR);
    const p2 = new TestBroker({ topicAliasMaximum: 2 }).client(5);
    p2.connect("p2");
    p2.publish("t", "x", 0, { properties: { topicAlias: 3 } });
    assert.equal(p2.take("disconnect").reasonCode, RC.TOPIC_ALIAS_INVALID);
  });
});
