import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createSession } from "../../src/broker/session.ts";
import { createTopicTree } from "../../src/broker/topic_tree.ts";
import type { Subscription } from "../../src/broker/state.ts";

function sub(
  filter: string,
  qos = 0,
  extra: Partial<Subscription> = {},
  session = createSession(filter, 10),
): Subscription {
  return { session, filter, group: null, qos, noLocal: false, rap: false, rh: 0, subIds: null, ...extra };
}

describe("topic tree", () => {
  test("matches exact, + and # filters, # including the parent level", () => {
    const t = createTopicTree();
    const subs = ["a/b", "a/+", "a/#", "#", "+/+", "b/#", "a/b/c"].map((f) => sub(f));
    for (const s of subs) t.add(s);
    const got = t.match("a/b").targets.map((x) => x.subs[0]!.filter).sort();
    assert.deepEqual(got, ["#", "+/+", "a/#", "a/+", "a/b"]);
    assert.deepEqual(t.match("a").targets.map((x) => x.subs[0]!.filter).sort(), ["#", "a/#"]);
  });

  test("does not deliver $SYS topics to # or + [MQTT-4.7.2-1]", () => {
    const t = createTopicTree();
    t.add(sub("#"));
    t.add(sub("+/x"));
    t.add(sub("$SYS/#"));
    assert.deepEqual(t.match("$SYS/x").targets.map((x) => x.subs[0]!.filter), ["$SYS/#"]);
  });

  test("merges overlapping subscriptions of one session: highest QoS, all identifiers [MQTT-3.3.4-2] [MQTT-3.3.4-3]", () => {
    const t = createTopicTree();
    const s = createSession("c", 10);
    t.add(sub("a/#", 0, { subIds: [1] }, s));
    t.add(sub("a/+", 2, { subIds: [2] }, s));
    const m = t.match("a/b");
    assert.equal(m.targets.length, 1);
    assert.equal(m.targets[0]!.qos, 2);
    assert.deepEqual(m.targets[0]!.subIds!.sort(), [1, 2]);
  });

  test("a new subscription invalidates the cached match", () => {
    const t = createTopicTree();
    t.add(sub("a/b"));
    assert.equal(t.match("a/b").targets.length, 1);
    t.add(sub("a/#"));
    assert.equal(t.match("a/b").targets.length, 2);
  });

  test("removing prunes and stops matching", () => {
    const t = createTopicTree();
    const s = sub("a/b/c");
    t.add(s);
    t.remove(s);
    assert.equal(t.match("a/b/c").targets.length, 0);
    assert.equal(t.count, 0);
  });

  test("shared subscriptions come back as groups, not targets", () => {
    const t = createTopicTree();
    t.add(sub("a/+", 1, { group: "g" }));
    t.add(sub("a/+", 1, { group: "g" }));
    const m = t.match("a/x");
    assert.equal(m.targets.length, 0);
    assert.equal(m.groups.length, 1);
    assert.equal(m.groups[0]!.subs.length, 2);
  });
});
