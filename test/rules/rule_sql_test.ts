import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compareValues, compileRule, type RuleInput } from "../../src/rules/rule_compile.ts";
import { parseRuleSql, RuleSqlError } from "../../src/rules/rule_sql.ts";

function input(payload: string, o: Partial<RuleInput> = {}): RuleInput {
  return {
    topic: "t/1",
    qos: 1,
    id: 7,
    clientid: "dev",
    username: "ann",
    payload: Buffer.from(payload),
    timestamp: 1700000000,
    parsed: false,
    json: undefined,
    ...o,
  };
}

describe("rule SQL parser", () => {
  test("NanoMQ's examples, SELECT *, several FROM filters, AS, case-insensitive keywords", () => {
    const a = parseRuleSql(`SELECT payload.x.y as y, payload.z as z FROM "#" WHERE y > 10 and z != 'str'`);
    assert.deepEqual(a.fields, [{ path: ["payload", "x", "y"], as: "y", pos: 8 }, {
      path: ["payload", "z"],
      as: "z",
      pos: 26,
    }]);
    assert.deepEqual(a.from, ["#"]);
    assert.deepEqual(a.where, {
      k: "and",
      a: { k: "cmp", op: ">", a: { k: "ref", path: ["y"], pos: 56 }, b: { k: "lit", v: 10 } },
      b: { k: "cmp", op: "!=", a: { k: "ref", path: ["z"], pos: 67 }, b: { k: "lit", v: "str" } },
    });
    const b = parseRuleSql(`select * from "t/#", "u/+";`);
    assert.deepEqual([b.fields, b.from, b.where], ["*", ["t/#", "u/+"], null]);
  });

  test("precedence: NOT over AND over OR; parentheses; <> is !=; '' inside a string; negative and decimal numbers", () => {
    const w =
      parseRuleSql(`SELECT qos FROM "#" WHERE NOT qos = 0 OR qos <> -1.5 AND (topic = 'it''s')`).where;
    assert.deepEqual(w, {
      k: "or",
      a: {
        k: "not",
        a: { k: "cmp", op: "=", a: { k: "ref", path: ["qos"], pos: 31 }, b: { k: "lit", v: 0 } },
      },
      b: {
        k: "and",
        a: { k: "cmp", op: "!=", a: { k: "ref", path: ["qos"], pos: 42 }, b: { k: "lit", v: -1.5 } },
        b: { k: "cmp", op: "=", a: { k: "ref", path: ["topic"], pos: 59 }, b: { k: "lit", v: "it's" } },
      },
    });
  });

  test("a statement that does not parse or compile is refused with the position of the fault", () => {
    const cases: [string, RegExp][] = [
      [`SELECT payload.x FORM "t"`, /position 18: expected FROM/],
      [`SELECT FROM "t"`, /position 8: expected a field/],
      [`SELECT topic FROM t`, /position 19: expected a topic filter in double quotes/],
      [`SELECT topic FROM "t" WHERE qos = 'a`, /position 35: the string starting here is not closed/],
      [`SELECT topic FROM "t" WHERE qos # 1`, /position 33: unexpected character "#"/],
      [`SELECT topic FROM "t" WHERE (qos = 1`, /position 37: expected "\)"/],
      [`SELECT topic FROM "t" LIMIT 1`, /position 23: expected WHERE or the end/],
      [`SELECT temp FROM "t"`, /position 8: unknown field "temp"/],
      [`SELECT topic.x FROM "t"`, /position 8: topic has no fields/],
      [`SELECT topic FROM "t" WHERE xyz = 1`, /position 29: unknown field "xyz"/],
    ];
    for (const [sql, message] of cases) {
      assert.throws(
        () => compileRule(sql),
        (e: unknown) => e instanceof RuleSqlError && message.test(e.message),
        sql,
      );
    }
  });
});

describe("compiled rules", () => {
  test("the output: aliases, NanoMQ's names, the payload as JSON when it is JSON and as text when not", () => {
    const all = compileRule(`SELECT * FROM "#"`);
    assert.deepEqual(all.select(input('{"a":1}')), {
      qos: 1,
      id: 7,
      topic: "t/1",
      clientid: "dev",
      username: "ann",
      timestamp: 1700000000,
      payload: { a: 1 },
    });
    assert.equal(all.select(input("aaa")).payload, "aaa");
    assert.deepEqual(all.columns.map((c) => c.sqlName), [
      "Qos",
      "Id",
      "Topic",
      "Clientid",
      "Username",
      "Timestamp",
      "Payload",
    ]);
    const some = compileRule(`SELECT payload.x.y, payload.z AS zed, clientid AS cid FROM "#"`);
    assert.deepEqual(some.select(input('{"x":{"y":[1,2]},"z":null}')), { y: [1, 2], zed: null, cid: "dev" });
    assert.deepEqual(some.select(input("not json")), { cid: "dev" }, "missing fields are left out");
  });

  test("WHERE: aliases from SELECT, any field of the message, payload paths; a missing value makes a comparison false", () => {
    const r = compileRule(
      `SELECT payload.x.y AS y FROM "#" WHERE y > 10 AND username = 'ann' AND payload.ok = true`,
    );
    assert.equal(r.test(input('{"x":{"y":11},"ok":true}')), true);
    assert.equal(r.test(input('{"x":{"y":10},"ok":true}')), false);
    assert.equal(r.test(input('{"x":{"y":11},"ok":true}', { username: "bob" })), false);
    assert.equal(r.test(input('{"ok":true}')), false);
    assert.equal(r.test(input("garbage")), false);
    assert.equal(compileRule(`SELECT * FROM "#" WHERE payload = 'hi'`).test(input("hi")), true);
  });

  test("comparison: a number meets a numeric string as a number; other mixes compare as text; null equals only null", () => {
    assert.equal(compareValues("=", 10, "10"), true);
    assert.equal(compareValues(">", "9", 10), false);
    assert.equal(compareValues("<", "abc", "abd"), true);
    assert.equal(compareValues("=", true, "true"), true);
    assert.equal(compareValues("=", null, null), true);
    assert.equal(compareValues("!=", null, 1), true);
    assert.equal(compareValues(">", null, 1), false);
    assert.equal(compareValues("!=", undefined, "str"), false);
    assert.equal(compareValues("=", { a: 1 }, '{"a":1}'), true);
  });
});
