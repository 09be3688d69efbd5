import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isValidTopicFilter, isValidTopicName, parseSharedFilter } from "../../src/protocol/topic.ts";

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
