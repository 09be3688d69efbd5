import assert from "node:assert/strict";
import { describe, test } from "node:test";
import mqttPacket from "mqtt-packet";
import { decodeError } from "../helpers/decode_error.ts";
import { Decoder } from "../../src/protocol/codec.ts";
import { PacketWriter } from "../../src/protocol/packet_writer.ts";
import {
  emptyPublishOut,
  type PublishOut,
  type PublishPacket,
  writePublish,
} from "../../src/protocol/publish_codec.ts";
import { MqttError, RC } from "../../src/protocol/reason_code.ts";
import { PACKETS } from "../fixtures/packets.ts";

function decodeAll(bytes: Buffer[], version = 4): unknown[] {
  const d = new Decoder();
  d.version = version;
  const out: unknown[] = [];
  for (const b of bytes) {
    d.push(b);
    for (let p = d.next(); p !== null; p = d.next()) out.push(p);
  }
  return out;
}

function out(p: Partial<PublishOut>): PublishOut {
  return { ...emptyPublishOut(), topic: "t", payload: Buffer.from("x"), ...p };
}

describe("Decoder", () => {
  test("gathers a large PUBLISH sent in small pieces, and the packets around it, byte for byte", () => {
    const payload = Buffer.alloc(300_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    const pub = (id: number, p: Buffer) =>
      mqttPacket.generate({
        cmd: "publish",
        topic: "big",
        payload: p,
        qos: 1,
        messageId: id,
        retain: false,
        dup: false,
      });
    const stream = Buffer.concat([
      pub(1, Buffer.from("a")),
      pub(2, payload),
      pub(3, Buffer.from("b")),
      PACKETS.pingreq,
    ]);
    const pieces: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 97) pieces.push(Buffer.from(stream.subarray(i, i + 97)));
    const got = decodeAll(pieces) as PublishPacket[];
    assert.deepEqual(got.map((p) => p.cmd), ["publish", "publish", "publish", "pingreq"]);
    assert.deepEqual([got[0]!.payload, got[2]!.payload].map(String), ["a", "b"]);
    assert.equal(Buffer.compare(got[1]!.payload, payload), 0);
  });

  test("decodes a PUBLISH as mqtt-packet encodes it, split across chunks", () => {
    const raw = mqttPacket.generate({
      cmd: "publish",
      topic: "a/b",
      payload: Buffer.from("hello"),
      qos: 1,
      messageId: 42,
      retain: true,
      dup: false,
    });
    const [p] = decodeAll([raw.subarray(0, 3), raw.subarray(3)]) as PublishPacket[];
    assert.equal(p!.topic, "a/b");
    assert.equal(p!.payload.toString(), "hello");
    assert.equal(p!.qos, 1);
    assert.equal(p!.messageId, 42);
    assert.equal(p!.retain, true);
  });

  test("decodes several packets from one chunk", () => {
    const a = mqttPacket.generate({
      cmd: "publish",
      topic: "x",
      payload: Buffer.from("1"),
      qos: 0,
      retain: false,
      dup: false,
    });
    const got = decodeAll([Buffer.concat([a, PACKETS.pingreq, a])]);
    assert.deepEqual(got.map((p) => (p as { cmd: string }).cmd), ["publish", "pingreq", "publish"]);
  });

  test("keeps MQTT 5 user properties in order and strips alias and expiry [MQTT-3.3.2-18]", () => {
    const w = new PacketWriter();
    // user a=1, alias 3, user b=2, expiry 30, user a=3: the order a,b,a must survive
    const props = Buffer.from([
      0x26,
      0,
      1,
      0x61,
      0,
      1,
      0x31,
      0x23,
      0,
      3,
      0x26,
      0,
      1,
      0x62,
      0,
      1,
      0x32,
      0x02,
      0,
      0,
      0,
      30,
      0x26,
      0,
      1,
      0x61,
      0,
      1,
      0x33,
    ]);
    const body = Buffer.concat([
      Buffer.from([0, 1, 0x74]),
      Buffer.from([props.length]),
      props,
      Buffer.from("pl"),
    ]);
    const raw = Buffer.concat([Buffer.from([0x30, body.length]), body]);
    const [p] = decodeAll([raw], 5) as PublishPacket[];
    assert.equal(p!.topicAlias, 3);
    assert.equal(p!.expiry, 30);
    writePublish(w, out({ v5: true, props: p!.props, payload: p!.payload }), 1);
    const back = mqttPacket.parser({ protocolVersion: 5 });
    let parsed: Record<string, unknown> | undefined;
    back.on("packet", (x) => (parsed = x as unknown as Record<string, unknown>));
    back.parse(Buffer.from(w.take()!));
    assert.deepEqual({ ...((parsed!.properties as Record<string, object>).userProperties) }, {
      a: ["1", "3"],
      b: "2",
    });
    // the forwarded bytes are exactly a=1, b=2, a=3 in that order
    const user = (k: string, v: string) => [0x26, 0, 1, k.charCodeAt(0), 0, 1, v.charCodeAt(0)];
    assert.deepEqual([...p!.props!], [...user("a", "1"), ...user("b", "2"), ...user("a", "3")]);
  });

  test("rejects PUBLISH with QoS 3 as malformed [MQTT-3.3.1-4]", () => {
    assert.equal(decodeError(PACKETS.publishQos3).code, RC.MALFORMED_PACKET);
  });

  test("rejects wildcards in a PUBLISH topic [MQTT-3.3.2-2]", () => {
    assert.equal(decodeError(PACKETS.publishWildcard).code, RC.TOPIC_NAME_INVALID);
  });

  test("rejects a wildcard that follows a non-ASCII character [MQTT-3.3.2-2]", () => {
    assert.equal(decodeError(PACKETS.publishWildcardAfterUtf8).code, RC.TOPIC_NAME_INVALID);
  });

  test("decodes a UTF-8 topic and reports its length in bytes", () => {
    const raw = mqttPacket.generate({
      cmd: "publish",
      topic: "température/é",
      payload: Buffer.from("x"),
      qos: 0,
      retain: false,
      dup: false,
    });
    const [p] = decodeAll([raw]) as PublishPacket[];
    assert.equal(p!.topic, "température/é");
    assert.equal(p!.topicBytes, Buffer.byteLength("température/é"));
  });

  test("rejects a topic that is not valid UTF-8 [MQTT-1.5.4-1]", () => {
    assert.equal(decodeError(PACKETS.publishBadUtf8).code, RC.MALFORMED_PACKET);
  });

  test("rejects a remaining length longer than four bytes [MQTT-1.5.5-1]", () => {
    assert.equal(decodeError(PACKETS.fiveByteLength).code, RC.MALFORMED_PACKET);
  });

  test("rejects a packet over the maximum packet size with 0x95", () => {
    const big = mqttPacket.generate({
      cmd: "publish",
      topic: "t",
      payload: Buffer.alloc(2000),
      qos: 0,
      retain: false,
      dup: false,
    });
    assert.equal(decodeError(big, 4, 1000).code, RC.PACKET_TOO_LARGE);
  });

  test("rejects PUBREL with wrong reserved flags [MQTT-2.2.2-2]", () => {
    assert.equal(decodeError(PACKETS.pubrelBadFlags).code, RC.MALFORMED_PACKET);
  });

  test("reports protocol level 6 as unsupported [MQTT-3.1.2-2]", () => {
    assert.equal(decodeError(PACKETS.connectLevel6, 0).code, RC.UNSUPPORTED_PROTOCOL_VERSION);
  });

  test("rejects the reserved CONNECT flag [MQTT-3.1.2-3]", () => {
    assert.equal(decodeError(PACKETS.connectReservedFlag, 0).code, RC.MALFORMED_PACKET);
  });

  test("rejects a second CONNECT [MQTT-3.1.0-2]", () => {
    assert.equal(
      decodeError(Buffer.concat([PACKETS.connectV4, PACKETS.connectV4]), 0).code,
      RC.PROTOCOL_ERROR,
    );
  });

  test("rejects a packet type only servers send", () => {
    assert.equal(decodeError(PACKETS.connack).code, RC.MALFORMED_PACKET);
  });

  test("decoders of different protocol levels read SUBSCRIBE by their own level", () => {
    const sub = (v: number) =>
      mqttPacket.generate({
        cmd: "subscribe",
        messageId: 7,
        subscriptions: [{ topic: "a/+", qos: 1, nl: true }],
        ...(v === 5 ? { properties: { subscriptionIdentifier: 9 } } : {}),
      }, { protocolVersion: v });
    const v5 = new Decoder();
    const v4 = new Decoder();
    v5.push(PACKETS.connectV5);
    v4.push(PACKETS.connectV4);
    v5.next();
    v4.next();
    // a malformed packet on another connection in between changes nothing for these two
    assert.throws(() => decodeAll([Buffer.from([0x82, 0x04, 0x00, 0x01, 0x00, 0x05])], 4), MqttError);
    v4.push(sub(4));
    v5.push(sub(5));
    const p4 = v4.next() as { subscriptions: unknown[]; properties?: unknown };
    const p5 = v5.next() as {
      subscriptions: { nl?: boolean }[];
      properties?: { subscriptionIdentifier?: number };
    };
    assert.equal(p4.subscriptions.length, 1);
    assert.equal(p4.properties, undefined);
    assert.equal(p5.properties?.subscriptionIdentifier, 9);
    assert.equal(p5.subscriptions[0]?.nl, true);
  });

  test("learns the protocol level from CONNECT", () => {
    const d = new Decoder();
    d.push(PACKETS.connectV5);
    d.next();
    assert.equal(d.version, 5);
  });
});

describe("PacketWriter", () => {
  test("reuse() gives back the region take() just handed out, and nothing else", () => {
    const w = new PacketWriter();
    w.bytes(Buffer.from("first"));
    const a = w.take()!;
    w.reuse(a);
    w.bytes(Buffer.from("again"));
    const b = w.take()!;
    assert.equal(b.byteOffset, a.byteOffset, "the same bytes are written over");
    assert.equal(b.toString(), "again");
    w.bytes(Buffer.from("third"));
    w.reuse(b); // bytes were written after b: b stays where it is
    assert.equal(b.toString(), "again");
    assert.equal(w.take()!.toString(), "third");
  });
});
