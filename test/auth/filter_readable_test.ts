import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type AclRule, filterReadable, type Identity } from "../../src/auth/acl.ts";
import { parseHmqAcl } from "../../src/auth/acl_rules.ts";
import { createAuth } from "../../src/auth/create_auth.ts";
import { isValidTopicFilter, topicMatches } from "../../src/protocol/topic.ts";

const c1: Identity = { clientId: "c1", username: "u1", ip: "10.0.0.1" };

describe("filterReadable: may a subscription skip the per-delivery read check", () => {
  test("examples", () => {
    const rules = parseHmqAcl(
      "deny clientid * sub secret/#\ndeny clientid * sub %c/private/#\nallow clientid * pubsub #\n",
      "acl.conf",
    );
    const rows: [string, boolean | null][] = [
      ["public/#", true], // allow # covers it, no deny overlaps it
      ["a/+/b", true],
      ["#", false], // overlaps secret/#: every delivery is checked
      ["+/x", false], // secret/x
      ["secret", false], // secret/# matches its parent level too
      ["sec/#", true],
      ["+/private/x", false], // c1/private/x
      ["c2/private/x", true], // %c is c1 for this client
    ];
    for (const [filter, want] of rows) assert.equal(filterReadable(rules, c1, filter), want, filter);
    assert.equal(
      filterReadable(parseHmqAcl("deny clientid * sub a/#\n", "x"), c1, "b/#"),
      null,
      "no_match decides",
    );
    const before = parseHmqAcl("allow clientid * sub a/#\ndeny clientid * sub a/b\n", "x");
    assert.equal(filterReadable(before, c1, "a/+"), true, "an allow above covers the filter");
    const other = parseHmqAcl("deny username bob sub #\nallow clientid * sub #\n", "x");
    assert.equal(filterReadable(other, c1, "#"), true, "a rule for another user is not in the way");
  });

  test("a filter said to be readable never carries a topic the read check would deny (exhaustive, small universe)", () => {
    const filters = _all(["a", "b", "+", "#"], 3).filter(isValidTopicFilter);
    const topics = _all(["a", "b", "c"], 4);
    const random = _prng(7);
    let readable = 0;
    let pastDeny = 0;
    for (let n = 0; n < 300; n++) {
      const lines = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        const f = filters[Math.floor(random() * filters.length)]!;
        return `${random() < 0.5 ? "allow" : "deny"} clientid * ${random() < 0.8 ? "sub" : "pub"} ${f}`;
      });
      const rules: AclRule[] = parseHmqAcl(lines.join("\n") + "\n", "random.conf");
      const noMatch = random() < 0.5 ? "allow" : "deny";
      const auth = createAuth({ allowAnonymous: true, passwords: {}, rules, noMatch, denyAction: "ignore" });
      for (const f of filters) {
        if (!auth.readsAll(c1, f)) continue;
        readable++;
        if (rules.some((r) => !r.allow && r.subscribe)) pastDeny++;
        for (const t of topics) {
          if (!topicMatches(f, t)) continue;
          assert.ok(
            auth.authorizeRead(c1, t).allow,
            `rules ${lines.join("; ")} no_match ${noMatch}: ${f} carries ${t}`,
          );
        }
      }
    }
    assert.ok(
      readable > 1000 && pastDeny > 100,
      `the shortcut applies often (${readable}, ${pastDeny} past a deny)`,
    );
  });
});

describe("readClass: identities that share read answers", () => {
  test("the same class means the same read answer for every topic (random rules, placeholders, users, addresses)", () => {
    const ids: Identity[] = [];
    for (const clientId of ["a", "b"]) {
      for (const username of [undefined, "a", "u"]) {
        for (const ip of ["10.0.0.1", "10.0.0.2"]) ids.push({ clientId, username, ip });
      }
    }
    const subjects = ["clientid *", "clientid a", "username u", "ip 10.0.0.2"];
    const filters = ["#", "a/#", "%c/#", "%u/+", "+/a", "b"];
    const topics = _all(["a", "b", "u"], 3);
    const random = _prng(11);
    let shared = 0;
    for (let n = 0; n < 200; n++) {
      const lines = Array.from({ length: 1 + Math.floor(random() * 4) }, () => {
        const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
        return `${random() < 0.5 ? "allow" : "deny"} ${pick(subjects)} sub ${pick(filters)}`;
      });
      const noMatch = random() < 0.5 ? "allow" : "deny";
      const rules = parseHmqAcl(lines.join("\n") + "\n", "random.conf");
      const auth = createAuth({ allowAnonymous: true, passwords: {}, rules, noMatch, denyAction: "ignore" });
      const answers = (who: Identity) => topics.map((t) => auth.authorizeRead(who, t).allow).join();
      const byClass = new Map<number, string>();
      for (const who of ids) {
        const k = auth.readClass(who);
        const seen = byClass.get(k);
        if (seen === undefined) byClass.set(k, answers(who));
        else (shared++, assert.equal(answers(who), seen, `${lines.join("; ")}: ${JSON.stringify(who)}`));
      }
    }
    assert.ok(shared > 500, `identities share classes often (${shared})`);
  });
});

/** Every topic of 1..depth levels over `levels`. */
function _all(levels: string[], depth: number): string[] {
  let out = levels;
  const all = [...levels];
  for (let d = 2; d <= depth; d++) {
    out = out.flatMap((t) => levels.map((l) => `${t}/${l}`));
    all.push(...out);
  }
  return all;
}

function _prng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
}
