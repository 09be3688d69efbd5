/**
 * The hand-written PUBLISH codec on its own: decodePublish() on the exact bytes mqtt-packet (a
 * client) produces, and the encoders against a direct encoding and mqtt-packet's parser.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import mqttPacket from "mqtt-packet";
import { mqttErrorOf } from "../helpers/decode_error.ts";
import { PacketWriter } from "../../src/protocol/packet_writer.ts";
import {
  decodePublish,
  emptyPublishOut,
  encodePublishTemplate,
  type LastTopic,
  newLastTopic,
  type PublishOut,
  writeFromTemplate,
  writePublish,
} from "../../src/protocol/publish_codec.ts";
import { RC } from "../../src/protocol/reason_code.ts";

function out(p: Partial<PublishOut>): PublishOut {
  return { ...emptyPublishOut(), topic: "t", payload: Buffer.from("x"), ...p };
}

/** Decodes what mqtt-packet encodes for `p`, with the fixed header taken off as the Decoder does. */
function decode(p: Partial<mqttPacket.IPublishPacket>, version: 4 | 5 = 5, fromServer = false) {
  const bytes = mqttPacket.generate(
    { cmd: "publish", topic: "a/b", payload: Buffer.from("hi"), qos: 0, dup: false, retain: false, ...p },
    { protocolVersion: version },
  );
  let start = 1;
  while (bytes[start]! & 0x80) start++;
  return decodePublish(bytes, start + 1, bytes.length, bytes[0]! & 0x0f, version === 5, fromServer);
}

describe("PUBLISH decoding", () => {
  test("MQTT 3.1.1: topic, its length in bytes, flags, packet identifier and payload", () => {
    const p = decode({ topic: "ä/b", qos: 1, messageId: 513, retain: true, dup: true }, 4);
    assert.deepEqual(
      [p.topic, p.topicBytes, p.qos, p.retain, p.dup, p.messageId, String(p.payload), p.props],
      ["ä/b", 4, 1, true, true, 513, "hi", null],
    );
  });

  test("MQTT 5: user properties and the rest stay raw bytes in order; alias and expiry are taken out [MQTT-3.3.2-18]", () => {
    const userProperties = { z: "1", a: ["2", "3"] };
    const p = decode({
      qos: 2,
      messageId: 1,
      properties: { topicAlias: 3, messageExpiryInterval: 60, contentType: "text/plain", userProperties },
    });
    assert.equal(p.topicAlias, 3);
    assert.equal(p.expiry, 60);
    // the kept bytes are what a subscriber gets: encode them back and let mqtt-packet read them
    const w = new PacketWriter();
    writePublish(w, out({ topic: "a/b", v5: true, props: p.props }), 3);
    let got: mqttPacket.IPublishPacket | undefined;
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    parser.on("packet", (x) => (got = x as mqttPacket.IPublishPacket));
    parser.parse(Buffer.from(w.take()!));
    assert.equal(got!.properties?.contentType, "text/plain");
    assert.equal(JSON.stringify(got!.properties?.userProperties), JSON.stringify(userProperties), "in order");
    assert.equal(got!.properties?.topicAlias, undefined);
  });

  test("the payload format indicator is read, and a value above 1 is a protocol error", () => {
    assert.equal(decode({ properties: { payloadFormatIndicator: true } }).payloadFormat, 1);
    const bad = Buffer.from([0x00, 0x01, 0x74, 0x02, 0x01, 0x02]); // topic "t", properties: format = 2
    assert.equal(mqttErrorOf(() => decodePublish(bad, 0, bad.length, 0, true)).code, RC.PROTOCOL_ERROR);
  });

  test("Subscription Identifiers are refused from a client [MQTT-3.3.4-6] and read from a server", () => {
    const p = { properties: { subscriptionIdentifier: 7 } };
    assert.equal(mqttErrorOf(() => decode(p)).code, RC.PROTOCOL_ERROR);
    const fromServer = decode(p, 5, true);
    assert.equal(fromServer.subId, 7);
    assert.equal(fromServer.props, null, "not forwarded");
  });

  test("malformed PUBLISH packets are refused with the reason code the spec gives", () => {
    const t = (bytes: number[], flags = 0, v5 = false) => {
      const b = Buffer.from(bytes);
      return mqttErrorOf(() => decodePublish(b, 0, b.length, flags, v5)).code;
    };
    assert.equal(t([0, 1, 0x74], 6), RC.MALFORMED_PACKET, "QoS 3 [MQTT-3.3.1-4]");
    assert.equal(t([0, 9, 0x74]), RC.MALFORMED_PACKET, "topic longer than the packet");
    assert.equal(t([0, 1, 0x74, 0, 0], 2), RC.MALFORMED_PACKET, "packet identifier 0 [MQTT-2.2.1-3]");
    assert.equal(t([0, 1, 0x23]), RC.TOPIC_NAME_INVALID, "wildcard [MQTT-3.3.2-2]");
    assert.equal(t([0, 0]), RC.TOPIC_NAME_INVALID, "empty topic without an alias (MQTT 3.1.1)");
    assert.equal(t([0, 1, 0x74, 9, 0x01], 0, true), RC.MALFORMED_PACKET, "properties longer than the packet");
    assert.equal(
      t([0, 1, 0x74, 3, 0x23, 0, 0], 0, true),
      RC.TOPIC_ALIAS_INVALID,
      "Topic Alias 0 [MQTT-3.3.2-8]",
    );
    assert.equal(
      t([0, 1, 0x74, 4, 0x01, 0, 0x01, 1], 0, true),
      RC.PROTOCOL_ERROR,
      "a property twice [MQTT-2.2.2-2]",
    );
  });
});

