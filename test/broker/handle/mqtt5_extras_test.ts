/**
 * MQTT 5's answers beyond the packet flow: Response Information [MQTT-3.1.2-28], server
 * redirection (§4.11: CONNACK and DISCONNECT 0x9C/0x9D with Server Reference), Reason Strings on
 * refusals (PUBACK, PUBREC, SUBACK) and Request Problem Information 0 suppressing them
 * [MQTT-3.1.2-29], AUTH out of turn.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseHmqAcl } from "../../../src/auth/acl_rules.ts";
import { createAuth } from "../../../src/auth/create_auth.ts";
import { RC } from "../../../src/protocol/reason_code.ts";
import { TestBroker } from "../../helpers/mem_client.ts";

type Props = Record<string, unknown> | undefined;
const props = (p: object) => (p as { properties?: unknown }).properties as Props;

describe("Response Information", () => {
  test("sent only to a client that asks, with %c and %u filled in", () => {
    const tb = new TestBroker({ responseInformation: "replies/%c/%u/" });
    const asks = tb.client(5).connect("dev-1", {
      username: "ann",
      properties: { requestResponseInformation: true },
    });
    assert.equal(props(asks)?.responseInformation, "replies/dev-1/ann/");
    const silent = tb.client(5).connect("dev-2", {});
    assert.equal(props(silent)?.responseInformation, undefined);
    const off = new TestBroker().client(5).connect("dev-3", {
      properties: { requestResponseInformation: true },
    });
    assert.equal(props(off)?.responseInformation, undefined, "none configured");
  });
});

describe("server redirection", () => {
  test("a CONNECT is refused with 0x9C and the Server Reference; 0x9D when moved; MQTT 3 gets 3", () => {
    const tb = new TestBroker({ serverReference: "other.example:1883" });
    const c = tb.client(5);
    const ack = c.connect("r1");
    assert.equal(ack.reasonCode, RC.USE_ANOTHER_SERVER);
    assert.equal(props(ack)?.serverReference, "other.example:1883");
    assert.equal(c.closed, true);
    const moved = new TestBroker({ serverReference: "new.example", serverMoved: true }).client(5).connect(
      "r2",
    );
    assert.equal(moved.reasonCode, RC.SERVER_MOVED);
    assert.equal(new TestBroker({ serverReference: "x" }).client(4).connect("r3").returnCode, 3);
  });

  test("set by a reload, it disconnects connected clients toward the other server", () => {
    const tb = new TestBroker();
    const v5 = tb.client(5);
    v5.connect("a");
    const v4 = tb.client(4);
    v4.connect("b");
    tb.broker.configure({ serverReference: "backup:1883", serverMoved: true });
    v5.flush();
    const d = v5.take("disconnect");
    assert.equal(d.reasonCode, RC.SERVER_MOVED);
    assert.equal(props(d)?.serverReference, "backup:1883");
    assert.equal(v5.closed, true);
    assert.equal(v4.closed, true);
  });
});

function aclBroker(): TestBroker {
  const tb = new TestBroker();
  const rules = parseHmqAcl("allow clientid * pubsub open/#\ndeny clientid * pubsub #\n", "acl.conf");
  tb.broker.setAuth(
    createAuth({ allowAnonymous: true, passwords: {}, rules, noMatch: "allow", denyAction: "ignore" }),
  );
  return tb;
}

describe("Reason Strings and Request Problem Information", () => {
  test("refusals carry a Reason String: PUBACK, PUBREC, SUBACK", () => {
    const c = aclBroker().client(5);
    c.connect("p");
    c.publish("closed/x", "no", 1);
    const puback = c.take("puback");
    assert.equal(puback.reasonCode, RC.NOT_AUTHORIZED);
    assert.match(String(props(puback)?.reasonString), /Not authorized to publish to closed\/x/);
    c.publish("closed/x", "no", 2);
    assert.match(String(props(c.take("pubrec"))?.reasonString), /Not authorized/);
    c.send({
      cmd: "subscribe",
      messageId: 3,
      subscriptions: [{ topic: "open/#", qos: 1 }, { topic: "closed/#", qos: 1 }],
    });
    const suback = c.take("suback");
    assert.deepEqual(suback.granted, [1, RC.NOT_AUTHORIZED]);
    assert.equal(props(suback)?.reasonString, "Refused closed/#: not authorized");
  });

  test("Request Problem Information 0: the same refusals without Reason Strings [MQTT-3.1.2-29]", () => {
    const c = aclBroker().client(5);
    c.connect("q", { properties: { requestProblemInformation: false } });
    c.publish("closed/x", "no", 1);
    const puback = c.take("puback");
    assert.equal(puback.reasonCode, RC.NOT_AUTHORIZED);
    assert.equal(props(puback)?.reasonString, undefined);
    c.send({ cmd: "subscribe", messageId: 3, subscriptions: [{ topic: "closed/#", qos: 1 }] });
    assert.equal(props(c.take("suback"))?.reasonString, undefined);
  });

  test("User Properties on every client packet are accepted", () => {
    const { sub, pub } = new TestBroker().pair(5, undefined);
    const up = { userProperties: { k: "v" } };
    sub.subscribe("u/t", 2, {}, up);
    pub.send({
      cmd: "publish",
      topic: "u/t",
      payload: Buffer.from("m"),
      qos: 2,
      messageId: 5,
      retain: false,
      dup: false,
      properties: up,
    });
    pub.take("pubrec");
    pub.send({ cmd: "pubrel", messageId: 5, properties: up });
    pub.take("pubcomp");
    const got = sub.take("publish");
    assert.deepEqual({ ...props(got)?.userProperties as object }, { k: "v" }, "forwarded with the message");
    sub.send({ cmd: "pubrec", messageId: got.messageId as number, properties: up });
    sub.take("pubrel");
    sub.send({ cmd: "pubcomp", messageId: got.messageId as number, properties: up });
    sub.send({ cmd: "unsubscribe", messageId: 9, unsubscriptions: ["u/t"], properties: up });
    assert.deepEqual(sub.take("unsuback").granted, [0]);
    sub.send({ cmd: "disconnect", reasonCode: 0, properties: up });
    assert.equal(sub.closed, true);
  });
});

describe("AUTH out of turn", () => {
  test("Authentication Data without an Authentication Method is a Protocol Error (0x82)", () => {
    const c = new TestBroker().client(5);
    const ack = c.connect("d", { properties: { authenticationData: Buffer.from("x") } });
    assert.equal(ack.reasonCode, RC.PROTOCOL_ERROR);
    assert.equal(c.closed, true);
  });

  test("AUTH from a client that chose no method is a Protocol Error [MQTT-4.12.0-6]", () => {
    const c = new TestBroker().client(5);
    c.connect("x");
    c.send({ cmd: "auth", reasonCode: 0x19, properties: { authenticationMethod: "SCRAM-SHA-256" } });
    assert.equal(c.take("disconnect").reasonCode, RC.PROTOCOL_ERROR);
  });
});
