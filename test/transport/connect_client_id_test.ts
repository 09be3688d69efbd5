import assert from "node:assert/strict";
import { describe, test } from "node:test";
import mqttPacket from "mqtt-packet";
import { connectClientId } from "../../src/transport/connect_client_id.ts";

function connect(version: 3 | 4 | 5, clientId: string, extra: Record<string, unknown> = {}): Buffer {
  return mqttPacket.generate(
    {
      cmd: "connect",
      protocolId: version === 3 ? "MQIsdp" : "MQTT",
      protocolVersion: version,
      clientId,
      clean: true,
      keepalive: 30,
      ...extra,
    } as mqttPacket.IConnectPacket,
    { protocolVersion: version },
  );
}

describe("connectClientId (which worker a connection goes to)", () => {
  test("reads the client identifier of MQTT 3.1, 3.1.1 and 5 (past its properties), and of a CONNECT with a will", () => {
    assert.equal(connectClientId(connect(3, "old")), "old");
    assert.equal(connectClientId(connect(4, "dévice-1")), "dévice-1");
    const props = { sessionExpiryInterval: 60, userProperties: { a: "x".repeat(300) }, receiveMaximum: 10 };
    assert.equal(connectClientId(connect(5, "five", { properties: props })), "five");
    const will = { topic: "w", payload: Buffer.from("bye"), qos: 1, retain: false };
    assert.equal(connectClientId(connect(4, "with-will", { will })), "with-will");
    assert.equal(connectClientId(connect(4, "")), "");
  });

  test("waits for the rest of a CONNECT that arrives in pieces", () => {
    const whole = connect(5, "split", { properties: { userProperties: { k: "v".repeat(200) } } });
    for (const cut of [1, 2, 5, 20, whole.length - 1]) {
      assert.equal(connectClientId(whole.subarray(0, cut)), undefined);
    }
    assert.equal(connectClientId(Buffer.concat([whole, Buffer.from([0xc0, 0])])), "split");
  });

  test("anything else is left to the broker to refuse where it arrived", () => {
    assert.equal(connectClientId(Buffer.from([0x30, 2, 0, 0])), null, "PUBLISH first");
    assert.equal(connectClientId(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 1])), null, "bad length");
    assert.equal(connectClientId(Buffer.from([0x10, 3, 0, 4, 0x4d])), null, "truncated inside");
  });
});
