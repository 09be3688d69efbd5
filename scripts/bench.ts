/**
 * Benchmark: this broker and Mosquitto side by side, same load, pinned cores, medians.
 *
 *   npm run bench -- [--reps 3] [--duration 10] [--scenarios a,b,c,d,e,f] [--tls|--ws|--persist|--acl|--bridge] [--out FILE]
 *
 * Scenarios a-f by default; g and h are QoS 1 fan-out and fan-in, the default with --persist.
 *
 * --tls runs the same scenarios against each broker's TLS listener instead: mqttload speaks plain
 * MQTT, so a stunnel client on the load generator's core wraps its connections in TLS (the same
 * stunnel for both brokers; its CPU counts against the load generator, not the broker).
 *
 * --persist compares persistence: Mosquitto with `persistence true`, this broker in memory, and
 * this broker with `sqlite { }` (a fresh database each run). Subscribers keep persistent sessions
 * (Clean Session 0): see _persistentSubscribers.
 *
 * --rules adds this broker with 10 rules, with a webhook whose endpoint hangs and with one whose
 * endpoint is down (scripts/bench_rules.ts; scenarios a, b and c by default), "vs plain".
 *
 * --acl adds this broker with an ACL of 50 rules (scenarios d and g by default): every delivery is
 * checked for read permission, so fan-out shows what the checks cost ("vs no ACL").
 *
 * --flashmq BIN adds FlashMQ (../shared/peers/build-flashmq.sh builds it), run with one thread, and a
 * "vs FlashMQ" column.
 *
 * Scenarios j-l are a, c and d at QoS 2 (j: 1 → 1, k: fan-in, l: fan-out); m is latency at 10,000 msg/s.
 *
 * --bridge measures bridges instead (scripts/bench_bridge.ts): messages forwarded to an upstream
 * Mosquitto at QoS 1, and the drain rate of a 100,000-message cache.
 *
 * --ws runs them over each broker's WebSocket listener: scripts/ws_proxy.ts, on the load generator's
 * core, carries mqttload's TCP connections over WebSockets (the proxy's CPU counts against the load).
 *
 * The broker runs on core 0, the load generator on core 1 (taskset). The load generator is
 * ../shared/tools/mqttload (C; built into .bench/) when present, otherwise scripts/bench_load.ts.
 * Only 127.0.0.1 is used. Prints a Markdown table; writes it to .bench/results.md too.
 */
import { execFileSync } from "node:child_process";
import { cpus } from "node:os";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { k, median, startBroker } from "./bench_common.ts";
import { hangingEndpoint, rulesBrokers } from "./bench_rules.ts";
import {
  brokers,
  freshStores,
  loadGenerator,
  readableCerts,
  startStunnel,
  startWsProxy,
} from "./bench_brokers.ts";

const { values: opt } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    duration: { type: "string", default: "10" },
    scenarios: { type: "string" },
    out: { type: "string" },
    tls: { type: "boolean", default: false },
    ws: { type: "boolean", default: false },
    persist: { type: "boolean", default: false },
    acl: { type: "boolean", default: false },
    rules: { type: "boolean", default: false },
    bridge: { type: "boolean", default: false },
    flashmq: { type: "string" },
    workers: { type: "string", default: "1" },
  },
});
/** Multi-core (--workers N): our broker with N workers, FlashMQ with N threads, beside ours with one. */
const WORKERS = Number(opt.workers);
const NCPU = cpus().length;
/** Cores of the brokers and of the load generator: apart while there are enough, else shared. */
const BROKER_CORES = WORKERS === 1 ? "0" : `0-${Math.min(WORKERS, NCPU) - 1}`;
const LOAD_CORES = WORKERS === 1 ? "1" : WORKERS < NCPU ? `${WORKERS}-${NCPU - 1}` : `0-${NCPU - 1}`;
const PERSIST = opt.persist === true;
const ACL = opt.acl === true;
const RULES = opt.rules === true;
/** A column comparing runs of this broker with each other. */
const VS = PERSIST || ACL || RULES || Number(opt.workers) > 1;
const TLS = opt.tls === true;
const WS = opt.ws === true;
const REPS = Number(opt.reps);
const DURATION = Number(opt.duration);
const ROOT = new URL("..", import.meta.url).pathname;
const BENCH = `${ROOT}.bench`;
mkdirSync(BENCH, { recursive: true });

