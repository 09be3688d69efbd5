/**
 * A broker process (the linux-x86_64 binary, or $BROKER_BIN) with one TCP listener, the HTTP API
 * without authentication, and whatever configuration a test adds; its Prometheus metrics read back.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { freePort, waitFor } from "./live_broker.ts";
import { run, type RunResult } from "./run.ts";

/** A broker process. */
export interface TcpBroker {
  port: number;
  httpPort: number;
  pid: number;
  /** Its configuration file, and the pid file `broker reload` / `broker stop` find it by. */
  conf: string;
  pidFile: string;
  log(): string;
  exited(): RunResult | null;
  stop(): Promise<RunResult>;
}

/** Starts dist/broker-linux-x86_64 with a TCP listener and the HTTP API; `extra` is appended to its configuration. */
export async function startTcpBroker(extra = "", maxMs = 3_600_000 * 24): Promise<TcpBroker> {
  const bin = resolve(process.env.BROKER_BIN ?? "dist/broker-linux-x86_64");
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run npm run build`);
  const dir = mkdtempSync(join(tmpdir(), "tcp-broker-"));
  const [port, httpPort] = [await freePort(), await freePort()];
  const conf = join(dir, "nanomq.conf");
  writeFileSync(
    conf,
    `listeners.tcp.bind = "127.0.0.1:${port}"\n` +
      `http_server { port = ${httpPort}, ip_addr = "127.0.0.1", auth_type = no_auth }\n` +
      `log.level = warn\n${extra}`,
  );
  const pidFile = join(dir, "nanomq.pid");
  const p = run(bin, ["start", "--conf", conf], maxMs, { NANOMQ_PID_FILE: pidFile });
  let exited: RunResult | null = null;
  void p.done.then((r) => (exited = r));
  await waitFor(
    // any answer will do: a test may have put the API behind credentials
    async () => exited !== null || await fetch(`http://127.0.0.1:${httpPort}/`).then(() => true, () => false),
    "the broker",
  );
  if (exited !== null) throw new Error(`The broker did not start:\n${p.output()}`);
  return {
    port,
    httpPort,
    pid: p.pid,
    conf,
    pidFile,
    log: p.output,
    exited: () => exited,
    stop: () => (p.kill(), p.done),
  };
}

/** The value of Prometheus sample `sample` ("name" or 'name{label="v"}'), -1 when absent. */
export function metricOf(b: TcpBroker, sample: string): Promise<number> {
  return _gauge(b.httpPort, sample);
}

async function _gauge(httpPort: number, name: string): Promise<number> {
  try {
    const r = await fetch(`http://127.0.0.1:${httpPort}/api/v4/prometheus`);
    const text = await r.text();
    const at = text.indexOf(`\n${name} `);
    if (at < 0) return -1;
    const m = /^ (\S+)/.exec(text.slice(at + 1 + name.length));
    return m === null ? -1 : Number(m[1]);
  } catch {
    return -1;
  }
}

/** Open connections of the broker, from its Prometheus gauge. */
export const connectionsOf = (b: TcpBroker): Promise<number> =>
  _gauge(b.httpPort, "nanomq_connections_count");

/** Resident memory of process `pid`, bytes. */
export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m === null ? 0 : Number(m[1]) * 1024;
}
