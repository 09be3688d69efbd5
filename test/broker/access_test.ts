import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Packet } from "mqtt-packet";
import { parseHmqAcl } from "../../src/auth/acl_rules.ts";
import { createAuth } from "../../src/auth/create_auth.ts";
import { createBroker } from "../../src/broker/broker.ts";
import { MemClient, TestBroker } from "../helpers/mem_client.ts";

const RULES = parseHmqAcl("allow clientid * pubsub open/#\ndeny clientid * pubsub #\n", "acl.conf");

function setup(denyAction: "ignore" | "disconnect"): TestBroker {
  const tb = new TestBroker();
  tb.broker.setAuth(
    createAuth({ allowAnonymous: true, passwords: {}, rules: RULES, noMatch: "allow", denyAction }),
  );
  return tb;
}

describe("access control in the broker", () => {
  test("MQTT 3.1.1: a denied SUBSCRIBE gets 0x80; a denied QoS 1 PUBLISH is acknowledged and dropped", () => {
    const tb = setup("ignore");
    const { sub, pub } = tb.pair(4);
    sub.subscribe("open/#", 1);
    sub.send({ cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "closed/#", qos: 1 }] });
    assert.deepEqual(sub.take("suback").granted, [0x80]);
    pub.publish("closed/x", "no", 1);
    assert.equal(pub.take("puback").reasonCode ?? 0, 0);
    pub.publish("open/x", "yes", 1);
    assert.deepEqual(sub.payloads(), ["yes"]);
    assert.equal(tb.broker.metrics.aclDenied, 2);
  });

  test("MQTT 5: denials answer 0x87 on SUBACK, PUBACK and PUBREC", () => {
    const tb = setup("ignore");
    const { sub, pub } = tb.pair(5);
    sub.send({ cmd: "subscribe", messageId: 7, subscriptions: [{ topic: "closed/#", qos: 1 }] });
    assert.deepEqual(sub.take("suback").granted, [0x87]);
    pub.publish("closed/x", "no", 1);
    assert.equal(pub.take("puback").reasonCode, 0x87);
    pub.publish("closed/x", "no", 2);
    assert.equal(pub.take("pubrec").reasonCode, 0x87);
  });

  test("deny_action = disconnect closes the client with 0x87", () => {
    const tb = setup("disconnect");
    const { pub } = tb.pair(5);
    pub.publish("closed/x", "no", 0);
    assert.equal(pub.take("disconnect").reasonCode, 0x87);
    assert.ok(pub.closed);
  });

  test("a repeated denial of the same topic is counted each time and logged once", () => {
    const lines: string[] = [];
    const log = { error: () => {}, info: () => {}, debug: () => {}, warn: (m: string) => lines.push(m) };
    const broker = createBroker({}, { now: () => 0, log });
    broker.setAuth(
      createAuth({
        allowAnonymous: true,
        passwords: {},
        rules: RULES,
        noMatch: "allow",
        denyAction: "ignore",
      }),
    );
    const pub = new MemClient(broker, 4);
    pub.connect("pub");
    for (let i = 0; i < 3; i++) pub.publish("closed/x", "no");
    assert.equal(broker.metrics.aclDenied, 3);
    assert.deepEqual(lines, ['Not authorized to publish to "closed/x" (acl.conf:2)']);
  });

  test("setAuth(null) on reload lifts the restrictions, also for a topic whose answer was cached", () => {
    const tb = setup("ignore");
    const { sub, pub } = tb.pair(4);
    pub.publish("closed/x", "1");
    tb.broker.setAuth(null);
    sub.subscribe("#");
    pub.publish("closed/x", "2");
    assert.deepEqual(sub.payloads(), ["2"]);
  });
});

