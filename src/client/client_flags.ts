/**
 * The flags of `broker pub`, `sub` and `conn`: nanomq_cli's, plus the Mosquitto spellings that do
 * not clash with them (-d, -W, --message, --will-payload, --insecure, -x, -V mqttv311). Where the
 * two disagree nanomq_cli wins: -C is the number of clients (a message count is -L), -c takes
 * true or false, -s means TLS, -n is parallelism, -L is a limit and not a URL.
 */
import { parseArgs } from "node:util";
import type { ConnectWill, ISubscription } from "../protocol/packets.ts";
import { ClientError } from "./client_error.ts";
import { hostTarget, parseUrl, type Target, type TlsFlags } from "./client_target.ts";
import type { ClientOptions } from "./mqtt_client.ts";
import { PROPERTY_OPTIONS, propertyFlags, type PropertySets } from "./property_flags.ts";

/** Which tool the flags are for. */
export type Tool = "pub" | "sub" | "conn";

const COMMON = {
  help: { type: "boolean" },
  verbose: { type: "boolean", short: "v" },
  debug: { type: "boolean", short: "d" },
  parallel: { type: "string", short: "n" },
  interval: { type: "string", short: "I" },
  count: { type: "string", short: "C" },
  host: { type: "string", short: "h" },
  port: { type: "string", short: "p" },
  version: { type: "string", short: "V" },
  url: { type: "string" },
  user: { type: "string", short: "u" },
  username: { type: "string" },
  password: { type: "string", short: "P" },
  id: { type: "string", short: "i" },
  identifier: { type: "string" },
  keepalive: { type: "string", short: "k" },
  clean_session: { type: "string", short: "c" },
  "will-msg": { type: "string" },
  "will-payload": { type: "string" },
  "will-qos": { type: "string" },
  "will-retain": { type: "boolean" },
  "will-topic": { type: "string" },
  secure: { type: "boolean", short: "s" },
  quic: { type: "boolean" },
  cafile: { type: "string" },
  cert: { type: "string", short: "E" },
  key: { type: "string" },
  keypass: { type: "string" },
  insecure: { type: "boolean" },
  timeout: { type: "string", short: "W" },
  x: { type: "string", short: "x" },
  ...PROPERTY_OPTIONS,
} as const;

const MESSAGING = {
  topic: { type: "string", short: "t", multiple: true },
  qos: { type: "string", short: "q" },
  limit: { type: "string", short: "L" },
} as const;

const OPTIONS = {
  pub: {
    ...COMMON,
    ...MESSAGING,
    retain: { type: "boolean", short: "r" },
    msg: { type: "string", short: "m" },
    message: { type: "string" },
    file: { type: "string", short: "f" },
    "stdin-line": { type: "boolean", short: "l" },
  },
  sub: {
    ...COMMON,
    ...MESSAGING,
    format: { type: "string" },
    "no-local": { type: "boolean" },
    "retain-as-published": { type: "boolean" },
    "retain-handling": { type: "string" },
  },
  conn: COMMON,
} as const;

/** What a message to publish comes from. */
export type MessageSource = { text: Buffer } | { file: string } | { lines: true };

/** Everything a tool runs with. */
export interface ClientSettings {
  tool: Tool;
  help: boolean;
  target: Target;
  tls: TlsFlags;
  /** The client identifier, or null for a generated one; with several clients each gets `-<n>`. */
  clientId: string | null;
  /** bench: client `n` is `<clientId>_<idOffset + n>` (nanomq_cli bench's -n, --startnumber). */
  idOffset?: number;
  client: Omit<ClientOptions, "clientId" | "debug">;
  props: PropertySets;
  clients: number;
  parallel: number;
  intervalMs: number;
  /** pub: messages per client; sub: messages in all before exiting; null: no limit. */
  limit: number | null;
  /** -W: sub and pub give up (exit 3), conn ends (exit 0) after this; null for none. */
  timeoutMs: number | null;
  verbose: boolean;
  debug: boolean;
  topics: string[];
  qos: 0 | 1 | 2;
  retain: boolean;
  message: MessageSource | null;
  /** sub: "text" (payload, or topic and payload with -v) or "json" (one object a line). */
  format: "text" | "json";
  subscription: Omit<ISubscription, "topic" | "qos">;
}

