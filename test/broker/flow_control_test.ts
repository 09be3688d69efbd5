import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { STALL_MS } from "../../src/broker/flow_control.ts";
import { TestBroker } from "../helpers/mem_client.ts";

function setup() {
  const tb = new TestBroker({ maxQueueLen: 8 });
  return { tb, ...tb.pair(4, "f", 1) };
}

describe("flow control", () => {
  test("a publisher is held when a subscriber's queue is half full, and released when it drains", () => {
    const { sub, pub } = setup();
    for (let i = 0; i < 3; i++) pub.publish("f", String(i), 1);
    assert.equal(pub.held, false);
    pub.publish("f", "3", 1);
    assert.equal(pub.held, true);
    assert.equal(sub.payloads().length, 4);
    assert.equal(pub.held, false);
  });

  test("a subscriber that does not drain stops holding publishers after the stall time; overflow is dropped and counted", () => {
    const { tb, pub } = setup();
    for (let i = 0; i < 4; i++) pub.publish("f", String(i), 1);
    assert.equal(pub.held, true);
    tb.advance(STALL_MS + 1);
    assert.equal(pub.held, false);
    assert.equal(tb.broker.metrics.stalledSessions, 1);
    for (let i = 4; i < 12; i++) pub.publish("f", String(i), 1);
    assert.equal(pub.held, false);
    assert.equal(tb.broker.metrics.droppedQueueFull, 4);
  });

  test("a subscriber going offline releases its publishers", () => {
    const { tb, sub, pub } = setup();
    for (let i = 0; i < 4; i++) pub.publish("f", String(i), 1);
    assert.equal(pub.held, true);
    tb.broker.detach(sub.client);
    assert.equal(pub.held, false);
  });
});
