/**
 * The rule engine on a broker process: NanoMQ's documented rules (two SQLite rules, a repub of
 * {topic, payload}) reproduced and their rows read back; rules made, shown, disabled and deleted
 * through /api/v4/rules and `broker rules`, kept across a restart; a webhook action and a repub to
 * a second broker; actions that fail (a locked database, a broker that is down) never hold MQTT.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { type ApiBroker, json, startApiBroker } from "../helpers/api_broker.ts";
import { startHttpServer, type TestHttpServer } from "../helpers/http_server.ts";
import { freePort, type LiveBroker, startLiveBroker, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";
import { openSqlite } from "../../src/runtime/sqlite.ts";
import type { RuleView } from "../../src/admin/api_types.ts";

let b: ApiBroker;
let hook: TestHttpServer;
let second: LiveBroker;
const clients: MqttClient[] = [];
const DB = () => join(b.dir, "rules.db");

before(async () => {
  hook = await startHttpServer();
  second = await startLiveBroker();
  const rules = `rules.sqlite {\n  path = "RULES_DB"\n  rules = [\n` +
    `    { sql = "SELECT payload.x.y as y, payload.z as z FROM \\"#\\" WHERE y > 10 and z != 'str'", table = broker }\n` +
    `    { sql = "SELECT topic, payload FROM \\"abc\\"", table = broker1 }\n  ]\n}\n`;
  b = await startApiBroker({ conf: rules.replace("RULES_DB", "@DIR@/rules.db") });
});
after(async () => {
  for (const c of clients) c.end(true);
  await b.stop();
  await second.stop();
  await hook.close();
});

async function connect(clientId: string, port = b.mqttPort): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId, reconnectPeriod: 0 });
  clients.push(c);
  return c;
}

function rows(table: string): unknown[][] {
  const db = openSqlite(DB());
  try {
    return db.prepare(`SELECT * FROM ${table} ORDER BY RowId`).all().map((r) => Object.values(r));
  } finally {
    db.close();
  }
}

async function until<T>(get: () => T | Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0;; i++) {
    const v = await get();
    if (ok(v)) return v;
    if (i > 300) throw new Error(`Timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

type Rule = RuleView;
const rule = async (id: string) => (await json(b.api(`/api/v4/rules/${id}`))).data as Rule;

describe("rules", () => {
  test("NanoMQ's documented rules: rows of rules.sqlite with NanoMQ's schema, and a repub of {topic, payload}", async () => {
    const made = await json(b.api("/api/v4/rules", {
      body: {
        rawsql: 'SELECT topic, payload FROM "abc"',
        actions: [{
          name: "repub",
          params: {
            topic: "topic/repub1",
            address: `mqtt-tcp://127.0.0.1:${b.mqttPort}`,
            proto_ver: 4,
            clean_start: "true",
            keepalive: 60,
          },
        }],
        description: "repub-rule",
      },
    }));
    const id = (made.data as Rule).id;
    assert.equal(id, "rule:3", "after the two rules of the configuration");
    await until(
      async () => ((await json(b.api("/api/v4/clients"))).data as { client_id: string }[]),
      (l) => l.some((c) => c.client_id.startsWith("repub-rule-3")),
      "the repub client",
    );
    const sub = await connect("repub-watch");
    const got: string[] = [];
    sub.on("message", (_t, p) => got.push(String(p)));
    await sub.subscribeAsync("topic/repub1");
    const pub = await connect("dev");
    await pub.publishAsync("abc", "aaa", { qos: 1 });
    for (
      const p of [
        '{"x":{"y":20},"z":"hello"}',
        '{"x":{"y":5},"z":"hello"}',
        '{"x":{"y":30},"z":"str"}',
        "plain",
      ]
    ) {
      await pub.publishAsync("t/1", p, { qos: 1 });
    }
    await waitFor(() => got.length === 1, "the republished message");
    assert.deepEqual(JSON.parse(got[0]!), { topic: "abc", payload: "aaa" });
    assert.deepEqual(await until(() => rows("broker"), (r) => r.length === 1, "the row of rule:1"), [[
      1,
      20,
      "hello",
    ]]);
    assert.deepEqual(rows("broker1"), [[1, "abc", "aaa"]]);
    const db = openSqlite(DB());
    const cols = db.prepare("PRAGMA table_info(broker1)").all().map((c) => `${c.name} ${c.type}`);
    db.close();
    assert.deepEqual(cols, ["RowId INTEGER", "Topic TEXT", "Payload TEXT"]);
    assert.deepEqual((await rule(id)).metrics.actions, [{ name: "repub", ok: 1, failed: 0, dropped: 0 }]);
  });

  test("/api/v4/rules: a webhook action on a JSON field, a repub to a second broker; show, disable, delete; refusals", async () => {
    const far = await connect("far-sub", second.port);
    const farGot: string[] = [];
    far.on("message", (_t, p) => farGot.push(String(p)));
    await far.subscribeAsync("hot");
    const made = await json(b.api("/api/v4/rules", {
      body: {
        rawsql: 'SELECT payload.temp as t, clientid FROM "sensors/#" WHERE t >= 30',
        actions: [
          { name: "webhook", params: { url: `${hook.url}/rule` } },
          { name: "repub", params: { topic: "hot", address: `mqtt-tcp://127.0.0.1:${second.port}` } },
        ],
      },
    }));
    const id = (made.data as Rule).id;
    await until(
      () => second.broker.clients(),
      (l) => l.some((c) => c.clientId.startsWith("repub-")),
      "the repub client",
    );
    const dev = await connect("dev-2");
    await dev.publishAsync("sensors/a", '{"temp": 31}', { qos: 1 });
    await dev.publishAsync("sensors/a", '{"temp": 20}', { qos: 1 });
    await waitFor(
      () => hook.seen.some((r) => r.path === "/rule") && farGot.length === 1,
      "the webhook and the repub",
    );
    assert.deepEqual(JSON.parse(hook.seen.find((r) => r.path === "/rule")!.body), {
      t: 31,
      clientid: "dev-2",
    });
    assert.deepEqual(JSON.parse(farGot[0]!), { t: 31, clientid: "dev-2" });
    const shown = await rule(id);
    assert.deepEqual([shown.metrics.matched, shown.metrics.passed], [2, 1]);
    assert.deepEqual(
      (await json(b.api(`/api/v4/rules/${id}`, { method: "PUT", body: { enabled: false } }))).code,
      0,
    );
    await dev.publishAsync("sensors/a", '{"temp": 40}', { qos: 1 });
    assert.equal((await rule(id)).metrics.matched, 2, "a disabled rule is not evaluated");
    const prom = await (await b.api("/api/v4/prometheus")).text();
    assert.match(prom, new RegExp(`^broker_rule_passed_total\\{rule="${id}"\\} 1$`, "m"));
    assert.equal((await json(b.api(`/api/v4/rules/${id}`, { method: "DELETE" }))).code, 0);
    assert.equal((await json(b.api(`/api/v4/rules/${id}`), 404)).code, 108);

    const bad = await json(
      b.api("/api/v4/rules", {
        body: { rawsql: 'SELECT payload.x FORM "t"', actions: [{ name: "sqlite", params: { table: "x" } }] },
      }),
      400,
    );
    assert.match(String(bad.message), /^SQL error at position 18: expected FROM/);
    const unknown = await json(
      b.api("/api/v4/rules", {
        body: { rawsql: 'SELECT * FROM "t"', actions: [{ name: "mysql", params: {} }] },
      }),
      400,
    );
    assert.match(String(unknown.message), /unknown action "mysql"; actions are repub, sqlite, webhook/);
    const field = await json(
      b.api("/api/v4/rules", {
        body: { rawsql: 'SELECT temp FROM "t"', actions: [{ name: "sqlite", params: { table: "x" } }] },
      }),
      400,
    );
    assert.match(String(field.message), /SQL error at position 8: unknown field "temp"/);
    const config = await json(
      b.api("/api/v4/rules/rule:1", { method: "PUT", body: { enabled: false } }),
      400,
    );
    assert.match(String(config.message), /rule:1 comes from the configuration file/);
  });

  test("a failing action holds nothing: a locked database is written once free, a repub to a broker that is down waits", async () => {
    const down = await freePort();
    await json(b.api("/api/v4/rules", {
      body: {
        rawsql: 'SELECT payload FROM "down/#"',
        actions: [{ name: "repub", params: { topic: "x", address: `mqtt-tcp://127.0.0.1:${down}` } }],
      },
    }));
    const before = rows("broker1").length;
    const lock = openSqlite(DB());
    lock.exec("BEGIN EXCLUSIVE");
    const dev = await connect("dev-3");
    for (let i = 0; i < 50; i++) await dev.publishAsync("abc", `locked ${i}`, { qos: 1 }); // acknowledged meanwhile
    for (let i = 0; i < 5; i++) await dev.publishAsync("down/t", `${i}`, { qos: 1 });
    assert.equal(rows("broker1").length, before, "nothing could be written yet");
    lock.exec("COMMIT");
    lock.close();
    await until(() => rows("broker1").length, (n) => n === before + 50, "the 50 rows once the lock is gone");
    await waitFor(
      () => /Rule sqlite action on table broker1: database is locked/.test(b.output()),
      "the locked database in the log",
    );
    await waitFor(
      () => /Rule repub to x: no connection to mqtt-tcp:\/\/127\.0\.0\.1:\d+/.test(b.output()),
      "the repub failure in the log",
    );
  });

  test("rules made through the API survive a restart; broker rules --create, --list, --show, --disable, --delete", async () => {
    const conf = join(b.dir, "nanomq.conf");
    const cli = (args: string[]) =>
      run(process.execPath, ["src/main.ts", "rules", "--conf", conf, ...args]).done;
    const made = await cli([
      "--create",
      "--sql",
      'SELECT qos, topic FROM "cli/#"',
      "--actions",
      `[{"name": "sqlite", "params": {"table": "cli"}}]`,
      "--description",
      "from the cli",
    ]);
    assert.equal(made.code, 0, made.stderr);
    const id = (JSON.parse(made.stdout) as Rule).id;
    const logged = b.output().split("listening on").length;
    await json(b.api("/api/v4/ctrl/restart", { body: {} }));
    await waitFor(() => b.output().split("listening on").length > logged, "the restart");
    const list = await cli(["--list"]);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(
      (JSON.parse(list.stdout) as Rule[]).some((r) => r.id === id && r.source === "api"),
      list.stdout,
    );
    const dev = await connect("dev-4");
    await dev.publishAsync("cli/x", "1", { qos: 1 });
    assert.deepEqual(await until(() => rows("cli"), (r) => r.length === 1, "the row"), [[1, 1, "cli/x"]]);
    assert.equal((await cli(["--disable", "--id", id.replace("rule:", "")])).code, 0);
    assert.equal((JSON.parse((await cli(["--show", "--id", id])).stdout) as Rule).enabled, false);
    assert.equal((await cli(["--delete", "--id", id])).code, 0);
    const gone = await cli(["--show", "--id", id]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /HTTP 404.*No rule/);
    const bad = await cli(["--create", "--sql", "SELECT", "--actions", "[]"]);
    assert.equal(bad.code, 1);
  });
});
