/**
 * The HTTP API, Prometheus and `$SYS` of a broker process with two workers (Bun): what they list
 * and count covers the clients and sessions of both, and what they do to a client (kick,
 * subscribe its session) is done on the worker the session lives on.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { homeWorker } from "../../src/broker/peer_port.ts";
import { type ApiBroker, json, startApiBroker } from "../helpers/api_broker.ts";
import { waitFor } from "../helpers/live_broker.ts";
import { openSqlite } from "../../src/runtime/sqlite.ts";

let b: ApiBroker;
const clients: MqttClient[] = [];

before(async () => {
  b = await startApiBroker({ conf: "system.num_taskq_thread = 2\nmqtt.sys_interval = 1\n" });
});
after(async () => {
  for (const c of clients) c.end(true);
  await b.stop();
});

/** `n` client identifiers, half of them at home on each worker. */
function idsOnBoth(prefix: string, n: number): string[] {
  const ids: string[] = [];
  const per = [0, 0];
  for (let i = 0; ids.length < n; i++) {
    const h = homeWorker(`${prefix}${i}`, 2);
    if (per[h]! < n / 2) {
      per[h]!++;
      ids.push(`${prefix}${i}`);
    }
  }
  return ids;
}

function idOn(worker: number, prefix: string): string {
  for (let i = 0;; i++) if (homeWorker(`${prefix}${i}`, 2) === worker) return `${prefix}${i}`;
}

async function connect(clientId: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.mqttPort}`, {
    clientId,
    protocolVersion: 5,
    reconnectPeriod: 0,
  });
  clients.push(c);
  return c;
}

/** Polls an API answer until `ok` holds of it (a hang guard of 10 s, not a timing assertion). */
async function until<T>(get: () => T | Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0;; i++) {
    const v = await get();
    if (ok(v)) return v;
    if (i > 200) throw new Error(`Timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

type Row = Record<string, unknown>;

