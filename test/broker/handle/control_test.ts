import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RC } from "../../../src/protocol/reason_code.ts";
import { TestBroker } from "../../helpers/mem_client.ts";

describe("PINGREQ, DISCONNECT and AUTH", () => {
  test("AUTH without an agreed method is a protocol error [MQTT-4.12.0-6]", () => {
    const c = new TestBroker().client(5);
    c.connect("a");
    c.send({ cmd: "auth", reasonCode: 0x18, properties: { authenticationMethod: "x" } });
    assert.equal(c.take("disconnect").reasonCode, RC.PROTOCOL_ERROR);
    assert.equal(c.closed, true);
  });

  test("DISCONNECT may not raise a Session Expiry Interval of 0 [MQTT-3.14.2-2]", () => {
    const tb = new TestBroker();
    const s = tb.client(5);
    s.connect("z");
    s.send({ cmd: "disconnect", properties: { sessionExpiryInterval: 60 } });
    assert.equal(s.take("disconnect").reasonCode, 0x82);
  });

  test("PINGREQ is answered with PINGRESP, and nothing else [MQTT-3.12.4-1]", () => {
    const c = new TestBroker().client(4);
    c.connect("p");
    c.send({ cmd: "pingreq" });
    assert.deepEqual(c.received.map((p) => p.cmd), ["pingresp"]);
    assert.equal(c.closed, false);
  });

  test("DISCONNECT may change a non-zero Session Expiry Interval: the session lives that long", () => {
    const tb = new TestBroker();
    const s = tb.client(5);
    s.connect("e", { clean: true, properties: { sessionExpiryInterval: 10 } });
    s.send({ cmd: "disconnect", properties: { sessionExpiryInterval: 100 } });
    assert.equal(s.closed, true);
    tb.advance(50_000);
    assert.equal(tb.broker.session("e") !== undefined, true, "kept past the 10 s of CONNECT");
    tb.advance(51_000);
    assert.equal(tb.broker.session("e"), undefined);
  });
});