/** 20 publishers on bench/0..19, one subscriber on bench/# (c, h). */
const fanIn = (
  qos: number,
) => [
  "--pubs",
  "20",
  "--subs",
  "1",
  "--topics",
  "20",
  "--sub-filter",
  "bench/#",
  "--qos",
  String(qos),
  "--size",
  "64",
];
/** One publisher, one subscriber. */
const oneToOne = (qos: number) => ["--pubs", "1", "--subs", "1", "--qos", String(qos), "--size", "64"];
/** One publisher, 20 subscribers on its topic (d, g). */
const fanOut = (
  qos: number,
) => ["--pubs", "1", "--subs", "20", "--topics", "1", "--qos", String(qos), "--size", "64"];

const SCENARIOS: Record<string, { label: string; args: string[] }> = {
  a: {
    label: "(a) 1 pub → 1 sub, QoS 0",
    args: oneToOne(0),
  },
  b: {
    label: "(b) 1 pub → 1 sub, QoS 1, 64 in flight",
    args: [...oneToOne(1), "--inflight", "64"],
  },
  c: { label: "(c) 20 pubs → 1 sub on bench/#, QoS 0", args: fanIn(0) },
  d: { label: "(d) 1 pub → 20 subs, QoS 0", args: fanOut(0) },
  e: {
    label: "(e) 1 → 1, QoS 0, 1,000 msg/s (latency)",
    args: [...oneToOne(0), "--rate", "1000"],
  },
  f: { label: "(f) 10,000 idle connections", args: ["--conns-only", "10000"] },
  g: { label: "(g) 1 pub → 20 subs, QoS 1", args: fanOut(1) },
  h: { label: "(h) 20 pubs → 1 sub on bench/#, QoS 1", args: fanIn(1) },
  i: { label: "(i) 1 pub → 20 subs on bench/#, QoS 0", args: [...fanOut(0), "--sub-filter", "bench/#"] },
  j: {
    label: "(j) 1 pub → 1 sub, QoS 2, 64 in flight",
    args: [...oneToOne(2), "--inflight", "64"],
  },
  k: { label: "(k) 20 pubs → 1 sub on bench/#, QoS 2", args: fanIn(2) },
  l: { label: "(l) 1 pub → 20 subs, QoS 2", args: fanOut(2) },
  m: {
    label: "(m) 1 → 1, QoS 0, 10,000 msg/s (latency)",
    args: [...oneToOne(0), "--rate", "10000"],
  },
};
/** Scenarios whose figure is latency at a fixed rate, not throughput. */
const LATENCY = new Set(["e", "m"]);

interface Result {
  recv_rate: number;
  lost: number;
  dup: number;
  reorder: number;
  lat_p50_us: number;
  lat_p99_us: number;
  lat_p999_us: number;
  broker_cpu_pct: number;
  broker_rss_kb: number;
  connect_rate: number;
  connected: number;
  error?: string;
}

function runLoad(gen: string[], port: number, pid: number, s: string): Result {
  const f = s === "f";
  const args = [
    ...gen.slice(1),
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    "--quiet",
    "--broker-pid",
    String(pid),
    "--duration",
    String(f ? 5 : DURATION),
    "--warmup",
    f ? "0" : "2",
    ...SCENARIOS[s]!.args,
  ];
  try {
    const out = execFileSync("bash", [
      "-c",
      `ulimit -n 65536; exec taskset -c ${LOAD_CORES} "$@"`,
      "load",
      gen[0]!,
      ...args,
    ], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: (DURATION + 120) * 1000,
    });
    return JSON.parse(out.trim().split("\n").filter((l) => l.startsWith("{")).pop()!) as Result;
  } catch (e) {
    return { error: (e as Error).message.split("\n")[0] } as Result;
  }
}

const us = (
  x: number,
) => (!Number.isFinite(x) ? "–" : x >= 10_000 ? `${(x / 1000).toFixed(0)} ms` : `${x.toFixed(0)} µs`);
const mb = (kb: number) => (!Number.isFinite(kb) || kb < 0 ? "–" : `${(kb / 1024).toFixed(0)} MB`);

