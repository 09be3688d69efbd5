/**
 * Soak test: the broker (the linux-x86_64 binary by default, on core 0) with N connections for a
 * long time: publisher/subscriber pairs at QoS 0 and 1, idle subscribers fed now and then, and
 * persistent sessions that disconnect and come back, over TCP, TLS, WebSocket and WSS. Every
 * sample interval it writes the broker's RSS and CPU, its established connections, the probe's
 * PINGREQ round trips and the message counts to samples.csv; at the end, summary.json and a
 * summary on stdout: lost, duplicated, unexpected disconnects, RSS growth per hour.
 *
 *   bun scripts/soak.ts [--minutes 60] [--connections 2000] [--runtime bun|node|deno]
 *                       [--sample-s 60] [--period-ms 1000] [--out DIR]
 */
import { execFileSync, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { freePort } from "../test/helpers/live_broker.ts";
import { join, resolve } from "node:path";
import process from "node:process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { SoakClients } from "./soak_clients.ts";
import {
  type BrokerStats,
  brokerStats,
  rssSlope,
  type Sample,
  SAMPLE_HEADER,
  sampleRow,
} from "./soak_stats.ts";

const { values: a } = parseArgs({
  options: {
    minutes: { type: "string", default: "60" },
    connections: { type: "string", default: "2000" },
    runtime: { type: "string", default: "bun" },
    "sample-s": { type: "string", default: "60" },
    "period-ms": { type: "string", default: "1000" },
    out: { type: "string" },
  },
});
const MINUTES = Number(a.minutes);
const N = Number(a.connections);
const SAMPLE_MS = Number(a["sample-s"]) * 1000;
const out = resolve(a.out ?? join(".soak", new Date().toISOString().replace(/[:.]/g, "-")));
mkdirSync(out, { recursive: true });

/** A self-signed certificate for 127.0.0.1, made by openssl. */
function certificate(): { key: string; cert: string } {
  const [key, cert] = [join(out, "key.pem"), join(out, "cert.pem")];
  execFileSync("openssl", [
    ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
    ...[
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "30",
      "-subj",
      "/CN=soak",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
  ], { stdio: "ignore" });
  return { key, cert };
}

function brokerArgv(rt: string): string[] {
  if (rt === "bun") return [resolve("dist/broker-linux-x86_64")];
  if (rt === "node") return ["node", resolve("dist/broker-armv7.mjs")];
  if (rt === "deno") {
    return ["bash", resolve("scripts/deno.sh"), "run", "--allow-all", resolve("src/main.ts")];
  }
  throw new Error(`--runtime ${rt}: use bun, node or deno`);
}

async function startBroker() {
  const ports = {
    mqtt: await freePort(),
    mqtts: await freePort(),
    ws: await freePort(),
    wss: await freePort(),
  };
  const { key, cert } = certificate();
  const tls = `keyfile = "${key}"\n  certfile = "${cert}"\n`;
  const conf = join(out, "nanomq.conf");
  writeFileSync(
    conf,
    `listeners.tcp.bind = "127.0.0.1:${ports.mqtt}"\nlisteners.ssl {\n  bind = "127.0.0.1:${ports.mqtts}"\n  ${tls}}\n` +
      `listeners.ws.bind = "127.0.0.1:${ports.ws}/mqtt"\nlisteners.wss {\n  bind = "127.0.0.1:${ports.wss}/mqtt"\n  ${tls}}\n` +
      "log.level = info\n",
  );
  const log = createWriteStream(join(out, "broker.log"));
  const argv = ["taskset", "-c", "0", ...brokerArgv(a.runtime!), "start", "--conf", conf];
  const p = spawn("bash", ["-c", `ulimit -n 65536; exec "$@"`, "-", ...argv], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NANOMQ_PID_FILE: join(out, "broker.pid") },
  });
  p.stdout!.pipe(log);
  let started = false;
  p.stderr!.on("data", (d: Buffer) => {
    log.write(d);
    if (d.toString().includes("listening on")) started = true;
  });
  for (let i = 0; !started; i++) {
    if (i > 600 || p.exitCode !== null) throw new Error(`The broker did not start; see ${out}/broker.log`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { p, ports, ca: readFileSync(cert, "utf8") };
}

/** The probe's latest line, read as it prints. */
function startProbe(port: number) {
  const p = spawn(process.execPath, [
    resolve("scripts/soak_probe.ts"),
    "--port",
    String(port),
    "--every",
    String(SAMPLE_MS),
  ]);
  const last = { n: 0, p50: NaN, p99: NaN, max: NaN, closed: false };
  createInterface({ input: p.stdout! }).on("line", (l) => Object.assign(last, JSON.parse(l)));
  return { last, stop: () => p.kill() };
}

/** This process's own worst timer lag in each interval: when it is large, the load generator was the limit. */
function lagMeter() {
  let worst = 0;
  let at = performance.now();
  const t = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - at - 100);
    at = now;
  }, 100);
  return { take: () => [worst, worst = 0][0]!, stop: () => clearInterval(t) };
}

