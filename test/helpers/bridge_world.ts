/**
 * What the bridge tests share: Mosquitto as the upstream (from Debian, on a free port), the edge
 * broker as a real process with a bridge to it, a collector upstream, a publisher at the edge, the
 * bridge's $SYS state, and the check that exactly the acknowledged messages arrived.
 */
import assert from "node:assert/strict";
import { appendFileSync, chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after } from "node:test";
import mqtt from "mqtt";
import type { TestCerts } from "./certs.ts";
import { freePort, mqttListening } from "./live_broker.ts";
import { run } from "./run.ts";
import { startTcpProxy, type TcpProxy } from "./tcp_proxy.ts";

/**
 * Mosquitto from Debian on a free port (plus a TLS listener on `tls.port` with `tls.certs`); with
 * `persist`, its sessions survive stop() and start().
 */
export async function mosquitto(
  opt: { tls?: { port: number; certs: TestCerts }; persist?: boolean } = {},
): Promise<{ port: number; stop(): Promise<void>; start(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "bridge-upstream-"));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const tls = opt.tls;
  const tlsConf = tls === undefined
    ? ""
    : `listener ${tls.port} 127.0.0.1\ncertfile ${tls.certs.certFile}\nkeyfile ${tls.certs.keyFile}\n`;
  const persist = opt.persist === true ? `persistence true\npersistence_location ${dir}/\n` : "";
  writeFileSync(
    join(dir, "m.conf"),
    `listener ${port} 127.0.0.1\n${tlsConf}${persist}allow_anonymous true\nlog_dest file ${dir}/m.log\nlog_type all\n`,
  );
  let p = run("mosquitto", ["-c", join(dir, "m.conf")], 600_000);
  await mqttListening(port);
  return {
    port,
    stop: async () => void (process.kill(p.pid, "SIGTERM"), await p.done),
    start: async () => {
      p = run("mosquitto", ["-c", join(dir, "m.conf")], 600_000);
      await mqttListening(port);
    },
  };
}

/**
 * The edge broker with a bridge `cloud` to `upstream` (a port or a server URL), `bridge` lines added
 * to it; its store is `sqlite { }` unless `cacheSize` asks for `bridges.mqtt.cache { }` instead.
 * start() runs it (again).
 */
export async function edge(upstream: number | string, bridge = "", cacheSize = 0) {
  const dir = mkdtempSync(join(tmpdir(), "bridge-edge-"));
  const port = await freePort();
  const conf = join(dir, "nanomq.conf");
  const store = cacheSize > 0
    ? `bridges.mqtt.cache { disk_cache_size = ${cacheSize}, mounted_file_path = "${dir}" }`
    : `sqlite { mounted_file_path = "${dir}" }`;
  writeFileSync(
    conf,
    `listeners.tcp.bind = "127.0.0.1:${port}"\nlog.level = info\n${store}\n` +
      `bridges.mqtt.cloud {\n  server = "${
        typeof upstream === "number" ? `mqtt-tcp://127.0.0.1:${upstream}` : upstream
      }"\n  proto_ver = 4\n` +
      `  clientid = "edge-${port}"\n  clean_start = false\n  keepalive = 2s\n  backoff_max = 1s\n` +
      `  forwards = [ { local_topic = "data/#", remote_topic = "", prefix = "edge/" } ]\n${bridge}}\n`,
  );
  return {
    url: `mqtt://127.0.0.1:${port}`,
    /** Adds lines to the configuration (a later key overrides an earlier one). */
    amend: (lines: string) => appendFileSync(conf, lines),
    start: () =>
      run(process.execPath, ["src/main.ts", "start", "--conf", conf], 120_000, {
        NANOMQ_PID_FILE: join(dir, "pid"),
      }),
  };
}

/** An upstream subscriber on a persistent session that records every payload under edge/#. */
export async function collector(
  port: number,
  filter = "edge/#",
  qos: 1 | 2 = 1,
): Promise<{ got: string[]; end(): void }> {
  const got: string[] = [];
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: `collector-${port}-${Math.random()}`,
    clean: false,
    reconnectPeriod: 200,
  });
  c.on("message", (_t, p) => got.push(p.toString()));
  await c.subscribeAsync(filter, { qos });
  return { got, end: () => c.end(true) };
}

