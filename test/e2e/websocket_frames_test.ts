import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqttPacket, { type Packet } from "mqtt-packet";
import WebSocket from "ws";
import { PACKETS } from "../fixtures/packets.ts";
import { type LiveBroker, startLiveBroker, waitFor } from "../helpers/live_broker.ts";
import { assertStillServed, floodStalledSubscriber } from "../helpers/flood.ts";

const BOUND = 100;

/** A raw WebSocket MQTT client: sends the frames it is given, parses what comes back. */
async function wsClient(port: number): Promise<{ ws: WebSocket; packets: Packet[]; closed: () => boolean }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, "mqtt");
  const packets: Packet[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on("packet", (p: Packet) => packets.push(p));
  let closed = false;
  ws.on("message", (d: Buffer) => parser.parse(d));
  ws.on("close", () => (closed = true));
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  assert.equal(ws.protocol, "mqtt", "the broker selects the mqtt subprotocol [MQTT-6.0.0-3]");
  return { ws, packets, closed: () => closed };
}

const gen = (p: Record<string, unknown>) => mqttPacket.generate(p as unknown as Packet);

describe("MQTT over WebSocket: framing and backpressure", () => {
  let lb: LiveBroker;
  before(async () => (lb = await startLiveBroker({ maxQueueLen: BOUND })));
  after(async () => await lb.stop());

  test("a packet split across frames, and several packets in one frame", async () => {
    const c = await wsClient(lb.wsPort);
    const connect = PACKETS.connectV4;
    c.ws.send(connect.subarray(0, 5));
    c.ws.send(connect.subarray(5));
    const sub = gen({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "frames", qos: 0 }] });
    const pub = gen({
      cmd: "publish",
      topic: "frames",
      payload: Buffer.from("x"),
      qos: 0,
      retain: false,
      dup: false,
    });
    c.ws.send(Buffer.concat([sub, pub]));
    await waitFor(() => c.packets.length === 3, "CONNACK, SUBACK and the PUBLISH");
    assert.deepEqual(c.packets.map((p) => p.cmd), ["connack", "suback", "publish"]);
    c.ws.close();
  });

  test("a text frame closes the connection [MQTT-6.0.0-1]", async () => {
    const c = await wsClient(lb.wsPort);
    c.ws.send(PACKETS.connectV4);
    await waitFor(() => c.packets.length === 1, "CONNACK");
    c.ws.send("not binary");
    await waitFor(c.closed, "the close");
  });

  test("a WebSocket subscriber that stops reading gets a bounded queue; others are still served", async () => {
    const slow = await wsClient(lb.wsPort);
    slow.ws.send(PACKETS.connectV4);
    slow.ws.send(gen({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "wsflood", qos: 0 }] }));
    await waitFor(() => slow.packets.length === 2, "CONNACK and SUBACK");
    slow.ws.pause();
    await floodStalledSubscriber(lb, "wsflood", 40_000, BOUND);
    await assertStillServed(`ws://127.0.0.1:${lb.wsPort}/mqtt`);
    slow.ws.terminate();
  });
});
