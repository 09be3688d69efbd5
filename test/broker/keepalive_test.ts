import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RC } from "../../src/protocol/reason_code.ts";
import { PACKETS } from "../fixtures/packets.ts";
import { TestBroker } from "../helpers/mem_client.ts";

describe("keep alive", () => {
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
