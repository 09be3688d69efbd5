import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TestBroker } from "../helpers/mem_client.ts";

describe("sessions", () => {
  test("a persistent MQTT 3.1.1 session keeps subscriptions and queues QoS 1, not QoS 0, while offline", () => {
    const tb = new TestBroker();
    const s = tb.client(4);
    s.connect("p1", { clean: false });
    s.subscribe("q/#", 1);
    s.send({ cmd: "disconnect" });
    const pub = tb.client(4);
    pub.connect("pub");
    pub.publish("q/a", "zero", 0);
    pub.publish("q/a", "one", 1);
    const back = tb.client(4);
    assert.equal(back.connect("p1", { clean: false }).sessionPresent, true);
    assert.deepEqual(back.payloads(), ["one"]);
  });

  test("Clean Start discards the session: Session Present 0 [MQTT-3.2.2-2]", () => {
    const tb = new TestBroker();
    const s = tb.client(5);
    s.connect("c", { clean: false, properties: { sessionExpiryInterval: 100 } });
    s.subscribe("x", 1);
    s.send({ cmd: "disconnect" });
    const again = tb.client(5);
    assert.equal(again.connect("c", { clean: true }).sessionPresent, false);
    assert.equal(tb.broker.stats().subscriptions, 0);
  });

  test("unacknowledged deliveries are resent with DUP after a resume [MQTT-4.4.0-1]", () => {
    const tb = new TestBroker();
    const s = tb.client(4);
    s.connect("dup", { clean: false });
    s.subscribe("d", 1);
    const pub = tb.client(4);
    pub.connect("pub");
    pub.publish("d", "m1", 1);
    const first = s.take("publish");
    assert.equal(first.dup, false);
    s.client.sink.close(); // connection lost before PUBACK
    tb.broker.detach(s.client);
    const back = tb.client(4);
    back.connect("dup", { clean: false });
    const again = back.take("publish");
    assert.equal(again.dup, true);
    assert.equal(again.messageId, first.messageId);
    assert.equal(String(again.payload), "m1");
  });

  test("the MQTT 5 Session Expiry Interval ends an offline session [MQTT-3.1.2-23]", () => {
    const tb = new TestBroker();
    const s = tb.client(5);
    s.connect("exp", { clean: false, properties: { sessionExpiryInterval: 10 } });
    s.subscribe("e", 1);
    s.send({ cmd: "disconnect" });
    tb.advance(9_000);
    assert.equal(tb.broker.stats().sessions, 1);
    tb.advance(2_000);
    assert.equal(tb.broker.stats().sessions, 0);
    assert.equal(tb.broker.metrics.sessionsExpired, 1);
  });

  test("an MQTT 3.1.1 persistent session never expires", () => {
    const tb = new TestBroker();
    const s = tb.client(4);
    s.connect("forever", { clean: false });
    s.send({ cmd: "disconnect" });
    tb.advance(365 * 24 * 3600 * 1000);
    assert.equal(tb.client(4).connect("forever", { clean: false }).sessionPresent, true);
  });

  test("the offline queue is bounded by max_mqueue_len and drops are counted", () => {
    const tb = new TestBroker({ maxQueueLen: 5 });
    const s = tb.client(4);
    s.connect("b", { clean: false });
    s.subscribe("b", 1);
    s.send({ cmd: "disconnect" });
    const pub = tb.client(4);
    pub.connect("pub");
    for (let i = 0; i < 8; i++) pub.publish("b", String(i), 1);
    assert.equal(pub.held, false, "offline sessions do not hold publishers");
    assert.equal(tb.broker.metrics.droppedQueueFull, 3);
    const back = tb.client(4);
    back.connect("b", { clean: false });
    assert.deepEqual(back.payloads(), ["0", "1", "2", "3", "4"]);
  });
});

describe("wills", () => {
  function watcher(tb: TestBroker) {
    const w = tb.client(4);
    w.connect(`w${Math.random()}`);
    w.subscribe("will/#", 1);
    return w;
  }
  const will = { topic: "will/x", payload: Buffer.from("gone"), qos: 1 as const, retain: false };

  test("is published when the connection drops [MQTT-3.1.2-8]", () => {
    const tb = new TestBroker();
    const w = watcher(tb);
    const c = tb.client(4);
    c.connect("dies", { will });
    tb.broker.detach(c.client);
    assert.deepEqual(w.payloads(), ["gone"]);
  });

  test("is not published after DISCONNECT [MQTT-3.1.2-10]", () => {
    const tb = new TestBroker();
    const w = watcher(tb);
    const c = tb.client(4);
    c.connect("polite", { will });
    c.send({ cmd: "disconnect" });
    tb.broker.detach(c.client);
    assert.deepEqual(w.payloads(), []);
  });

  test("is published after DISCONNECT 0x04 in MQTT 5 [MQTT-3.14.4-3]", () => {
    const tb = new TestBroker();
    const w = watcher(tb);
    const c = tb.client(5);
    c.connect("asks", { will });
    c.send({ cmd: "disconnect", reasonCode: 0x04 });
    assert.deepEqual(w.payloads(), ["gone"]);
  });

  test("is published at once when the session ends before the Will Delay Interval [MQTT-3.1.3-9]", () => {
    const tb = new TestBroker();
    const w = watcher(tb);
    const c = tb.client(5);
    c.connect("short", { will: { ...will, properties: { willDelayInterval: 60 } } }); // Session Expiry 0
    tb.broker.detach(c.client);
    assert.deepEqual(w.payloads(), ["gone"]);
  });

  test("waits for the Will Delay Interval and is cancelled by a reconnect [MQTT-3.1.3-9]", () => {
    const tb = new TestBroker();
    const w = watcher(tb);
    const c = tb.client(5);
    const delayed = { ...will, properties: { willDelayInterval: 5 } };
    c.connect("late", { will: delayed, clean: false, properties: { sessionExpiryInterval: 60 } });
    tb.broker.detach(c.client);
    tb.advance(4_000);
    assert.deepEqual(w.payloads(), []);
    tb.advance(2_000);
    assert.deepEqual(w.payloads(), ["gone"]);
    const c2 = tb.client(5);
    c2.connect("late2", { will: delayed, clean: false, properties: { sessionExpiryInterval: 60 } });
    tb.broker.detach(c2.client);
    tb.advance(2_000);
    tb.client(5).connect("late2", { clean: false, properties: { sessionExpiryInterval: 60 } });
    tb.advance(10_000);
    assert.deepEqual(w.payloads(), []);
  });
});

describe("session queue bounds", () => {
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
