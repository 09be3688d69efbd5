/** Text of a NanoMQ-style HOCON file in, validated Config out. Reads no files itself. */
import hocon from "@pushcorn/hocon-parser";
import { type Config, defaultConfig, type MqttConfig, type TlsListenerConfig } from "./config.ts";
import { ConfigError } from "./config_error.ts";

type Obj = Record<string, unknown>;

/** Sections NanoMQ has that this build does not implement yet: warned about, never silently ignored. */
const NOT_YET = ["system", "http_server", "log", "auth", "sqlite", "bridges", "webhook", "rules"];

interface Field {
  key: keyof MqttConfig;
  kind: "int" | "number" | "size" | "duration";
  min: number;
  max: number;
}

const MQTT_FIELDS: Record<string, Field> = {
  property_size: { key: "propertySize", kind: "int", min: 1, max: 65535 },
  max_packet_size: { key: "maxPacketSize", kind: "size", min: 1, max: 260 * 1024 * 1024 },
  max_mqueue_len: { key: "maxMqueueLen", kind: "int", min: 1, max: 10_000_000 },
  retry_interval: { key: "retryInterval", kind: "duration", min: 0, max: 86_400_000 },
  keepalive_multiplier: { key: "keepaliveMultiplier", kind: "number", min: 1, max: 100 },
  max_inflight_window: { key: "maxInflightWindow", kind: "int", min: 1, max: 65535 },
  max_keepalive: { key: "maxKeepalive", kind: "int", min: 1, max: 65535 },
  max_topic_alias: { key: "maxTopicAlias", kind: "int", min: 0, max: 65535 },
};

const UNSUPPORTED_MQTT = new Set(["max_awaiting_rel", "await_rel_timeout"]);

/** Parses `text` (the contents of `file`). Throws ConfigError naming file, line and key. */
export async function parseConfig(text: string, file: string): Promise<Config> {
  let tree: Obj;
  try {
    tree = ((await hocon({ text, strict: true })) ?? {}) as Obj;
  } catch (e) {
    throw new ConfigError(file, 0, "(syntax)", `${(e as Error).message}; fix the HOCON syntax`);
  }
  const cfg = defaultConfig();
  cfg.source = file;
  const at = (key: string): number => _lineOf(text, key);
  for (const [section, value] of Object.entries(tree)) {
    if (section === "mqtt") _mqtt(cfg, _obj(value, file, at, "mqtt"), file, at);
    else if (section === "listeners") _listeners(cfg, _obj(value, file, at, "listeners"), file, at);
    else if (NOT_YET.includes(section)) {
      cfg.warnings.push(`${file}:${at(section)}: section "${section}" is not supported yet and is ignored`);
    } else cfg.warnings.push(`${file}:${at(section)}: unknown section "${section}" is ignored`);
  }
  return cfg;
}

function _obj(v: unknown, file: string, at: (k: string) => number, key: string): Obj {
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new ConfigError(file, at(key), key, "expected a { } section");
  }
  return v as Obj;
}

function _mqtt(cfg: Config, sec: Obj, file: string, at: (k: string) => number): void {
  for (const [k, v] of Object.entries(sec)) {
    const f = MQTT_FIELDS[k];
    if (f === undefined) {
      const why = UNSUPPORTED_MQTT.has(k) ? "is not supported (NanoMQ ignores it too)" : "is not a known key";
      cfg.warnings.push(`${file}:${at(k)}: mqtt.${k} ${why}; ignored`);
      continue;
    }
    cfg.mqtt[f.key] = _value(v, f, file, at(k), `mqtt.${k}`);
  }
}

function _listeners(cfg: Config, sec: Obj, file: string, at: (k: string) => number): void {
  for (const [kind, v] of Object.entries(sec)) {
    if (kind === "ssl") {
      cfg.listeners.ssl = _ssl(cfg, _obj(v, file, at, "listeners.ssl"), file, at);
      continue;
    }
    if (kind !== "tcp") {
      cfg.warnings.push(`${file}:${at(kind)}: listeners.${kind} is not supported yet and is ignored`);
      continue;
    }
    const tcp = _obj(v, file, at, "listeners.tcp");
    for (const [k, val] of Object.entries(tcp)) {
      if (k === "bind") cfg.listeners.tcp = parseBind(String(val), file, at("bind"), "listeners.tcp.bind");
      else if (k !== "enable") {
        cfg.warnings.push(`${file}:${at(k)}: listeners.tcp.${k} is not supported yet and is ignored`);
      }
    }
  }
}

