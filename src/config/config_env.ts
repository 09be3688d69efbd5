/**
 * NanoMQ's NANOMQ_* environment variables and `start` flags, as edits to the raw configuration
 * tree. They are applied after the file (priority: flags > environment > file > defaults), and
 * the result is validated once, so a bad value is reported with the variable or flag it came from.
 */
import { closestKey } from "./closest_key.ts";
import { ConfigError } from "./config_error.ts";

/** One edit: set `path` to `value`, or to what `value` computes from the current one. */
export interface Edit {
  path: string;
  value: unknown | ((old: unknown) => unknown);
  /** "environment variable NANOMQ_MSQ_LEN", "flag --msq_len". */
  origin: string;
}

type Conv = (v: string, origin: string) => unknown;

/** "true"/"yes"/"1"/"on" and "false"/"no"/"0"/"off", case-insensitive. */
export function envBool(v: string, origin: string): boolean {
  const s = v.trim().toLowerCase();
  if (["true", "yes", "1", "on"].includes(s)) return true;
  if (["false", "no", "0", "off"].includes(s)) return false;
  throw new ConfigError(origin, 0, "value", `"${v}" is not true or false`);
}

const same: Conv = (v) => v;
const seconds: Conv = (v) => (/^\s*\d+\s*$/.test(v) ? `${v.trim()}s` : v);
const list: Conv = (v) => v.split(",").map((s) => s.trim()).filter((s) => s !== "");

/** `scheme://host:port[/path]` -> "host:port[/path]" for a bind key. */
export function urlToBind(url: string, schemes: string[], origin: string): string {
  const m = /^([a-z+-]+):\/\/(.+)$/.exec(url.trim());
  if (m === null || !schemes.includes(m[1]!)) {
    throw new ConfigError(
      origin,
      0,
      "url",
      `"${url}" is not a ${schemes.map((s) => `${s}://`).join(" or ")} URL`,
    );
  }
  return m[2]!;
}

const url = (...schemes: string[]): Conv => (v, o) => urlToBind(v, schemes, o);

/** Variable name (without NANOMQ_) -> configuration path and conversion. */
const ENV: Record<string, [string, Conv]> = {
  BROKER_URL: ["listeners.tcp.bind", url("nmq-tcp")],
  TCP_ENABLE: ["listeners.tcp.enable", envBool],
  DAEMON: ["system.daemon", envBool],
  NUM_TASKQ_THREAD: ["system.num_taskq_thread", same],
  MAX_TASKQ_THREAD: ["system.max_taskq_thread", same],
  PARALLEL: ["system.parallel", same],
  PROPERTY_SIZE: ["mqtt.property_size", same],
  MAX_PACKET_SIZE: ["mqtt.max_packet_size", same],
  MSQ_LEN: ["mqtt.max_mqueue_len", same],
  QOS_DURATION: ["mqtt.retry_interval", seconds],
  ALLOW_ANONYMOUS: ["auth.allow_anonymous", envBool],
  WEBSOCKET_ENABLE: ["listeners.ws.enable", envBool],
  WEBSOCKET_URL: ["listeners.ws.bind", url("nmq-ws")],
  WEBSOCKET_TLS_ENABLE: ["listeners.wss.enable", envBool],
  WEBSOCKET_TLS_URL: ["listeners.wss.bind", url("nmq-wss")],
  HTTP_SERVER_ENABLE: ["http_server.enable", envBool],
  HTTP_SERVER_URL: ["http_server.ip_addr", same],
  HTTP_SERVER_PORT: ["http_server.port", same],
  HTTP_SERVER_USERNAME: ["http_server.username", same],
  HTTP_SERVER_PASSWORD: ["http_server.password", same],
  HTTP_SERVER_AUTH_TYPE: ["http_server.auth_type", same],
  HTTP_SERVER_JWT_PUBLIC_KEYFILE: ["http_server.jwt.public.keyfile", same],
  HTTP_SERVER_JWT_PRIVATE_KEYFILE: ["http_server.jwt.private.keyfile", same],
  TLS_ENABLE: ["listeners.ssl.enable", envBool],
  TLS_URL: ["listeners.ssl.bind", url("tls+nmq-tcp")],
  TLS_CA_CERT_PATH: ["listeners.ssl.cacertfile", same],
  TLS_CERT_PATH: ["listeners.ssl.certfile", same],
  TLS_KEY_PATH: ["listeners.ssl.keyfile", same],
  TLS_KEY_PASSWORD: ["listeners.ssl.key_password", same],
  TLS_VERIFY_PEER: ["listeners.ssl.verify_peer", envBool],
  TLS_FAIL_IF_NO_PEER_CERT: ["listeners.ssl.fail_if_no_peer_cert", envBool],
  LOG_LEVEL: ["log.level", same],
  LOG_TO: ["log.to", list],
  LOG_UDS_ADDR: ["log.uds_addr", same],
  LOG_DIR: ["log.dir", same],
  LOG_FILE: ["log.file", same],
  LOG_ROTATION_SIZE: ["log.rotation.size", same],
  LOG_ROTATION_COUNT: ["log.rotation.count", same],
};

