import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createMessage } from "../../src/broker/message.ts";
import { allocPacketId, createSession } from "../../src/broker/session.ts";

describe("packet identifiers", () => {
  test("skip identifiers still in flight and wrap from 65535 to 1, never 0 [MQTT-2.2.1-3]", () => {
    const s = createSession("c", 10);
    const m = createMessage("t", Buffer.from("x"));
    s.inflight.set(2, { msg: m, qos: 1, retain: false, subIds: null, state: 1 });
    assert.equal(allocPacketId(s), 1);
    assert.equal(allocPacketId(s), 3);
    s.nextPid = 65535;
    assert.equal(allocPacketId(s), 65535);
    assert.equal(allocPacketId(s), 1);
  });
});
