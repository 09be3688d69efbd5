/** Shared steps of the backpressure tests: flood a stalled subscriber, then check the broker still serves. */
import assert from "node:assert/strict";
import mqtt from "mqtt";
import mqttPacket from "mqtt-packet";
import { PACKETS } from "../fixtures/packets.ts";
import { type LiveBroker, waitFor } from "./live_broker.ts";
import { RawClient } from "./raw_client.ts";

/**
 * Publishes `n` 1 KB QoS 0 messages to `topic` from a raw TCP client, as fast as TCP takes them,
 * and waits until the broker has read them all; asserts that the queues stayed within `bound` and
 * that most of the flood was dropped and counted.
 */
export async function floodStalledSubscriber(
  lb: LiveBroker,
  topic: string,
  n: number,
  bound: number,
): Promise<void> {
  const pub = await RawClient.open(lb.port, 4);
  pub.write(PACKETS.connectV4P1);
  const one = mqttPacket.generate({
    cmd: "publish",
    topic,
    payload: Buffer.alloc(1024, 0x61),
    qos: 0,
    retain: false,
    dup: false,
  });
  const batch = Buffer.concat(Array.from({ length: 100 }, () => one));
  const before = lb.broker.metrics.messagesReceived;
  const dropped = lb.broker.metrics.droppedQueueFull;
  for (let i = 0; i < n / 100; i++) {
    if (!pub.socket.write(batch)) await new Promise((r) => pub.socket.once("drain", r));
  }
  await waitFor(
    () => lb.broker.metrics.messagesReceived - before >= n,
    "the broker to read every PUBLISH",
    30_000,
  );
  assert.ok(lb.broker.stats().queued <= bound, `queued ${lb.broker.stats().queued} > ${bound}`);
  const d = lb.broker.metrics.droppedQueueFull - dropped;
  assert.ok(d > n / 2, `dropped only ${d}`);
  pub.socket.destroy();
}

/** Another client (MQTT.js at `url`) still gets its own QoS 1 message through. */
export async function assertStillServed(url: string): Promise<void> {
  const other = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  let got = "";
  other.on("message", (_t, p) => (got = p.toString()));
  await other.subscribeAsync("ok", { qos: 1 });
  await other.publishAsync("ok", "served", { qos: 1 });
  await waitFor(() => got === "served", "the other client's message");
  other.end(true);
}
