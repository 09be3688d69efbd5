/**
 * Where a client tool connects: `--url` (mqtt://, mqtts://, ws://, wss://, and NanoMQ's
 * mqtt-tcp:// and tls+mqtt-tcp://) or `-h`/`-p`/`-s`, with the TLS files of `--cafile`, `--cert`,
 * `--key`; and opening that connection through the runtime.
 */
import type { Connection } from "../runtime/connection.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { ClientTlsOptions } from "../runtime/tls_options.ts";
import { ClientError } from "./client_error.ts";

/** A broker's address and transport. */
export interface Target {
  transport: "tcp" | "tls" | "ws" | "wss";
  host: string;
  port: number;
  /** The WebSocket path ("/mqtt"). */
  path: string;
  /** Credentials written in the URL (`mqtt://user:pass@host`). */
  username?: string;
  password?: string;
}

/** TLS files and choices, as the flags give them. */
export interface TlsFlags {
  cafile?: string;
  cert?: string;
  key?: string;
  keypass?: string;
  /** Do not verify the server's certificate (Mosquitto's --insecure). */
  insecure: boolean;
}

const SCHEMES: Record<string, Target["transport"]> = {
  mqtt: "tcp",
  tcp: "tcp",
  "mqtt-tcp": "tcp",
  mqtts: "tls",
  ssl: "tls",
  tls: "tls",
  "tls+mqtt-tcp": "tls",
  ws: "ws",
  wss: "wss",
};

const DEFAULT_PORTS: Record<Target["transport"], number> = { tcp: 1883, tls: 8883, ws: 8083, wss: 8084 };

/** The target of `--url`; a usage error names what is wrong with it. */
export function parseUrl(url: string): Target {
  const m = /^([a-z+-]+):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?(\[[^\]]+\]|[^:/?#]+)(?::(\d+))?(\/[^?#]*)?$/i.exec(
    url,
  );
  const transport = m === null ? undefined : SCHEMES[m[1]!.toLowerCase()];
  if (m === null || transport === undefined) {
    throw new ClientError(
      "usage",
      `--url "${url}" is not a broker URL: write mqtt://host:port, mqtts://, ws://host:port/mqtt or wss://`,
    );
  }
  const port = m[5] === undefined ? DEFAULT_PORTS[transport] : Number(m[5]);
  if (!(port > 0 && port < 65536)) throw new ClientError("usage", `--url "${url}": ${m[5]} is not a port`);
  const t: Target = { transport, host: m[4]!.replace(/^\[|\]$/g, ""), port, path: m[6] ?? "/mqtt" };
  if (m[2] !== undefined && m[2] !== "") t.username = decodeURIComponent(m[2]);
  if (m[3] !== undefined) t.password = decodeURIComponent(m[3]);
  return t;
}

/** The target of `-h`, `-p` and `-s` (NanoMQ's defaults: 127.0.0.1, 1883, 8883 with TLS). */
export function hostTarget(host: string | undefined, port: string | undefined, secure: boolean): Target {
  const transport = secure ? "tls" : "tcp";
  const p = port === undefined ? DEFAULT_PORTS[transport] : Number(port);
  if (!/^\d+$/.test(port ?? "1") || !(p > 0 && p < 65536)) {
    throw new ClientError("usage", `-p, --port must be a port from 1 to 65535, not "${port}"`);
  }
  return { transport, host: host ?? "127.0.0.1", port: p, path: "/mqtt" };
}

/** Reads the TLS files (a missing one is a usage error naming its flag). */
export async function tlsOptions(rt: Runtime, f: TlsFlags): Promise<ClientTlsOptions> {
  const read = async (flag: string, path: string) => {
    try {
      return await rt.readTextFile(path);
    } catch (e) {
      throw new ClientError("usage", `--${flag} ${path}: ${(e as Error).message}`);
    }
  };
  const o: ClientTlsOptions = { rejectUnauthorized: !f.insecure };
  if (f.cafile !== undefined) o.ca = await read("cafile", f.cafile);
  if (f.cert !== undefined) o.cert = await read("cert", f.cert);
  if (f.key !== undefined) o.key = await read("key", f.key);
  if (f.keypass !== undefined) o.passphrase = f.keypass;
  return o;
}

/** Opens the connection; a failure is a ClientError ("refused": the broker could not be reached). */
export async function openConnection(
  rt: Runtime,
  t: Target,
  tls: ClientTlsOptions | undefined,
  timeoutMs: number,
): Promise<Connection> {
  const secure = t.transport === "tls" || t.transport === "wss";
  try {
    if (t.transport === "ws" || t.transport === "wss") {
      return await rt.connectWs({
        host: t.host,
        port: t.port,
        path: t.path,
        timeoutMs,
        ...(secure ? { tls: tls ?? {} } : {}),
      });
    }
    return await rt.connect({ host: t.host, port: t.port, timeoutMs, ...(secure ? { tls: tls ?? {} } : {}) });
  } catch (e) {
    const msg = (e as Error).message;
    const kind = /within \d+ ms/.test(msg) ? "timeout" : "refused";
    throw new ClientError(kind, `cannot connect to ${describeTarget(t)}: ${msg}`);
  }
}

/** `mqtts://127.0.0.1:8883` */
export function describeTarget(t: Target): string {
  const scheme = { tcp: "mqtt", tls: "mqtts", ws: "ws", wss: "wss" }[t.transport];
  const host = t.host.includes(":") ? `[${t.host}]` : t.host;
  return `${scheme}://${host}:${t.port}${t.transport.startsWith("ws") ? t.path : ""}`;
}
