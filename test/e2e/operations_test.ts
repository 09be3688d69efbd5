/**
 * Operating a broker process: /api/v4/prometheus checked by promtool, the `$SYS/broker/...` tree
 * over two sys_interval periods, NanoMQ's client events, both readable only where the ACL allows,
 * JWT authentication (RS256 and HS256), the API refusing to start without credentials, and
 * ctrl/restart and ctrl/stop.
 */
import assert from "node:assert/strict";
import { generateKeyPairSync, sign } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import net from "node:net";
import { after, describe, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { type ApiBroker, json, startApiBroker } from "../helpers/api_broker.ts";
import { freePort, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";
import { hs256, jwt } from "../helpers/jwt.ts";

const clients: MqttClient[] = [];
const brokers: ApiBroker[] = [];

async function connect(b: ApiBroker, clientId: string, o: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.mqttPort}`, { clientId, reconnectPeriod: 0, ...o });
  clients.push(c);
  return c;
}

/** The SUBACK codes, refusals included (MQTT.js rejects a SUBACK that refuses any filter). */
async function granted(c: MqttClient, topics: string[]): Promise<number[]> {
  try {
    return (await c.subscribeAsync(topics)).map((g) => g.qos);
  } catch (e) {
    const packet = (e as { packet?: { granted?: number[] } }).packet;
    if (packet?.granted === undefined) throw e;
    return packet.granted;
  }
}

async function broker(o: Parameters<typeof startApiBroker>[0] = {}): Promise<ApiBroker> {
  const b = await startApiBroker(o);
  brokers.push(b);
  return b;
}

after(async () => {
  for (const c of clients) c.end(true);
  await Promise.all(brokers.map((b) => b.stop()));
});

const dir = mkdtempSync(join(tmpdir(), "broker-ops-"));
const acl = join(dir, "acl.conf");
writeFileSync(
  acl,
  "allow username admin 3 #\nallow username admin 2 $SYS/#\nallow username guest 3 sensors/#\ndeny username * 3 #\n",
);

describe("metrics and $SYS", () => {
  test("/api/v4/prometheus parses with promtool; NanoMQ's names and ours carry the live values", async () => {
    const b = await broker({
      conf: `sqlite { mounted_file_path = "${mkdtempSync(join(dir, "store-"))}" }\n`,
    });
    const c = await connect(b, "prom-1");
    await connect(b, "prom-2");
    await c.subscribeAsync("p/#", { qos: 1 });
    for (let i = 0; i < 3; i++) await c.publishAsync("p/x", "hello", { qos: 1 });
    const res = await b.api("/api/v4/prometheus");
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const check = await run("promtool", ["check", "metrics"], 15_000, {}, text).done;
    // promtool parses first (exit 1 on a format error), then lints: only NanoMQ's own four
    // "_count" gauge names, kept for NanoMQ users' dashboards, may draw a remark
    assert.notEqual(check.code, 1, check.stderr);
    const remarks = (check.stdout + check.stderr).split("\n").filter((l) => l.trim() !== "");
    for (const r of remarks) {
      assert.match(r, /^nanomq_(connections|sessions|subscribers|topics)_count non-histogram/, r);
    }
    const value = (name: string) =>
      Number(text.split("\n").find((l) => l.startsWith(`${name} `))?.slice(name.length + 1));
    assert.equal(value("nanomq_connections_count"), 2);
    assert.equal(value("nanomq_subscribers_count"), 1);
    assert.ok(value("nanomq_messages_received") >= 3);
    assert.equal(value(`broker_listener_connections{listener="listeners.tcp",port="${b.mqttPort}"}`), 2);
    assert.ok(value("broker_bytes_received_total") > 0);
    assert.ok(value('broker_store_commit_seconds_bucket{le="+Inf"}') > 0, "commits were timed");
    assert.equal(value('broker_messages_dropped_total{reason="queue_full"}'), 0);
  });

  test("$SYS/broker/... every sys_interval, retained, readable only where the ACL allows; # does not match it", async () => {
    const b = await broker({ conf: `mqtt.sys_interval = 1\nauth.acl_file = "${acl}"\n` });
    const admin = await connect(b, "sys-admin", { username: "admin" });
    const uptimes: string[] = [];
    const seen = new Map<string, string>();
    admin.on("message", (t, p) => {
      seen.set(t, String(p));
      if (t === "$SYS/broker/uptime") uptimes.push(String(p));
    });
    await admin.subscribeAsync("$SYS/broker/#");
    await waitFor(() => uptimes.length >= 2, "two uptime updates", 15_000);
    assert.notEqual(uptimes[0], uptimes[1]);
    assert.match(uptimes[1]!, /^\d+ seconds$/);
    assert.equal(seen.get("$SYS/broker/clients/connected"), "1");
    for (
      const t of [
        "version",
        "messages/received",
        "bytes/sent",
        "load/messages/received/1min",
        "heap/current",
        "retained messages/count",
      ]
    ) {
      assert.ok(seen.has(`$SYS/broker/${t}`), t);
    }
    const guest = await connect(b, "sys-guest", { username: "guest" });
    const guestGot: string[] = [];
    guest.on("message", (t) => guestGot.push(t));
    assert.deepEqual(
      await granted(guest, ["$SYS/broker/uptime", "sensors/#"]),
      [128, 0],
      "the ACL refuses $SYS to guest",
    );
    const everything = await connect(b, "sys-hash", { username: "admin" });
    const hashGot: string[] = [];
    everything.on("message", (t) => hashGot.push(t));
    await everything.subscribeAsync("#");
    const n = uptimes.length;
    await waitFor(() => uptimes.length >= n + 1, "another update");
    await admin.publishAsync("sensors/t", "1");
    await waitFor(() => guestGot.includes("sensors/t") && hashGot.includes("sensors/t"), "sensors/t");
    assert.deepEqual(guestGot, ["sensors/t"]);
    assert.ok(!hashGot.some((t) => t.startsWith("$SYS")), hashGot.join(", "));
  });

  test("client events on $SYS/brokers/connected and disconnected with NanoMQ's fields", async () => {
    const b = await broker({ conf: `auth.acl_file = "${acl}"\n` });
    const watcher = await connect(b, "watcher", { username: "admin" });
    const events: [string, Record<string, unknown>][] = [];
    watcher.on("message", (t, p) => events.push([t, JSON.parse(String(p))]));
    await watcher.subscribeAsync("$SYS/brokers/+");
    const c = await connect(b, "evented", { username: "guest", protocolVersion: 5, keepalive: 30 });
    await waitFor(() => events.length === 1, "the connected event");
    const [topic, ev] = events[0]!;
    assert.equal(topic, "$SYS/brokers/connected");
    assert.deepEqual({ ...ev, ts: 0 }, {
      username: "guest",
      ts: 0,
      proto_name: "MQTT",
      keepalive: 30,
      return_code: "0",
      proto_ver: 5,
      client_id: "evented",
      clean_start: 1,
      IPv4: "127.0.0.1",
    });
    assert.ok(Math.abs((ev.ts as number) - Date.now()) < 60_000);
    await c.endAsync();
    await waitFor(() => events.length === 2, "the disconnected event");
    assert.equal(events[1]![0], "$SYS/brokers/disconnected");
    assert.deepEqual({ ...events[1]![1], ts: 0 }, {
      username: "guest",
      ts: 0,
      reason_code: "0",
      client_id: "evented",
      IPv4: "127.0.0.1",
    });
    // the guest may not read the events of anyone, its own included
    const guest = await connect(b, "evented-2", { username: "guest" });
    assert.deepEqual(await granted(guest, ["$SYS/brokers/+"]), [128]);
  });
});

describe("HTTP API: JWT and refusals", () => {
  test("RS256: a token signed with the key passes; another key, alg none, an HS256 token, a wrong iss and an expired one do not", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const keyfile = join(dir, "jwtRS256.key.pub");
    writeFileSync(keyfile, publicKey.export({ type: "spki", format: "pem" }));
    const b = await broker({ http: `auth_type = jwt\n  jwt.public.keyfile = "${keyfile}"` });
    const exp = Math.floor(Date.now() / 1000) + 600;
    const rs = (k: typeof privateKey) => (d: Buffer) => sign("RSA-SHA256", d, k);
    const call = (token: string) =>
      b.api("/api/v4/brokers", { headers: { authorization: `Bearer ${token}` } });
    const good = jwt({ alg: "RS256", typ: "JWT" }, { iss: "jwtRS256.key.pub", exp }, rs(privateKey));
    assert.equal((await call(good)).status, 200);
    assert.deepEqual(
      await (await call(jwt({ alg: "RS256" }, { iss: "jwtRS256.key.pub", exp }, rs(other)))).json(),
      { code: 103 },
    );
    assert.equal(
      (await call(jwt({ alg: "none" }, { iss: "jwtRS256.key.pub", exp }, () => Buffer.alloc(0)))).status,
      401,
    );
    const pem = publicKey.export({ type: "spki", format: "pem" }) as string;
    const confused = jwt(
      { alg: "HS256" },
      { iss: "jwtRS256.key.pub", exp },
      hs256(pem),
    );
    assert.equal((await call(confused)).status, 401, "an HS256 token signed with the public key");
    assert.equal((await call(jwt({ alg: "RS256" }, { iss: "someone", exp }, rs(privateKey)))).status, 401);
    const expired = await call(
      jwt({ alg: "RS256" }, { iss: "jwtRS256.key.pub", exp: exp - 1200 }, rs(privateKey)),
    );
    assert.equal(expired.status, 401);
    assert.deepEqual(await expired.json(), { code: 116 });
    assert.equal((await b.api("/api/v4/brokers", { headers: {} })).status, 401);
  });

  test("HS256: a file with a shared secret; the right secret passes, another does not", async () => {
    const keyfile = join(dir, "hs.secret");
    const secret = "a-shared-secret-of-at-least-32-bytes!";
    writeFileSync(keyfile, `${secret}\n`);
    const b = await broker({ http: `auth_type = jwt\n  jwt.public.keyfile = "${keyfile}"` });
    const call = (token: string) => b.api("/api/v4/nodes", { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await call(jwt({ alg: "HS256" }, { iss: "hs.secret" }, hs256(secret)))).status, 200);
    assert.equal(
      (await call(jwt({ alg: "HS256" }, { iss: "hs.secret" }, hs256("another-secret-of-at-least-32-bytes"))))
        .status,
      401,
    );
  });

  test("the API does not start without credentials unless auth_type = no_auth says so", async () => {
    const conf = join(dir, "open.conf");
    const port = await freePort();
    writeFileSync(
      conf,
      `listeners.tcp.bind = "127.0.0.1:0"\nhttp_server { port = ${port}\n  password = "" }\n`,
    );
    const r = await run(process.execPath, ["src/main.ts", "start", "--conf", conf], 20_000, {
      NANOMQ_PID_FILE: join(dir, "open.pid"),
    }).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /open\.conf.*http_server\.password.*no_auth/);
    const noKey = join(dir, "nokey.conf");
    writeFileSync(
      noKey,
      `listeners.tcp.bind = "127.0.0.1:0"\nhttp_server { port = ${port}\n  auth_type = jwt }\n`,
    );
    const r2 = await run(process.execPath, ["src/main.ts", "start", "--conf", noKey], 20_000, {
      NANOMQ_PID_FILE: join(dir, "nokey.pid"),
    }).done;
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /http_server\.jwt\.public\.keyfile/);
    const open = await broker({ http: "auth_type = no_auth" });
    assert.equal((await open.api("/api/v4/brokers", { headers: {} })).status, 200);
    assert.match(open.output(), /HTTP API runs without authentication/);
  });
});

describe("HTTP API: ctrl", () => {
  test("ctrl/restart starts the broker again in the same process; ctrl/stop stops it (exit 0)", async () => {
    const b = await broker({
      conf: `sqlite { mounted_file_path = "${mkdtempSync(join(dir, "store-"))}" }\n`,
    });
    const c = await connect(b, "survivor", { clean: false });
    await c.subscribeAsync("kept/#", { qos: 1 });
    c.end(true);
    let exited = false;
    void b.done.then(() => (exited = true));
    assert.equal((await json(b.api("/api/v4/ctrl/restart", { body: {} }))).code, 0);
    await waitFor(() => b.output().split("listening on").length === 3, "the second start", 20_000);
    assert.match(b.output(), /Stopping to restart/);
    assert.equal(exited, false, "the process went on");
    assert.equal(
      readFileSync(join(b.dir, "nanomq.pid"), "utf8").trim(),
      String(b.pid),
      "the same pid, written again",
    );
    const pub = await connect(b, "restart-pub");
    await pub.publishAsync("kept/t", "after restart", { qos: 1 });
    const got: string[] = [];
    const back = mqtt.connect(`mqtt://127.0.0.1:${b.mqttPort}`, {
      clientId: "survivor",
      clean: false,
      reconnectPeriod: 0,
    });
    clients.push(back);
    back.on("message", (_t, p) => got.push(String(p)));
    await waitFor(() => got.length === 1, "the message for the restored session");
    assert.deepEqual(got, ["after restart"]);
    assert.equal((await json(b.api("/api/v4/brokers"))).code, 0, "the API is back too");
    assert.equal((await json(b.api("/api/v4/ctrl/stop", { body: {} }))).code, 0);
    const r = await b.done;
    assert.equal(r.code, 0, r.stderr);
  });

  test("limit_conn: a request on a connection over it gets 503; once one closes the next is served; a body over 4 MB gets 413", async () => {
    const b = await broker({ http: 'username = admin\n  password = "s3cret-pass"\n  limit_conn = 2' });
    const auth = `Basic ${Buffer.from("admin:s3cret-pass").toString("base64")}`;
    // a kept-alive connection that has made one request
    const open = () =>
      new Promise<net.Socket>((resolve) => {
        const s = net.connect(b.httpPort, "127.0.0.1", () => {
          s.write(`GET /api/v4/nodes HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\n\r\n`);
          s.once("data", () => resolve(s));
        });
      });
    const [s1, s2] = [await open(), await open()];
    const third = await b.api("/api/v4/brokers");
    assert.equal(third.status, 503);
    s1.destroy();
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      // the server learns of the close a moment later
      status = (await b.api("/api/v4/brokers")).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 200);
    s2.destroy();
    const big = await b.api("/api/v4/mqtt/publish", { body: "x".repeat(5 * 1024 * 1024) }).catch(() => null);
    assert.equal(big?.status, 413);
    assert.equal(b.output().includes("Internal error"), false);
  });
});

