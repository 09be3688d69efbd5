/**
 * The control packet codec against mqtt-packet (MQTT.js's codec, which we did not write): every
 * packet type and protocol level encoded by one and decoded by the other, both ways, and the
 * malformed packets each refused with the reason code the spec gives.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import mqttPacket from "mqtt-packet";
import { decodeError } from "../helpers/decode_error.ts";
import { Decoder, ServerDecoder, writePacket } from "../../src/protocol/codec.ts";
import type { MqttPacket } from "../../src/protocol/packets.ts";
import { PacketWriter } from "../../src/protocol/packet_writer.ts";
import { RC } from "../../src/protocol/reason_code.ts";

type Level = 3 | 4 | 5;
const userProperties = { a: "1", b: ["2", "3"] };

/** What a client sends, by protocol level (CONNECT first: it sets the decoder's level). */
function clientPackets(v: Level): Record<string, unknown>[] {
  const v5 = v === 5;
  const props = <T>(p: T) => (v5 ? { properties: p } : {});
  return [
    {
      cmd: "connect",
      protocolId: v === 3 ? "MQIsdp" : "MQTT",
      protocolVersion: v,
      clean: false,
      keepalive: 30,
      clientId: "dev-ä1",
      username: "joy",
      password: Buffer.from([0, 1, 255]),
      will: {
        topic: "w/t",
        payload: Buffer.from("bye"),
        qos: 2,
        retain: true,
        ...props({
          willDelayInterval: 5,
          contentType: "text/plain",
          correlationData: Buffer.from("c"),
          userProperties,
        }),
      },
      ...props({
        sessionExpiryInterval: 3600,
        receiveMaximum: 10,
        maximumPacketSize: 1000,
        topicAliasMaximum: 4,
        requestResponseInformation: true,
        requestProblemInformation: false,
        userProperties,
      }),
    },
    {
      cmd: "subscribe",
      messageId: 7,
      subscriptions: v5
        ? [{ topic: "a/+", qos: 1, nl: true, rap: false, rh: 2 }, {
          topic: "#",
          qos: 0,
          nl: false,
          rap: true,
          rh: 0,
        }]
        : [{ topic: "a/+", qos: 1 }, { topic: "#", qos: 2 }],
      ...props({ subscriptionIdentifier: 300, userProperties }),
    },
    { cmd: "unsubscribe", messageId: 8, unsubscriptions: ["a/+", "#"], ...props({ userProperties }) },
    { cmd: "pingreq" },
    v5
      ? { cmd: "disconnect", reasonCode: 4, properties: { sessionExpiryInterval: 0, reasonString: "x" } }
      : { cmd: "disconnect" },
  ];
}

/** What a server sends, by protocol level. */
function serverPackets(v: Level): Record<string, unknown>[] {
  const v5 = v === 5;
  return [
    v5
      ? {
        cmd: "connack",
        sessionPresent: true,
        reasonCode: 0,
        properties: {
          maximumQoS: 1,
          retainAvailable: false,
          assignedClientIdentifier: "auto-1",
          serverKeepAlive: 20,
          wildcardSubscriptionAvailable: true,
          sharedSubscriptionAvailable: false,
          subscriptionIdentifiersAvailable: true,
          reasonString: "ok",
          userProperties,
        },
      }
      : { cmd: "connack", sessionPresent: false, returnCode: 5 },
    {
      cmd: "suback",
      messageId: 7,
      granted: v5 ? [1, 0x87] : [1, 0x80],
      ...(v5 ? { properties: { userProperties } } : {}),
    },
    v5
      ? { cmd: "unsuback", messageId: 8, granted: [0, 0x11], properties: { reasonString: "r" } }
      : { cmd: "unsuback", messageId: 8, granted: [] },
    { cmd: "pingresp" },
    ...(v5
      ? [{
        cmd: "auth",
        reasonCode: 0x18,
        properties: { authenticationMethod: "SCRAM-SHA-1", authenticationData: Buffer.from("d") },
      }]
      : []),
  ];
}

/** mqtt-packet's parse of `bytes` at level `v`, without the fields that only describe the fixed header. */
function theirParse(bytes: Buffer, v: Level): Record<string, unknown>[] {
  const parser = mqttPacket.parser({ protocolVersion: v });
  const out: Record<string, unknown>[] = [];
  parser.on("packet", (p) => {
    const o = { ...p } as Record<string, unknown>;
    for (const k of ["length", "retain", "qos", "dup"]) delete o[k];
    for (const k of ["topic", "payload"]) if (o[k] === null) delete o[k];
    out.push(o);
  });
  parser.on("error", (e) => assert.fail(e));
  parser.parse(bytes);
  return out;
}

