import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { type AclAction, findRule, type Identity, ipMatches } from "../../src/auth/acl.ts";
import { AclRuleError, nanomqAclRules, parseHmqAcl } from "../../src/auth/acl_rules.ts";
import { createAuth } from "../../src/auth/create_auth.ts";
import { parseConfig } from "../../src/config/load_config.ts";

const HMQ_README = `## the hmq README's example (1 = publish, 2 = subscribe, 3 = both)
allow      ip          127.0.0.1   2     $SYS/#
allow      clientid    0001        3     #
allow      username    admin       3     #
allow      username    joy         3     /test,hello/world
allow      clientid    *           1     toCloud/%c
allow      username    *           1     toCloud/%u
deny       clientid    *           3     #
`;

const who = (clientId: string, username?: string, ip = "10.0.0.9"): Identity => ({ clientId, username, ip });

type Row = [Identity, AclAction, string, boolean];

function decide(rules: ReturnType<typeof parseHmqAcl>, noMatch: "allow" | "deny", rows: Row[]): void {
  const auth = createAuth({ allowAnonymous: true, passwords: {}, rules, noMatch, denyAction: "ignore" });
  for (const [id, action, topic, allowed] of rows) {
    const v = action === "read" ? auth.authorizeRead(id, topic) : auth.authorize(id, action, topic);
    assert.ok(!(v instanceof Promise));
    assert.equal(
      v.allow,
      allowed,
      `${JSON.stringify(id)} ${action} ${topic}: expected ${allowed} (rule ${v.rule})`,
    );
  }
}

describe("hmq ACL format", () => {
  test("the hmq README example rules decide as documented", () => {
    decide(parseHmqAcl(HMQ_README, "acl.conf"), "allow", [
      [who("x", undefined, "127.0.0.1"), "subscribe", "$SYS/broker/uptime", true],
      [who("x", undefined, "127.0.0.1"), "publish", "$SYS/broker/uptime", false], // rule 1 is subscribe only
      [who("0001"), "publish", "any/thing", true],
      [who("0001"), "subscribe", "#", true],
      [who("c", "admin"), "subscribe", "a/#", true],
      [who("c", "joy"), "publish", "/test", true],
      [who("c", "joy"), "subscribe", "hello/world", true],
      [who("c", "joy"), "publish", "hello/world/more", false], // a/b does not cover a/b/c (hmq quirk not copied)
      [who("dev1"), "publish", "toCloud/dev1", true],
      [who("dev1"), "publish", "toCloud/dev2", false],
      [who("dev1"), "subscribe", "toCloud/dev1", false], // rule 5 is publish only
      [who("c", "bob"), "publish", "toCloud/bob", true],
      [who("dev1"), "publish", "other", false],
    ]);
  });

  test("a client id or user name with + # or / never fills %c / %u", () => {
    decide(parseHmqAcl(HMQ_README, "acl.conf"), "allow", [
      [who("+"), "publish", "toCloud/+", false],
      [who("#"), "publish", "toCloud/x", false],
      [who("a/b"), "publish", "toCloud/a/b", false],
      [who("c", "x/y"), "publish", "toCloud/x/y", false],
    ]);
  });

  test("SUBSCRIBE is decided on the filter as written; each delivery by reading its topic (Mosquitto's way)", () => {
    const rules = parseHmqAcl("deny username * sub secret/#\nallow username * pubsub #\n", "a.conf");
    decide(rules, "deny", [
      [who("c", "u"), "subscribe", "public/x", true],
      [who("c", "u"), "subscribe", "secret/x", false],
      [who("c", "u"), "subscribe", "secret/+", false],
      [who("c", "u"), "subscribe", "#", true], // "secret/#" does not match the filter "#" ...
      [who("c", "u"), "read", "secret/x", false], // ... and its secret/ messages are withheld
      [who("c", "u"), "read", "public/x", true],
      [who("c", "u"), "subscribe", "+/x", true],
      [who("c", "u"), "publish", "secret/x", true], // the deny rule is subscribe only
    ]);
    const narrow = parseHmqAcl("allow username * 2 sensors/+/temp\n", "b.conf");
    decide(narrow, "deny", [
      [who("c", "u"), "subscribe", "sensors/a/temp", true],
      [who("c", "u"), "subscribe", "sensors/+/temp", true],
      [who("c", "u"), "subscribe", "sensors/#", false], // "#" is matched only by "#" in a rule
      [who("c", "u"), "subscribe", "+/a/temp", false],
      [who("c", "u"), "read", "sensors/a/temp", true],
      [who("c", "u"), "read", "sensors/a/humidity", false],
    ]);
  });

  test("the interoperability suite's ACL: test/nosubscribe is refused, #, +/+ and TopicA/+ are granted", () => {
    const rules = parseHmqAcl("deny clientid * 2 test/nosubscribe\nallow clientid * 3 #\n", "interop.conf");
    decide(rules, "deny", [
      [who("c"), "subscribe", "test/nosubscribe", false],
      [who("c"), "subscribe", "#", true],
      [who("c"), "subscribe", "+/+", true],
      [who("c"), "subscribe", "TopicA/+", true],
      [who("c"), "read", "test/nosubscribe", false],
      [who("c"), "read", "TopicA/B", true],
      [who("c"), "publish", "test/nosubscribe", true],
    ]);
  });

  test("numbers follow the hmq README (1 publish, 2 subscribe); the words pub/sub/pubsub work too", () => {
    const [one, two, three, word] = parseHmqAcl(
      "allow ip * 1 a\nallow ip * 2 a\nallow ip * 3 a\nallow ip * sub a\n",
      "n.conf",
    );
    assert.deepEqual([one!.publish, one!.subscribe], [true, false]);
    assert.deepEqual([two!.publish, two!.subscribe], [false, true]);
    assert.deepEqual([three!.publish, three!.subscribe], [true, true]);
    assert.deepEqual([word!.publish, word!.subscribe], [false, true]);
  });

  test("blank lines and comments are skipped (a blank line does not end the file)", () => {
    const rules = parseHmqAcl("# c\n; c\n// c\n\nallow ip * 1 a\n\nallow ip * 2 b\n", "c.conf");
    assert.equal(rules.length, 2);
  });

  const bad: [string, RegExp][] = [
    ["allow ip *", /^e\.conf:1: acl: expected 5 fields/],
    ["permit ip * 1 a", /"permit" is not allow or deny/],
    ["allow user * 1 a", /"user" is not clientid, username or ip/],
    ["allow ip * 4 a", /"4" is not 1 \(publish\), 2 \(subscribe\), 3 \(both\)/],
    ["allow ip * 1 a/#/b", /"a\/#\/b" is not a valid topic filter/],
  ];
  for (const [line, message] of bad) {
    test(`a bad line is an error naming the file and line: ${line}`, () => {
      assert.throws(
        () => parseHmqAcl(`# first\n${line}`.replace("# first\n", ""), "e.conf"),
        (e: unknown) => {
          assert.ok(e instanceof AclRuleError);
          assert.match(e.message, message);
          return true;
        },
      );
    });
  }

  test("../shared/fixtures/hmq/acl.conf parses", {
    skip: !existsSync(new URL("../../../shared/fixtures/hmq/acl.conf", import.meta.url)),
  }, () => {
    const text = readFileSync(new URL("../../../shared/fixtures/hmq/acl.conf", import.meta.url), "utf8");
    assert.equal(parseHmqAcl(text, "acl.conf").length, 7);
  });

  test("ip rules take an address or an IPv4 CIDR block", () => {
    assert.ok(ipMatches("192.168.1.0/24", "192.168.1.77"));
    assert.ok(!ipMatches("192.168.1.0/24", "192.168.2.1"));
    assert.ok(ipMatches("10.0.0.1", "10.0.0.1"));
    assert.ok(!ipMatches("10.0.0.1", "10.0.0.10"));
  });
});