/** Parses `args` for `tool`; unknown or bad flags are a usage error naming the flag. */
export function parseClientFlags(tool: Tool, args: string[]): ClientSettings {
  let v: Record<string, unknown>;
  try {
    v = parseArgs({ args, options: OPTIONS[tool], strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new ClientError("usage", (e as Error).message);
  }
  if (v.quic === true) {
    throw new ClientError("usage", "--quic: QUIC is not supported; use TCP, TLS or WebSocket");
  }
  const version = _version(v.version as string | undefined);
  const props = propertyFlags(v);
  if (props.any && version !== 5) throw new ClientError("usage", "MQTT 5 property flags need -V 5");
  if (v.x !== undefined) props.connect.sessionExpiryInterval = _int(v, "x", "-x", 0, 0xffffffff, 0);
  const target = typeof v.url === "string"
    ? parseUrl(v.url)
    : hostTarget(v.host as string | undefined, v.port as string | undefined, v.secure === true);
  const username = (v.user ?? v.username ?? target.username) as string | undefined;
  const password = (v.password ?? target.password) as string | undefined;
  const client: Omit<ClientOptions, "clientId" | "debug"> = {
    version,
    keepalive: _int(v, "keepalive", "-k", 0, 65535, 60),
    clean: _bool(v.clean_session as string | undefined),
  };
  if (username !== undefined) client.username = username;
  if (password !== undefined) client.password = Buffer.from(password);
  const will = _will(v, props);
  if (will !== undefined) client.will = will;
  const connectProps = {
    ...props.connect,
    ...(props.user === undefined ? {} : { userProperties: props.user }),
  };
  if (Object.keys(connectProps).length > 0) client.properties = connectProps;
  const s: ClientSettings = {
    tool,
    help: v.help === true,
    target,
    tls: {
      insecure: v.insecure === true,
      ...(_strs(v, ["cafile", "cert", "key", "keypass"]) as Omit<TlsFlags, "insecure">),
    },
    clientId: (v.id ?? v.identifier ?? null) as string | null,
    client,
    props,
    clients: _int(v, "count", "-C", 1, 100_000, 1),
    parallel: _int(v, "parallel", "-n", 1, 100_000, 1),
    intervalMs: _int(v, "interval", "-I", 0, 86_400_000, 10),
    limit: v.limit === undefined ? null : _int(v, "limit", "-L", 1, Number.MAX_SAFE_INTEGER, 1),
    timeoutMs: v.timeout === undefined ? null : _int(v, "timeout", "-W", 1, 86_400, 1) * 1000,
    verbose: v.verbose === true,
    debug: v.debug === true,
    topics: (v.topic as string[] | undefined) ?? [],
    qos: _int(v, "qos", "-q", 0, 2, tool === "sub" ? 2 : 0) as 0 | 1 | 2,
    retain: v.retain === true,
    message: _message(v),
    format: _format(v.format as string | undefined),
    subscription: {
      nl: v["no-local"] === true,
      rap: v["retain-as-published"] === true,
      rh: _int(v, "retain-handling", "--retain-handling", 0, 2, 0),
    },
  };
  if (!s.help) _required(s);
  return s;
}

function _required(s: ClientSettings): void {
  if (s.tool !== "conn" && s.topics.length === 0) throw new ClientError("usage", "-t, --topic is required");
  if (s.tool === "pub" && s.message === null) {
    throw new ClientError(
      "usage",
      "pub needs a message: -m, --msg <text>, -f, --file <path> or -l, --stdin-line",
    );
  }
  if (s.tool === "sub" && s.retain) throw new ClientError("usage", "-r, --retain is for pub");
}

function _version(v: string | undefined): 3 | 4 | 5 {
  const known: Record<string, 3 | 4 | 5> = {
    3: 3,
    31: 3,
    mqttv31: 3,
    4: 4,
    311: 4,
    mqttv311: 4,
    5: 5,
    mqttv5: 5,
  };
  const n = known[(v ?? "4").toLowerCase()];
  if (n === undefined) {
    throw new ClientError(
      "usage",
      `-V, --version must be 3, 4 or 5 (or mqttv31, mqttv311, mqttv5), not "${v}"`,
    );
  }
  return n;
}

function _int(
  v: Record<string, unknown>,
  key: string,
  flag: string,
  min: number,
  max: number,
  dflt: number,
): number {
  const s = v[key];
  if (s === undefined) return dflt;
  const n = Number(s);
  if (typeof s !== "string" || !/^\d+$/.test(s) || n < min || n > max) {
    const name = flag.startsWith("--") ? flag : `${flag}, --${key}`;
    throw new ClientError("usage", `${name} must be a whole number from ${min} to ${max}, not "${s}"`);
  }
  return n;
}

function _bool(s: string | undefined): boolean {
  if (s === undefined) return true;
  if (/^(true|1|yes)$/i.test(s)) return true;
  if (/^(false|0|no)$/i.test(s)) return false;
  throw new ClientError("usage", `-c, --clean_session must be true or false, not "${s}"`);
}

function _strs(v: Record<string, unknown>, keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((k) => typeof v[k] === "string").map((k) => [k, v[k] as string]));
}

function _will(v: Record<string, unknown>, props: PropertySets): ConnectWill | undefined {
  const topic = v["will-topic"] as string | undefined;
  const payload = (v["will-msg"] ?? v["will-payload"]) as string | undefined;
  if (topic === undefined) {
    if (payload !== undefined) throw new ClientError("usage", "--will-msg needs --will-topic");
    return undefined;
  }
  const will: ConnectWill = {
    topic,
    payload: Buffer.from(payload ?? ""),
    qos: _int(v, "will-qos", "--will-qos", 0, 2, 0) as 0 | 1 | 2,
    retain: v["will-retain"] === true,
  };
  const p = { ...props.message, ...props.will };
  if (Object.keys(p).length > 0) will.properties = p;
  return will;
}

function _message(v: Record<string, unknown>): MessageSource | null {
  const given: MessageSource[] = [];
  const text = (v.msg ?? v.message) as string | undefined;
  if (text !== undefined) given.push({ text: Buffer.from(text) });
  if (typeof v.file === "string") given.push({ file: v.file });
  if (v["stdin-line"] === true) given.push({ lines: true });
  if (given.length > 1) {
    throw new ClientError("usage", "Give one of -m, --msg, -f, --file and -l, --stdin-line");
  }
  return given[0] ?? null;
}

function _format(f: string | undefined): "text" | "json" {
  if (f === undefined || f === "text" || f === "json") return f ?? "text";
  throw new ClientError("usage", `--format must be text or json, not "${f}"`);
}
