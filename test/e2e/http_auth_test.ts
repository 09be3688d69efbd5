/**
 * HTTP authentication (`auth.http_auth`) against a real HTTP server started here, with MQTT.js
 * clients on a real broker: allow, deny, timeout, server down, placeholders, GET and JSON,
 * superusers, acl_req for publish and subscribe with its cache, and HTTPS. The last test runs the
 * broker process with a nanomq.conf, so that the configuration keys are what is tested.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import mqtt from "mqtt";
import { parseHmqAcl } from "../../src/auth/acl_rules.ts";
import { type AuthSettings, createAuth } from "../../src/auth/create_auth.ts";
import type { HttpAuthSettings, HttpRequestSpec } from "../../src/auth/http_auth.ts";
import { createHttpClient } from "../../src/runtime/http_client.ts";
import { makeTestCerts } from "../helpers/certs.ts";
import { startHttpServer, type TestHttpServer } from "../helpers/http_server.ts";
import { freePort, type LiveBroker, startLiveBroker, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

const certs = makeTestCerts();
const warnings: string[] = [];

function req(url: string, o: Partial<HttpRequestSpec> = {}): HttpRequestSpec {
  return { url, method: "post", headers: {}, params: {}, ...o };
}

function settings(http: Partial<HttpAuthSettings>, o: Partial<AuthSettings> = {}): AuthSettings {
  return {
    allowAnonymous: true,
    passwords: {},
    rules: [],
    noMatch: "allow",
    denyAction: "ignore",
    http: {
      auth: null,
      superuser: null,
      acl: null,
      timeoutMs: 500,
      connectTimeoutMs: 500,
      poolSize: 4,
      cacheTtlMs: 60_000,
      cacheSize: 32,
      ...http,
    },
    ...o,
  };
}

/** The SUBACK codes (MQTT.js rejects when one is a failure). */
async function granted(c: mqtt.MqttClient, filters: string | string[]): Promise<number[]> {
  try {
    return (await c.subscribeAsync(filters, { qos: 1 })).map((g) => g.qos);
  } catch (e) {
    return ((e as { packet?: { granted?: number[] } }).packet?.granted ?? []).map(Number);
  }
}

async function refusedWith(url: string, o: mqtt.IClientOptions): Promise<number> {
  try {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...o });
    c.end(true);
    return 0;
  } catch (e) {
    return (e as { code?: number }).code ?? -1;
  }
}

