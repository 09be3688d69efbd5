import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createMessage } from "../../src/broker/message.ts";
import { OutQueue } from "../../src/broker/outbound.ts";
import type { Message } from "../../src/broker/state.ts";

const msg = (n: number) => createMessage(`t/${n}`, Buffer.from(String(n)));

describe("OutQueue", () => {
  test("keeps order and never holds more than its bound", () => {
    const q = new OutQueue<Message>(3);
    for (let i = 0; i < 5; i++) q.push(msg(i), 1, false, null);
    assert.equal(q.length, 3);
    assert.equal(q.dropped, 2);
    assert.deepEqual([q.shift()!.topic, q.shift()!.topic, q.shift()!.topic], ["t/0", "t/1", "t/2"]);
    assert.equal(q.shift(), null);
  });

  test("a full queue drops new QoS 0 and lets QoS 1 evict the oldest QoS 0", () => {
    const q = new OutQueue<Message>(3);
    q.push(msg(0), 0, false, null);
    q.push(msg(1), 1, false, null);
    q.push(msg(2), 0, false, null);
    assert.equal(q.push(msg(3), 0, false, null), false);
    assert.equal(q.push(msg(4), 1, false, null), true);
    const got: string[] = [];
    for (let m = q.shift(); m !== null; m = q.shift()) got.push(`${m.topic}:${q.lastQos}`);
    assert.deepEqual(got, ["t/1:1", "t/2:0", "t/4:1"]);
    assert.equal(q.dropped, 2);
  });

  test("dropQos0 keeps only QoS 1/2 deliveries", () => {
    const q = new OutQueue<Message>(10);
    for (let i = 0; i < 6; i++) q.push(msg(i), i % 2, false, null);
    q.dropQos0();
    assert.equal(q.length, 3);
    assert.equal(q.peekQos(), 1);
  });

  test("grows past its initial capacity in order", () => {
    const q = new OutQueue<Message>(100);
    for (let i = 0; i < 50; i++) q.push(msg(i), 1, i % 3 === 0, null);
    for (let i = 0; i < 50; i++) {
      assert.equal(q.shift()!.topic, `t/${i}`);
      assert.equal(q.lastRetain, i % 3 === 0);
    }
  });
});
