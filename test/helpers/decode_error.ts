/** The MqttError a decoder throws, for tests of what a malformed packet is refused with. */
import assert from "node:assert/strict";
import { Decoder } from "../../src/protocol/codec.ts";
import { MqttError } from "../../src/protocol/reason_code.ts";

/** The MqttError `f` throws; fails the test when it throws nothing or something else. */
export function mqttErrorOf(f: () => unknown): MqttError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof MqttError, `expected an MqttError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected an MqttError, nothing was thrown");
}

/** What a Decoder at protocol `version` throws on `bytes`. */
export function decodeError(bytes: Buffer, version = 4, maxPacketSize?: number): MqttError {
  const d = maxPacketSize === undefined ? new Decoder() : new Decoder({ maxPacketSize });
  d.version = version;
  d.push(bytes);
  return mqttErrorOf(() => {
    while (d.next() !== null);
  });
}
