/** The HTTP API's contract with the program around it, and what its endpoints share. */
import type { BrokerView } from "./broker_view.ts";
import type { HttpReply, HttpRequest } from "../runtime/http_server.ts";
import type { ProcessStats } from "../runtime/os_services.ts";
import type { ApiAuth } from "./api_auth.ts";
import type { Gauges } from "./gauges.ts";
import type { Histogram } from "./histogram.ts";

/** One bridge as the API shows and switches it. */
export interface BridgeControl {
  readonly name: string;
  /** "connecting", "connected", "disconnected" or "stopped" (switched off). */
  readonly state: string;
  /** The bridge's settings with NanoMQ's key names. */
  config(): Record<string, unknown>;
  /** Messages waiting in its cache for upstream, and its counters. */
  status(): { cached: number; dropped: number; forwarded: number; received: number; aliasBytesSaved: number };
  /** Switches the bridge off (disconnects, stays down) or on again. */
  setEnabled(on: boolean): void;
  /**
   * Replaces its `bridges.mqtt.<name>` keys (secrets given as GET shows them masked are kept) and
   * connects again with them; resolves with why they were refused, null once applied.
   */
  update(section: Record<string, unknown>): Promise<string | null>;
  /**
   * Adds subscription rules (NanoMQ's keys: remote_topic, local_topic, qos, ...), replacing those
   * with the same remote_topic; subscribed upstream at once with MQTT 5 `props` (mqtt-packet's names).
   */
  subscribe(rules: Record<string, unknown>[], props: Record<string, unknown>): Promise<string | null>;
  /** Removes the subscription rules of these remote topics and unsubscribes them upstream. */
  unsubscribe(topics: string[], props: Record<string, unknown>): Promise<string | null>;
}

/** A rule as the API shows it. */
export interface RuleView {
  id: string;
  rawsql: string;
  actions: { name: string; params: Record<string, unknown> }[];
  description: string;
  enabled: boolean;
  /** "config" (nanomq.conf: changed there) or "api". */
  source: string;
  metrics: {
    matched: number;
    passed: number;
    actions: { name: string; ok: number; failed: number; dropped: number }[];
  };
}

/** The rule engine as the API manages it; a refusal is a RuleRefusal. */
export interface RulesControl {
  list(): RuleView[];
  /** `{rawsql, actions, description?, enabled?}`; kept across restarts. */
  create(body: Record<string, unknown>): Promise<RuleView>;
  /** Changes what `patch` gives (rawsql, actions, description, enabled). */
  update(id: string, patch: Record<string, unknown>): Promise<RuleView>;
  remove(id: string): Promise<void>;
}

/** Why the rule engine refused a request: not found (404) or not valid (400), and what to do. */
export class RuleRefusal extends Error {
  constructor(readonly notFound: boolean, message: string) {
    super(message);
    this.name = "RuleRefusal";
  }
}

/** What became of a new configuration file: written (and where the old one went), refused, or not written. */
export type ConfigUpdate =
  | { written: string; backup: string }
  | { refused: string }
  | { failed: string };

/** What the API reads and asks of the broker process. */
export interface ApiDeps {
  broker: BrokerView;
  auth: ApiAuth;
  version: string;
  /** When the broker started (ms since the epoch). */
  startedAt: number;
  now(): number;
  processStats(): ProcessStats;
  gauges: Gauges;
  /** The running configuration as a file would give it (durations with their unit), secrets masked. */
  config(): Record<string, unknown>;
  /** The running configuration as the broker uses it (durations in ms), secrets included: not to be shown. */
  runningConfig(): Record<string, unknown>;
  /**
   * Applies configuration values (dotted key paths) over the file, as `broker reload` does;
   * resolves with the error (file, key, why) when they are refused, null when applied.
   */
  reload(values: Record<string, unknown>): Promise<string | null>;
  /** Replaces the configuration file with `text` when it loads; the running broker is not changed. */
  updateConfig(text: string): Promise<ConfigUpdate>;
  stop(): void;
  restart(): void;
  bridges: readonly BridgeControl[];
  /** The rule engine. */
  rules: RulesControl;
  /** The webhook's counters and queue, null without a webhook. */
  webhook(): { queued: number; sent: number; failed: number; dropped: number; retries: number } | null;
  /** How long store commits take; null without persistence. */
  commitLatency: Histogram | null;
  /** Each listener's name and port, for the per-listener metrics. */
  listeners: readonly { name: string; port: number }[];
}

/** An endpoint's handler: `params` are the path segments its pattern left open. */
export type Handler = (deps: ApiDeps, req: HttpRequest, params: string[]) => HttpReply | Promise<HttpReply>;

/** One endpoint: its method, its path below /api/v4 (":x" matches any one segment), its name. */
export interface Endpoint {
  method: string;
  path: string;
  name: string;
  descr: string;
  handler: Handler;
}

/** NanoMQ's result codes. */
export const CODE = {
  OK: 0,
  UNKNOWN: 102,
  MISSING_PARAMETER: 107,
  BAD_PARAMETER: 108,
  BAD_JSON: 109,
  CLIENT_OFFLINE: 112,
  BAD_TOPIC: 115,
} as const;

/** A refused request: the HTTP status, NanoMQ's result code, and what to fix. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: number, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

/** `{"code":0, ...extra}` with status 200. */
export function ok(extra: Record<string, unknown> = {}): HttpReply {
  return { status: 200, body: JSON.stringify({ code: CODE.OK, ...extra }) };
}

/** The request body as a JSON object (code 109 when it is not one). */
export function jsonBody(req: HttpRequest): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(req.body.toString("utf8"));
  } catch {
    throw new ApiError(400, CODE.BAD_JSON, "The request body is not valid JSON");
  }
  if (typeof v !== "object" || v === null) {
    throw new ApiError(400, CODE.BAD_JSON, "The request body must be a JSON object or array");
  }
  return v as Record<string, unknown>;
}

/** Most entries in one page of a list when `_limit` is not given. */
const DEFAULT_LIMIT = 10_000;

/** One page of a list, by `_page` (from 1) and `_limit`, with EMQX's `meta`. */
export function pageOf<T>(req: HttpRequest, all: T[]): { data: T[]; meta: Record<string, number> } {
  const page = _int(req, "_page", 1);
  const limit = _int(req, "_limit", DEFAULT_LIMIT);
  const from = (page - 1) * limit;
  return { data: all.slice(from, from + limit), meta: { page, limit, count: all.length } };
}

function _int(req: HttpRequest, name: string, dflt: number): number {
  const v = req.query.get(name);
  if (v === null) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new ApiError(400, CODE.BAD_PARAMETER, `${name} must be a whole number from 1, not "${v}"`);
  }
  return n;
}
