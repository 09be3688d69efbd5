/**
 * The flags of `broker bench pub|sub|conn`: nanomq_cli bench's (emqtt_bench's), which differ from
 * pub/sub/conn's: -c is the number of clients, -i the gap between connections, -I the gap between
 * a client's messages, -C clean start, -S TLS. Ours besides: --url, --ws, --duration, --json.
 */
import { parseArgs } from "node:util";
import { ClientError } from "./client_error.ts";
import type { ClientSettings } from "./client_flags.ts";
import { hostTarget, parseUrl } from "./client_target.ts";

/** The three benchmarks. */
export type BenchMode = "pub" | "sub" | "conn";

const OPTIONS = {
  help: { type: "boolean" },
  host: { type: "string", short: "h" },
  port: { type: "string", short: "p" },
  url: { type: "string" },
  ws: { type: "boolean" },
  version: { type: "string", short: "V" },
  count: { type: "string", short: "c" },
  startnumber: { type: "string", short: "n" },
  interval: { type: "string", short: "i" },
  interval_of_msg: { type: "string", short: "I" },
  username: { type: "string", short: "u" },
  password: { type: "string", short: "P" },
  keepalive: { type: "string", short: "k" },
  clean: { type: "string", short: "C" },
  limit: { type: "string", short: "L" },
  topic: { type: "string", short: "t" },
  qos: { type: "string", short: "q" },
  size: { type: "string", short: "s" },
  retain: { type: "boolean", short: "r" },
  ssl: { type: "boolean", short: "S" },
  cafile: { type: "string" },
  certfile: { type: "string" },
  keyfile: { type: "string" },
  keypass: { type: "string" },
  insecure: { type: "boolean" },
  duration: { type: "string" },
  json: { type: "boolean" },
} as const;

/** A benchmark's settings; `clients` holds what connecting its clients takes. */
export interface BenchSettings {
  mode: BenchMode;
  help: boolean;
  clients: ClientSettings;
  /** `%i` is replaced by each client's number. */
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** Payload bytes (at least the 12 of the timestamp header). */
  size: number;
  /** Between one client's messages; 0: as fast as the broker takes them. */
  messageGapMs: number;
  /** pub: messages per client; sub: messages in all; null: until interrupted or --duration. */
  limit: number | null;
  durationMs: number | null;
  json: boolean;
}

/** Parses `broker bench <mode> <args>`; a bad flag is a usage error naming it. */
export function parseBenchFlags(mode: string | undefined, args: string[]): BenchSettings {
  if (mode !== "pub" && mode !== "sub" && mode !== "conn") {
    throw new ClientError(
      "usage",
      `broker bench takes pub, sub or conn, not ${mode === undefined ? "nothing" : `"${mode}"`}`,
    );
  }
  let v: Record<string, unknown>;
  try {
    v = parseArgs({ args, options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new ClientError("usage", (e as Error).message);
  }
  const int = (key: string, flag: string, min: number, max: number, dflt: number): number => {
    const s = v[key];
    if (s === undefined) return dflt;
    if (typeof s !== "string" || !/^\d+$/.test(s) || Number(s) < min || Number(s) > max) {
      throw new ClientError(
        "usage",
        `${flag}, --${key} must be a whole number from ${min} to ${max}, not "${s}"`,
      );
    }
    return Number(s);
  };
  const secure = v.ssl === true;
  let target = typeof v.url === "string"
    ? parseUrl(v.url)
    : hostTarget(v.host as string | undefined, v.port as string | undefined, secure);
  if (v.ws === true && v.url === undefined) {
    target = {
      ...target,
      transport: secure ? "wss" : "ws",
      port: v.port === undefined ? (secure ? 8084 : 8083) : target.port,
    };
  }
  const count = int("count", "-c", 1, 1_000_000, 200);
  const clean = v.clean as string | undefined;
  if (clean !== undefined && !/^(true|false)$/i.test(clean)) {
    throw new ClientError("usage", `-C, --clean must be true or false, not "${clean}"`);
  }
  const version = int("version", "-V", 3, 5, 5) as 3 | 4 | 5;
  const username = (v.username ?? target.username) as string | undefined;
  const password = (v.password ?? target.password) as string | undefined;
  const tls = Object.fromEntries(
    (["cafile", "certfile", "keyfile", "keypass"] as const).filter((k) => typeof v[k] === "string").map((
      k,
    ) => [{ certfile: "cert", keyfile: "key" }[k as string] ?? k, v[k] as string]),
  );
  const clients: ClientSettings = {
    tool: mode,
    help: false,
    target,
    tls: { insecure: v.insecure === true, ...tls },
    clientId: `bench_${mode}`,
    idOffset: int("startnumber", "-n", 0, 1_000_000_000, 0),
    client: {
      version,
      keepalive: int("keepalive", "-k", 0, 65535, 300),
      clean: clean === undefined || /^true$/i.test(clean),
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password: Buffer.from(password) }),
    },
    props: { connect: {}, will: {}, message: {}, user: undefined, any: false },
    clients: count,
    parallel: count,
    intervalMs: int("interval", "-i", 0, 86_400_000, 10),
    limit: null,
    timeoutMs: null,
    verbose: false,
    debug: false,
    topics: [],
    qos: 0,
    retain: false,
    message: null,
    format: "text",
    subscription: {},
  };
  const durationS = v.duration === undefined ? null : int("duration", "--duration", 1, 31_536_000, 1);
  return {
    mode,
    help: v.help === true,
    clients,
    topic: (v.topic as string | undefined) ?? "bench/%i",
    qos: int("qos", "-q", 0, 2, 0) as 0 | 1 | 2,
    retain: v.retain === true,
    size: int("size", "-s", 12, 256 * 1024 * 1024, 256),
    messageGapMs: int("interval_of_msg", "-I", 0, 86_400_000, 1000),
    limit: v.limit === undefined ? null : int("limit", "-L", 1, Number.MAX_SAFE_INTEGER, 1),
    durationMs: durationS === null ? null : durationS * 1000,
    json: v.json === true,
  };
}
