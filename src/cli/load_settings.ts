/**
 * Everything `start`, `check` and a reload derive from the configuration: the validated Config,
 * the auth settings with the ACL file read, and the listeners with their certificate files read.
 * Any file that cannot be read is a ConfigError naming the key and the path.
 */
import type { AuthSettings } from "../auth/create_auth.ts";
import type { Config, TlsListenerConfig } from "../config/config.ts";
import { ConfigError } from "../config/config_error.ts";
import { loadConfig, type LoadedConfig } from "../config/load_config.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { ListenerSpec } from "../transport/listeners.ts";
import type { AdmissionLimits } from "../transport/admission.ts";
import { authSettings } from "./auth_settings.ts";
import { flagEdits, type StartFlags } from "./start_flags.ts";
import { type BridgeOptions, localClientId } from "../bridge/bridge_options.ts";
import { readConfigFile } from "./read_config_file.ts";
import { bridgeSettings } from "./bridge_settings.ts";
import { storeSpec } from "./open_store.ts";
import type { BrokerOptions } from "../broker/options.ts";
import type { TlsOptions } from "../runtime/tls_options.ts";

/** NanoMQ's default configuration path, used when present and nothing else is named. */
export const DEFAULT_CONF = "/etc/nanomq.conf";

/** What the broker runs with. */
export interface Settings {
  loaded: LoadedConfig;
  /** The configuration file, null for the built-in defaults. */
  conf: string | null;
  auth: AuthSettings;
  listeners: ListenerSpec[];
  bridges: BridgeOptions[];
  /** One-line notices about flags without effect. */
  notices: string[];
}

/** The configuration file to use: --conf, else $NANOMQ_CONF_PATH, else /etc/nanomq.conf if present. */
function _confPath(rt: Runtime, flags: StartFlags): string | null {
  return flags.conf ?? rt.env.NANOMQ_CONF_PATH ?? (rt.fileExists(DEFAULT_CONF) ? DEFAULT_CONF : null);
}

/** Loads and checks everything, `values` (dotted key paths) over flags, environment and file; throws ConfigError. */
export async function loadSettings(
  rt: Runtime,
  flags: StartFlags,
  conf = _confPath(rt, flags),
  values: Record<string, unknown> = {},
): Promise<Settings> {
  const { edits, notices } = flagEdits(flags);
  for (const [path, value] of Object.entries(values)) edits.push({ path, value, origin: "the HTTP API" });
  const loaded = await loadConfig({ file: conf, read: rt.readTextFile, env: rt.env, edits });
  const cfg = loaded.config;
  _checkRuntime(rt, cfg, loaded.source);
  return {
    loaded,
    conf,
    auth: await authSettings(rt, cfg, loaded.source),
    listeners: await _listeners(rt, cfg, loaded.source),
    bridges: await bridgeSettings(rt, cfg, loaded.source),
    notices,
  };
}

/** Maps the `mqtt { }` section onto broker options; each bridge's session queue is its cache. */
export function brokerOptions(st: Settings): BrokerOptions {
  const m = st.loaded.config.mqtt;
  return {
    maxPacketSize: m.max_packet_size,
    maxQueueLen: m.max_mqueue_len,
    maxInflight: m.max_inflight_window,
    keepaliveMultiplier: m.keepalive_multiplier,
    maxKeepalive: m.max_keepalive,
    topicAliasMaximum: m.max_topic_alias,
    maxSessions: m.max_sessions,
    maxSubscriptions: m.max_subscriptions,
    maxTopicLevels: m.max_topic_levels,
    maxTopicLength: m.max_topic_length,
    maxRetained: m.max_retained_messages,
    maxRetainedBytes: m.max_retained_bytes,
    maxUserProperties: m.property_size,
    responseInformation: m.response_information,
    serverReference: m.server_reference,
    serverMoved: m.server_moved,
    sessionQueueLen: new Map(st.bridges.map((b) => [localClientId(b.name), b.cacheSize])),
  };
}

/**
 * A configured feature that this runtime cannot provide stops the start: running without the
 * persistence the file asks for would lose messages silently.
 */