describe("PUBLISH encoding", () => {
  test("a template patched with flags and packet id equals a direct encoding", () => {
    for (const v5 of [false, true]) {
      const scratch = new PacketWriter();
      const base = out({
        topic: "a/b",
        payload: Buffer.from("payload"),
        qos: 1,
        v5,
        props: v5 ? Buffer.from([0x03, 0, 1, 0x78]) : null,
      });
      const t = encodePublishTemplate(base, 3, scratch);
      const a = new PacketWriter();
      writeFromTemplate(a, t, 8 | (2 << 1) | 1, 0x1234);
      const b = new PacketWriter();
      writePublish(b, { ...base, qos: 2, dup: true, retain: true, messageId: 0x1234 }, 3);
      assert.deepEqual(a.take(), b.take());
    }
  });

  test("mqtt-packet parses what writePublish produces, with subscription ids and alias", () => {
    const w = new PacketWriter();
    writePublish(
      w,
      out({ topic: "x/y", qos: 2, messageId: 9, v5: true, alias: 4, subIds: [1, 300], expiry: 12 }),
      3,
    );
    const parser = mqttPacket.parser({ protocolVersion: 5 });
    let got: Record<string, unknown> | undefined;
    parser.on("packet", (p) => (got = p as unknown as Record<string, unknown>));
    parser.parse(Buffer.from(w.take()!));
    assert.equal(got!.topic, "x/y");
    assert.deepEqual(got!.properties, {
      topicAlias: 4,
      subscriptionIdentifier: [1, 300],
      messageExpiryInterval: 12,
    });
  });
});

describe("decodePublish with the connection's last topic", () => {
  const wire = (topic: string) => {
    const b = mqttPacket.generate(
      { cmd: "publish", topic, payload: Buffer.from("p"), qos: 0, dup: false, retain: false },
      { protocolVersion: 4 },
    );
    let start = 1;
    while ((b[start++]! & 0x80) !== 0);
    return {
      b,
      go: (last: LastTopic) => decodePublish(b, start, b.length, b[0]! & 0x0f, false, false, last),
    };
  };

  test("bytes equal to the kept topic give the kept string without decoding them again", () => {
    const last = newLastTopic();
    wire("dev/1/temp").go(last);
    assert.equal(last.topic, "dev/1/temp");
    // a sentinel in place of the kept string: only the cache can return it
    last.topic = "from-the-cache";
    assert.equal(wire("dev/1/temp").go(last).topic, "from-the-cache");
  });

  test("another topic replaces the kept one, and the kept bytes are a copy of the read buffer", () => {
    const last = newLastTopic();
    const first = wire("dev/1/temp");
    first.go(last);
    // the read buffer is reused for other bytes: were the kept topic a view of it, these bytes
    // would now match it and decode as "dev/1/temp"
    first.b.fill(0x7a, 4, 14);
    assert.equal(wire("zzzzzzzzzz").go(last).topic, "zzzzzzzzzz");
    assert.equal(wire("dev/2/temp").go(last).topic, "dev/2/temp");
    assert.equal(last.topic, "dev/2/temp");
  });

  test("a topic longer than 256 bytes is decoded every time and not kept", () => {
    const last = newLastTopic();
    const long = "t/" + "x".repeat(300);
    assert.equal(wire(long).go(last).topic, long);
    assert.equal(last.len, -1);
    assert.equal(wire(long).go(last).topic, long);
  });

  test("bytes that differ from the kept topic are checked again: a wildcard or bad UTF-8 is refused", () => {
    const last = newLastTopic();
    wire("a/b").go(last);
    assert.equal(mqttErrorOf(() => wire("a/#").go(last)).code, RC.TOPIC_NAME_INVALID);
    const bad = wire("a/x");
    bad.b[6] = 0xff; // the last topic byte: not UTF-8
    assert.equal(mqttErrorOf(() => bad.go(last)).code, RC.MALFORMED_PACKET);
    assert.equal(wire("a/b").go(last).topic, "a/b");
  });
});
