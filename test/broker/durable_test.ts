/** Journaling and restoring through a memory store, with in-memory clients and a manual clock. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createMemoryStore } from "../../src/store/memory_store.ts";
import { quietLog, TestBroker } from "../helpers/mem_client.ts";
import type { Logger } from "../../src/broker/deps.ts";

const persistent = { protocolVersion: 5, clean: false, properties: { sessionExpiryInterval: 600 } };

describe("durable state", () => {
  test("an offline session's queue and subscriptions and the retained messages come back in a new broker", () => {
    const store = createMemoryStore();
    const before = new TestBroker({}, { journal: store });
    const sub = before.client(5);
    sub.connect("s", persistent);
    sub.subscribe("t/#", 1);
    sub.send({ cmd: "disconnect" });
    const pub = before.client(4);
    pub.connect("p");
    pub.publish("t/1", "one", 1);
    pub.publish("t/2", "two", 2);
    pub.publish("t/r", "kept", 0, { retain: true });
    store.commit();

    const after = new TestBroker({}, { journal: store });
    assert.equal(after.broker.restore(store.load()), 1);
    assert.deepEqual(after.broker.stats().retained, 1);
    const back = after.client(5);
    assert.equal(back.connect("s", persistent).sessionPresent, true);
    assert.deepEqual(back.takeAll("publish").map((p) => [p.topic, String(p.payload), p.qos]), [
      ["t/1", "one", 1],
      ["t/2", "two", 1], // the subscription's QoS 1
    ]);
    const p = after.client(4);
    p.connect("p2");
    p.publish("t/1", "new", 1);
    assert.deepEqual(
      back.takeAll("publish").map((x) => String(x.payload)),
      ["new"],
      "the subscription came back",
    );
  });

  test("a delivery sent and not acknowledged before the stop is sent again with DUP after the restore", () => {
    const store = createMemoryStore();
    const before = new TestBroker({}, { journal: store });
    const sub = before.client(5);
    const pub = before.client(4);
    pub.connect("p");
    sub.connect("s", persistent);
    sub.subscribe("q", 1);
    pub.publish("q", "unacked", 1);
    assert.equal(sub.takeAll("publish").length, 1); // sent, never acknowledged
    store.commit();

    const after = new TestBroker({}, { journal: store });
    after.broker.restore(store.load());
    const back = after.client(5);
    back.connect("s", persistent);
    const again = back.takeAll("publish");
    assert.equal(again.length, 1);
    assert.equal(again[0]!.dup, true);
    assert.equal(String(again[0]!.payload), "unacked");
  });

  test("a full store: the message is still delivered, counted, the warning logged once, and room again logged", () => {
    const warnings: string[] = [];
    const infos: string[] = [];
    const log: Logger = { ...quietLog, warn: (m) => warnings.push(m), info: (m) => infos.push(m) };
    const tb = new TestBroker({}, { journal: createMemoryStore({ maxMessages: 2 }), log });
    const sub = tb.client(5);
    sub.connect("s", persistent);
    sub.subscribe("f", 1);
    sub.send({ cmd: "disconnect" });
    const pub = tb.client(4);
    pub.connect("p");
    for (let i = 0; i < 4; i++) pub.publish("f", `m${i}`, 1);
    assert.equal(tb.broker.metrics.storeRefused, 2);
    assert.equal(warnings.filter((w) => /store is full/.test(w)).length, 1);
    const back = tb.client(5);
    back.connect("s", persistent);
    const got = back.takeAll("publish");
    assert.equal(got.length, 4, "kept in memory");
    for (const p of got) back.send({ cmd: "puback", messageId: p.messageId! });
    pub.publish("f", "after", 1);
    assert.deepEqual(infos.filter((m) => /room again/.test(m)), [
      "The store has room again; 2 messages were not stored",
    ]);
  });

  test("a retained message that expires leaves the store, whether it expires before or after a restore", () => {
    const store = createMemoryStore();
    const tb = new TestBroker({}, { journal: store });
    const pub = tb.client(5);
    pub.connect("p");
    const expiring = { retain: true, properties: { messageExpiryInterval: 10 } };
    pub.publish("r/1", "short", 0, expiring);
    pub.publish("r/2", "short too", 0, expiring);
    pub.publish("r/3", "forever", 0, { retain: true });
    store.commit();
    tb.advance(11_000);
    const sub = tb.client(5);
    sub.connect("s");
    sub.subscribe("r/1", 0); // r/1's expiry is found here
    assert.equal(sub.takeAll("publish").length, 0);
    store.commit();
    assert.deepEqual(store.load().retained.map((r) => r.topic).sort(), ["r/2", "r/3"]);

    const after = new TestBroker({}, { journal: store });
    after.now = tb.now;
    after.broker.restore(store.load());
    store.commit();
    assert.deepEqual(store.load().retained.map((r) => r.topic), ["r/3"], "r/2 expired while stopped");
    assert.equal(after.broker.stats().retained, 1);
  });

  test("a client connected when the broker stopped: its will goes out after the restore, after its delay", () => {
    const store = createMemoryStore();
    const before = new TestBroker({}, { journal: store });
    const watcher = before.client(5);
    watcher.connect("watcher", persistent);
    watcher.subscribe("wills/#", 1);
    watcher.send({ cmd: "disconnect" });
    const dying = before.client(5);
    dying.connect("dying", {
      ...persistent,
      will: {
        topic: "wills/dying",
        payload: Buffer.from("gone"),
        qos: 1,
        retain: false,
        properties: { willDelayInterval: 5 },
      },
    });
    store.commit(); // the broker stops here, with "dying" still connected

    const after = new TestBroker({}, { journal: store });
    after.now = before.now;
    after.broker.restore(store.load());
    after.advance(4000);
    const back = after.client(5);
    back.connect("watcher", persistent);
    assert.equal(back.takeAll("publish").length, 0, "not before the Will Delay Interval");
    back.send({ cmd: "disconnect" });
    after.advance(2000);
    const again = after.client(5);
    again.connect("watcher", persistent);
    assert.deepEqual(again.takeAll("publish").map((p) => [p.topic, String(p.payload)]), [[
      "wills/dying",
      "gone",
    ]]);
  });
});