describe("HTTP API: what kicking and $SYS leave behind", () => {
  test("a kicked client's will is published", async () => {
    const b = await broker();
    const watcher = await connect(b, "will-watcher");
    const wills: string[] = [];
    watcher.on("message", (_t, p) => wills.push(String(p)));
    await watcher.subscribeAsync("wills/#");
    await connect(b, "will-owner", {
      will: { topic: "wills/owner", payload: Buffer.from("gone"), qos: 1, retain: false },
    });
    await json(b.api("/api/v4/clients/will-owner", { method: "DELETE" }));
    await waitFor(() => wills.length === 1, "the will");
    assert.deepEqual(wills, ["gone"]);
  });

  test("$SYS retained messages are not stored: after a restart without $SYS only other retained ones are there", async () => {
    const store = mkdtempSync(join(dir, "store-"));
    const a = await broker({ conf: `mqtt.sys_interval = 1\nsqlite { mounted_file_path = "${store}" }\n` });
    const c = await connect(a, "sys-store");
    const sys: string[] = [];
    c.on("message", (t) => sys.push(t));
    await c.subscribeAsync("$SYS/broker/uptime");
    await waitFor(() => sys.length >= 1, "a $SYS update", 15_000);
    await c.publishAsync("kept/retained", "r", { qos: 1, retain: true });
    c.end(true);
    await a.stop();
    const b = await broker({ conf: `mqtt.sys_interval = 0\nsqlite { mounted_file_path = "${store}" }\n` });
    const d = await connect(b, "sys-store-2");
    const got: string[] = [];
    d.on("message", (t) => got.push(t));
    // retained messages come in the order of the filters: $SYS/# first
    await d.subscribeAsync(["$SYS/#", "kept/#"]);
    await waitFor(() => got.includes("kept/retained"), "the stored retained message");
    assert.deepEqual(got, ["kept/retained"]);
  });
});
