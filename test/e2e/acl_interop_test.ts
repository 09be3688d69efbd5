/**
 * The ACL the MQTT interoperability suite runs with (`deny clientid * 2 test/nosubscribe`, then
 * `allow clientid * 3 #`), with clients we did not write: MQTT.js and mosquitto_sub, MQTT 3.1.1
 * and 5. SUBSCRIBE to test/nosubscribe is refused; #, +/+ and TopicA/+ are granted at the QoS
 * asked for; a message on test/nosubscribe does not reach the # subscriber.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt from "mqtt";
import { parseHmqAcl } from "../../src/auth/acl_rules.ts";
import { createAuth } from "../../src/auth/create_auth.ts";
import { type LiveBroker, startLiveBroker, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

const ACL = "deny clientid * 2 test/nosubscribe\nallow clientid * 3 #\n";

/** The SUBACK codes (MQTT.js rejects when one is a failure). */
async function granted(c: mqtt.MqttClient, filters: string[]): Promise<number[]> {
  try {
    return (await c.subscribeAsync(filters, { qos: 2 })).map((g) => g.qos);
  } catch (e) {
    return ((e as { packet?: { granted?: number[] } }).packet?.granted ?? []).map(Number);
  }
}

describe("the interoperability suite's ACL", () => {
  let lb: LiveBroker;
  before(async () => {
    lb = await startLiveBroker({});
    lb.broker.setAuth(createAuth({
      allowAnonymous: true,
      passwords: {},
      rules: parseHmqAcl(ACL, "interop.conf"),
      noMatch: "deny",
      denyAction: "ignore",
    }));
  });
  after(async () => await lb.stop());

  for (const v of [4, 5] as const) {
    test(`MQTT.js, MQTT ${v === 4 ? "3.1.1" : "5"}: test/nosubscribe refused, wildcards granted, its messages withheld`, async () => {
      const sub = await mqtt.connectAsync(lb.url, { protocolVersion: v, reconnectPeriod: 0 });
      assert.deepEqual(await granted(sub, ["test/nosubscribe"]), [v === 5 ? 0x87 : 0x80]);
      assert.deepEqual(await granted(sub, ["#", "+/+", "TopicA/+"]), [2, 2, 2]);
      const got: string[] = [];
      sub.on("message", (t) => got.push(t));
      const pub = await mqtt.connectAsync(lb.url, { protocolVersion: v, reconnectPeriod: 0 });
      await pub.publishAsync("test/nosubscribe", "no", { qos: 1 });
      await pub.publishAsync("TopicA/B", "yes", { qos: 1 });
      await waitFor(() => got.includes("TopicA/B"), "TopicA/B");
      // overlapping subscriptions deliver a message once [MQTT-3.3.4-2]; nothing else came before it
      assert.deepEqual(got, ["TopicA/B"]);
      sub.end(true);
      pub.end(true);
    });

    test(`mosquitto_sub, MQTT ${v === 4 ? "3.1.1" : "5"}: the same`, async () => {
      const version = v === 4 ? "mqttv311" : "mqttv5";
      const args = [
        "-h",
        "127.0.0.1",
        "-p",
        String(lb.port),
        "-V",
        version,
        "-q",
        "1",
        "-d",
        "-v",
        "-C",
        "1",
      ];
      // stdbuf: mosquitto_sub's output is seen line by line, not when it exits
      const sub = run(
        "stdbuf",
        ["-oL", "mosquitto_sub", ...args, "-t", "test/nosubscribe", "-t", "#"],
        15_000,
      );
      await waitFor(() => sub.output().includes("Subscribed"), "the SUBACK");
      const pub = (t: string) =>
        run("mosquitto_pub", [
          "-h",
          "127.0.0.1",
          "-p",
          String(lb.port),
          "-V",
          version,
          "-q",
          "1",
          "-t",
          t,
          "-m",
          t,
        ]).done;
      await pub("test/nosubscribe");
      await pub("TopicA/B");
      const r = await sub.done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Subscribed \\(mid: \\d+\\): ${v === 4 ? 128 : 135}, 1`));
      assert.match(r.stdout, /^TopicA\/B TopicA\/B$/m, "the first message it got");
      assert.doesNotMatch(r.stdout, /^test\/nosubscribe /m);
    });
  }
});
