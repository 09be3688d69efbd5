import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RC } from "../../../src/protocol/reason_code.ts";
import { TestBroker } from "../../helpers/mem_client.ts";

describe("acknowledgements from a subscriber", () => {
  test("QoS 2 outbound: PUBREC from the subscriber gets PUBREL, PUBCOMP completes", () => {
    const { sub, pub } = new TestBroker().pair(4, "q2", 2);
    pub.publish("q2", "x", 2);
    const p = sub.take("publish");
    sub.send({ cmd: "pubrec", messageId: p.messageId as number });
    assert.equal(sub.take("pubrel").messageId, p.messageId);
    sub.send({ cmd: "pubcomp", messageId: p.messageId as number });
    assert.equal(sub.client.session!.inflight.size, 0);
  });

  test("a PUBACK for an identifier not in flight changes nothing; the real one completes the delivery", () => {
    const { sub, pub } = new TestBroker().pair(4, "q1", 1);
    pub.publish("q1", "x", 1);
    const id = sub.take("publish").messageId as number;
    sub.send({ cmd: "puback", messageId: id + 1 });
    assert.equal(sub.client.session!.inflight.size, 1);
    sub.send({ cmd: "pubcomp", messageId: id }); // the wrong flow for a QoS 1 delivery
    assert.equal(sub.client.session!.inflight.size, 1);
    sub.send({ cmd: "puback", messageId: id });
    assert.equal(sub.client.session!.inflight.size, 0);
  });

  test("PUBREC for an unknown identifier gets PUBREL 0x92 (MQTT 5) and 0 (MQTT 3.1.1)", () => {
    const tb = new TestBroker();
    for (const [version, code] of [[5, RC.PACKET_IDENTIFIER_NOT_FOUND], [4, undefined]] as const) {
      const c = tb.client(version);
      c.connect(`u${version}`);
      c.send({ cmd: "pubrec", messageId: 9 });
      const rel = c.take("pubrel");
      assert.equal(rel.messageId, 9);
      assert.equal(rel.reasonCode, code);
    }
  });

  test("PUBREC with a failure code ends the QoS 2 flow without PUBREL [MQTT-4.3.3-4]", () => {
    const { sub, pub } = new TestBroker().pair(5, "q2", 2);
    pub.publish("q2", "x", 2);
    const id = sub.take("publish").messageId as number;
    sub.send({ cmd: "pubrec", messageId: id, reasonCode: 0x80 });
    assert.deepEqual(sub.takeAll("pubrel"), []);
    assert.equal(sub.client.session!.inflight.size, 0);
  });

  test("PUBREL of a received QoS 2 message gets PUBCOMP; of an unknown one, PUBCOMP 0x92 (MQTT 5)", () => {
    const { pub } = new TestBroker().pair(5, "t", 2);
    pub.publish("t", "x", 2, { messageId: 3 });
    assert.equal(pub.take("pubrec").messageId, 3);
    pub.send({ cmd: "pubrel", messageId: 3 });
    assert.equal(pub.take("pubcomp").reasonCode, 0);
    pub.send({ cmd: "pubrel", messageId: 3 });
    assert.equal(pub.take("pubcomp").reasonCode, RC.PACKET_IDENTIFIER_NOT_FOUND);
  });
});
