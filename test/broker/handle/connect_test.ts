import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RC } from "../../../src/protocol/reason_code.ts";
import { PACKETS } from "../../fixtures/packets.ts";
import { TestBroker } from "../../helpers/mem_client.ts";

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

  test("reason strings are left out when Request Problem Information is 0 [MQTT-3.1.2-29]", () => {
    const c = new TestBroker().client(5);
    c.connect("rp", { properties: { requestProblemInformation: false } });
    c.sendRaw(Buffer.from([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]));
    const d = c.take("disconnect");
    assert.equal(d.reasonCode, RC.MALFORMED_PACKET);
    assert.equal(d.properties, undefined);
  });
});
