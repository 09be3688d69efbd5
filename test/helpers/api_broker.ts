/** A broker process with the HTTP API on, started from a nanomq.conf written here, and a fetch for it. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { freePort, waitFor } from "./live_broker.ts";
import { run, type RunResult } from "./run.ts";

/** A running broker process and its ports. */
export interface ApiBroker {
  mqttPort: number;
  httpPort: number;
  pid: number;
  dir: string;
  output(): string;
  /** Resolves when the process has exited. */
  done: Promise<RunResult>;
  stop(): Promise<RunResult>;
  /** A request to the API with Basic admin:`password` (or the headers given). */
  api(
    path: string,
    o?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
}

/**
 * Starts `src/main.ts start` with MQTT on one port and `http_server` on another; `conf` is
 * appended to the file, `http` goes inside `http_server { }` (default: admin/`password`).
 */
export async function startApiBroker(
  o: { conf?: string; http?: string; password?: string; maxMs?: number } = {},
): Promise<ApiBroker> {
  const dir = mkdtempSync(join(tmpdir(), "broker-api-"));
  const [mqttPort, httpPort] = [await freePort(), await freePort()];
  const password = o.password ?? "s3cret-pass";
  const http = o.http ?? `username = admin\n  password = "${password}"`;
  const conf = join(dir, "nanomq.conf");
  writeFileSync(
    conf,
    `listeners.tcp.bind = "127.0.0.1:${mqttPort}"\nlog.level = info\n` +
      `http_server {\n  port = ${httpPort}\n  ip_addr = "127.0.0.1"\n  ${http}\n}\n${
        (o.conf ?? "").replaceAll("@DIR@", dir)
      }`,
  );
  const p = run(process.execPath, ["src/main.ts", "start", "--conf", conf], o.maxMs ?? 120_000, {
    NANOMQ_PID_FILE: join(dir, "nanomq.pid"),
  });
  let exited: RunResult | null = null;
  void p.done.then((r) => (exited = r));
  await waitFor(() => exited !== null || p.output().includes("listening on"), "the broker", 30_000);
  if (exited !== null) throw new Error(`The broker did not start:\n${p.output()}`);
  const auth = `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;
  return {
    mqttPort,
    httpPort,
    pid: p.pid,
    dir,
    output: p.output,
    done: p.done,
    stop: async () => {
      p.kill();
      return await p.done;
    },
    api: (path, r = {}) =>
      fetch(`http://127.0.0.1:${httpPort}${path}`, {
        method: r.method ?? (r.body === undefined ? "GET" : "POST"),
        headers: r.headers ?? { authorization: auth },
        ...(r.body === undefined
          ? {}
          : { body: typeof r.body === "string" ? r.body : JSON.stringify(r.body) }),
      }),
  };
}

/** The JSON of an API answer, after checking its status. */
export async function json(res: Promise<Response>, status = 200): Promise<Record<string, unknown>> {
  const r = await res;
  const text = await r.text();
  if (r.status !== status) throw new Error(`HTTP ${r.status} (expected ${status}): ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}