/** Publishes `n` messages (QoS 1 unless `qos`) numbered from `from`, ten in flight; returns those acknowledged. */
export async function publish(
  url: string,
  from: number,
  n: number,
  during?: (acked: number) => void,
  qos: 1 | 2 = 1,
): Promise<number[]> {
  const pub = await mqtt.connectAsync(url, { clientId: `pub-${from}`, reconnectPeriod: 0 });
  const acked: number[] = [];
  let next = from;
  await new Promise<void>((resolve) => {
    let inFlight = 0;
    const pump = (): void => {
      while (inFlight < 10 && next < from + n) {
        const k = next++;
        inFlight++;
        pub.publish(`data/${k % 3}`, String(k), { qos }, (err) => {
          inFlight--;
          if (!err) acked.push(k);
          during?.(acked.length);
          if (acked.length === n) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  await pub.endAsync();
  return acked;
}

/** The bridge's state as its retained `$SYS/brokers/cloud/state` message says, once `ok` holds for it. */
export async function bridgeState(
  url: string,
  ok: (s: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const sys = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the bridge state never became as expected: ${last}`)),
        15_000,
      );
      let last = "";
      sys.on("message", (_t, p) => {
        last = p.toString();
        const s = JSON.parse(last);
        if (ok(s)) resolve(s), clearTimeout(timer);
      });
      void sys.subscribeAsync("$SYS/brokers/cloud/state");
    });
  } finally {
    sys.end(true);
  }
}

/** Exactly the acknowledged numbers arrived upstream (QoS 1: some maybe twice); first arrivals in publishing order. */
export function assertDelivered(acked: number[], got: string[]): void {
  const nums = got.map(Number);
  for (const k of acked) {
    assert.ok(nums.includes(k), `message ${k} was acknowledged but never arrived upstream`);
  }
  assert.deepEqual(
    [...new Set(nums)].sort((a, b) => a - b),
    [...acked].sort((a, b) => a - b),
    "nothing else",
  );
  const firsts = nums.filter((k, i) => nums.indexOf(k) === i);
  assert.deepEqual(firsts, [...firsts].sort((a, b) => a - b), "first arrivals in publishing order");
}

/**
 * Per test file: setup() and runEdge() for its tests, and an after() hook that stops everything
 * they started, each cleanup running even when another fails (a process that already exited).
 */
export function bridgeWorld() {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch(() => {});
  });

  /** Starts the edge, killed after the tests, and waits until it listens. */
  async function runEdge(e: Awaited<ReturnType<typeof edge>>): Promise<ReturnType<typeof run>> {
    const broker = e.start();
    cleanups.push(() => process.kill(broker.pid, "SIGKILL"));
    await mqttListening(Number(new URL(e.url).port));
    return broker;
  }

  /** Upstream, proxy, collector and the edge bridged to it; `persist` and `cacheSize` as for mosquitto() and edge(). */
  async function setup(bridge = "", opt: { persist?: boolean; cacheSize?: number } = {}) {
    const up = await mosquitto({ persist: opt.persist ?? false });
    cleanups.push(() => up.stop());
    const proxy: TcpProxy = await startTcpProxy(up.port);
    cleanups.push(() => proxy.close());
    const e = await edge(proxy.port, bridge, opt.cacheSize ?? 0);
    const c = await collector(up.port);
    cleanups.push(c.end);
    let broker = e.start();
    cleanups.push(() => process.kill(broker.pid, "SIGKILL"));
    await mqttListening(Number(new URL(e.url).port));
    return {
      up,
      proxy,
      e,
      c,
      broker: () => broker,
      restart: async () => {
        broker = e.start();
        await mqttListening(Number(new URL(e.url).port));
      },
    };
  }

  return { cleanups, setup, runEdge };
}
