/** The `webhook { }` and `rules { }` sections: where device data leaves the broker. */
import { tlsClientSpec } from "./config_sections.ts";
import {
  bool,
  duration,
  int,
  list,
  obj,
  oneOf,
  optStr,
  required,
  section,
  type Spec,
  str,
  strMap,
} from "./schema.ts";

/** The events NanoMQ's webhook configuration names. */
export const WEBHOOK_EVENTS = [
  "on_client_connect",
  "on_client_connack",
  "on_client_connected",
  "on_client_disconnected",
  "on_client_subscribe",
  "on_client_unsubscribe",
  "on_session_subscribed",
  "on_session_unsubscribed",
  "on_session_terminated",
  "on_message_publish",
  "on_message_delivered",
  "on_message_acked",
] as const;

/** One of {@link WEBHOOK_EVENTS}. */
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** `webhook { }`: NanoMQ's keys, plus how much waits and how often a request is tried. */
export const webhookSpec = obj({
  url: required(str("")),
  headers: strMap(),
  body: obj({ encoding: oneOf("plain", ["plain", "base64", "base62"]) }),
  pool_size: int(32, 1, 1024),
  ssl: tlsClientSpec,
  events: list(
    obj({ event: required(oneOf<WebhookEvent>("on_message_publish", WEBHOOK_EVENTS)), topic: optStr() }),
  ),
  /** Requests waiting to be sent; more are dropped and counted. */
  max_queue_len: int(10_000, 1, 10_000_000),
  /** How long one request may take. */
  timeout: duration(5000, 100, 600_000),
  /** Tries after the first failure, with a backoff doubling from 500 ms. */
  max_retries: int(3, 0, 100),
});

const ruleSql = { sql: required(str("")) };

/** A section of NanoMQ's that is accepted whole and warned about. */
const NOT_BUILT_IN: Spec<null> = {
  default: null,
  parse: () => null,
  notice: "is not supported: rules can store into SQLite, republish and call webhooks",
};

/** `rules { sqlite, repub, webhook }`; NanoMQ's MySQL, PostgreSQL and TimescaleDB rules are not built in. */
export const rulesSpec = obj({
  sqlite: section(obj({
    path: str("/tmp/sqlite_rule.db"),
    rules: list(obj({ ...ruleSql, table: required(str("")) })),
  })),
  repub: section(obj({
    rules: list(obj({
      ...ruleSql,
      // "" republishes into this broker without a connection (ours); NanoMQ always connects
      server: str(""),
      topic: required(str("")),
      proto_ver: int(4, 3, 5),
      clientid: optStr(),
      keepalive: duration(60_000, 0, 65_535_000),
      clean_start: bool(true),
      username: optStr(),
      password: optStr(),
    })),
  })),
  webhook: section(obj({
    rules: list(obj({ ...ruleSql, url: required(str("")), headers: strMap() })),
  })),
  mysql: NOT_BUILT_IN,
  postgresql: NOT_BUILT_IN,
  timescaledb: NOT_BUILT_IN,
  /** Where rules made through the HTTP API are kept ("": nanomq_rules.json beside the configuration file). */
  api_rules_file: str(""),
});