function _checkRuntime(rt: Runtime, cfg: Config, source: string): void {
  const spec = storeSpec(cfg);
  const missing = spec === null ? null : rt.sqliteMissing();
  if (missing === null || spec === null) return;
  throw new ConfigError(
    source,
    0,
    spec.key,
    `persistence needs SQLite, and ${missing}. Run a broker-linux-* binary or a newer Node.js, ` +
      `or remove the ${spec.key} { } section${
        spec.key === "sqlite" ? " (or set sqlite.enable = false)" : ""
      } to run without persistence`,
  );
}

async function _listeners(rt: Runtime, cfg: Config, source: string): Promise<ListenerSpec[]> {
  const specs: ListenerSpec[] = [];
  const tcp = cfg.listeners.tcp;
  for (const [name, l] of _all("listeners.tcp", tcp)) {
    if (l.enable) specs.push({ ...l.bind, name, ..._limits(l) });
  }
  const { ssl, ws, wss } = cfg.listeners;
  for (const [path, l] of _all("listeners.ssl", ssl)) {
    if (!l.enable) continue;
    const tls = { ...(await _tls(rt, l, path, source)), handshakeTimeoutMs: l.handshake_timeout };
    specs.push({
      ...l.bind,
      tls,
      useCnAsUsername: l.use_cn_as_username,
      name: path,
      files: _files(l),
      ..._limits(l),
    });
  }
  for (const [name, l] of _all("listeners.ws", ws)) {
    if (l.enable) {
      specs.push({ host: l.bind.host, port: l.bind.port, wsPath: l.bind.path, name, ..._limits(l) });
    }
  }
  for (const [path, l] of _all("listeners.wss", wss)) {
    if (!l.enable) continue;
    // a WSS listener without certificate keys of its own takes those of listeners.ssl
    const own = l.keyfile !== null;
    const files = own ? { ...l, verify_peer: false, fail_if_no_peer_cert: false } : ssl!;
    const tls = await _tls(rt, files, own ? path : "listeners.ssl", source);
    specs.push({
      host: l.bind.host,
      port: l.bind.port,
      wsPath: l.bind.path,
      tls,
      name: path,
      files: _files(files),
      ..._limits(l),
    });
  }
  return specs;
}

/** A listener's own limits (0: the broker's). */
function _limits(l: { max_connections: number; max_packet_size: number }): Partial<ListenerSpec> {
  return { maxConnections: l.max_connections, maxPacketSize: l.max_packet_size };
}

/** The limits on connections as a whole. */
export function admissionLimits(st: Settings): AdmissionLimits {
  const m = st.loaded.config.mqtt;
  return { maxConnections: m.max_connections, maxConnRatePerIp: m.max_conn_rate_per_ip };
}

function _files(l: TlsFiles): string[] {
  return [l.certfile, l.keyfile, l.cacertfile].filter((f): f is string => f !== null);
}

/** A section and its named siblings, with their key paths. */
function _all<T extends object>(path: string, l: (T & { named: Record<string, T> }) | null): [string, T][] {
  if (l === null) return [];
  return [[path, l], ...Object.entries(l.named).map(([n, x]): [string, T] => [`${path}.${n}`, x])];
}

async function _tls(rt: Runtime, l: TlsFiles, path: string, source: string): Promise<TlsOptions> {
  const tls: TlsOptions = {
    key: await readConfigFile(rt, l.keyfile!, source, `${path}.keyfile`),
    cert: await readConfigFile(rt, l.certfile!, source, `${path}.certfile`),
    requestCert: l.verify_peer,
    rejectUnauthorized: l.verify_peer && l.fail_if_no_peer_cert,
  };
  if (l.cacertfile !== null) tls.ca = await readConfigFile(rt, l.cacertfile, source, `${path}.cacertfile`);
  if (l.key_password !== null) tls.passphrase = l.key_password;
  return tls;
}

type TlsFiles = Pick<
  TlsListenerConfig,
  "keyfile" | "certfile" | "cacertfile" | "key_password" | "verify_peer" | "fail_if_no_peer_cert"
>;
