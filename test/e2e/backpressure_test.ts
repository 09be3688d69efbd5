import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqttPacket from "mqtt-packet";
import mqtt from "mqtt";
import { PACKETS } from "../fixtures/packets.ts";
import { type LiveBroker, RUNTIMES, startLiveBroker, waitFor } from "../helpers/live_broker.ts";
import { RawClient } from "../helpers/raw_client.ts";

const BOUND = 100;

for (const [name, runtime] of RUNTIMES) {
  describe(`backpressure over ${name}`, () => {
    let lb: LiveBroker;
    before(async () => (lb = await startLiveBroker({ maxQueueLen: BOUND }, runtime())));
    after(async () => await lb.stop());

    test("a subscriber that stops reading gets a bounded queue; QoS 0 overflow is dropped and counted", async () => {
      const slow = await RawClient.open(lb.port, 4);
      slow.write(PACKETS.connectV4);
      slow.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "flood", qos: 0 }] }, 4);
      await waitFor(() => slow.packets.length === 2, "CONNACK and SUBACK");
      slow.socket.pause();

      const pub = await RawClient.open(lb.port, 4);
      pub.write(PACKETS.connectV4P1);

      const one = mqttPacket.generate({
        cmd: "publish",
        topic: "flood",
        payload: Buffer.alloc(1024, 0x61),
        qos: 0,
        retain: false,
        dup: false,
      });
      const N = 40_000; // 40 MB: far more than the socket buffers between the broker and the stalled client
      const batch = Buffer.concat(Array.from({ length: 100 }, () => one));
      for (let i = 0; i < N / 100; i++) {
        if (!pub.socket.write(batch)) await new Promise((r) => pub.socket.once("drain", r));
      }
      await waitFor(
        () => lb.broker.metrics.messagesReceived >= N,
        "the broker to read every PUBLISH",
        30_000,
      );
      assert.ok(lb.broker.stats().queued <= BOUND, `queued ${lb.broker.stats().queued} > ${BOUND}`);
      assert.ok(
        lb.broker.metrics.droppedQueueFull > N / 2,
        `dropped only ${lb.broker.metrics.droppedQueueFull}`,
      );

      // The broker still serves everyone else while that client is stalled.
      const other = await mqtt.connectAsync(lb.url, { reconnectPeriod: 0 });
      let got = "";
      other.on("message", (_t, p) => (got = p.toString()));
      await other.subscribeAsync("ok", { qos: 1 });
      await other.publishAsync("ok", "served", { qos: 1 });
      await waitFor(() => got === "served", "the other client's message");
      other.end(true);
      slow.socket.destroy();
      pub.socket.destroy();
    });
  });
}
