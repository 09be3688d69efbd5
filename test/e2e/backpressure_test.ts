import { after, before, describe, test } from "node:test";
import { PACKETS } from "../fixtures/packets.ts";
import { type LiveBroker, RUNTIMES, startLiveBroker, waitFor } from "../helpers/live_broker.ts";
import { RawClient } from "../helpers/raw_client.ts";
import { assertStillServed, floodStalledSubscriber } from "../helpers/flood.ts";

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

      // 40 MB: far more than the socket buffers between the broker and the stalled client
      await floodStalledSubscriber(lb, "flood", 40_000, BOUND);
      // The broker still serves everyone else while that client is stalled.
      await assertStillServed(lb.url);
      slow.socket.destroy();
    });
  });
}
