/**
 * The typed configuration: NanoMQ's sections and key names with NanoMQ's defaults. The type is
 * inferred from the schema that validates it, so the two cannot drift apart.
 */
import {
  aclRuleSpec,
  bridgesSpec,
  DEFAULT_DISK_CACHE_SIZE,
  httpAuthSpec,
  NO_FLUSH_THRESHOLD,
  tlsFileFields,
} from "./config_sections.ts";
import { rulesSpec, webhookSpec } from "./config_integrations.ts";
import {
  bool,
  duration,
  type Infer,
  int,
  list,
  notice,
  num,
  obj,
  objWithNamed,
  oneOf,
  optStr,
  section,
  showValue,
  size,
  type Spec,
  str,
  strMap,
} from "./schema.ts";

/** A host and port to listen on. */
export interface BindAddress {
  host: string;
  port: number;
}

/** Parses "host:port" (`listeners.tcp.bind`); null when it is not one. */
export function parseBind(s: string): BindAddress | null {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s.trim());
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port >= 0 && port <= 65535)) return null;
  return { host: m[1] === "" ? "0.0.0.0" : m[1]!, port };
}

/** `host:port`, as `listeners.tcp.bind`. */
export function bind(def: string): Spec<BindAddress> {
  return {
    default: parseBind(def)!,
    parse(v, path, cx) {
      return parseBind(String(v)) ??
        cx.fail(path, `"${v}" is not host:port; write for example "0.0.0.0:1883"`);
    },
    show: _bindText,
  };
}

function _bindText(b: BindAddress): string {
  return b.host.includes(":") ? `[${b.host}]:${b.port}` : `${b.host}:${b.port}`;
}

/** A WebSocket listener's address: `host:port/path`. */
export interface WsBindAddress extends BindAddress {
  path: string;
}

/** `host:port/path`, as `listeners.ws.bind`. */
export function wsBind(def: string): Spec<WsBindAddress> {
  const p = (s: string): WsBindAddress | null => {
    const m = /^(.*?)(\/.*)?$/.exec(s.trim())!;
    const b = parseBind(m[1]!);
    return b === null ? null : { ...b, path: m[2] ?? "/mqtt" };
  };
  return {
    default: p(def)!,
    parse(v, path, cx) {
      return p(String(v)) ??
        cx.fail(path, `"${v}" is not host:port/path; write for example "0.0.0.0:8083/mqtt"`);
    },
    show: (b) => _bindText(b) + b.path,
  };
}

const IGNORED_THREADS = "has no effect: the number of workers is system.num_taskq_thread";

const systemSpec = obj({
  daemon: bool(false),
  /** Workers, each an event loop on its own thread; 0 and 1 mean one (see docs/performance.md). */
  num_taskq_thread: int(0, 0, 64),
  max_taskq_thread: notice(int(0, 0, 255), IGNORED_THREADS),
  parallel: notice(int(0, 0, 1_000_000), IGNORED_THREADS),
  enable_ipc_internal: notice(bool(true), "has no effect: `broker reload` uses a signal, not IPC"),
  hook_ipc_url: notice(
    str("ipc:///tmp/nanomq_hook.ipc"),
    "has no effect: webhooks post to their url directly (webhook { })",
  ),
  cmd_ipc_url: notice(
    str("ipc:///tmp/nanomq_cmd.ipc"),
    "has no effect: `broker reload` uses a signal, not IPC",
  ),
});

const mqttSpec = obj({
  /** NanoMQ's "maximum size for a MQTT user property", read as the most User Properties in one packet. */
  property_size: int(32, 1, 65535),
  max_packet_size: size(10 * 1024 * 1024, 1, 260 * 1024 * 1024),
  // ours, EMQX's names where it has one (docs/limits.md)
  max_connections: int(100_000, 1, 10_000_000),
  /** New connections per second from one IP address, 0 for no limit. */
  max_conn_rate_per_ip: int(0, 0, 1_000_000),
  max_sessions: int(100_000, 1, 10_000_000),
  max_subscriptions: int(10_000, 1, 10_000_000),
  max_topic_levels: int(128, 1, 65535),
  max_topic_length: int(4096, 1, 65535),
  max_retained_messages: int(100_000, 0, 100_000_000),
  max_retained_bytes: size(128 * 1024 * 1024, 0, 64 * 1024 ** 3),
  max_mqueue_len: int(2048, 1, 10_000_000),
  retry_interval: notice(
    duration(10_000, 0, 86_400_000),
    "has no effect: MQTT 3.1.1 and 5 resend unacknowledged messages only on reconnect",
  ),
  keepalive_multiplier: num(1.5, 1, 100),
  max_inflight_window: int(2048, 1, 65535),
  max_keepalive: int(65535, 1, 65535),
  max_topic_alias: int(64, 0, 65535),
  /** Ours (MQTT 5): Response Information for clients that ask, %c and %u filled in; "" for none. */
  response_information: str(""),
  /** Ours (MQTT 5): send clients to this broker (Server Reference, 0x9C; 0x9D with server_moved). */
  server_reference: str(""),
  server_moved: bool(false),
  /** Mosquitto's name (NanoMQ has none): seconds between `$SYS/broker/...` updates, 0 for none. */
  sys_interval: int(10, 0, 86_400),
  max_awaiting_rel: notice(duration(10_000, 0, 86_400_000), "is not supported (NanoMQ ignores it too)"),
  await_rel_timeout: notice(duration(10_000, 0, 86_400_000), "is not supported (NanoMQ ignores it too)"),
});