async function main(): Promise<void> {
  try {
    execFileSync("taskset", ["-pc", "1", String(process.pid)], { stdio: "ignore" });
  } catch { /* one core, or no taskset: the figures say so through the lag column */ }
  const broker = await startBroker();
  const { ports } = broker;
  const urls = {
    mqtt: `mqtt://127.0.0.1:${ports.mqtt}`,
    mqtts: `mqtts://127.0.0.1:${ports.mqtts}`,
    ws: `ws://127.0.0.1:${ports.ws}/mqtt`,
    wss: `wss://127.0.0.1:${ports.wss}/mqtt`,
  };
  const clients = new SoakClients(urls, broker.ca);
  const pairs = Math.round((N * 0.4) / 2);
  const churn = Math.round(N * 0.1);
  const idle = N - 2 * pairs - churn - 3; // the two feeders and the probe are connections too
  console.error(`soak: ${pairs} pairs, ${idle} idle, ${churn} churning, ${MINUTES} min, output in ${out}`);
  const started = Date.now();
  for (let i = 0; i < pairs; i++) await clients.pair(i, Number(a["period-ms"]));
  await clients.idle(0, idle, 5 * 60_000);
  await clients.churn(0, churn, Math.max(1, Math.round(2000 / churn)), 20_000);
  const probe = startProbe(ports.mqtt);
  const lag = lagMeter();
  console.error(
    `soak: ${clients.n.connected} connections up in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );

  const csv = createWriteStream(join(out, "samples.csv"));
  csv.write(`${SAMPLE_HEADER}\n`);
  const samples: Sample[] = [];
  const t0 = Date.now();
  let prev: BrokerStats = brokerStats(broker.p.pid!, Object.values(ports));
  while (Date.now() - t0 < MINUTES * 60_000) {
    await new Promise((r) => setTimeout(r, Math.min(SAMPLE_MS, MINUTES * 60_000 - (Date.now() - t0))));
    const now = brokerStats(broker.p.pid!, Object.values(ports));
    const s: Sample = {
      min: (Date.now() - t0) / 60_000,
      broker: now,
      prev,
      probe: { ...probe.last },
      lag: lag.take(),
      n: { ...clients.n },
    };
    prev = now;
    samples.push(s);
    csv.write(`${sampleRow(s)}\n`);
    console.error(sampleRow(s));
  }
  await clients.finish(15_000);
  probe.stop();
  lag.stop();
  broker.p.kill("SIGTERM");
  csv.end();
  const n = clients.n;
  const summary = {
    runtime: a.runtime,
    minutes: MINUTES,
    connections: N,
    sentQos0: n.sentQos0,
    ackedQos1: n.ackedQos1,
    received: n.received,
    lostQos0: n.lostQos0,
    lostQos1: n.lostQos1,
    redelivered: n.redelivered,
    duplicates: n.duplicates,
    unexpectedDisconnects: n.unexpectedCloses,
    churnReconnects: n.reconnects,
    rssFirstMb: samples[0]?.broker.rssMb,
    rssLastMb: samples.at(-1)?.broker.rssMb,
    rssMaxMb: Math.max(...samples.map((s) => s.broker.rssMb)),
    rssGrowthMbPerHour: rssSlope(samples),
    probeMaxMs: Math.max(...samples.map((s) => s.probe.max).filter(Number.isFinite)),
    probeWorstP99Ms: Math.max(...samples.map((s) => s.probe.p99).filter(Number.isFinite)),
    probeClosed: probe.last.closed,
  };
  writeFileSync(join(out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

await main();
process.exit(0);
