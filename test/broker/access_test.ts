import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseHmqAcl } from "../../src/auth/acl_rules.ts";
import { createAuth } from "../../src/auth/create_auth.ts";
import { createBroker } from "../../src/broker/broker.ts";
import { MemClient, TestBroker } from "../helpers/mem_client.ts";

const RULES = parseHmqAcl("allow clientid * pubsub open/#\ndeny clientid * pubsub #\n", "acl.conf");

function setup(denyAction: "ignore" | "disconnect"): TestBroker {
  const tb = new TestBroker();
  tb.broker.setAuth(
    createAuth({ allowAnonymous: true, passwords: {}, rules: RULES, noMatch: "allow", denyAction }),
  );
  return tb;
}

describe("access control in the broker", () => {
  test("MQTT 3.1.1: a denied SUBSCRIBE gets 0x80; a denied QoS 1 PUBLISH is acknowledged and dropped", () => {
    const tb = setup("ignore");
    const { sub, pub } = tb.pair(4);
    sub.subscribe("open/#", 1);
    sub.send({ cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "closed/#", qos: 1 }] });
    assert.deepEqual(sub.take("suback").granted, [0x80]);
    pub.publish("closed/x", "no", 1);
    assert.equal(pub.take("puback").reasonCode ?? 0, 0);
    pub.publish("open/x", "yes", 1);
    assert.deepEqual(sub.payloads(), ["yes"]);
    assert.equal(tb.broker.metrics.aclDenied, 2);
  });

  test("MQTT 5: denials answer 0x87 on SUBACK, PUBACK and PUBREC", () => {
    const tb = setup("ignore");
    const { sub, pub } = tb.pair(5);
    sub.send({ cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "closed/#", qos: 1 }] });
    assert.deepEqual(sub.take("suback").granted, [0x87]);
    pub.publish("closed/x", "no", 1);
    assert.equal(pub.take("puback").reasonCode, 0x87);
    pub.publish("closed/x", "no", 2);
    assert.equal(pub.take("pubrec").reasonCode, 0x87);
  });

  test("deny_action = disconnect closes the client with 0x87", () => {
    const tb = setup("disconnect");
    const { pub } = tb.pair(5);
    pub.publish("closed/x", "no", 0);
    assert.equal(pub.take("disconnect").reasonCode, 0x87);
    assert.ok(pub.closed);
  });

  test("a repeated denial of the same topic is counted each time and logged once", () => {
    const lines: string[] = [];
    const log = { error: () => {}, info: () => {}, debug: () => {}, warn: (m: string) => lines.push(m) };
    const broker = createBroker({}, { now: () => 0, log });
    broker.setAuth(
      createAuth({
        allowAnonymous: true,
        passwords: {},
        rules: RULES,
        noMatch: "allow",
        denyAction: "ignore",
      }),
    );
    const pub = new MemClient(broker, 4);
    pub.connect("pub");
    for (let i = 0; i < 3; i++) pub.publish("closed/x", "no");
    assert.equal(broker.metrics.aclDenied, 3);
    assert.deepEqual(lines, ['Not authorized to publish to "closed/x" (acl.conf:2)']);
  });

  test("setAuth(null) on reload lifts the restrictions, also for a topic whose answer was cached", () => {
    const tb = setup("ignore");
    const { sub, pub } = tb.pair(4);
    pub.publish("closed/x", "1");
    tb.broker.setAuth(null);
    sub.subscribe("#");
    pub.publish("closed/x", "2");
    assert.deepEqual(sub.payloads(), ["2"]);
  });
});
