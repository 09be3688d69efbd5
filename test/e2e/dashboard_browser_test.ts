/**
 * The dashboard in a real headless browser (playwright-core from npm driving Debian's Chromium,
 * which scripts/install_test_deps.sh installs) against the release binary, bridged to a second broker:
 * signing in (a wrong password refused), the message rate moving while a client publishes and
 * falling back when it stops, kicking a client (it gets DISCONNECT 0x98), switching the bridge
 * off (messages cached, shown) and on (the cache drains upstream); signing in with a JWT.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, before, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { type Browser, chromium, type Page } from "playwright-core";
import { startTcpBroker, type TcpBroker } from "../helpers/tcp_broker.ts";
import { hs256, jwt } from "../helpers/jwt.ts";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
/** How long a browser-side wait may take before the test fails (a hang guard, not a timing assertion). */
const WAIT = { timeout: 30_000 };

let up: TcpBroker;
let edge: TcpBroker;
let browser: Browser;
let page: Page;
const clients: MqttClient[] = [];

async function connect(port: number, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...opts });
  clients.push(c);
  await new Promise((resolve, reject) => {
    c.once("connect", resolve);
    c.once("error", reject);
  });
  return c;
}

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run bash scripts/install_test_deps.sh`);
  up = await startTcpBroker();
  edge = await startTcpBroker(
    `http_server { auth_type = basic, username = admin, password = "dash-pass-1" }\n` +
      `bridges.mqtt.cloud {\n  server = "mqtt-tcp://127.0.0.1:${up.port}"\n  clientid = "edge-1"\n` +
      `  backoff_max = 1s\n  forwards = [ { local_topic = "up/#", remote_topic = "", qos = 1 } ]\n}\n`,
  );
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => console.error(`dashboard: ${e.message}`));
});
after(async () => {
  for (const c of clients) c.end(true);
  await browser?.close();
  await edge?.stop();
  await up?.stop();
});

const text = async (selector: string) => (await page.textContent(selector, WAIT)) ?? "";

test("signing in: a wrong password is refused, the right one opens the overview", async () => {
  await page.goto(`http://127.0.0.1:${edge.httpPort}/`);
  await page.fill("input[name=username]", "admin");
  await page.fill("input[name=password]", "wrong");
  await page.click("button[type=submit]");
  await page.waitForSelector("#login-error:has-text('Wrong credentials')", WAIT);
  assert.equal(await page.isVisible("#app"), false);
  await page.fill("input[name=password]", "dash-pass-1");
  await page.click("button[type=submit]");
  await page.waitForSelector("#stat-connections", WAIT);
  assert.match(await text("#stat-connections"), /^\d+ \(max \d+\)$/);
});

test("the message rate moves while a client publishes and falls back when it stops", async () => {
  await page.goto(`http://127.0.0.1:${edge.httpPort}/#overview`);
  await page.waitForSelector("#stat-rate-in:text-is('0')", WAIT);
  const pub = await connect(edge.port);
  const timer = setInterval(() => pub.publish("sensors/t1", "21.5"), 20);
  try {
    // read from here: page.waitForFunction evaluates its predicate in a way the dashboard's CSP forbids
    for (let i = 0; !(Number(await text("#stat-rate-in")) > 5); i++) {
      if (i > 300) throw new Error(`the rate stayed at ${await text("#stat-rate-in")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    clearInterval(timer);
  }
  const chart = await page.$$eval(".uplot", (els) => els.length);
  assert.equal(chart, 2, "the rate and connection charts are drawn");
  const received = Number(await text("#stat-received"));
  assert.ok(received > 5, `messages received ${received}`);
  await page.waitForSelector("#stat-rate-in:text-is('0')", WAIT);
});

test("kicking a client from the clients page disconnects it with 0x98", async () => {
  const victim = await connect(edge.port, { clientId: "kick-me", protocolVersion: 5 });
  const disconnected = new Promise<number | undefined>((r) =>
    victim.once("disconnect", (p) => r(p.reasonCode))
  );
  await page.goto(`http://127.0.0.1:${edge.httpPort}/#clients`);
  await page.fill("#client-search", "kick-me");
  await page.waitForSelector("button[data-kick='kick-me']", WAIT);
  page.once("dialog", (d) => void d.accept());
  await page.click("button[data-kick='kick-me']");
  assert.equal(await disconnected, 0x98);
  await page.waitForSelector("td.empty:has-text('No client is connected')", WAIT);
});

test("switching the bridge off caches what is forwarded; on again, it drains upstream", async () => {
  const cloud = await connect(up.port);
  await cloud.subscribeAsync("up/#", { qos: 1 });
  const got: string[] = [];
  cloud.on("message", (_t, p) => got.push(String(p)));
  await page.goto(`http://127.0.0.1:${edge.httpPort}/#bridges`);
  await page.waitForSelector("[data-bridge-state='cloud']:text-is('connected')", WAIT);
  await page.click("button[data-bridge-switch='cloud']");
  await page.waitForSelector("[data-bridge-state='cloud']:text-is('stopped')", WAIT);
  const device = await connect(edge.port);
  for (let i = 0; i < 5; i++) await device.publishAsync("up/m", `m${i}`, { qos: 1 });
  await page.waitForSelector("#bridge-cached-cloud:text-is('5')", WAIT);
  assert.deepEqual(got, [], "nothing reaches upstream while the bridge is off");
  assert.equal(await text("button[data-bridge-switch='cloud']"), "Switch on");
  await page.click("button[data-bridge-switch='cloud']");
  await page.waitForSelector("[data-bridge-state='cloud']:text-is('connected')", WAIT);
  await page.waitForSelector("#bridge-cached-cloud:text-is('0')", WAIT);
  for (let i = 0; i < 100 && got.length < 5; i++) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(got, ["m0", "m1", "m2", "m3", "m4"]);
});

const HS = { alg: "HS256", typ: "JWT" };

test("JWT: the form asks for a token, a valid one signs in, signing out returns to the form", async () => {
  const dir = mkdtempSync(join(tmpdir(), "dash-jwt-"));
  const secret = "a-shared-secret-of-at-least-32-bytes!";
  writeFileSync(join(dir, "jwt.secret"), secret);
  const jb = await startTcpBroker(
    `http_server { auth_type = jwt, jwt.public.keyfile = "${join(dir, "jwt.secret")}" }\n`,
  );
  try {
    const p = await browser.newPage();
    await p.goto(`http://127.0.0.1:${jb.httpPort}/`);
    await p.waitForSelector("textarea[name=token]", WAIT);
    assert.equal(await p.isVisible("input[name=username]"), false);
    await p.fill(
      "textarea[name=token]",
      jwt(HS, { iss: "jwt.secret" }, hs256("another-secret-that-is-32-bytes-long")),
    );
    await p.click("button[type=submit]");
    await p.waitForSelector("#login-error:has-text('Wrong credentials')", WAIT);
    const exp = Math.floor(Date.now() / 1000) + 600;
    await p.fill("textarea[name=token]", jwt(HS, { iss: "jwt.secret", exp }, hs256(secret)));
    await p.click("button[type=submit]");
    await p.waitForSelector("#stat-connections", WAIT);
    await p.click("#logout");
    await p.waitForSelector("textarea[name=token]", WAIT);
    assert.equal(await p.isVisible("#app"), false);
    await p.close();
  } finally {
    await jb.stop();
  }
});
