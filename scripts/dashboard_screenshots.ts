/**
 * The dashboard's screenshots in docs/dashboard/: a broker (the linux-x86_64 release binary) with
 * a few devices publishing, subscriptions, retained messages, a bridge to a second broker, a rule
 * and a webhook, photographed page by page in Chromium after a minute of traffic.
 *
 *   bun scripts/dashboard_screenshots.ts [--seconds 60]
 */
import { createServer } from "node:http";
import { mkdirSync } from "node:fs";
import process from "node:process";
import { parseArgs } from "node:util";
import mqtt, { type MqttClient } from "mqtt";
import { chromium } from "playwright-core";
import { freePort } from "../test/helpers/live_broker.ts";
import { startTcpBroker } from "../test/helpers/tcp_broker.ts";

const { values: a } = parseArgs({ options: { seconds: { type: "string", default: "60" } } });
const OUT = "docs/dashboard";
const PAGES = [
  "overview",
  "clients",
  "subscriptions",
  "topics",
  "retained",
  "bridges",
  "rules",
  "webhook",
  "config",
];

const hookPort = await freePort();
const hook = createServer((req, res) => req.resume().on("end", () => res.end())).listen(
  hookPort,
  "127.0.0.1",
);
const up = await startTcpBroker();
const edge = await startTcpBroker(
  `http_server { auth_type = basic, username = admin, password = "dash-pass-1" }\n` +
    `bridges.mqtt.cloud {\n  server = "mqtt-tcp://127.0.0.1:${up.port}"\n  clientid = "gateway-7"\n` +
    `  forwards = [ { local_topic = "plant/+/telemetry", remote_topic = "", qos = 1 } ]\n` +
    `  subscription = [ { remote_topic = "cmd/gateway-7/#", local_topic = "", qos = 1 } ]\n}\n` +
    `webhook {\n  url = "http://127.0.0.1:${hookPort}/events"\n` +
    `  events = [ { event = "on_client_connected" }, { event = "on_message_publish", topic = "plant/+/alarm" } ]\n}\n` +
    `rules.repub.rules = [ { server = "mqtt-tcp://127.0.0.1:${up.port}", topic = "alarms", proto_ver = 4,` +
    ` clientid = "repub-alarms", keepalive = 60, clean_start = true,` +
    ` sql = "SELECT topic, payload FROM \\"plant/+/alarm\\" WHERE payload.level > 2" } ]\n`,
);

const clients: MqttClient[] = [];
async function device(id: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${edge.port}`, { clientId: id, reconnectPeriod: 0, ...opts });
  clients.push(c);
  await new Promise((r) => c.once("connect", r));
  return c;
}
const lines = ["line-1", "line-2", "line-3"];
const sensors = await Promise.all(
  lines.map((l, i) => device(`sensor-${l}`, { protocolVersion: i === 0 ? 5 : 4 })),
);
const scada = await device("scada-01", { protocolVersion: 5, username: "scada" });
await scada.subscribeAsync(["plant/+/telemetry", "plant/+/alarm"], { qos: 1 });
const hmi = await device("hmi-panel", { username: "operator" });
await hmi.subscribeAsync(["plant/line-1/#", "$share/hmi/cmd/gateway-7/#"]);
for (const [i, l] of lines.entries()) {
  await sensors[i]!.publishAsync(`plant/${l}/info`, JSON.stringify({ model: "TX-200", fw: "2.4.1" }), {
    qos: 1,
    retain: true,
  });
}

let n = 0;
const timer = setInterval(() => {
  const s = sensors[n % sensors.length]!;
  const line = lines[n % lines.length]!;
  // a load that rises and falls, so that the charts have a shape
  const burst = 5 + Math.round(20 * (1 + Math.sin(n / 40)));
  for (let i = 0; i < burst; i++) {
    s.publish(`plant/${line}/telemetry`, JSON.stringify({ t: 20 + Math.random() * 5, n }), { qos: 1 });
  }
  if (n % 50 === 0) s.publish(`plant/${line}/alarm`, JSON.stringify({ level: 3 + (n % 2) }), { qos: 1 });
  n++;
}, 100);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
await page.goto(`http://127.0.0.1:${edge.httpPort}/`);
await page.fill("input[name=username]", "admin");
await page.fill("input[name=password]", "dash-pass-1");
await page.click("button[type=submit]");
await page.waitForSelector("#stat-connections");
await new Promise((r) => setTimeout(r, Number(a.seconds) * 1000));
mkdirSync(OUT, { recursive: true });
for (const name of PAGES) {
  await page.goto(`http://127.0.0.1:${edge.httpPort}/#${name}`);
  await new Promise((r) => setTimeout(r, 2500));
  await page.screenshot({ path: `${OUT}/${name}.png` });
  console.log(`${OUT}/${name}.png`);
}
clearInterval(timer);
await browser.close();
for (const c of clients) c.end(true);
hook.close();
await edge.stop();
await up.stop();
