import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { RC } from "../../src/protocol/reason_code.ts";
import { PACKETS } from "../fixtures/packets.ts";
import { type LiveBroker, RUNTIMES, startLiveBroker, waitFor } from "../helpers/live_broker.ts";
import { RawClient } from "../helpers/raw_client.ts";

for (const [rtName, runtime] of RUNTIMES) {
  describe(`bad input over ${rtName}`, () => {
    let lb: LiveBroker;
    let bystander: MqttClient;
    let echoes = 0;
    before(async () => {
      lb = await startLiveBroker({ maxPacketSize: 4096 }, runtime());
      bystander = await mqtt.connectAsync(lb.url, { protocolVersion: 5, reconnectPeriod: 0 });
      bystander.on("message", () => echoes++);
      await bystander.subscribeAsync("alive", { qos: 1 });
    });
    after(async () => {
      bystander.end(true);
      await lb.stop();
    });

    /** Another client keeps being served after each bad connection. */
    async function assertBystanderServed(): Promise<void> {
      const before = echoes;
      await bystander.publishAsync("alive", "still here", { qos: 1 });
      await waitFor(() => echoes === before + 1, "the bystander's echo");
    }

    async function connectedV5(): Promise<RawClient> {
      const c = await RawClient.open(lb.port, 5);
      c.write(PACKETS.connectV5);
      await waitFor(() => c.packets.length === 1, "CONNACK");
      return c;
    }

    const CASES: [string, Buffer, number][] = [
      ["PUBLISH with QoS 3 [MQTT-3.3.1-4]", PACKETS.publishQos3, RC.MALFORMED_PACKET],
      ["wildcard in a PUBLISH topic [MQTT-3.3.2-2]", PACKETS.publishWildcard, RC.TOPIC_NAME_INVALID],
      ["invalid UTF-8 in a topic [MQTT-1.5.4-1]", PACKETS.publishBadUtf8, RC.MALFORMED_PACKET],
      ["remaining length over four bytes [MQTT-1.5.5-1]", PACKETS.fiveByteLength, RC.MALFORMED_PACKET],
      ["PUBREL with wrong reserved flags [MQTT-2.2.2-2]", PACKETS.pubrelBadFlags, RC.MALFORMED_PACKET],
      ["a second CONNECT [MQTT-3.1.0-2]", PACKETS.connectV5, RC.PROTOCOL_ERROR],
      [
        "a packet larger than max_packet_size",
        Buffer.concat([Buffer.from([0x30, 0x80, 0x40, 0, 1, 0x61]), Buffer.alloc(8187)]),
        RC.PACKET_TOO_LARGE,
      ],
    ];

    describe("bad input closes only the offending connection", () => {
      for (const [name, bytes, code] of CASES) {
        test(`${name}: DISCONNECT 0x${code.toString(16)}, then close`, async () => {
          const c = await connectedV5();
          c.write(bytes);
          await waitFor(() => c.closed, "the close");
          const last = c.packets[c.packets.length - 1] as { cmd: string; reasonCode?: number };
          assert.equal(last.cmd, "disconnect");
          assert.equal(last.reasonCode, code);
          await assertBystanderServed();
        });
      }

      test("a packet before CONNECT closes the connection without an answer [MQTT-3.1.0-1]", async () => {
        const c = await RawClient.open(lb.port, 4);
        c.write(PACKETS.pingreq);
        await waitFor(() => c.closed, "the close");
        assert.equal(c.packets.length, 0);
        await assertBystanderServed();
      });

      test("the CONNECT reserved flag closes the connection [MQTT-3.1.2-3]", async () => {
        const c = await RawClient.open(lb.port, 4);
        c.write(PACKETS.connectReservedFlag);
        await waitFor(() => c.closed, "the close");
        assert.equal(c.packets.length, 0);
        await assertBystanderServed();
      });

      test("MQTT 3.1.1: a malformed packet closes the connection without DISCONNECT", async () => {
        const c = await RawClient.open(lb.port, 4);
        c.write(PACKETS.connectV4);
        await waitFor(() => c.packets.length === 1, "CONNACK");
        c.write(PACKETS.publishQos3);
        await waitFor(() => c.closed, "the close");
        assert.deepEqual(c.packets.map((p) => p.cmd), ["connack"]);
        await assertBystanderServed();
      });

      test("garbage bytes from a non-MQTT client are dropped", async () => {
        const c = await RawClient.open(lb.port, 4);
        c.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        await waitFor(() => c.closed, "the close");
        await assertBystanderServed();
        assert.ok(lb.broker.metrics.protocolErrors > 0);
      });
    });
  });
}
