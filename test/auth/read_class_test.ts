import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Identity } from "../../src/auth/acl.ts";
import { parseHmqAcl } from "../../src/auth/acl_rules.ts";
import { createAuth } from "../../src/auth/create_auth.ts";

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