describe("read permission, checked for every delivery", () => {
  const SECRET = parseHmqAcl("deny clientid * sub secret/#\nallow clientid * pubsub #\n", "acl.conf");
  const aclAuth = (rules = SECRET) =>
    createAuth({ allowAnonymous: true, passwords: {}, rules, noMatch: "deny", denyAction: "ignore" });
  function withAcl(rules = SECRET): TestBroker {
    const tb = new TestBroker();
    tb.broker.setAuth(aclAuth(rules));
    return tb;
  }

  test("SUBSCRIBE # is granted past a deny rule; the denied topics are withheld and counted", () => {
    const tb = withAcl();
    const { sub, pub } = tb.pair(5);
    assert.deepEqual(sub.subscribe("#", 1).granted, [1]);
    for (const t of ["public/a", "secret/b", "public/c"]) pub.publish(t, t, 1);
    assert.deepEqual(sub.payloads(), ["public/a", "public/c"]);
    assert.equal(tb.broker.metrics.droppedNotAuthorized, 1);
  });

  test("retained messages sent on SUBSCRIBE are checked too", () => {
    const tb = withAcl();
    const { sub, pub } = tb.pair(4);
    pub.publish("secret/r", "hidden", 0, { retain: true });
    pub.publish("public/r", "shown", 0, { retain: true });
    sub.subscribe("#", 0);
    assert.deepEqual(sub.payloads(), ["shown"]);
  });

  test("a shared subscription is checked on the message's topic", () => {
    const tb = withAcl();
    const { sub, pub } = tb.pair(5);
    sub.subscribe("$share/g/#", 1);
    pub.publish("secret/s", "no", 1);
    pub.publish("public/s", "yes", 1);
    assert.deepEqual(sub.payloads(), ["yes"]);
  });

  test("what waited in an offline session is checked when it is delivered, under the ACL of then", () => {
    const tb = withAcl(parseHmqAcl("allow clientid * pubsub #\n", "open.conf"));
    const s = tb.client(4);
    s.connect("off", { clean: false });
    s.subscribe("#", 1);
    tb.broker.detach(s.client);
    const pub = tb.client(4);
    pub.connect("p");
    pub.publish("secret/q", "queued", 1);
    pub.publish("public/q", "queued too", 1);
    assert.equal(tb.broker.session("off")?.queued, 2);
    tb.broker.setAuth(aclAuth());
    const back = tb.client(4);
    back.connect("off", { clean: false });
    assert.deepEqual(back.payloads(), ["queued too"]);
  });

  test("subscribers whom the same rules apply to share one read lookup per message; the others get their own", () => {
    const rules = parseHmqAcl(
      "deny username bob sub x/#\ndeny clientid * sub y/#\nallow clientid * pubsub #\n",
      "a",
    );
    const auth = aclAuth(rules);
    let reads = 0;
    const tb = new TestBroker();
    tb.broker.setAuth({ ...auth, authorizeRead: (who, topic) => (reads++, auth.authorizeRead(who, topic)) });
    const [alice, alice2, bob] = [["a1", "alice"], ["a2", "alice"], ["b", "bob"]].map(([id, username]) => {
      const c = tb.client(5);
      c.connect(id!, { username });
      c.subscribe("#", 0); // y/# overlaps it: every delivery is checked
      return c;
    }) as [MemClient, MemClient, MemClient];
    const pub = tb.client(5);
    pub.connect("p");
    pub.publish("x/1", "one");
    assert.deepEqual([alice.payloads(), alice2.payloads(), bob.payloads()], [["one"], ["one"], []]);
    assert.equal(reads, 2, "alice2 uses alice's answer");
    pub.publish("x/2", "two");
    assert.deepEqual([bob.payloads(), alice.payloads(), alice2.payloads()], [[], ["two"], ["two"]]);
    assert.equal(reads, 4, "bob's answer is not alice's");
  });

  test("a session resumed under another identity is checked message by message, queued and new", () => {
    const tb = withAcl(parseHmqAcl("deny username bob sub x/#\nallow clientid * pubsub #\n", "acl.conf"));
    const alice = tb.client(4);
    alice.connect("device", { clean: false, username: "alice" });
    alice.subscribe("x/#", 1);
    tb.broker.detach(alice.client);
    const pub = tb.client(4);
    pub.connect("p");
    pub.publish("x/1", "queued", 1);
    const bob = tb.client(4);
    bob.connect("device", { clean: false, username: "bob" });
    pub.publish("x/2", "live", 1);
    assert.deepEqual(bob.payloads(), []);
    assert.equal(tb.broker.metrics.droppedNotAuthorized, 2);
  });

  test("what was queued through a subscription a reload took away stays checked until the queue drains", () => {
    const tb = withAcl(parseHmqAcl("allow clientid * pubsub #\n", "open.conf"));
    const dev = { clean: false, properties: { sessionExpiryInterval: 300, receiveMaximum: 1 } };
    const s = tb.client(5);
    s.connect("dev", dev);
    s.subscribe("secret/#", 1);
    s.subscribe("public/#", 1);
    tb.broker.detach(s.client);
    const pub = tb.client(5);
    pub.connect("p");
    for (const t of ["public/1", "secret/2", "public/3"]) pub.publish(t, t, 1);
    tb.broker.setAuth(aclAuth());
    const back = tb.client(5);
    back.connect("dev", dev);
    const got: string[] = [];
    for (let p = back.takeAll("publish")[0]; p !== undefined; p = back.takeAll("publish")[0]) {
      got.push(String(p.payload));
      back.send({ cmd: "puback", messageId: p.messageId } as Packet);
    }
    assert.deepEqual(
      got,
      ["public/1", "public/3"],
      "secret/# was removed, and what it queued is not readable",
    );
  });

  test("a reload that denies a topic stops its delivery at once (the cached answers are dropped)", () => {
    const tb = withAcl(parseHmqAcl("allow clientid * pubsub #\n", "open.conf"));
    const { sub, pub } = tb.pair(4);
    sub.subscribe("#", 0);
    pub.publish("secret/x", "before");
    assert.deepEqual(sub.payloads(), ["before"]);
    tb.broker.setAuth(aclAuth());
    pub.publish("secret/x", "after");
    assert.deepEqual(sub.payloads(), []);
  });
});