describe("HTTP authentication", () => {
  let lb: LiveBroker;
  let srv: TestHttpServer;
  const send = createHttpClient(4);
  const use = (s: AuthSettings) =>
    lb.broker.setAuth(createAuth(s, { send, now: Date.now, warn: (m) => void warnings.push(m) }));
  before(async () => {
    lb = await startLiveBroker({});
    srv = await startHttpServer();
  });
  after(async () => {
    await lb.stop();
    await srv.close();
  });

  test("auth_req: 200 lets the client in, 4xx refuses it (0x86, 3.1.1: 4); the placeholders are filled", async () => {
    use(settings({
      auth: req(`${srv.url}/auth`, {
        params: { c: "%c", u: "%u", p: "%P", a: "%a", port: "%p", r: "%r", fixed: "x" },
      }),
    }));
    srv.answer = (r) => (r.fields.p === "right" ? 200 : 403);
    const ok = await mqtt.connectAsync(lb.url, {
      clientId: "dev-1",
      username: "ann",
      password: "right",
      reconnectPeriod: 0,
    });
    ok.end(true);
    const seen = srv.seen.at(-1)!;
    assert.equal(seen.method, "POST");
    assert.equal(seen.headers["content-type"], "application/x-www-form-urlencoded");
    assert.deepEqual(seen.fields, {
      c: "dev-1",
      u: "ann",
      p: "right",
      a: "127.0.0.1",
      port: String(lb.port),
      r: "4",
      fixed: "x",
    });
    const v5 = { clientId: "dev-2", username: "ann", password: "wrong", protocolVersion: 5 as const };
    assert.equal(await refusedWith(lb.url, v5), 0x86);
    assert.equal(await refusedWith(lb.url, { ...v5, protocolVersion: 4 }), 4);
  });

  test("anonymous clients are asked too, even with allow_anonymous = true", async () => {
    use(settings({ auth: req(`${srv.url}/auth`, { params: { u: "%u" } }) }));
    srv.answer = () => 401;
    assert.equal(await refusedWith(lb.url, { protocolVersion: 5 }), 0x86);
    assert.deepEqual(srv.seen.at(-1)!.fields, { u: "" });
  });

  test("GET puts the parameters in the query; a JSON content type makes a JSON body", async () => {
    use(settings({ auth: req(`${srv.url}/auth?k=1`, { method: "get", params: { c: "%c" } }) }));
    srv.answer = () => 200;
    (await mqtt.connectAsync(lb.url, { clientId: "g", reconnectPeriod: 0 })).end(true);
    assert.deepEqual([srv.seen.at(-1)!.method, srv.seen.at(-1)!.query], ["GET", { k: "1", c: "g" }]);
    use(settings({
      auth: req(`${srv.url}/auth`, { headers: { "content-type": "application/json" }, params: { c: "%c" } }),
    }));
    (await mqtt.connectAsync(lb.url, { clientId: "j", reconnectPeriod: 0 })).end(true);
    assert.deepEqual(JSON.parse(srv.seen.at(-1)!.body), { c: "j" });
  });

  test("a server that does not answer in time, or is not there, refuses the client and is logged", async () => {
    use(settings({ auth: req(`${srv.url}/auth`) }));
    srv.answer = () => "hang";
    warnings.length = 0;
    assert.equal(await refusedWith(lb.url, { protocolVersion: 5 }), 0x86);
    assert.match(
      warnings.join("\n"),
      /auth_req failed \(POST http:\/\/127\.0\.0\.1:\d+\/auth: no answer within 500 ms\); denied/,
    );
    const down = await freePort();
    use(settings({ auth: req(`http://127.0.0.1:${down}/auth`) }));
    assert.equal(await refusedWith(lb.url, { protocolVersion: 5 }), 0x86);
    assert.equal(await refusedWith(lb.url, { protocolVersion: 5 }), 0x86);
    assert.equal(
      warnings.filter((w) => w.includes(`127.0.0.1:${down}`)).length,
      1,
      "rate-limited to one line",
    );
    srv.answer = () => 200;
  });

  test("acl_req decides publish (%A = 2) and subscribe (%A = 1); its answers are cached", async () => {
    use(settings({ acl: req(`${srv.url}/acl`, { params: { access: "%A", topic: "%t", c: "%c" } }) }));
    srv.answer = (r) => (r.path !== "/acl" || !r.fields.topic?.startsWith("secret") ? 200 : 403);
    const sub = await mqtt.connectAsync(lb.url, { clientId: "s", protocolVersion: 5, reconnectPeriod: 0 });
    assert.deepEqual(await granted(sub, ["open/#", "secret/#"]), [1, 0x87]);
    const got: string[] = [];
    sub.on("message", (t) => got.push(t));
    const pub = await mqtt.connectAsync(lb.url, { clientId: "p", protocolVersion: 5, reconnectPeriod: 0 });
    const asked = srv.seen.length;
    for (const t of ["open/a", "secret/b", "open/a", "open/a"]) {
      await pub.publishAsync(t, "x", { qos: 1 }).catch(() => {});
    }
    await waitFor(() => got.length >= 3, "the allowed messages");
    assert.deepEqual(got, ["open/a", "open/a", "open/a"]);
    const acl = srv.seen.slice(asked).map((r) => `${r.fields.access} ${r.fields.topic}`);
    assert.deepEqual(acl, ["2 open/a", "2 secret/b"], "each topic asked once");
    assert.ok(srv.seen.some((r) => r.fields.access === "1" && r.fields.topic === "secret/#"));
    sub.end(true);
    pub.end(true);
  });

  test("super_req makes a superuser, whom the ACL rules do not stop", async () => {
    const rules = parseHmqAcl("deny clientid * pubsub admin/#\n", "acl.conf");
    use(settings({
      auth: req(`${srv.url}/auth`),
      superuser: req(`${srv.url}/super`, { params: { u: "%u" } }),
    }, { rules }));
    srv.answer = (r) => (r.path === "/super" && r.fields.u !== "root" ? 403 : 200);
    const root = await mqtt.connectAsync(lb.url, {
      username: "root",
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    const joe = await mqtt.connectAsync(lb.url, { username: "joe", protocolVersion: 5, reconnectPeriod: 0 });
    assert.deepEqual(await granted(root, "admin/#"), [1]);
    assert.deepEqual(await granted(joe, "admin/#"), [0x87]);
    root.end(true);
    joe.end(true);
  });
});

describe("HTTP authentication from nanomq.conf, over HTTPS", () => {
  test("auth_req over https:// with ssl.cacertfile: the server is verified and decides", async () => {
    const srv = await startHttpServer({ key: certs.pem(certs.keyFile), cert: certs.pem(certs.certFile) });
    srv.answer = (r) => (r.fields.password === "s3cret" ? 200 : 403);
    const port = await freePort();
    const conf = join(certs.dir, "http_auth.conf");
    writeFileSync(
      conf,
      `listeners.tcp.bind = "127.0.0.1:${port}"\nauth {\n  allow_anonymous = true\n  http_auth {\n` +
        `    auth_req {\n      url = "${srv.url}/mqtt/auth"\n      method = post\n` +
        `      headers.content-type = "application/x-www-form-urlencoded"\n` +
        `      params = {clientid = "%c", username = "%u", password = "%P"}\n` +
        `      ssl { cacertfile = "${certs.caFile}" }\n    }\n    timeout = 2s\n  }\n}\n`,
    );
    const b = run(process.execPath, ["src/main.ts", "start", "--conf", conf], 60_000, {
      NANOMQ_PID_FILE: join(certs.dir, "http_auth.pid"),
    });
    try {
      await waitFor(() => b.output().includes("listening on"), "the broker", 15_000).catch(() => {
        throw new Error(b.output());
      });
      const url = `mqtt://127.0.0.1:${port}`;
      const ok = await mqtt.connectAsync(url, { username: "u", password: "s3cret", reconnectPeriod: 0 });
      ok.end(true);
      assert.equal(await refusedWith(url, { username: "u", password: "nope", protocolVersion: 5 }), 0x86);
      assert.equal(srv.seen.at(-1)!.path, "/mqtt/auth");
    } finally {
      b.kill();
      await b.done;
      await srv.close();
    }
  });
});