const SSL_STRINGS = {
  keyfile: "keyfile",
  certfile: "certfile",
  cacertfile: "cacertfile",
  key_password: "keyPassword",
};
const SSL_FLAGS = { verify_peer: "verifyPeer", fail_if_no_peer_cert: "failIfNoPeerCert" };

/** `listeners.ssl`: null when `enable = false`. */
function _ssl(cfg: Config, sec: Obj, file: string, at: (k: string) => number): TlsListenerConfig | null {
  const t: Record<string, unknown> = {
    bind: { host: "0.0.0.0", port: 8883 },
    keyfile: null,
    certfile: null,
    cacertfile: null,
    keyPassword: null,
    verifyPeer: false,
    failIfNoPeerCert: false,
  };
  for (const [k, v] of Object.entries(sec)) {
    const key = `listeners.ssl.${k}`;
    if (k === "bind") t.bind = parseBind(String(v), file, at(k), key);
    else if (k === "enable") {
      if (_flag(v, file, at(k), key) === false) return null;
    } else if (k in SSL_STRINGS) t[SSL_STRINGS[k as keyof typeof SSL_STRINGS]] = String(v);
    else if (k in SSL_FLAGS) t[SSL_FLAGS[k as keyof typeof SSL_FLAGS]] = _flag(v, file, at(k), key);
    else cfg.warnings.push(`${file}:${at(k)}: ${key} is not a known key; ignored`);
  }
  for (const k of ["keyfile", "certfile"]) {
    if (t[k] === null) {
      throw new ConfigError(
        file,
        at("ssl"),
        `listeners.ssl.${k}`,
        "is required for a TLS listener: give the PEM file",
      );
    }
  }
  return t as unknown as TlsListenerConfig;
}

function _flag(v: unknown, file: string, line: number, key: string): boolean {
  if (v === true || v === "true") return true;
  if (v === false || v === "false") return false;
  throw new ConfigError(file, line, key, `${JSON.stringify(v)} is not true or false`);
}

/** Parses "host:port" (as in `listeners.tcp.bind`). */
export function parseBind(
  s: string,
  file: string,
  line: number,
  key: string,
): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(s.trim());
  const port = m === null ? NaN : Number(m[2]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new ConfigError(file, line, key, `"${s}" is not host:port; write for example "0.0.0.0:1883"`);
  }
  return { host: m[1] === "" ? "0.0.0.0" : m[1]!, port };
}

function _value(v: unknown, f: Field, file: string, line: number, key: string): number {
  let n: number;
  if (f.kind === "size") n = parseSize(v);
  else if (f.kind === "duration") n = parseDuration(v);
  else {n = typeof v === "number"
      ? v
      : typeof v === "string" && /^\s*\d+(\.\d+)?\s*$/.test(v)
      ? Number(v)
      : NaN;}
  if (!Number.isFinite(n) || (f.kind === "int" && !Number.isInteger(n))) {
    const want = {
      int: "a whole number",
      number: "a number",
      size: "a size such as 10MB",
      duration: "a duration such as 10s",
    }[f.kind];
    throw new ConfigError(file, line, key, `${JSON.stringify(v)} is not ${want}`);
  }
  if (n < f.min || n > f.max) {
    throw new ConfigError(file, line, key, `${n} is out of range ${f.min}..${f.max}`);
  }
  return n;
}

/** "10MB" / "512KB" / "1GB" / plain bytes -> bytes; NaN when not a size. */
export function parseSize(v: unknown): number {
  if (typeof v === "number") return v;
  const m = /^\s*(\d+)\s*(KB|MB|GB)?\s*$/i.exec(String(v));
  if (m === null) return NaN;
  const mul = { "": 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 }[(m[2] ?? "").toUpperCase()] ?? NaN;
  return Number(m[1]) * mul;
}

/** "800ms" / "10s" / "5m" / "1h" -> ms (a bare number is seconds); NaN when not a duration. */
export function parseDuration(v: unknown): number {
  if (typeof v === "number") return v * 1000;
  const m = /^\s*(\d+)\s*(ms|s|m|h)\s*$/i.exec(String(v));
  if (m === null) return NaN;
  const mul = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2]!.toLowerCase()]!;
  return Number(m[1]) * mul;
}

function _lineOf(text: string, key: string): number {
  const last = key.split(".").pop()!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const re = new RegExp(`(^|[\\s{.])${last}\\s*[=:{]`);
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) if (re.test(lines[i]!.replace(/#.*$/, ""))) return i + 1;
  return 0;
}
