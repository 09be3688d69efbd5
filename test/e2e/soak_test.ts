import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { type LiveBroker, RUNTIMES, startLiveBroker, waitFor } from "../helpers/live_broker.ts";

for (const [name, runtime] of RUNTIMES) {
  describe(`soak over ${name}`, () => {
    let lb: LiveBroker;
    before(async () => (lb = await startLiveBroker({}, runtime())));
    after(async () => await lb.stop());

    const PUBLISHERS = 4;
    const PER_PUBLISHER = 1500;

    test("soak: QoS 1 between several MQTT.js clients loses, duplicates and reorders nothing", async () => {
      const subs: MqttClient[] = [];
      const seen: Map<string, number[]>[] = [];
      for (const protocolVersion of [4, 5] as const) {
        const s = await mqtt.connectAsync(lb.url, { protocolVersion, reconnectPeriod: 0 });
        const perPub = new Map<string, number[]>();
        s.on("message", (topic, payload) => {
          const list = perPub.get(topic) ?? [];
          list.push(Number(payload.toString()));
          perPub.set(topic, list);
        });
        await s.subscribeAsync("soak/#", { qos: 1 });
        subs.push(s);
        seen.push(perPub);
      }
      const pubs = await Promise.all(
        Array.from(
          { length: PUBLISHERS },
          (_, i) => mqtt.connectAsync(lb.url, { protocolVersion: i % 2 === 0 ? 4 : 5, reconnectPeriod: 0 }),
        ),
      );
      await Promise.all(pubs.map(async (p, i) => {
        const sends: Promise<unknown>[] = [];
        for (let n = 0; n < PER_PUBLISHER; n++) {
          sends.push(p.publishAsync(`soak/${i}`, String(n), { qos: 1 }));
        }
        await Promise.all(sends);
      }));
      const total = () => seen.map((m) => [...m.values()].reduce((a, l) => a + l.length, 0));
      await waitFor(() => total().every((t) => t >= PUBLISHERS * PER_PUBLISHER), "every message", 60_000);
      const expected = Array.from({ length: PER_PUBLISHER }, (_, n) => n);
      for (const perPub of seen) {
        for (let i = 0; i < PUBLISHERS; i++) {
          assert.deepEqual(perPub.get(`soak/${i}`), expected, `publisher ${i}`);
        }
      }
      assert.equal(lb.broker.metrics.droppedQueueFull, 0);
      assert.ok(lb.broker.metrics.publishersHeld > 0, "the burst should have exercised flow control");
      for (const c of [...subs, ...pubs]) c.end(true);
    });
  });
}