describe("NanoMQ ACL rules", () => {
  test("nanomq_acl.conf: dashboard may subscribe to $SYS/#, the last rule allows the rest", async () => {
    const text = "auth.acl { rules = [\n" +
      '{"permit": "allow", "username": "dashboard", "action": "subscribe", "topics": ["$SYS/#"]}\n' +
      '{"permit": "deny", "username": "#", "action": "subscribe", "topics": ["$SYS/#", "#"]}\n' +
      '{"permit": "allow"}\n] }';
    const rules = nanomqAclRules((await parseConfig(text, "acl.conf")).config.auth.acl.rules);
    decide(rules, "deny", [
      [who("c", "dashboard"), "subscribe", "$SYS/brokers", true],
      [who("c", "joe"), "subscribe", "$SYS/brokers", false],
      [who("c", "joe"), "subscribe", "a/b", false], // "#" overlaps everything
      [who("c", "joe"), "publish", "a/b", true],
    ]);
  });

  test("ipaddrs, and/or subjects and ${clientid} / ${username} placeholders", async () => {
    const text = "auth.acl.rules = [\n" +
      '{permit = allow, ipaddrs = ["10.1.0.0/16", "127.0.0.1"], action = publish, topics = ["lan/#"]}\n' +
      '{permit = allow, and = [{username = ops}, {ipaddr = "10.9.9.9"}], topics = ["ops/#"]}\n' +
      '{permit = allow, or = [{clientid = a}, {clientid = b}], action = subscribe, topics = ["ab/#"]}\n' +
      '{permit = allow, action = publish, topics = ["dev/${clientid}/#", "user/${username}"]}\n]';
    const rules = nanomqAclRules((await parseConfig(text, "r.conf")).config.auth.acl.rules);
    decide(rules, "deny", [
      [who("c", undefined, "10.1.2.3"), "publish", "lan/x", true],
      [who("c", undefined, "10.2.2.3"), "publish", "lan/x", false],
      [who("c", "ops", "10.9.9.9"), "subscribe", "ops/#", true],
      [who("c", "ops", "10.9.9.8"), "subscribe", "ops/#", false],
      [who("b"), "subscribe", "ab/1", true],
      [who("z"), "subscribe", "ab/1", false],
      [who("d7"), "publish", "dev/d7/t", true],
      [who("d7"), "publish", "dev/d8/t", false],
      [who("c", "ann"), "publish", "user/ann", true],
      [who("c"), "publish", "user/", false], // no user name: the placeholder cannot be filled
    ]);
  });

  test("no match falls through to auth.no_match", () => {
    const rules = parseHmqAcl("allow ip * 1 a\n", "x.conf");
    assert.equal(findRule(rules, who("c"), "publish", "b"), null);
    decide(rules, "allow", [[who("c"), "publish", "b", true]]);
    decide(rules, "deny", [[who("c"), "publish", "b", false]]);
  });
});
