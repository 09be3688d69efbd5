/**
 * The dashboard's files on the HTTP API's port of the release binary, read with fetch: served
 * without credentials (they hold no data) with a content security policy, gzipped, revalidated by
 * ETag; the API beside them still refuses requests without credentials, without the challenge
 * that would make a browser open its own dialog when the dashboard asks. And the two endpoints
 * the dashboard added: retained messages and the webhook. And the same files from source under Bun,
 * built when the broker starts.
 */
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import { after, before, test } from "node:test";
import mqtt from "mqtt";
import { startTcpBroker, type TcpBroker } from "../helpers/tcp_broker.ts";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { freePort, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

let b: TcpBroker;
let base = "";
const AUTH = { authorization: `Basic ${Buffer.from("admin:dash-pass-1").toString("base64")}` };

before(async () => {
  const hook = await freePort();
  b = await startTcpBroker(
    `http_server { auth_type = basic, username = admin, password = "dash-pass-1" }\n` +
      `webhook { url = "http://127.0.0.1:${hook}/hook", events = [ { event = "on_client_connack" } ] }\n`,
  );
  base = `http://127.0.0.1:${b.httpPort}`;
});
after(async () => {
  await b.stop();
});

test("the page, its script and style are served without credentials, with a CSP", async () => {
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
  const html = await page.text();
  assert.match(html, /<script type="module" src="\/dashboard\/app.js"><\/script>/);
  const js = await fetch(`${base}/dashboard/app.js`);
  assert.equal(js.status, 200);
  assert.match(js.headers.get("content-type") ?? "", /^text\/javascript/);
  const code = await js.text();
  assert.ok(code.includes("u-legend"), "uPlot is bundled into app.js");
  assert.ok(
    !/https?:\/\/(?!127\.0\.0\.1)[a-z]/i.test(code.replace(/http:\/\/www\.w3\.org\/[\w/]+/g, "")),
    "no URL to fetch from elsewhere",
  );
  const css = await fetch(`${base}/dashboard/app.css`);
  assert.match(await css.text(), /\.uplot/);
  assert.deepEqual(await (await fetch(`${base}/dashboard/auth.json`)).json(), { auth: "basic" });
  assert.equal((await fetch(`${base}/dashboard/nothing.js`)).status, 404);
  assert.equal((await fetch(`${base}/`, { method: "POST" })).status, 405);
});

test("gzip when asked, and a 304 for the ETag already held", async () => {
  const plain = Buffer.from(
    await (await fetch(`${base}/dashboard/app.js`, { headers: { "accept-encoding": "identity" } }))
      .arrayBuffer(),
  );
  const { default: http } = await import("node:http");
  const zipped = await new Promise<{ enc: string | undefined; body: Buffer; etag: string }>(
    (resolve, reject) => {
      http.get(`${base}/dashboard/app.js`, { headers: { "accept-encoding": "gzip" } }, (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () =>
          resolve({
            enc: res.headers["content-encoding"],
            body: Buffer.concat(parts),
            etag: String(res.headers.etag),
          }));
      }).on("error", reject);
    },
  );
  assert.equal(zipped.enc, "gzip");
  assert.ok(zipped.body.length < plain.length / 2, `gzip ${zipped.body.length} B of ${plain.length} B`);
  assert.deepEqual(gunzipSync(zipped.body), plain);
  const again = await fetch(`${base}/dashboard/app.js`, { headers: { "if-none-match": zipped.etag } });
  assert.equal(again.status, 304);
});

test("the API still wants credentials; the dashboard's requests get no challenge", async () => {
  const browser = await fetch(`${base}/api/v4/brokers`);
  assert.equal(browser.status, 401);
  assert.match(browser.headers.get("www-authenticate") ?? "", /^Basic/);
  const dashboard = await fetch(`${base}/api/v4/brokers`, { headers: { "x-requested-with": "dashboard" } });
  assert.equal(dashboard.status, 401);
  assert.equal(dashboard.headers.get("www-authenticate"), null);
  assert.deepEqual(await dashboard.json(), { code: 104 });
});

test("GET /api/v4/retained lists retained messages by filter, text or base64, paged", async () => {
  const c = mqtt.connect(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 });
  await new Promise((r) => c.once("connect", r));
  await c.publishAsync("dash/t/a", "21.5", { qos: 1, retain: true });
  await c.publishAsync("dash/t/b", Buffer.from([0xff, 0x00, 0xfe]), { qos: 0, retain: true });
  await c.publishAsync("dash/other", "x", { qos: 1, retain: true });
  c.end(true);
  type Listing = { data: { topic: string }[]; meta: Record<string, number> };
  const get = async (q: string) =>
    await (await fetch(`${base}/api/v4/retained${q}`, { headers: AUTH })).json() as Listing;
  const r = await get(`?topic=${encodeURIComponent("dash/t/#")}`);
  assert.deepEqual(r.data, [
    { topic: "dash/t/a", qos: 1, size: 4, payload: "21.5", encoding: "plain" },
    { topic: "dash/t/b", qos: 0, size: 3, payload: "/wD+", encoding: "base64" },
  ]);
  const paged = await get(`?topic=dash/%23&_limit=2&_page=2`);
  assert.deepEqual(paged.meta, { page: 2, limit: 2, count: 3 });
  assert.deepEqual(paged.data.map((m) => m.topic), ["dash/t/b"]);
  const bad = await fetch(`${base}/api/v4/retained?topic=a/%23/b`, { headers: AUTH });
  assert.equal(bad.status, 400);
});

test("GET /api/v4/webhook shows its settings and counters", async () => {
  const r = await (await fetch(`${base}/api/v4/webhook`, { headers: AUTH })).json() as {
    code: number;
    data: Record<string, unknown> & { url: string };
  };
  assert.equal(r.code, 0);
  assert.match(r.data.url, /\/hook$/);
  assert.deepEqual(r.data.events, [{ event: "on_client_connack", topic: null }]);
  for (const k of ["queued", "sent", "failed", "dropped", "retries"]) {
    assert.equal(typeof r.data[k], "number", k);
  }
});

test("run from source under Bun (npm start), the dashboard is built at start and served", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dash-src-"));
  const [port, httpPort] = [await freePort(), await freePort()];
  writeFileSync(
    join(dir, "nanomq.conf"),
    `listeners.tcp.bind = "127.0.0.1:${port}"\nhttp_server { port = ${httpPort}, auth_type = no_auth }\n`,
  );
  const p = run(process.execPath, ["src/main.ts", "start", "--conf", join(dir, "nanomq.conf")], 120_000, {
    NANOMQ_PID_FILE: join(dir, "nanomq.pid"),
  });
  try {
    const url = `http://127.0.0.1:${httpPort}/dashboard/app.js`;
    await waitFor(() => fetch(url).then((r) => r.ok, () => false), "the dashboard from source", 60_000);
    assert.ok((await (await fetch(url)).text()).includes("u-legend"));
    assert.deepEqual(await (await fetch(`http://127.0.0.1:${httpPort}/dashboard/auth.json`)).json(), {
      auth: "none",
    });
  } finally {
    p.kill();
    await p.done;
  }
});