/** The figure a scenario is compared on: connect rate, p99 latency at a fixed rate, or delivered rate. */
function figure(s: string, rs: Result[]): number {
  const ok = rs.filter((r) => r.error === undefined);
  return median(ok.map((r) => s === "f" ? r.connect_rate : LATENCY.has(s) ? r.lat_p99_us : r.recv_rate));
}

/** `rs` relative to a baseline broker's runs, as a table cell (lower latency is better). */
function ratioCell(s: string, rs: Result[], base: Result[] | null): string {
  if (base === null) return "";
  const ratio = LATENCY.has(s) ? figure(s, base) / figure(s, rs) : figure(s, rs) / figure(s, base);
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "";
}

function row(s: string, name: string, rs: Result[], bases: (Result[] | null)[]): string {
  const ok = rs.filter((r) => r.error === undefined);
  const m = (f: (r: Result) => number) => median(ok.map(f));
  const errs = rs.length - ok.length;
  const note = errs > 0 ? ` (${errs} failed: ${rs.find((r) => r.error)?.error})` : "";
  const ratios = bases.map((b) => ` ${ratioCell(s, rs, b)} |`).join("");
  if (s === "f") {
    return `| ${SCENARIOS[s]!.label} | ${name} | ${k(m((r) => r.connect_rate))} conn/s | – | – | ${
      m((r) => r.connected)
    } connected | ${mb(m((r) => r.broker_rss_kb))} |${ratios}${note}`;
  }
  const sum = (f: (r: Result) => number) => ok.reduce((a, r) => a + f(r), 0);
  const faults = [
    String(sum((r) => r.lost)),
    ...(sum((r) => r.dup) > 0 ? [`dup ${sum((r) => r.dup)}`] : []),
    ...(sum((r) => r.reorder) > 0 ? [`reordered ${sum((r) => r.reorder)}`] : []),
  ].join(", ");
  const p999 = LATENCY.has(s) ? ` / ${us(m((r) => r.lat_p999_us))}` : "";
  return `| ${SCENARIOS[s]!.label} | ${name} | ${k(m((r) => r.recv_rate))}/s | ${
    us(m((r) => r.lat_p50_us))
  } / ${us(m((r) => r.lat_p99_us))}${p999} | ${faults} | CPU ${m((r) => r.broker_cpu_pct).toFixed(0)}% | ${
    mb(m((r) => r.broker_rss_kb))
  } |${ratios}${note}`;
}

/** --persist, --acl: the delivered rate of `rs` relative to another run of this broker, as a table cell. */
function _vs(rs: Result[], memory: Result[] | undefined): string {
  if (memory === undefined) return "";
  const rate = (xs: Result[]) => median(xs.filter((r) => r.error === undefined).map((r) => r.recv_rate));
  const ratio = rate(rs) / rate(memory);
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : "";
}