function ours(packets: Record<string, unknown>[], v: Level): Buffer {
  const w = new PacketWriter();
  for (const p of packets) writePacket(w, p as unknown as MqttPacket, v);
  return Buffer.from(w.take()!);
}

function decodeClient(bytes: Buffer): unknown[] {
  const d = new Decoder();
  d.push(bytes);
  const out: unknown[] = [];
  for (let p = d.next(); p !== null; p = d.next()) {
    const o = { ...p } as Record<string, unknown>;
    delete o.raw;
    out.push(o);
  }
  return out;
}

function decodeServer(bytes: Buffer, v: Level): unknown[] {
  const d = new ServerDecoder(v);
  d.push(bytes);
  const out: unknown[] = [];
  for (let p = d.next(); p !== null; p = d.next()) out.push(p);
  return out;
}

function theirs(packets: Record<string, unknown>[], v: Level): Buffer {
  return Buffer.concat(
    packets.map((p) => mqttPacket.generate(p as unknown as mqttPacket.Packet, { protocolVersion: v })),
  );
}

for (const v of [3, 4, 5] as const) {
  describe(`control packets, MQTT level ${v}, against mqtt-packet`, () => {
    test("what a client sends: mqtt-packet encodes, we decode the same packets", () => {
      const packets = clientPackets(v);
      assert.deepEqual(decodeClient(theirs(packets, v)), theirParse(theirs(packets, v), v));
    });

    test("what a client sends: we encode, mqtt-packet decodes what we meant", () => {
      const packets = clientPackets(v);
      assert.deepEqual(theirParse(ours(packets, v), v), theirParse(theirs(packets, v), v));
    });

    test("what a server sends: mqtt-packet encodes, we decode the same packets", () => {
      const packets = serverPackets(v);
      assert.deepEqual(decodeServer(theirs(packets, v), v), theirParse(theirs(packets, v), v));
    });

    test("what a server sends: we encode, mqtt-packet decodes what we meant", () => {
      const packets = serverPackets(v);
      assert.deepEqual(theirParse(ours(packets, v), v), theirParse(theirs(packets, v), v));
    });
  });
}

/** A packet from its first byte and its body; the remaining length is worked out. */
const pkt = (b0: number, ...body: number[]) => Buffer.from([b0, body.length, ...body]);
const str = (s: string) => [0, s.length, ...Buffer.from(s)];
/** CONNECT at `level` with flags, keep alive 0, properties (v5) and client id "c", then `rest`. */
const connect = (level: number, flags: number, props: number[] = [], rest: number[] = []) =>
  pkt(
    0x10,
    ...str("MQTT"),
    level,
    flags,
    0,
    0,
    ...(level === 5 ? [props.length, ...props] : []),
    ...str("c"),
    ...rest,
  );

