import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LiveBroker, startLiveBroker, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

let lb: LiveBroker;
before(async () => (lb = await startLiveBroker()));
after(async () => await lb.stop());

const conn = () => ["-h", "127.0.0.1", "-p", String(lb.port)];

for (const version of ["mqttv311", "mqttv5"]) {
  describe(`mosquitto_pub / mosquitto_sub (${version})`, () => {
    test("messages at QoS 0, 1 and 2 arrive in order", async () => {
      const topic = `mq/${version}`;
      const sub = run("mosquitto_sub", [
        ...conn(),
        "-V",
        version,
        "-t",
        `${topic}/#`,
        "-q",
        "2",
        "-C",
        "3",
        "-v",
        "-W",
        "10",
      ]);
      await waitFor(() => lb.broker.stats().subscriptions > 0, "the subscription");
      for (const q of ["0", "1", "2"]) {
        const r = await run("mosquitto_pub", [
          ...conn(),
          "-V",
          version,
          "-t",
          `${topic}/q${q}`,
          "-q",
          q,
          "-m",
          `hello ${q}`,
        ]).done;
        assert.equal(r.code, 0, r.stderr);
      }
      const r = await sub.done;
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split("\n"), [
        `${topic}/q0 hello 0`,
        `${topic}/q1 hello 1`,
        `${topic}/q2 hello 2`,
      ]);
    });

    test("a retained message is delivered to a later subscriber", async () => {
      const topic = `mqret/${version}`;
      const p = await run("mosquitto_pub", [
        ...conn(),
        "-V",
        version,
        "-t",
        topic,
        "-q",
        "1",
        "-r",
        "-m",
        "retained!",
      ]).done;
      assert.equal(p.code, 0, p.stderr);
      const r = await run("mosquitto_sub", [
        ...conn(),
        "-V",
        version,
        "-t",
        topic,
        "-C",
        "1",
        "-F",
        "%r %p",
        "-W",
        "10",
      ]).done;
      assert.equal(r.stdout.trim(), "1 retained!");
    });
  });
}

test("mosquitto_sub at MQTT 5 receives user properties set by mosquitto_pub", async () => {
  const sub = run("mosquitto_sub", [
    ...conn(),
    "-V",
    "mqttv5",
    "-t",
    "mqprops",
    "-C",
    "1",
    "-F",
    "%P %p",
    "-W",
    "10",
  ]);
  const before = lb.broker.stats().subscriptions;
  await waitFor(() => lb.broker.stats().subscriptions > before, "the subscription");
  const p = await run("mosquitto_pub", [
    ...conn(),
    "-V",
    "mqttv5",
    "-t",
    "mqprops",
    "-m",
    "body",
    "-D",
    "publish",
    "user-property",
    "site",
    "north",
  ]).done;
  assert.equal(p.code, 0, p.stderr);
  assert.equal((await sub.done).stdout.trim(), "site:north body");
});
