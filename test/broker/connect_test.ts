import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RC } from "../../src/protocol/reason_code.ts";
import { PACKETS } from "../fixtures/packets.ts";
import { TestBroker } from "../helpers/mem_client.ts";

describe("CONNECT", () => {
  test("MQTT 3.1.1 accepts an empty client id only with a clean session [MQTT-3.1.3-7] [MQTT-3.1.3-8]", () => {
    const tb = new TestBroker();
    assert.equal(tb.client(4).connect("", { clean: true }).returnCode, 0);
    const c = tb.client(4);
    c.sendRaw(PACKETS.connectV4EmptyIdPersistent);
    assert.equal(c.take("connack").returnCode, 2);
    assert.equal(c.closed, true);
  });

  test("MQTT 3.1 refuses an empty client id", () => {
    const c = new TestBroker().client(3);
    c.sendRaw(PACKETS.connectV3EmptyId);
    assert.equal(c.take("connack").returnCode, 2);
  });

  test("MQTT 5 assigns a client identifier [MQTT-3.2.2-16]", () => {
    const ack = new TestBroker().client(5).connect("");
    assert.equal(ack.reasonCode, 0);
    const id = (ack.properties as Record<string, string>).assignedClientIdentifier;
    assert.match(id!, /^auto-/);
  });

  test("an unsupported protocol level gets CONNACK 0x01 and is closed [MQTT-3.1.2-2]", () => {
    const c = new TestBroker().client(4);
    c.sendRaw(PACKETS.connectLevel6);
    assert.equal(c.take("connack").returnCode, 1);
    assert.equal(c.closed, true);
  });

  test("a packet before CONNECT closes the connection without an answer [MQTT-3.1.0-1]", () => {
    const c = new TestBroker().client(4);
    c.sendRaw(PACKETS.pingreq);
    assert.equal(c.closed, true);
    assert.equal(c.received.length, 0);
  });

  test("MQTT 5 CONNECT with an authentication method gets 0x8C", () => {
    const c = new TestBroker().client(5);
    const ack = c.connect("a", { properties: { authenticationMethod: "SCRAM-SHA-1" } });
    assert.equal(ack.reasonCode, RC.BAD_AUTHENTICATION_METHOD);
    assert.equal(c.closed, true);
  });

  test("AUTH without an agreed method is a protocol error [MQTT-4.12.0-6]", () => {
    const c = new TestBroker().client(5);
    c.connect("a");
    c.send({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "x" } });
    assert.equal(c.take("disconnect").reasonCode, RC.PROTOCOL_ERROR);
    assert.equal(c.closed, true);
  });

  test("MQTT 5 keep alive above max_keepalive is lowered with Server Keep Alive [MQTT-3.2.2-21]", () => {
    const c = new TestBroker({ maxKeepalive: 30 }).client(5);
    const ack = c.connect("k", { keepalive: 120 });
    assert.equal((ack.properties as Record<string, number>).serverKeepAlive, 30);
  });

  test("MQTT 3.1.1 keep alive above max_keepalive is refused", () => {
    const c = new TestBroker({ maxKeepalive: 30 }).client(4);
    assert.equal(c.connect("k", { keepalive: 120 }).returnCode, 2);
  });

  test("CONNACK advertises the broker's limits to MQTT 5 clients", () => {
    const ack = new TestBroker({ maxInflight: 100, maxPacketSize: 1000, topicAliasMaximum: 5 }).client(5)
      .connect("l");
    assert.deepEqual(
      { ...(ack.properties as object) },
      { receiveMaximum: 100, maximumPacketSize: 1000, topicAliasMaximum: 5 },
    );
  });

  test("keep alive is enforced at 1.5 times the interval [MQTT-3.1.2-22]", () => {
    const tb = new TestBroker();
    const c = tb.client(5);
    c.connect("ka", { keepalive: 10 });
    tb.advance(1000);
    tb.advance(14_000);
    assert.equal(c.closed, false);
    tb.advance(2_000);
    assert.equal(c.closed, true);
    assert.equal(c.take("disconnect").reasonCode, RC.KEEP_ALIVE_TIMEOUT);
  });

  test("traffic resets the keep alive timer", () => {
    const tb = new TestBroker();
    const c = tb.client(4);
    c.connect("ka", { keepalive: 10 });
    for (let i = 0; i < 5; i++) {
      tb.advance(9_000);
      c.sendRaw(PACKETS.pingreq);
      c.take("pingresp");
    }
    assert.equal(c.closed, false);
  });

  test("a client held by flow control is not closed for the packets the broker leaves unread", () => {
    const tb = new TestBroker({ maxQueueLen: 8 });
    const sub = tb.client(4);
    sub.connect("sub");
    sub.subscribe("f", 1);
    const pub = tb.client(4);
    pub.connect("pub", { keepalive: 2 });
    for (let i = 0; i < 4; i++) pub.publish("f", String(i), 1);
    assert.equal(pub.held, true);
    for (let i = 0; i < 4; i++) tb.advance(1000); // past 1.5 x 2 s, within the stall time
    assert.equal(pub.closed, false);
    sub.payloads(); // the subscriber drains: the publisher is read again, and says nothing
    assert.equal(pub.held, false);
    tb.advance(1000);
    tb.advance(1000);
    assert.equal(pub.closed, false);
    tb.advance(1000); // 1.5 x 2 s after it was released
    assert.equal(pub.closed, true);
  });

  test("session takeover closes the old connection with DISCONNECT 0x8E [MQTT-3.1.4-3]", () => {
    const tb = new TestBroker();
    const a = tb.client(5);
    a.connect("same");
    const b = tb.client(5);
    b.connect("same");
    assert.equal(a.take("disconnect").reasonCode, RC.SESSION_TAKEN_OVER);
    assert.equal(a.closed, true);
    assert.equal(b.closed, false);
  });

  test("a protocol error after CONNECT sends DISCONNECT with its reason code to MQTT 5 clients", () => {
    const c = new TestBroker().client(5);
    c.connect("e");
    c.sendRaw(PACKETS.publishQos3);
    assert.equal(c.take("disconnect").reasonCode, RC.MALFORMED_PACKET);
    assert.equal(c.closed, true);
  });
});

