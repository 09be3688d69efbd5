/**
 * NanoMQ's `webhook { }` on a broker process, against a real HTTP server started here: every event
 * type with its JSON body, topic filters, the three payload encodings, and an endpoint that hangs
 * or is down (MQTT goes on; what does not fit is dropped and counted, failures logged).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { type ApiBroker, startApiBroker } from "../helpers/api_broker.ts";
import { type SeenRequest, startHttpServer, type TestHttpServer } from "../helpers/http_server.ts";
import { waitFor } from "../helpers/live_broker.ts";
import { makeTestCerts } from "../helpers/certs.ts";
import { WEBHOOK_EVENTS } from "../../src/config/config_integrations.ts";

let hook: TestHttpServer;
const brokers: ApiBroker[] = [];
const clients: MqttClient[] = [];

before(async () => {
  hook = await startHttpServer();
});
after(async () => {
  for (const c of clients) c.end(true);
  for (const b of brokers) await b.stop();
  await hook.close();
});

async function broker(webhook: string): Promise<ApiBroker> {
  const b = await startApiBroker({ conf: `webhook {\n${webhook}\n}\n` });
  brokers.push(b);
  return b;
}

async function connect(b: ApiBroker, o: mqtt.IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.mqttPort}`, { reconnectPeriod: 0, ...o });
  clients.push(c);
  return c;
}

type Body = Record<string, unknown>;
const bodies = (path: string): Body[] =>
  hook.seen.filter((r) => r.path === path).map((r) => JSON.parse(r.body));

describe("webhook", () => {
  test("every event NanoMQ names is posted with its body; message events only for their topic filter", async () => {
    const events = WEBHOOK_EVENTS.map((e) =>
      `{ event = "${e}"${e.startsWith("on_message") ? ', topic = "sensors/#"' : ""} }`
    );
    const b = await broker(`url = "${hook.url}/all"\nevents = [ ${events.join(", ")} ]`);
    const c = await connect(b, { clientId: "dev-1", username: "ann", protocolVersion: 5 });
    await c.subscribeAsync("sensors/#", { qos: 1 });
    await c.publishAsync("other/x", "not posted", { qos: 1 });
    const got = new Promise((r) => c.once("message", r));
    await c.publishAsync("sensors/t1", "21.5", { qos: 1 });
    await got;
    await c.unsubscribeAsync("sensors/#");
    await c.endAsync();
    const want = [
      "client_connect",
      "client_connack",
      "client_connected",
      "client_subscribe",
      "session_subscribed",
      "message_publish",
      "message_delivered",
      "message_acked",
      "client_unsubscribe",
      "session_unsubscribed",
      "client_disconnected",
      "session_terminated",
    ];
    await waitFor(() => bodies("/all").length >= want.length, "every event");
    const seen = bodies("/all");
    assert.deepEqual([...new Set(seen.map((x) => x.action))].sort(), [...want].sort());
    const one = (action: string) => seen.find((x) => x.action === action)!;
    assert.deepEqual(one("client_connack"), {
      proto_ver: 5,
      keepalive: 60,
      conn_ack: "success",
      clientid: "dev-1",
      username: "ann",
      action: "client_connack",
    });
    assert.deepEqual(one("client_disconnected"), {
      reason: "normal",
      clientid: "dev-1",
      username: "ann",
      action: "client_disconnected",
    });
    const pub = one("message_publish");
    assert.deepEqual(Object.keys(pub), [
      "ts",
      "topic",
      "retain",
      "qos",
      "action",
      "from_username",
      "from_client_id",
      "payload",
    ]);
    assert.deepEqual([pub.topic, pub.qos, pub.retain, pub.from_client_id, pub.from_username, pub.payload], [
      "sensors/t1",
      1,
      false,
      "dev-1",
      "ann",
      "21.5",
    ]);
    assert.equal(
      seen.filter((x) => x.action === "message_publish").length,
      1,
      "other/x is not under sensors/#",
    );
    assert.deepEqual(one("client_subscribe"), {
      action: "client_subscribe",
      clientid: "dev-1",
      username: "ann",
      topic: "sensors/#",
      opts: { qos: 1 },
    });
    assert.equal(one("message_acked").clientid, "dev-1");
    assert.equal(one("message_delivered").from_client_id, "dev-1");
    assert.equal(one("client_connect").ipaddress, "127.0.0.1");
    assert.equal(one("session_terminated").reason, "normal");
    assert.equal(hook.seen[0]!.headers["content-type"], "application/json");
  });

  test("body.encoding: plain, base64, and NanoMQ's base62 (base64 with + as A, / as B, no padding)", async () => {
    const payload = Buffer.from([0xfb, 0xff, 0x61]);
    for (const encoding of ["base64", "base62"]) {
      const b = await broker(
        `url = "${hook.url}/${encoding}"\nbody.encoding = ${encoding}\nevents = [ { event = "on_message_publish" } ]`,
      );
      const c = await connect(b, { clientId: `enc-${encoding}` });
      await c.publishAsync("e", payload, { qos: 1 });
      await waitFor(() => bodies(`/${encoding}`).length === 1, `the ${encoding} body`);
    }
    assert.equal(bodies("/base64")[0]!.payload, "+/9h");
    assert.equal(bodies("/base62")[0]!.payload, "AB9h");
  });

  test("https:// with ssl.cacertfile: the endpoint is verified against the CA and gets the events", async () => {
    const certs = makeTestCerts();
    const tls = await startHttpServer({ key: certs.pem(certs.keyFile), cert: certs.pem(certs.certFile) });
    try {
      const b = await broker(
        `url = "${tls.url}/tls"\nssl { cacertfile = "${certs.caFile}" }\nevents = [ { event = "on_client_connack" } ]`,
      );
      await connect(b, { clientId: "over-tls" });
      await waitFor(() => tls.seen.some((r) => r.path === "/tls"), "the event over TLS");
      assert.equal(JSON.parse(tls.seen[0]!.body).clientid, "over-tls");
    } finally {
      await tls.close();
    }
  });

  test("an endpoint that hangs does not hold MQTT: the queue fills, the rest is dropped, counted and logged; one that is down is tried again, then counted as failed", async () => {
    const b = await broker(
      `url = "${hook.url}/slow"\npool_size = 1\nmax_queue_len = 5\nmax_retries = 1\ntimeout = 2s\nevents = [ { event = "on_message_publish" } ]`,
    );
    hook.answer = (r: SeenRequest) => (r.path === "/slow" ? "hang" : 200);
    const c = await connect(b, { clientId: "flood" });
    for (let i = 0; i < 100; i++) await c.publishAsync("f", `m${i}`, { qos: 1 }); // every one acknowledged
    const metric = async (result: string) => {
      const text = await (await b.api("/api/v4/prometheus")).text();
      return Number(
        new RegExp(`^broker_webhook_requests_total\\{result="${result}"\\} (\\d+)$`, "m").exec(text)?.[1],
      );
    };
    assert.equal(await metric("dropped"), 94, "100 - 1 being sent - 5 waiting");
    await waitFor(
      () => /Webhook: \d+ dropped: 5 were waiting \(max_queue_len\)/.test(b.output()),
      "the drops in the log",
    );
    // the hanging request times out (2 s), is tried once more and times out again: failed
    await waitFor(
      () => /Webhook: \d+ requests to .*\/slow failed \(.*no answer within 2000 ms/.test(b.output()),
      "the failure",
      30_000,
    );
    assert.ok((await metric("retries")) >= 1);
    hook.answer = () => 200;
  });
});