describe("HTTP API of a broker with two workers", () => {
  test("clients, subscriptions, the topic tree, Prometheus and $SYS count both workers", async () => {
    const ids = idsOnBoth("both-", 8);
    for (const id of ids) await (await connect(id)).subscribeAsync(`own/${id}`, { qos: 1 });
    const listed = ((await json(b.api("/api/v4/clients"))).data as Row[]).map((c) => c.client_id);
    assert.deepEqual(listed.sort(), [...ids].sort());
    const meta = (await json(b.api("/api/v4/clients?_limit=3&_page=2"))).meta as Row;
    assert.deepEqual(meta, { page: 2, limit: 3, count: 8 });
    const subs = (await json(b.api("/api/v4/subscriptions"))).data as Row[];
    assert.deepEqual(subs.map((s) => s.topic).sort(), ids.map((id) => `own/${id}`).sort());
    const one = ids.find((id) => homeWorker(id, 2) === 1)!;
    assert.deepEqual(
      ((await json(b.api(`/api/v4/subscriptions/${one}`))).data as Row[]).map((s) => s.topic),
      [`own/${one}`],
    );
    const tree = (await json(b.api("/api/v4/topic-tree"))).data as Row[][];
    assert.deepEqual(tree[1], [{ topic: "own", cld_cnt: 8 }]);

    // the other worker's counters come with its report, once a second
    const connections = () =>
      json(b.api("/api/v4/nodes")).then((r) => ((r.data as Row[])[0]!.connections as number));
    await until(connections, (n) => n === 8, "8 connections in /nodes");
    const prom = await until(
      () => b.api("/api/v4/prometheus").then((r) => r.text()),
      (t) => /^nanomq_subscribers_count 8$/m.test(t),
      "8 subscriptions in Prometheus",
    );
    assert.match(prom, /^nanomq_connections_count 8$/m);
    assert.match(prom, /^nanomq_sessions_count 8$/m);
    assert.match(prom, /^broker_listener_connections\{listener="listeners.tcp",port="\d+"\} 8$/m);
    const metrics = ((await json(b.api("/api/v4/metrics"))).data as Row[])[0]!.metrics as Row;
    assert.equal(metrics["client.connected"], 8);

    const watch = await connect(idOn(1, "sys-watch-"));
    const connected: string[] = [];
    watch.on("message", (t, p) => t === "$SYS/broker/clients/connected" && connected.push(String(p)));
    await watch.subscribeAsync("$SYS/broker/clients/connected");
    await waitFor(() => connected.includes("9"), "$SYS/broker/clients/connected = 9", 10_000);
  });

  test("kick, mqtt/subscribe and mqtt/unsubscribe reach a session on the other worker", async () => {
    const there = idOn(1, "far-");
    const c = await connect(there);
    const got: string[] = [];
    c.on("message", (t, p) => got.push(`${t}=${p}`));
    const sub = await json(
      b.api("/api/v4/mqtt/subscribe", { body: { clientid: there, topic: "pushed/#", qos: 1 } }),
    );
    assert.equal(sub.code, 0);
    const listed = ((await json(b.api(`/api/v4/subscriptions/${there}`))).data as Row[]).map((s) => s.topic);
    assert.deepEqual(listed, ["pushed/#"]);
    await json(b.api("/api/v4/mqtt/publish", { body: { topic: "pushed/a", payload: "1", qos: 1 } }));
    await waitFor(() => got.length === 1, "the message for the API's subscription");
    assert.deepEqual(got, ["pushed/a=1"]);
    await json(b.api("/api/v4/mqtt/subscribe", { body: { clientid: there, topic: "mark", qos: 1 } }));
    await json(b.api("/api/v4/mqtt/unsubscribe", { body: { clientid: there, topic: "pushed/#" } }));
    await json(b.api("/api/v4/mqtt/publish", { body: { topic: "pushed/b", payload: "2", qos: 1 } }));
    await json(b.api("/api/v4/mqtt/publish", { body: { topic: "mark", payload: "3", qos: 1 } }));
    await waitFor(() => got.length === 2, "the marker");
    assert.deepEqual(got, ["pushed/a=1", "mark=3"], "nothing after the unsubscribe");
    const missing = await json(
      b.api("/api/v4/mqtt/unsubscribe", { body: { clientid: there, topic: "pushed/#" } }),
      404,
    );
    assert.equal(missing.code, 112);

    const reason = new Promise<number | undefined>((r) => c.once("disconnect", (p) => r(p.reasonCode)));
    assert.equal((await json(b.api(`/api/v4/clients/${there}`, { method: "DELETE" }))).code, 0);
    assert.equal(await reason, 0x98);
    assert.equal((await json(b.api(`/api/v4/clients/${there}`, { method: "DELETE" }), 404)).code, 112);
    assert.equal(
      (await json(b.api(`/api/v4/clients/${idOn(0, "nobody-")}`, { method: "DELETE" }), 404)).code,
      112,
    );
  });

  test("a rule made through the API runs on both workers: messages of clients on each are stored", async () => {
    const made = await json(b.api("/api/v4/rules", {
      body: {
        rawsql: 'SELECT clientid, payload FROM "rows/#"',
        actions: [{ name: "sqlite", params: { table: "rows", path: `${b.dir}/rules.db` } }],
      },
    }));
    assert.equal(made.code, 0);
    const ids = idsOnBoth("rower-", 4);
    for (const id of ids) await (await connect(id)).publishAsync("rows/x", id, { qos: 1 });
    const stored = await until(
      () => {
        const db = openSqlite(`${b.dir}/rules.db`);
        try {
          return db.prepare("SELECT Clientid FROM rows").all().map((r) => String(r.Clientid)).sort();
        } finally {
          db.close();
        }
      },
      (l) => l.length === 4,
      "a row from each client",
    );
    assert.deepEqual(stored, [...ids].sort());
  });
});
