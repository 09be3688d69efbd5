/**
 * A real broker process on each runtime it ships for: the linux-x86_64 binary (Bun), the armv7
 * bundle on this host's Node.js, and the source on Deno. Each listens on TCP, TLS, WS and WSS.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestCerts } from "./certs.ts";
import { freePort, waitFor } from "./live_broker.ts";
import { run, type RunResult } from "./run.ts";

/** The four transports, as MQTT.js names their URL schemes. */
export const TRANSPORTS = ["mqtt", "mqtts", "ws", "wss"] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Where each runtime's broker comes from. */
export const BROKER_RUNTIMES = ["bun", "node", "deno"] as const;
export type BrokerRuntime = (typeof BROKER_RUNTIMES)[number];

/** A running broker process. */
export interface BrokerProcess {
  readonly runtime: BrokerRuntime;
  readonly ports: Record<Transport, number>;
  /** What it logged so far. */
  log(): string;
  /** SIGTERM, and what it printed until it exited. */
  stop(): Promise<RunResult>;
}

function _argv(rt: BrokerRuntime): string[] {
  const dist = resolve("dist");
  const need = (f: string) => {
    if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build`);
    return f;
  };
  if (rt === "bun") return [need(join(dist, "broker-linux-x86_64"))];
  if (rt === "node") return ["node", need(join(dist, "broker-armv7.mjs"))];
  return ["bash", resolve("scripts/deno.sh"), "run", "--allow-all", resolve("src/main.ts")];
}

/** A free port for each transport. */
export async function freePorts(): Promise<Record<Transport, number>> {
  return { mqtt: await freePort(), mqtts: await freePort(), ws: await freePort(), wss: await freePort() };
}

/** Starts a broker on `rt` with all four listeners; `extra` is appended to its configuration. */
export async function startBrokerProcess(
  rt: BrokerRuntime,
  certs: TestCerts,
  o: { extra?: string; maxMs: number; ports?: Record<Transport, number> },
): Promise<BrokerProcess> {
  const dir = mkdtempSync(join(tmpdir(), `broker-${rt}-`));
  const ports = o.ports ?? await freePorts();
  const files = `keyfile = "${certs.keyFile}"\n  certfile = "${certs.certFile}"\n`;
  const conf = join(dir, "nanomq.conf");
  writeFileSync(
    conf,
    `listeners.tcp.bind = "127.0.0.1:${ports.mqtt}"\n` +
      `listeners.ssl {\n  bind = "127.0.0.1:${ports.mqtts}"\n  ${files}}\n` +
      `listeners.ws.bind = "127.0.0.1:${ports.ws}/mqtt"\n` +
      `listeners.wss {\n  bind = "127.0.0.1:${ports.wss}/mqtt"\n  ${files}}\n` +
      `log.level = info\n${o.extra ?? ""}`,
  );
  const argv = _argv(rt);
  const p = run(argv[0]!, [...argv.slice(1), "start", "--conf", conf], o.maxMs, {
    NANOMQ_PID_FILE: join(dir, "nanomq.pid"),
  });
  let exited: RunResult | null = null;
  void p.done.then((r) => (exited = r));
  await waitFor(() => exited !== null || p.output().includes("listening on"), `the ${rt} broker`, 30_000);
  if (exited !== null) throw new Error(`The ${rt} broker did not start:\n${p.output()}`);
  return {
    runtime: rt,
    ports,
    log: p.output,
    stop: async () => {
      p.kill();
      return await p.done;
    },
  };
}

/** The URL of a broker's listener for MQTT.js. */
export function urlOf(b: BrokerProcess, t: Transport): string {
  return `${t}://127.0.0.1:${b.ports[t]}${t === "ws" || t === "wss" ? "/mqtt" : ""}`;
}
