import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RC } from "../../../src/protocol/reason_code.ts";
import { pair5, TestBroker } from "../../helpers/mem_client.ts";

describe("SUBSCRIBE and UNSUBSCRIBE", () => {
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

  test("Retain Handling 0 sends retained on every subscribe, 1 only on a new one, 2 never", () => {
    const { sub, pub } = pair5();
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
    const { sub } = pair5();
    sub.subscribe("u", 0);
    sub.send({ cmd: "unsubscribe", messageId: 2, unsubscriptions: ["u", "nope"] });
    assert.deepEqual(sub.take("unsuback").granted, [0, RC.NO_SUBSCRIPTION_EXISTED]);
  });

  test("a replaced subscription takes the new options and is not duplicated [MQTT-3.8.4-3]", () => {
    const { tb, sub, pub } = pair5();
    sub.subscribe("rep", 0);
    sub.subscribe("rep", 1);
    assert.equal(tb.broker.stats().subscriptions, 1);
    pub.publish("rep", "x", 1);
    const got = sub.takeAll("publish");
    assert.equal(got.length, 1);
    assert.equal(got[0]!.qos, 1);
  });
});
