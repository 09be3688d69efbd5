/**
 * The HTTP API v4 of a broker process started from a nanomq.conf, with `fetch` and MQTT.js
 * clients: Basic authentication, the read endpoints with their filters and paging, kicking,
 * publishing, subscribing a client's session, hot reload, the configuration and its file.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { type ApiBroker, json, startApiBroker } from "../helpers/api_broker.ts";
import { waitFor } from "../helpers/live_broker.ts";

let b: ApiBroker;
const clients: MqttClient[] = [];

async function connect(clientId: string, o: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.mqttPort}`, { clientId, reconnectPeriod: 0, ...o });
  clients.push(c);
  return c;
}

before(async () => {
  b = await startApiBroker();
});
after(async () => {
  for (const c of clients) c.end(true);
  await b.stop();
});

describe("HTTP API: authentication", () => {
  test("no credentials: 401 code 104; wrong ones: 401 code 103; the body says nothing else", async () => {
    const none = await b.api("/api/v4/clients", { headers: {} });
    assert.equal(none.status, 401);
    assert.match(none.headers.get("www-authenticate") ?? "", /^Basic/);
    assert.deepEqual(await none.json(), { code: 104 });
    const wrong = `Basic ${Buffer.from("admin:nope").toString("base64")}`;
    const bad = await b.api("/api/v4/clients", { headers: { authorization: wrong } });
    assert.equal(bad.status, 401);
    assert.deepEqual(await bad.json(), { code: 103 });
    const otherUser = `Basic ${Buffer.from("root:s3cret-pass").toString("base64")}`;
    assert.equal((await b.api("/api/v4/brokers", { headers: { authorization: otherUser } })).status, 401);
    // a refused publish changes nothing
    const pub = await b.api("/api/v4/mqtt/publish", { headers: { authorization: wrong }, body: "{}" });
    assert.equal(pub.status, 401);
  });

  test("GET /api/v4 lists the endpoints; an unknown path is 404, a wrong method 405", async () => {
    const list = await json(b.api("/api/v4"));
    const paths = (list.data as { path: string; method: string }[]).map((e) => `${e.method} ${e.path}`);
    for (
      const p of [
        "GET /brokers",
        "GET /clients/{clientid}",
        "DELETE /clients/{clientid}",
        "POST /mqtt/publish",
      ]
    ) {
      assert.ok(paths.includes(p), `${p} in ${paths.join(", ")}`);
    }
    assert.equal((await json(b.api("/api/v4/nothing"), 404)).code, 108);
    assert.equal((await json(b.api("/api/v4/brokers", { method: "PUT" }), 405)).code, 108);
  });
});

describe("HTTP API: what the broker holds", () => {
  test("brokers, nodes and metrics in NanoMQ's shapes", async () => {
    const c = await connect("metrics-client");
    const brokers = (await json(b.api("/api/v4/brokers"))).data as Record<string, string>[];
    assert.equal(brokers[0]!.node_status, "Running");
    assert.match(brokers[0]!.uptime!, /^\d+ Hours, \d+ minutes, \d+ seconds$/);
    assert.match(brokers[0]!.datetime!, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(brokers[0]!.version!, /^\d+\.\d+\.\d+/);
    const nodes = (await json(b.api("/api/v4/nodes"))).data as Record<string, unknown>[];
    assert.ok((nodes[0]!.connections as number) >= 1);
    await c.publishAsync("metrics/t", "x", { qos: 1 });
    const m = ((await json(b.api("/api/v4/metrics"))).data as Record<string, Record<string, number>>[])[0]!;
    assert.ok(m.metrics!["messages.received"]! >= 1);
    assert.ok(m.metrics!["bytes.received"]! > 0);
    assert.ok(m.memory!.rss! > 10_000_000);
    assert.ok(m.cpuinfo!.cpus! >= 1);
  });

  test("clients: every field, filters by clientid, username, proto_ver, clean_start; paging; by id and user name", async () => {
    await connect("api-v4", { username: "alice", protocolVersion: 4, keepalive: 42 });
    await connect("api-v5", {
      username: "bob",
      protocolVersion: 5,
      clean: false,
      properties: { sessionExpiryInterval: 60 },
    });
    const one = (await json(b.api("/api/v4/clients/api-v4"))).data as Record<string, unknown>[];
    assert.equal(one.length, 1);
    assert.deepEqual(
      { ...one[0], port: 0, connected_at: "" },
      {
        client_id: "api-v4",
        username: "alice",
        keepalive: 42,
        conn_state: "connected",
        clean_start: true,
        proto_name: "MQTT",
        proto_ver: 4,
        ip_address: "127.0.0.1",
        port: 0,
        listener_port: b.mqttPort,
        connected_at: "",
        subscriptions_cnt: 0,
        mqueue_len: 0,
        inflight: 0,
        is_bridge: false,
      },
    );
    const ids = async (q: string) =>
      ((await json(b.api(`/api/v4/clients${q}`))).data as { client_id: string }[]).map((c) => c.client_id)
        .sort();
    assert.deepEqual(await ids("?username=bob"), ["api-v5"]);
    assert.deepEqual(await ids("?proto_ver=5&clean_start=false"), ["api-v5"]);
    assert.deepEqual(await ids("?_like_clientid=api-"), ["api-v4", "api-v5"]);
    assert.deepEqual(await ids("/username/alice"), ["api-v4"]);
    const page = await json(b.api("/api/v4/clients?_like_clientid=api-&_limit=1&_page=2"));
    assert.equal((page.data as unknown[]).length, 1);
    assert.deepEqual(page.meta, { page: 2, limit: 1, count: 2 });
    assert.equal((await json(b.api("/api/v4/clients?_limit=0"), 400)).code, 108);
    assert.deepEqual(await ids("/nobody"), []);
  });

  test("DELETE /clients/{id} kicks the client (MQTT 5: DISCONNECT 0x98); kicking it again is 404 code 112", async () => {
    const c = await connect("to-kick", { protocolVersion: 5 });
    const reason = new Promise<number | undefined>((r) => c.once("disconnect", (p) => r(p.reasonCode)));
    assert.equal((await json(b.api("/api/v4/clients/to-kick", { method: "DELETE" }))).code, 0);
    assert.equal(await reason, 0x98);
    await waitFor(() => b.output().includes("[to-kick] Disconnected"), "the kick in the log");
    assert.equal((await json(b.api("/api/v4/clients/to-kick", { method: "DELETE" }), 404)).code, 112);
  });

  test("subscriptions with filters, and the topic tree with its subscribers", async () => {
    const c = await connect("sub-lister");
    await c.subscribeAsync({
      "tree/a/+": { qos: 1 },
      "tree/b": { qos: 0 },
      "$share/g1/tree/a/+": { qos: 2 },
    });
    const subs = (await json(b.api("/api/v4/subscriptions/sub-lister"))).data as Record<string, unknown>[];
    assert.deepEqual(
      subs.sort((x, y) => String(x.topic).localeCompare(String(y.topic))),
      [
        { clientid: "sub-lister", topic: "$share/g1/tree/a/+", qos: 2, share: "g1" },
        { clientid: "sub-lister", topic: "tree/a/+", qos: 1 },
        { clientid: "sub-lister", topic: "tree/b", qos: 0 },
      ],
    );
    const q1 = (await json(b.api("/api/v4/subscriptions?clientid=sub-lister&qos=1"))).data as unknown[];
    assert.equal(q1.length, 1);
    assert.equal(((await json(b.api("/api/v4/subscriptions?share=g1"))).data as unknown[]).length, 1);
    const levels = (await json(b.api("/api/v4/topic-tree"))).data as {
      topic: string;
      cld_cnt: number;
      clientid?: string[];
    }[][];
    assert.equal(levels[0]![0]!.topic, "");
    const tree = levels[1]!.find((n) => n.topic === "tree")!;
    assert.equal(tree.cld_cnt, 2);
    const plus = levels[3]!.find((n) => n.topic === "+")!;
    assert.deepEqual(plus.clientid, ["sub-lister"]);
  });
});

describe("HTTP API: publishing and subscribing", () => {
  test("mqtt/publish: plain and base64, QoS 1, retained, MQTT 5 properties, several topics", async () => {
    const sub = await connect("pub-target", { protocolVersion: 5 });
    await sub.subscribeAsync("api/pub/#", { qos: 1 });
    const got: { topic: string; payload: string; props: unknown; qos: number }[] = [];
    sub.on(
      "message",
      (topic, payload, p) => got.push({ topic, payload: String(payload), props: p.properties, qos: p.qos }),
    );
    await json(b.api("/api/v4/mqtt/publish", {
      body: {
        topics: "api/pub/1,api/pub/2",
        payload: "aGVsbG8=",
        encoding: "base64",
        qos: 1,
        properties: {
          user_properties: { site: "north" },
          content_type: "text/plain",
          response_topic: "api/reply",
          correlation_data: "c-1",
          message_expiry_interval: 60,
        },
      },
    }));
    await waitFor(() => got.length === 2, "both messages");
    assert.deepEqual(got.map((g) => [g.topic, g.payload, g.qos]), [["api/pub/1", "hello", 1], [
      "api/pub/2",
      "hello",
      1,
    ]]);
    const props = got[0]!.props as Record<string, unknown>;
    assert.deepEqual({ ...(props.userProperties as object) }, { site: "north" });
    assert.equal(props.contentType, "text/plain");
    assert.equal(props.responseTopic, "api/reply");
    assert.equal(String(props.correlationData), "c-1");
    const left = props.messageExpiryInterval as number;
    assert.ok(left > 50 && left <= 60, `one Message Expiry Interval with the time left: ${left}`);
    await json(
      b.api("/api/v4/mqtt/publish", { body: { topic: "api/retained", payload: "kept", retain: true } }),
    );
    const late = await connect("late-sub");
    const retained = new Promise<string>((r) => late.once("message", (_t, p) => r(String(p))));
    await late.subscribeAsync("api/retained");
    assert.equal(await retained, "kept");
  });

  test("mqtt/publish refuses a bad topic (115), bad JSON (109), a missing topic (107), a bad qos (108)", async () => {
    assert.equal(
      (await json(b.api("/api/v4/mqtt/publish", { body: { topic: "a/+", payload: "x" } }), 400)).code,
      115,
    );
    assert.equal((await json(b.api("/api/v4/mqtt/publish", { body: "{not json" }), 400)).code, 109);
    assert.equal((await json(b.api("/api/v4/mqtt/publish", { body: { payload: "x" } }), 400)).code, 107);
    assert.equal(
      (await json(b.api("/api/v4/mqtt/publish", { body: { topic: "a", qos: 3 } }), 400)).code,
      108,
    );
  });

  test("mqtt/publish_batch answers each message; the good ones are delivered", async () => {
    const sub = await connect("batch-target");
    await sub.subscribeAsync("batch/#");
    const got: string[] = [];
    sub.on("message", (t) => got.push(t));
    const r = await json(b.api("/api/v4/mqtt/publish_batch", {
      body: [{ topic: "batch/1", payload: "a" }, { topic: "batch/#", payload: "b" }, {
        topic: "batch/3",
        payload: "c",
      }],
    }));
    assert.deepEqual((r.data as { code: number }[]).map((x) => x.code), [0, 115, 0]);
    await waitFor(() => got.length === 2, "the two valid messages");
    assert.deepEqual(got, ["batch/1", "batch/3"]);
  });

  test("mqtt/subscribe puts a subscription on a connected client's session; unsubscribe takes it away", async () => {
    const c = await connect("api-subscribed", { protocolVersion: 5 });
    const got: string[] = [];
    c.on("message", (t, p) => got.push(`${t}=${p}`));
    await json(
      b.api("/api/v4/mqtt/publish", { body: { topic: "remote/r", payload: "before", retain: true } }),
    );
    await json(
      b.api("/api/v4/mqtt/subscribe", { body: { clientid: "api-subscribed", topic: "remote/+", qos: 1 } }),
    );
    await waitFor(() => got.length === 1, "the retained message");
    assert.deepEqual(got, ["remote/r=before"]);
    const pub = await connect("remote-pub");
    await pub.publishAsync("remote/x", "live", { qos: 1 });
    await waitFor(() => got.length === 2, "the live message");
    const subs = (await json(b.api("/api/v4/subscriptions/api-subscribed"))).data as { topic: string }[];
    assert.deepEqual(subs.map((s) => s.topic), ["remote/+"]);
    await json(
      b.api("/api/v4/mqtt/unsubscribe", { body: { clientid: "api-subscribed", topic: "remote/+" } }),
    );
    await pub.publishAsync("remote/y", "after", { qos: 1 });
    await json(b.api("/api/v4/mqtt/publish", { body: { topic: "remote/z", payload: "marker" } }));
    await c.subscribeAsync("remote/z");
    await json(b.api("/api/v4/mqtt/publish", { body: { topic: "remote/z", payload: "end" } }));
    await waitFor(() => got.includes("remote/z=end"), "the marker");
    assert.ok(!got.includes("remote/y=after"), got.join(", "));
    const gone = await json(
      b.api("/api/v4/mqtt/subscribe", { body: { clientid: "nobody", topic: "a" } }),
      404,
    );
    assert.equal(gone.code, 112);
    const bad = await json(
      b.api("/api/v4/mqtt/subscribe", { body: { clientid: "api-subscribed", topic: "a/#/b" } }),
      400,
    );
    assert.equal(bad.code, 115);
  });
});

describe("HTTP API: configuration", () => {
  test("GET/POST /reload: hot values as NanoMQ reports them; a change applies to the sessions; unknown keys are refused", async () => {
    const before = (await json(b.api("/api/v4/reload"))).data as Record<string, unknown>;
    assert.deepEqual(before, {
      property_size: 32,
      max_packet_size: 10240,
      client_max_packet_size: 10240,
      msq_len: 2048,
      qos_duration: 10,
      keepalive_backoff: 1500,
      allow_anonymous: true,
    });
    const after = await json(
      b.api("/api/v4/reload", { body: { data: { msq_len: 3, keepalive_backoff: 2000 } } }),
    );
    assert.equal((after.data as Record<string, number>).msq_len, 3);
    assert.equal((after.data as Record<string, number>).keepalive_backoff, 2000);
    // the queue bound applies to an offline session at once: 3 kept, the rest dropped
    const s = await connect("queue-bound", { clean: false });
    await s.subscribeAsync("bound/t", { qos: 1 });
    s.end(true);
    await waitFor(() => b.output().includes("[queue-bound] Disconnected"), "the disconnect");
    for (let i = 0; i < 5; i++) {
      await json(b.api("/api/v4/mqtt/publish", { body: { topic: "bound/t", payload: `${i}`, qos: 1 } }));
    }
    const got: string[] = [];
    // the queued messages come right behind CONNACK: listen before it arrives
    const back = mqtt.connect(`mqtt://127.0.0.1:${b.mqttPort}`, {
      clientId: "queue-bound",
      clean: false,
      reconnectPeriod: 0,
    });
    clients.push(back);
    back.on("message", (_t, p) => got.push(String(p)));
    await waitFor(() => got.length >= 3, "the queued messages");
    // a message after them, in order behind them: nothing else was queued
    await json(b.api("/api/v4/mqtt/publish", { body: { topic: "bound/t", payload: "end", qos: 1 } }));
    await waitFor(() => got.includes("end"), "the last message");
    assert.deepEqual(got, ["0", "1", "2", "end"]);
    const bad = await json(b.api("/api/v4/reload", { body: { data: { threads: 4 } } }), 400);
    assert.equal(bad.code, 108);
    assert.match(String(bad.message), /threads.*not hot-updatable/);
    const refused = await json(b.api("/api/v4/reload", { body: { data: { msq_len: 0 } } }), 400);
    assert.match(String(refused.message), /mqtt\.max_mqueue_len/);
    assert.equal(
      ((await json(b.api("/api/v4/reload"))).data as Record<string, number>).msq_len,
      3,
      "the old value stays",
    );
    await json(b.api("/api/v4/reload", { body: { data: { msq_len: 2048 } } }));
  });

  test("GET /configuration shows the running configuration with every secret masked", async () => {
    const cfg = (await json(b.api("/api/v4/configuration"))).data as Record<string, Record<string, unknown>>;
    assert.equal(cfg.http_server!.password, "******");
    assert.equal(cfg.http_server!.username, "admin");
    assert.equal(cfg.mqtt!.max_mqueue_len, 2048);
    assert.ok(!JSON.stringify(cfg).includes("s3cret-pass"));
    const one = await json(b.api("/api/v4/configuration/listeners"));
    assert.ok(JSON.stringify(one.data).includes(String(b.mqttPort)));
    assert.equal((await json(b.api("/api/v4/configuration/nothing"), 404)).code, 108);
  });

  test("POST /config_update writes a file that loads, keeps the old one as .bak, refuses one that does not", async () => {
    const file = join(b.dir, "nanomq.conf");
    const before = readFileSync(file, "utf8");
    const bad = await json(
      b.api("/api/v4/config_update", { body: `${before}mqtt.max_mqueue_len = lots\n` }),
      400,
    );
    assert.equal(bad.code, 108);
    assert.match(String(bad.message), /^the new configuration:\d+: mqtt\.max_mqueue_len/);
    assert.equal(readFileSync(file, "utf8"), before, "a refused file is not written");
    assert.ok(!existsSync(join(b.dir, "nanomq.new.conf")));
    assert.equal((await json(b.api("/api/v4/config_update", { body: " " }), 400)).code, 107);

    const written = await json(
      b.api("/api/v4/config_update", { body: `${before}mqtt.max_mqueue_len = 77\n` }),
    );
    assert.match(String(written.message), /Written to .*nanomq\.conf/);
    assert.equal(readFileSync(`${file}.bak`, "utf8"), before);
    assert.match(readFileSync(file, "utf8"), /max_mqueue_len = 77/);
    const hot = async () => ((await json(b.api("/api/v4/reload"))).data as Record<string, number>).msq_len;
    assert.equal(await hot(), 2048, "written, not applied");
    await json(b.api("/api/v4/reload", { body: { data: {} } }));
    assert.equal(await hot(), 77, "a reload reads the new file");
    await json(b.api("/api/v4/config_update", { body: before }));
    await json(b.api("/api/v4/reload", { body: { data: {} } }));
    assert.equal(await hot(), 2048);
  });
});
