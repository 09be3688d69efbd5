import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createMessage } from "../../src/broker/message.ts";
import { createRetainedStore } from "../../src/broker/retained.ts";

const m = (topic: string, payload = "p", expiresAt = 0) =>
  createMessage(topic, Buffer.from(payload), { retain: true, expiresAt });

describe("retained store", () => {
  test("limits: a new topic past the count, growth past the bytes; a replacement that does not grow always", () => {
    const r = createRetainedStore();
    assert.equal(r.set(m("a", "12345"), 2, 20), null); // 1 + 5 bytes
    assert.equal(r.set(m("b/c", "1234567"), 2, 20), null); // 3 + 7: 16 in all
    assert.equal(r.set(m("d"), 2, 20), "max_retained_messages");
    assert.equal(r.set(m("a", "1234567890"), 2, 20), "max_retained_bytes", "6 -> 11 bytes: 21 in all");
    assert.equal(r.set(m("a", "123456789"), 2, 20), null, "6 -> 10 bytes: 20 in all, the limit");
    assert.equal(r.set(m("a", "1"), 2, 20), null);
    assert.equal(r.bytes, 12);
    r.delete("b/c");
    assert.equal(r.bytes, 2);
    assert.equal(r.set(m("d"), 2, 20), null, "room after a delete");
    assert.deepEqual([r.count, r.bytes], [2, 4]);
    r.delete("b"); // a level with no message: nothing changes
    assert.deepEqual(r.match("#", 0).map((x) => x.topic).sort(), ["a", "d"]);
  });

  test("replaces the message of a topic and deletes it [MQTT-3.3.1-5] [MQTT-3.3.1-6]", () => {
    const r = createRetainedStore();
    r.set(m("a/b", "1"));
    r.set(m("a/b", "2"));
    assert.equal(r.count, 1);
    assert.equal(r.match("a/b", 0)[0]!.payload.toString(), "2");
    r.delete("a/b");
    assert.equal(r.count, 0);
    assert.deepEqual(r.match("#", 0), []);
  });

  test("matches wildcard filters but not $ topics from a leading wildcard [MQTT-4.7.2-1]", () => {
    const r = createRetainedStore();
    for (const t of ["a", "a/b", "a/b/c", "b/b", "$SYS/x"]) r.set(m(t));
    const topics = (f: string) => r.match(f, 0).map((x) => x.topic).sort();
    assert.deepEqual(topics("a/#"), ["a", "a/b", "a/b/c"]);
    assert.deepEqual(topics("+/b"), ["a/b", "b/b"]);
    assert.deepEqual(topics("#"), ["a", "a/b", "a/b/c", "b/b"]);
    assert.deepEqual(topics("$SYS/#"), ["$SYS/x"]);
  });

  test("drops expired messages when matched", () => {
    const r = createRetainedStore();
    r.set(m("x", "p", 100));
    assert.equal(r.match("x", 50).length, 1);
    assert.equal(r.match("x", 150).length, 0);
    assert.equal(r.count, 0);
  });
});