/** Ours: limits of one listener; 0 leaves mqtt.max_connections and mqtt.max_packet_size to decide. */
const listenerLimits = {
  max_connections: int(0, 0, 10_000_000),
  max_packet_size: size(0, 0, 260 * 1024 * 1024),
};

const tcpFields = { bind: bind("0.0.0.0:1883"), enable: bool(true), ...listenerLimits };

const sslFields = {
  bind: bind("0.0.0.0:8883"),
  enable: bool(true),
  ...listenerLimits,
  ...tlsFileFields,
  verify_peer: bool(false),
  fail_if_no_peer_cert: bool(false),
  /** Ours (Mosquitto's use_identity_as_username): a verified client certificate's CN is the user name. */
  use_cn_as_username: bool(false),
  /** Ours: a TLS handshake not finished in this time is closed. */
  handshake_timeout: duration(10_000, 100, 600_000),
};

const wsFields = { bind: wsBind("0.0.0.0:8083/mqtt"), enable: bool(true), ...listenerLimits };
const wssFields = {
  bind: wsBind("0.0.0.0:8086/mqtt"),
  enable: bool(true),
  ...listenerLimits,
  ...tlsFileFields,
};

const listenersSpec = obj({
  tcp: objWithNamed(tcpFields, obj(tcpFields)),
  ssl: section(objWithNamed(sslFields, obj(sslFields))),
  ws: section(objWithNamed(wsFields, obj(wsFields))),
  wss: section(objWithNamed(wssFields, obj(wssFields))),
});

const httpServerSpec = obj({
  enable: bool(true),
  port: int(8081, 1, 65535),
  ip_addr: str("0.0.0.0"),
  limit_conn: int(32, 1, 100_000),
  username: str("admin"),
  password: str("public"),
  auth_type: oneOf("basic", ["basic", "jwt", "no_auth"]),
  jwt: obj({ public: obj({ keyfile: optStr() }), private: obj({ keyfile: optStr() }) }),
});

/** NanoMQ's log levels, least severe first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
/** One of {@link LOG_LEVELS}. */
export type LogLevel = (typeof LOG_LEVELS)[number];

const logSpec = obj({
  to: list(oneOf("console", ["console", "file", "syslog", "uds"]), ["console"]),
  level: oneOf<LogLevel>("warn", LOG_LEVELS),
  dir: str("/tmp"),
  file: str("nanomq.log"),
  rotation: obj({ size: size(10 * 1024 * 1024, 1024, 1024 ** 3), count: int(5, 1, 1000) }),
  uds_addr: notice(optStr(), "has no effect: logging to a Unix socket is not supported"),
});

const authSpec = obj({
  allow_anonymous: bool(true),
  no_match: oneOf("allow", ["allow", "deny"]),
  deny_action: oneOf("ignore", ["ignore", "disconnect"]),
  // how long, and how many per client, acl_req answers are kept (rules need no cache)
  cache: obj({ max_size: int(32, 0, 1_000_000), ttl: duration(60_000, 0, 86_400_000) }),
  password: strMap(),
  acl: obj({ rules: list(aclRuleSpec) }),
  acl_file: optStr(),
  http_auth: section(httpAuthSpec),
});

const sqliteSpec = obj({
  enable: bool(true),
  disk_cache_size: int(DEFAULT_DISK_CACHE_SIZE, 1, 1_000_000_000),
  mounted_file_path: str(""),
  flush_mem_threshold: notice(int(100, 1, 1_000_000), NO_FLUSH_THRESHOLD),
  resend_interval: notice(
    int(5000, 0, 86_400_000),
    "has no effect: unacknowledged deliveries are sent again when the client reconnects [MQTT-4.4.0-1]",
  ),
});

const UNSUPPORTED_SECTION: Spec<null> = {
  default: null,
  parse: () => null,
  notice: "is not supported by this broker; the section is ignored",
};

/** The whole configuration file. */
export const CONFIG_SPEC = obj({
  system: systemSpec,
  mqtt: mqttSpec,
  listeners: listenersSpec,
  http_server: section(httpServerSpec),
  log: logSpec,
  auth: authSpec,
  sqlite: section(sqliteSpec),
  bridges: bridgesSpec,
  webhook: section(webhookSpec),
  rules: section(rulesSpec),
  exchange_client: UNSUPPORTED_SECTION,
  parquet: UNSUPPORTED_SECTION,
  blf: UNSUPPORTED_SECTION,
  plugin: UNSUPPORTED_SECTION,
  gateway: UNSUPPORTED_SECTION,
});

/** Everything the broker reads from its configuration. */
export type Config = Infer<typeof CONFIG_SPEC>;
/** `listeners.ssl` and its named siblings. */
export type TlsListenerConfig = Omit<NonNullable<Config["listeners"]["ssl"]>, "named">;
/** `auth.acl.rules[i]`. */
export type AclRuleConfig = Infer<typeof aclRuleSpec>;

/** The configuration when no file is given. */
export function defaultConfig(): Config {
  return CONFIG_SPEC.default;
}

/** The configuration as a file would give it (durations with their unit: "60s"), for display. */
export function showConfig(c: Config): Record<string, unknown> {
  return showValue(CONFIG_SPEC, c) as Record<string, unknown>;
}
