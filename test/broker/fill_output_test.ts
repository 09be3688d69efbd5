import assert from "node:assert/strict";
import { describe, test } from "node:test";
import mqttPacket, { type Packet } from "mqtt-packet";
import { PacketWriter } from "../../src/protocol/packet_writer.ts";
import { TestBroker } from "../helpers/mem_client.ts";

describe("fillOutput()", () => {
  test("the send quota holds QoS 1 deliveries until PUBACKs arrive (Receive Maximum) [MQTT-3.3.4-7]", () => {
    const tb = new TestBroker();
    const sub = tb.client(5);
    sub.connect("s", { properties: { receiveMaximum: 2 } });
    sub.subscribe("rm", 1);
    const pub = tb.client(5);
    pub.connect("p");
    for (let i = 0; i < 5; i++) pub.publish("rm", String(i), 1);
    sub.flush();
    const first = sub.takeAll("publish");
    assert.deepEqual(first.map((p) => String(p.payload)), ["0", "1"]);
    sub.send({ cmd: "puback", messageId: first[0]!.messageId as number });
    assert.deepEqual(sub.payloads(), ["2"]);
  });

  test("a delivery larger than the client's Maximum Packet Size is discarded [MQTT-3.1.2-25]", () => {
    const tb = new TestBroker();
    const sub = tb.client(5);
    sub.connect("s", { properties: { maximumPacketSize: 50 } });
    sub.subscribe("big", 0);
    const pub = tb.client(5);
    pub.connect("p");
    pub.publish("big", "x".repeat(100));
    pub.publish("big", "small");
    assert.deepEqual(sub.payloads(), ["small"]);
    assert.equal(tb.broker.metrics.droppedTooLarge, 1);
  });

  test("the broker assigns topic aliases up to the client's Topic Alias Maximum", () => {
    const tb = new TestBroker();
    const sub = tb.client(5);
    sub.connect("s", { properties: { topicAliasMaximum: 1 } });
    sub.subscribe("ta/#", 0);
    const pub = tb.client(5);
    pub.connect("p");
    pub.publish("ta/1", "a");
    pub.publish("ta/1", "b");
    pub.publish("ta/2", "c");
    const got = sub.takeAll("publish").map((
      p,
    ) => [p.topic, (p.properties as Record<string, number> | undefined)?.topicAlias]);
    assert.deepEqual(got, [["ta/1", 1], ["", 1], ["ta/2", undefined]]);
  });

  test("message expiry counts down while queued and drops expired messages [MQTT-3.3.2-6]", () => {
    const tb = new TestBroker();
    const sub = tb.client(5);
    sub.connect("s", { clean: false, properties: { sessionExpiryInterval: 100 } });
    sub.subscribe("e", 1);
    sub.send({ cmd: "disconnect" });
    const pub = tb.client(5);
    pub.connect("p");
    pub.publish("e", "short", 1, { properties: { messageExpiryInterval: 2 } });
    pub.publish("e", "long", 1, { properties: { messageExpiryInterval: 20 } });
    tb.advance(5_000);
    const back = tb.client(5);
    back.connect("s", { clean: false, properties: { sessionExpiryInterval: 100 } });
    const got = back.takeAll("publish");
    assert.deepEqual(got.map((p) => String(p.payload)), ["long"]);
    assert.equal((got[0]!.properties as Record<string, number>).messageExpiryInterval, 15);
    assert.equal(tb.broker.metrics.droppedExpired, 1);
  });

  test("one call writes at most about `budget` bytes and says more is left; the calls together keep the order", () => {
    const tb = new TestBroker();
    const c = tb.client(4); // a MemClient flushes only when asked: here the test calls fill() itself
    c.connect("reader");
    c.subscribe("b", 0);
    const pub = tb.client(4);
    pub.connect("p");
    for (let i = 0; i < 100; i++) pub.publish("b", String(i).padStart(90, "."));
    const w = new PacketWriter();
    const packets: Packet[] = [];
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on("packet", (p: Packet) => packets.push(p));
    const sizes: number[] = [];
    for (let more = true; more;) {
      more = tb.broker.fill(c.client, w, 1000);
      const out = w.take();
      sizes.push(out?.length ?? 0);
      if (out !== null) parser.parse(Buffer.from(out));
    }
    const each = 2 + 2 + 1 + 90; // fixed header, topic length, "b", payload
    assert.ok(sizes.slice(0, -1).every((n) => n >= 1000 && n < 1000 + each), `sizes ${sizes.join(",")}`);
    assert.ok(sizes.length >= 10);
    const got = packets.map((p) =>
      Number(String((p as mqttPacket.IPublishPacket).payload).replace(/^\.+/, ""))
    );
    assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i));
  });

  test("a QoS 0 delivery behind a QoS 1 one that waits for the send window waits too: the order is kept", () => {
    const tb = new TestBroker();
    const sub = tb.client(5);
    sub.connect("s", { properties: { receiveMaximum: 1 } });
    sub.subscribe("o", 1);
    const pub = tb.client(5);
    pub.connect("p");
    pub.publish("o", "a", 1);
    pub.publish("o", "b", 1);
    pub.publish("o", "c", 0);
    const first = sub.takeAll("publish");
    assert.deepEqual(first.map((p) => String(p.payload)), ["a"]);
    sub.send({ cmd: "puback", messageId: first[0]!.messageId as number });
    assert.deepEqual(sub.payloads(), ["b", "c"]);
  });

  test("after a resume: control packets first, then the unacknowledged deliveries with DUP, then the queue [MQTT-4.4.0-1]", () => {
    const tb = new TestBroker();
    const s1 = tb.client(4);
    s1.connect("r", { clean: false });
    s1.subscribe("r", 1);
    const pub = tb.client(4);
    pub.connect("p");
    pub.publish("r", "sent", 1);
    assert.equal(s1.take("publish").dup, false);
    tb.broker.detach(s1.client); // gone without acknowledging
    pub.publish("r", "queued", 1);
    const s2 = tb.client(4);
    s2.connect("r", { clean: false }); // takes the CONNACK
    s2.flush();
    const order = s2.received.map((p) =>
      `${p.cmd}:${String((p as mqttPacket.IPublishPacket).payload ?? "")}:${
        p.cmd === "publish" && (p as mqttPacket.IPublishPacket).dup
      }`
    );
    assert.deepEqual(order, ["publish:sent:true", "publish:queued:false"]);
  });
});
