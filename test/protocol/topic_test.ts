import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  isValidTopicFilter,
  isValidTopicName,
  parseSharedFilter,
  topicMatches,
} from "../../src/protocol/topic.ts";

describe("topic rules", () => {
  test("topic names have no wildcards and are not empty [MQTT-4.7.3-1]", () => {
    assert.equal(isValidTopicName("a/b"), true);
    assert.equal(isValidTopicName("a/+"), false);
    assert.equal(isValidTopicName("#"), false);
    assert.equal(isValidTopicName(""), false);
    assert.equal(isValidTopicName("a\u0000b"), false);
  });

  test("# only as the last whole level, + only as a whole level [MQTT-4.7.1-2] [MQTT-4.7.1-3]", () => {
    for (const ok of ["#", "a/#", "+", "+/+", "a/+/b", "/", "a//b", "+/#"]) {
      assert.equal(isValidTopicFilter(ok), true, ok);
    }
    for (const bad of ["a#", "a/#/b", "a+", "+a", "a/b+", "", "#/a"]) {
      assert.equal(isValidTopicFilter(bad), false, bad);
    }
  });

  test("$share/{group}/{filter} is parsed; a malformed one is null [MQTT-4.8.2-1]", () => {
    assert.deepEqual(parseSharedFilter("$share/g/a/#"), { group: "g", filter: "a/#" });
    assert.equal(parseSharedFilter("a/b"), undefined);
    assert.equal(parseSharedFilter("$share/g"), null);
    assert.equal(parseSharedFilter("$share//a"), null);
    assert.equal(parseSharedFilter("$share/g+/a"), null);
  });
});

describe("topicMatches", () => {
  test("the spec's examples [MQTT-4.7.1]", () => {
    const yes: [string, string][] = [
      ["sport/tennis/player1/#", "sport/tennis/player1"],
      ["sport/tennis/player1/#", "sport/tennis/player1/ranking"],
      ["sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"],
      ["sport/#", "sport"],
      ["sport/tennis/+", "sport/tennis/player1"],
      ["+/+", "/finance"],
      ["/+", "/finance"],
      ["+", ""],
      ["a/+", "a/"],
      ["#", "a/b/c"],
      ["$SYS/#", "$SYS/broker"],
      ["$SYS/+", "$SYS/x"],
    ];
    const no: [string, string][] = [
      ["sport/tennis/+", "sport/tennis/player1/ranking"],
      ["sport/+", "sport"],
      ["+", "/finance"],
      ["a/b", "a/bc"],
      ["a/bc", "a/b"],
      ["a/", "a"],
      ["#", "$SYS/broker"],
      ["+/broker", "$SYS/broker"],
    ];
    for (const [f, t] of yes) assert.equal(topicMatches(f, t), true, `${f} should match ${t}`);
    for (const [f, t] of no) assert.equal(topicMatches(f, t), false, `${f} should not match ${t}`);
  });

  test("agrees with a level-by-level comparison on every short filter and topic", () => {
    const byLevels = (filter: string, topic: string): boolean => {
      const f = filter.split("/");
      const t = topic.split("/");
      if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
      for (let i = 0; i < f.length; i++) {
        if (f[i] === "#") return true;
        if (i >= t.length || (f[i] !== "+" && f[i] !== t[i])) return false;
      }
      return f.length === t.length;
    };
    // every string of up to 4 characters over these, as topics and (when valid) as filters
    const chars = ["a", "b", "/", "+", "#", "$"];
    let all = [""];
    for (let n = 0, layer = [""]; n < 4; n++) {
      layer = layer.flatMap((s) => chars.map((c) => s + c));
      all = all.concat(layer);
    }
    const topics = all.filter((t) => !t.includes("+") && !t.includes("#"));
    const filters = all.filter(isValidTopicFilter);
    let checked = 0;
    for (const f of filters) {
      for (const t of topics) {
        assert.equal(topicMatches(f, t), byLevels(f, t), `filter "${f}", topic "${t}"`);
        checked++;
      }
    }
    assert.ok(checked > 10_000);
  });
});