/** Read by the cli itself, not configuration keys. */
const CLI_VARS = ["CONF_PATH", "PID_FILE"];
/** NanoMQ names them; this broker has nothing they could apply to. */
const NOT_APPLICABLE: Record<string, string> = {
  CLIENT_MAX_PACKET_SIZE: "clients' own Maximum Packet Size is always honoured",
  HTTP_SERVER_PARALLEL: "the HTTP API serves its requests on the broker's event loop",
  VIN: "no vehicle id is substituted into bridge client ids or topics",
  EXCHANGER_URL: "exchanges are not supported",
  MSG_PERSISTENCE: "use the sqlite { } section",
};

/** The edits the NANOMQ_* variables of `env` ask for, and warnings for those that do nothing. */
export function envEdits(env: Record<string, string | undefined>): { edits: Edit[]; warnings: string[] } {
  const edits: Edit[] = [];
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith("NANOMQ_") || value === undefined) continue;
    const key = name.slice(7);
    const origin = `environment variable ${name}`;
    const m = ENV[key];
    if (m !== undefined) edits.push({ path: m[0], value: m[1](value, origin), origin });
    else if (NOT_APPLICABLE[key] !== undefined) {
      warnings.push(`${origin} has no effect: ${NOT_APPLICABLE[key]}`);
    } else if (!CLI_VARS.includes(key)) {
      const near = closestKey(key, [...Object.keys(ENV), ...CLI_VARS]);
      warnings.push(
        `${origin} is not a known variable${near === null ? "" : ` (did you mean NANOMQ_${near}?)`}`,
      );
    }
  }
  return { edits, warnings };
}

/** `--url`: the scheme picks the listener. */
export function urlEdit(v: string): Edit {
  const origin = "flag --url";
  const scheme = /^([a-z+-]+):\/\//.exec(v)?.[1];
  const path = {
    "nmq-tcp": "listeners.tcp.bind",
    "tls+nmq-tcp": "listeners.ssl.bind",
    "nmq-ws": "listeners.ws.bind",
    "nmq-wss": "listeners.wss.bind",
  }[scheme ?? ""];
  if (path === undefined) {
    throw new ConfigError(
      origin,
      0,
      "--url",
      `"${v}" is not an nmq-tcp://, tls+nmq-tcp://, nmq-ws:// or nmq-wss:// URL`,
    );
  }
  return { path, value: urlToBind(v, [scheme!], origin), origin };
}

/** Applies `edits` to the raw tree in order, recording where each value came from. */
export function applyEdits(tree: Record<string, unknown>, edits: Edit[], origins: Map<string, string>): void {
  for (const e of edits) {
    const segs = e.path.split(".");
    let o = tree;
    for (const s of segs.slice(0, -1)) {
      const next = o[s];
      if (next === null || typeof next !== "object" || Array.isArray(next)) o[s] = {};
      o = o[s] as Record<string, unknown>;
    }
    const last = segs.at(-1)!;
    o[last] = typeof e.value === "function" ? (e.value as (old: unknown) => unknown)(o[last]) : e.value;
    origins.set(e.path, e.origin);
  }
}