describe("wills and reloads", () => {
  const NO_SECRET = parseHmqAcl("deny clientid * pub secret/#\nallow clientid * pubsub #\n", "acl.conf");
  const auth = (rules = NO_SECRET, passwords: Record<string, string> = {}, allowAnonymous = true) =>
    createAuth({ allowAnonymous, passwords, rules, noMatch: "deny", denyAction: "ignore" });
  const will = { topic: "secret/will", payload: Buffer.from("gone"), qos: 0 as const, retain: false };

  test("a will on a topic the client may not publish to refuses the CONNECT: 0x87 in MQTT 5, 5 in 3.1.1", () => {
    const tb = new TestBroker();
    tb.broker.setAuth(auth());
    const v5 = tb.client(5);
    assert.equal(v5.connect("w5", { will }).reasonCode, 0x87);
    assert.ok(v5.closed);
    const v4 = tb.client(4);
    assert.equal(v4.connect("w4", { will }).returnCode, 5);
    assert.equal(tb.broker.metrics.aclDenied, 2);
  });

  test("a will allowed at CONNECT is not published when a reload has denied its topic since", () => {
    const tb = new TestBroker();
    tb.broker.setAuth(auth(parseHmqAcl("allow clientid * pubsub #\n", "open.conf")));
    const watcher = tb.client(4);
    watcher.connect("watcher");
    watcher.subscribe("#", 0);
    const c = tb.client(4);
    c.connect("w", { will: { ...will, topic: "secret/w" } });
    tb.broker.setAuth(auth());
    tb.broker.detach(c.client); // gone without DISCONNECT
    assert.deepEqual(watcher.payloads(), []);
    assert.equal(tb.broker.metrics.willsPublished, 0);
  });

  test("a reload removes the subscriptions no longer allowed and disconnects users no longer listed", () => {
    const tb = new TestBroker();
    tb.broker.setAuth(
      auth(parseHmqAcl("allow clientid * pubsub #\n", "open.conf"), { ann: "a", bob: "b" }, false),
    );
    const ann = tb.client(5);
    ann.connect("ann", { username: "ann", password: Buffer.from("a") });
    ann.subscribe("secret/#", 0);
    ann.subscribe("public/#", 0);
    const bob = tb.client(5);
    bob.connect("bob", { username: "bob", password: Buffer.from("b") });
    const rules = parseHmqAcl("deny clientid * sub secret/#\nallow clientid * pubsub #\n", "acl.conf");
    tb.broker.setAuth(auth(rules, { ann: "a" }, false));
    assert.deepEqual(tb.broker.session("ann")?.filters, ["public/#"]);
    assert.equal(bob.take("disconnect").reasonCode, 0x87);
    assert.ok(bob.closed);
    assert.equal(ann.closed, false);
  });
});

describe("access control answers that come later (HTTP authentication)", () => {
  /** Hooks whose publish and subscribe answers arrive a turn later; `asked` records the questions. */
  function laterAuth(allowTopic: (t: string) => boolean) {
    const asked: string[] = [];
    const later = (v: boolean) =>
      new Promise<{ allow: boolean; rule: string }>((r) =>
        setTimeout(() => r({ allow: v, rule: "http" }), 1)
      );
    const auth = {
      denyAction: "ignore" as const,
      authenticate: () => 0,
      stillAuthenticated: () => true,
      recheck: () => null,
      authorize(_who: unknown, action: string, topic: string) {
        asked.push(`${action} ${topic}`);
        return later(allowTopic(topic));
      },
      authorizeRead: () => ({ allow: true, rule: "" }),
      readClass: () => 0,
    };
    return { auth, asked };
  }
  const tick = () => new Promise((r) => setTimeout(r, 5));

  test("a SUBSCRIBE waits for every answer, is handled once, and a filter given twice is asked once per copy", async () => {
    const tb = new TestBroker();
    const { auth, asked } = laterAuth((t) => !t.startsWith("no"));
    tb.broker.setAuth(auth);
    const c = tb.client(5);
    c.connect("s");
    c.send({
      cmd: "subscribe",
      messageId: 3,
      subscriptions: [{ topic: "a/#", qos: 1 }, { topic: "no/#", qos: 1 }, { topic: "a/#", qos: 1 }],
    });
    assert.equal(c.held, true, "nothing more is read meanwhile");
    await tick();
    assert.deepEqual(c.take("suback").granted, [1, 0x87, 1]);
    assert.equal(c.held, false);
    assert.deepEqual(asked, ["subscribe a/#", "subscribe no/#", "subscribe a/#"]);
  });

  test("a PUBLISH waits for its answer; what it answered decides, and the next PUBLISH is asked in turn", async () => {
    const tb = new TestBroker();
    const { auth, asked } = laterAuth((t) => t !== "denied");
    tb.broker.setAuth(auth);
    const sub = tb.client(4);
    sub.connect("sub");
    sub.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "#", qos: 1 }] });
    await tick();
    sub.take("suback");
    const pub = tb.client(5);
    pub.connect("pub");
    pub.publish("denied", "x", 1);
    await tick();
    assert.equal(pub.take("puback").reasonCode, 0x87);
    pub.publish("ok", "y", 1);
    await tick();
    assert.equal(pub.take("puback").reasonCode ?? 0, 0);
    assert.deepEqual(sub.payloads(), ["y"]);
    assert.deepEqual(asked, ["subscribe #", "publish denied", "publish ok"]);
  });
});