describe("CONNECT timeout", () => {
  test("a connection that sends no CONNECT is closed after 15 s", () => {
    const tb = new TestBroker();
    const c = tb.client(4);
    tb.advance(1000);
    tb.advance(13_000);
    assert.equal(c.closed, false);
    tb.advance(2_000);
    assert.equal(c.closed, true);
    assert.equal(tb.broker.metrics.keepaliveTimeouts, 1);
    assert.equal(tb.broker.metrics.protocolErrors, 0);
  });
});

describe("bridge sessions", () => {
  test("client ids starting with $bridge/ are refused (0x85) unless the connection is the broker's own", () => {
    const tb = new TestBroker();
    const c = tb.client(5);
    assert.equal(c.connect("$bridge/cloud").reasonCode, RC.CLIENT_IDENTIFIER_NOT_VALID);
    assert.equal(c.closed, true);
    const v4 = tb.client(4);
    assert.equal(v4.connect("$bridge/cloud").returnCode, 2);
    const own = tb.client(5);
    own.trusted = true;
    assert.equal(own.connect("$bridge/cloud").reasonCode, 0);
  });

  test("sessionQueueLen bounds one session's queue instead of maxQueueLen; session() reports it", () => {
    const tb = new TestBroker({ maxQueueLen: 100, sessionQueueLen: new Map([["$bridge/cloud", 3]]) });
    const b = tb.client(5);
    b.trusted = true;
    b.connect("$bridge/cloud", { clean: false, properties: { sessionExpiryInterval: 0xffffffff } });
    b.subscribe("data/#", 1);
    b.send({ cmd: "disconnect" });
    const pub = tb.client(5);
    pub.connect("pub");
    for (let i = 0; i < 5; i++) pub.publish("data/x", String(i), 1);
    assert.deepEqual(tb.broker.session("$bridge/cloud"), {
      queued: 3,
      inflight: 0,
      dropped: 2,
      filters: ["data/#"],
    });
    assert.equal(tb.broker.session("nobody"), undefined);
  });
});
