/**
 * The limits that refuse something: each hit is counted under its configuration key and logged,
 * at most once per LOG_EVERY_MS per limit (a client hammering a limit must not flood the log).
 */
import type { Logger } from "./deps.ts";
import type { LimitName, Metrics } from "./metrics.ts";
import type { BrokerOptions } from "./options.ts";

const LOG_EVERY_MS = 10_000;

/** Counts and (rate-limited) logs the hits of limits. */
export class LimitLog {
  private readonly logged = new Map<LimitName, number>();
  private readonly missed = new Map<LimitName, number>();

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** `name` refused something; `what` says what, for the log. */
  hit(name: LimitName, what: string, clientId?: string): void {
    this.metrics.limitHits[name]++;
    const t = this.now();
    const last = this.logged.get(name) ?? -Infinity;
    if (t - last < LOG_EVERY_MS) {
      this.missed.set(name, (this.missed.get(name) ?? 0) + 1);
      return;
    }
    const more = this.missed.get(name) ?? 0;
    this.logged.set(name, t);
    this.missed.delete(name);
    const also = more > 0 ? ` (and ${more} more times since the last report)` : "";
    this.log.warn(`Limit ${name} reached: ${what}${also}`, clientId);
  }
}

/** The limit a topic name or filter exceeds, null when it exceeds none. */
export function topicOverLimit(
  o: Pick<BrokerOptions, "maxTopicLevels" | "maxTopicLength">,
  topic: string,
  bytes: number,
): LimitName | null {
  if (bytes > o.maxTopicLength) return "max_topic_length";
  // a topic of n bytes has at most n+1 levels: most topics need no count
  if (bytes < o.maxTopicLevels) return null;
  let levels = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 0x2f) levels++;
  return levels > o.maxTopicLevels ? "max_topic_levels" : null;
}

/** What a client is told when `name` refused its topic. */
export function topicLimitText(
  o: Pick<BrokerOptions, "maxTopicLevels" | "maxTopicLength">,
  name: LimitName,
): string {
  return name === "max_topic_length"
    ? `Topic longer than ${o.maxTopicLength} bytes (mqtt.max_topic_length)`
    : `Topic with more than ${o.maxTopicLevels} levels (mqtt.max_topic_levels)`;
}

/** How many User Properties `props` holds (mqtt-packet's shape: a name maps to a value or a list). */
export function countUserProperties(props: { userProperties?: Record<string, unknown> } | undefined): number {
  const u = props?.userProperties;
  if (u === undefined) return 0;
  let n = 0;
  for (const k in u) {
    const v = u[k];
    n += Array.isArray(v) ? v.length : 1;
  }
  return n;
}

/** A CONNECT over a limit: which one, the CONNACK reason code, and what the client is told. */
export interface ConnectOverLimit {
  name: LimitName;
  code: number;
  text: string;
}

/** The limit a CONNECT exceeds (its will topic, its and its will's User Properties), null when none. */
export function connectOverLimit(
  o: BrokerOptions,
  p: { properties?: object; will?: { topic: string; properties?: object } },
): ConnectOverLimit | null {
  const users = countUserProperties(p.properties) + countUserProperties(p.will?.properties);
  if (users > o.maxUserProperties) {
    const text = `More than ${o.maxUserProperties} User Properties (mqtt.property_size)`;
    return { name: "property_size", code: 0x97, text };
  }
  if (p.will === undefined) return null;
  const over = topicOverLimit(o, p.will.topic, Buffer.byteLength(p.will.topic));
  return over === null ? null : { name: over, code: 0x90, text: `Will: ${topicLimitText(o, over)}` };
}