describe("malformed control packets", () => {
  const cases: [string, Buffer, number, number][] = [
    [
      "SUBSCRIBE with reserved flags 0 [MQTT-3.8.1-1]",
      pkt(0x80, 0, 1, ...str("a"), 0),
      4,
      RC.MALFORMED_PACKET,
    ],
    ["SUBSCRIBE without a filter [MQTT-3.8.3-2]", pkt(0x82, 0, 1), 4, RC.PROTOCOL_ERROR],
    [
      "SUBSCRIBE with packet identifier 0 [MQTT-2.2.1-3]",
      pkt(0x82, 0, 0, ...str("a"), 0),
      4,
      RC.MALFORMED_PACKET,
    ],
    ["SUBSCRIBE QoS 3 [MQTT-3.8.3-4]", pkt(0x82, 0, 1, ...str("a"), 3), 4, RC.MALFORMED_PACKET],
    [
      "MQTT 3.1.1 SUBSCRIBE with option bits above QoS [MQTT-3.8.3-4]",
      pkt(0x82, 0, 1, ...str("a"), 4),
      4,
      RC.MALFORMED_PACKET,
    ],
    [
      "MQTT 5 SUBSCRIBE with reserved option bits [MQTT-3.8.3-5]",
      pkt(0x82, 0, 1, 0, ...str("a"), 0x40),
      5,
      RC.MALFORMED_PACKET,
    ],
    ["MQTT 5 SUBSCRIBE with Retain Handling 3", pkt(0x82, 0, 1, 0, ...str("a"), 0x30), 5, RC.PROTOCOL_ERROR],
    ["SUBSCRIBE whose filter runs past the packet", pkt(0x82, 0, 1, 0, 9, 0x61), 4, RC.MALFORMED_PACKET],
    ["UNSUBSCRIBE without a filter [MQTT-3.10.3-2]", pkt(0xa2, 0, 1), 4, RC.PROTOCOL_ERROR],
    [
      "a property given twice [MQTT-2.2.2-2]",
      pkt(0x82, 0, 1, 4, 0x0b, 1, 0x0b, 2, ...str("a"), 0),
      5,
      RC.PROTOCOL_ERROR,
    ],
    [
      "a property the packet may not carry (Topic Alias in SUBSCRIBE)",
      pkt(0x82, 0, 1, 3, 0x23, 0, 1, ...str("a"), 0),
      5,
      RC.MALFORMED_PACKET,
    ],
    ["an unknown property identifier", pkt(0xa2, 0, 1, 2, 0x7f, 0, ...str("a")), 5, RC.MALFORMED_PACKET],
    [
      "a property that runs past the Property Length",
      pkt(0x82, 0, 1, 1, 0x0b, 1, ...str("a"), 0),
      5,
      RC.MALFORMED_PACKET,
    ],
    [
      "a protocol name that is not MQTT [MQTT-3.1.2-1]",
      pkt(0x10, ...str("MQTX"), 4, 2, 0, 0, ...str("c")),
      0,
      RC.MALFORMED_PACKET,
    ],
    [
      "MQIsdp at level 4 [MQTT-3.1.2-1]",
      pkt(0x10, ...str("MQIsdp"), 4, 2, 0, 0, ...str("c")),
      0,
      RC.MALFORMED_PACKET,
    ],
    [
      "MQTT at level 3 [MQTT-3.1.2-1]",
      pkt(0x10, ...str("MQTT"), 3, 2, 0, 0, ...str("c")),
      0,
      RC.MALFORMED_PACKET,
    ],
    ["level 6 [MQTT-3.1.2-2]", connect(6, 2), 0, RC.UNSUPPORTED_PROTOCOL_VERSION],
    ["a CONNECT cut inside the protocol name", pkt(0x10, 0, 4, 0x4d, 0x51), 0, RC.MALFORMED_PACKET],
    ["properties longer than the packet", pkt(0xa2, 0, 1, 9, 0x26), 5, RC.MALFORMED_PACKET],
    ["Request Problem Information 2", connect(5, 2, [0x17, 2]), 0, RC.PROTOCOL_ERROR],
    [
      "Session Expiry Interval in a will",
      connect(5, 6, [], [5, 0x11, 0, 0, 0, 1, ...str("w"), 0, 0]),
      0,
      RC.MALFORMED_PACKET,
    ],
    ["Will QoS 3 [MQTT-3.1.2-12]", connect(4, 0x1e, [], [...str("w"), 0, 0]), 0, RC.MALFORMED_PACKET],
    ["Will Retain without a will [MQTT-3.1.2-11]", connect(4, 0x22), 0, RC.MALFORMED_PACKET],
    ["a CONNECT whose user name flag has no user name", connect(4, 0x82), 0, RC.MALFORMED_PACKET],
    ["a byte after the CONNECT payload", connect(4, 2, [], [0]), 0, RC.MALFORMED_PACKET],
    ["MQTT 3.1.1 DISCONNECT with a body", pkt(0xe0, 0), 4, RC.MALFORMED_PACKET],
    ["DISCONNECT with reserved flags", pkt(0xe1), 5, RC.MALFORMED_PACKET],
    ["DISCONNECT reason code 0x05", pkt(0xe0, 5, 0), 5, RC.MALFORMED_PACKET],
    ["AUTH in MQTT 3.1.1", pkt(0xf0, 0, 0), 4, RC.MALFORMED_PACKET],
    ["AUTH reason code 0x01", pkt(0xf0, 1, 0), 5, RC.MALFORMED_PACKET],
    ["PINGREQ with a body", pkt(0xc0, 0), 4, RC.MALFORMED_PACKET],
  ];
  for (const [name, bytes, version, code] of cases) {
    test(`${name}: 0x${code.toString(16)}`, () => assert.equal(decodeError(bytes, version).code, code));
  }

  test("the shortest forms MQTT 5 allows decode: DISCONNECT and AUTH without reason code or properties", () => {
    assert.deepEqual(decodeClient(Buffer.concat([connect(5, 2), pkt(0xf0), pkt(0xe0)])).slice(1), [
      { cmd: "auth", reasonCode: 0 },
      { cmd: "disconnect", reasonCode: 0 },
    ]);
  });

  test("a will's payload is a copy: the read buffer it came in is not kept alive by the session", () => {
    const bytes = connect(4, 0x06, [], [...str("w"), 0, 2, 0x68, 0x69]);
    const p = decodeClient(bytes)[0] as { will: { payload: Buffer } };
    bytes.fill(0x7a, bytes.length - 2); // the read buffer gets the next bytes read
    assert.equal(String(p.will.payload), "hi");
  });
});
