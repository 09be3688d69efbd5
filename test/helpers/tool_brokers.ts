/**
 * The two brokers the client tools are tested against, each on TCP, TLS and WebSocket: this one
 * (from source) and Mosquitto from Debian; and the tools themselves run as `bun src/main.ts`.
 */
import { chmodSync, copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import type { TestCerts } from "./certs.ts";
import { freePort, mqttListening, waitFor } from "./live_broker.ts";
import { run, type RunResult } from "./run.ts";

/** A broker's ports by the client tools' URL schemes. */
export interface ToolBroker {
  name: "ours" | "mosquitto";
  ports: { mqtt: number; mqtts: number; ws: number };
  dir: string;
  stop(): Promise<void>;
}

async function _ports() {
  return { mqtt: await freePort(), mqtts: await freePort(), ws: await freePort() };
}

/** This broker with TCP, TLS and WS listeners; `extra` is appended to its nanomq.conf. */
export async function startOurs(certs: TestCerts, extra = ""): Promise<ToolBroker> {
  const dir = mkdtempSync(join(tmpdir(), "tools-ours-"));
  const ports = await _ports();
  const conf = join(dir, "nanomq.conf");
  writeFileSync(
    conf,
    `listeners.tcp.bind = "127.0.0.1:${ports.mqtt}"\n` +
      `listeners.ssl {\n  bind = "127.0.0.1:${ports.mqtts}"\n  keyfile = "${certs.keyFile}"\n  certfile = "${certs.certFile}"\n}\n` +
      `listeners.ws.bind = "127.0.0.1:${ports.ws}/mqtt"\nlog.level = info\n${extra}`,
  );
  const p = run(process.execPath, ["src/main.ts", "start", "--conf", conf], 600_000, {
    NANOMQ_PID_FILE: join(dir, "nanomq.pid"),
  });
  let exited = false;
  void p.done.then(() => (exited = true));
  await waitFor(() => exited || p.output().includes("listening on"), "the broker", 30_000);
  if (exited) throw new Error(`The broker did not start:\n${p.output()}`);
  return { name: "ours", ports, dir, stop: async () => void (p.kill(), await p.done) };
}

/** Mosquitto with TCP, TLS and WebSocket listeners, anonymous access allowed. */
export async function startMosquitto(certs: TestCerts): Promise<ToolBroker> {
  const dir = mkdtempSync(join(tmpdir(), "tools-mosquitto-"));
  chmodSync(dir, 0o777);
  // run as root, Mosquitto drops to its own user, who must be able to read the certificate files
  for (const f of ["cert.pem", "key.pem"]) {
    copyFileSync(f === "cert.pem" ? certs.certFile : certs.keyFile, join(dir, f));
    chmodSync(join(dir, f), 0o644);
  }
  const ports = await _ports();
  writeFileSync(
    join(dir, "m.conf"),
    `listener ${ports.mqtt} 127.0.0.1\nallow_anonymous true\n` +
      `listener ${ports.mqtts} 127.0.0.1\ncertfile ${dir}/cert.pem\nkeyfile ${dir}/key.pem\n` +
      `listener ${ports.ws} 127.0.0.1\nprotocol websockets\nlog_dest file ${dir}/m.log\n`,
  );
  const p = run("mosquitto", ["-c", join(dir, "m.conf")], 600_000);
  await mqttListening(ports.mqtt);
  return {
    name: "mosquitto",
    ports,
    dir,
    stop: async () => void (process.kill(p.pid, "SIGTERM"), await p.done),
  };
}

/** Runs `broker <args>` (a client tool) to its end. */
export function tool(args: string[], input?: string): Promise<RunResult> {
  return run(process.execPath, ["src/main.ts", ...args], 60_000, {}, input).done;
}

/** Starts `broker <args>` and returns it running (for sub and conn). */
export function startTool(args: string[]) {
  return run(process.execPath, ["src/main.ts", ...args], 60_000);
}