async function main(): Promise<void> {
  execFileSync("bash", [`${ROOT}scripts/install_test_deps.sh`, "--bench"], { stdio: "inherit" });
  const gen = loadGenerator(PERSIST);
  if (opt.bridge === true) return await _bridge(gen);
  const list = brokers(TLS ? readableCerts() : null, {
    persist: PERSIST,
    ws: WS,
    acl: ACL,
    flashmq: opt.flashmq,
    workers: WORKERS,
  });
  if (RULES) list.push(...rulesBrokers("this broker"));
  const closeHang = RULES ? hangingEndpoint() : null;
  const flash = list.some((b) => b.name === "FlashMQ");
  const stunnel = TLS ? startStunnel(list) : WS ? startWsProxy() : null;
  const scen = (opt.scenarios ?? (PERSIST ? "b,g,h" : ACL ? "d,g,i" : RULES ? "a,b,c" : "a,b,c,d,e,f")).split(
    ",",
  );
  const results = new Map<string, Result[]>();
  for (const s of scen) {
    for (let rep = 1; rep <= REPS; rep++) {
      for (const b of list) {
        if (PERSIST) freshStores();
        const proc = await startBroker(b.cmd, b.port, BROKER_CORES);
        const r = runLoad(gen, b.loadPort, proc.pid, s);
        await proc.stop();
        const key = `${s}/${b.name}`;
        results.set(key, [...(results.get(key) ?? []), r]);
        console.error(
          `[${s} ${rep}/${REPS}] ${b.name}: ${
            r.error ?? `${k(r.recv_rate)}/s lost ${r.lost} p99 ${us(r.lat_p99_us)} rss ${mb(r.broker_rss_kb)}`
          }`,
        );
      }
    }
  }
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpu}, ${
      (Number(readFileSync("/proc/meminfo", "utf8").match(/MemTotal:\s+(\d+)/)?.[1]) / 1048576).toFixed(0)
    } GiB, ` +
    `Linux ${
      execFileSync("uname", ["-r"], { encoding: "utf8" }).trim()
    }; brokers on cores ${BROKER_CORES}, load generator (${gen.length === 1 ? "mqttload" : "bench_load.ts"}${
      PERSIST ? ", subscribers on persistent sessions" : ""
    }) on cores ${LOAD_CORES}${WORKERS > 1 ? `; ${WORKERS} workers / threads` : ""}; ` +
    `64-byte payloads, ${DURATION} s windows, median of ${REPS}${
      TLS
        ? "; over TLS (TLS 1.3, EC P-256 certificate; stunnel client on the load core)"
        : WS
        ? "; over WebSocket (scripts/ws_proxy.ts on the load core carries mqttload's TCP connections)"
        : ""
    }. This broker: Bun ${process.versions.bun ?? "-"} running src/main.ts; Mosquitto ${
      execFileSync("bash", ["-c", "mosquitto -h | head -1 | awk '{print $3}'"], { encoding: "utf8" }).trim()
    }${flash ? `; FlashMQ 7beb9c3 with thread_count ${WORKERS}` : ""}.`,
    "",
    `| scenario | broker | delivered | latency p50 / p99 (/ p99.9) | lost | broker CPU | broker RSS | vs Mosquitto |${
      flash ? " vs FlashMQ |" : ""
    }${
      VS ? (PERSIST ? " vs memory |" : ACL ? " vs no ACL |" : RULES ? " vs plain |" : " vs 1 worker |") : ""
    }`,
    `|---|---|---:|---:|---:|---:|---:|---:|${flash ? "---:|" : ""}${VS ? "---:|" : ""}`,
  ];
  for (const s of scen) {
    const mosq = results.get(`${s}/Mosquitto`) ?? null;
    const fmq = results.get(`${s}/FlashMQ`) ?? null;
    for (const b of list) {
      const rs = results.get(`${s}/${b.name}`) ?? [];
      const peer = b.name === "Mosquitto" || b.name === "FlashMQ";
      const bases = [peer ? null : mosq, ...(flash ? [peer ? null : fmq] : [])];
      const line = row(s, b.name, rs, bases);
      const other = b.vs === undefined ? undefined : results.get(`${s}/${b.vs}`);
      lines.push(VS ? `${line} ${_vs(rs, other)} |` : line);
    }
  }
  stunnel?.kill();
  closeHang?.();
  const table = lines.join("\n");
  const out = opt.out ??
    (TLS
      ? ".bench/results-tls.md"
      : WS
      ? ".bench/results-ws.md"
      : PERSIST
      ? ".bench/results-persist.md"
      : ACL
      ? ".bench/results-acl.md"
      : RULES
      ? ".bench/results-rules.md"
      : ".bench/results.md");
  writeFileSync(resolve(ROOT, out), table + "\n");
  console.log(table);
}

/** --bridge: scripts/bench_bridge.ts, with mqttload as the publisher. */
async function _bridge(gen: string[]): Promise<void> {
  if (gen.length !== 1) throw new Error("--bridge needs mqttload: ../shared/tools/mqttload was not found");
  const { benchBridge } = await import("./bench_bridge.ts");
  const table = await benchBridge({ reps: REPS, duration: DURATION, bench: BENCH, load: gen[0]! });
  writeFileSync(`${ROOT}${opt.out ?? ".bench/results-bridge.md"}`, table + "\n");
  console.log(table);
}

await main();
