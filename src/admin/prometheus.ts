/**
 * `/api/v4/prometheus`: the Prometheus text exposition format (version 0.0.4). NanoMQ's metric
 * names first, as NanoMQ exposes them (gauges), then ours, named and typed by Prometheus's
 * conventions (counters end in `_total`, units in the name), which `promtool check metrics` lints.
 */
import { droppedTotal, dropsByReason, LIMIT_NAMES } from "../broker/metrics.ts";
import type { ApiDeps } from "./api_types.ts";
import type { ClientInfo } from "../broker/admin.ts";
import { LATENCY_BUCKETS } from "./histogram.ts";

type Labels = Record<string, string>;

/** Builds one exposition; each family is written once with its HELP and TYPE. */
class Exposition {
  private out: string[] = [];

  family(
    name: string,
    type: "gauge" | "counter" | "histogram",
    help: string,
    samples: [Labels, number][],
  ): void {
    this.out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) this.out.push(`${name}${_labels(labels)} ${_num(v)}`);
  }

  one(name: string, type: "gauge" | "counter", help: string, v: number): void {
    this.family(name, type, help, [[{}, v]]);
  }

  histogram(
    name: string,
    help: string,
    h: { counts: number[]; over: number; sum: number; count: number },
  ): void {
    this.out.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    let acc = 0;
    LATENCY_BUCKETS.forEach((le, i) => {
      acc += h.counts[i]!;
      this.out.push(`${name}_bucket{le="${le}"} ${acc}`);
    });
    this.out.push(
      `${name}_bucket{le="+Inf"} ${h.count}`,
      `${name}_sum ${_num(h.sum)}`,
      `${name}_count ${h.count}`,
    );
  }

  text(): string {
    return this.out.join("\n") + "\n";
  }
}

function _labels(l: Labels): string {
  const keys = Object.keys(l);
  if (keys.length === 0) return "";
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  return `{${keys.map((k) => `${k}="${esc(l[k]!)}"`).join(",")}}`;
}

function _num(v: number): string {
  return Number.isFinite(v) ? String(v) : "NaN";
}

/** The whole exposition. */
export async function prometheusText(d: ApiDeps): Promise<string> {
  const e = new Exposition();
  const [subs, clients] = await Promise.all([d.broker.subscriptions(), d.broker.clients()]);
  const m = d.broker.metrics();
  const g = d.gauges;
  g.refresh();
  const topics = new Set(subs.map((s) => s.topic)).size;
  g.topicsMax = Math.max(g.topicsMax, topics);
  const drops = dropsByReason(m).map(([reason, v]): [Labels, number] => [{ reason }, v]);
  const dropped = droppedTotal(m);
  e.one("nanomq_connections_count", "gauge", "Connections open now", m.clientsConnected);
  e.one("nanomq_connections_max", "gauge", "Most connections open at once", m.clientsMax);
  e.one("nanomq_sessions_count", "gauge", "Sessions, online and offline", g.current.sessions);
  e.one("nanomq_sessions_max", "gauge", "Most sessions at once", g.max.sessions);
  e.one("nanomq_topics_count", "gauge", "Distinct topic filters subscribed to", topics);
  e.one("nanomq_topics_max", "gauge", "Most distinct topic filters at once", g.topicsMax);
  e.one("nanomq_subscribers_count", "gauge", "Subscriptions", g.current.subscriptions);
  e.one("nanomq_subscribers_max", "gauge", "Most subscriptions at once", g.max.subscriptions);
  e.one("nanomq_messages_received", "gauge", "PUBLISH messages received from clients", m.messagesReceived);
  e.one("nanomq_messages_sent", "gauge", "PUBLISH messages sent to clients", m.messagesSent);
  e.one("nanomq_messages_dropped", "gauge", "Deliveries dropped, all reasons", dropped);
  e.one("nanomq_memory_usage", "gauge", "Resident memory of the broker, bytes", g.current.memory);
  e.one("nanomq_memory_usage_max", "gauge", "Most resident memory seen, bytes", g.max.memory);
  e.one("nanomq_cpu_usage", "gauge", "CPU use of the broker, percent of one core", g.current.cpuPercent);
  e.one("nanomq_cpu_usage_max", "gauge", "Highest CPU use seen, percent of one core", g.max.cpuPercent);
  _ours(e, d, drops, clients);
  return e.text();
}

function _ours(e: Exposition, d: ApiDeps, drops: [Labels, number][], clients: ClientInfo[]): void {
  const m = d.broker.metrics();
  const perPort = new Map<number, number>();
  for (const c of clients) perPort.set(c.listenerPort, (perPort.get(c.listenerPort) ?? 0) + 1);
  e.family(
    "broker_listener_connections",
    "gauge",
    "Connections open now, per listener",
    d.listeners.map((l) => [{ listener: l.name, port: String(l.port) }, perPort.get(l.port) ?? 0]),
  );
  e.one(
    "broker_connections_accepted_total",
    "counter",
    "Connections accepted by the listeners",
    m.connectionsAccepted,
  );
  e.one(
    "broker_messages_received_total",
    "counter",
    "PUBLISH messages received from clients",
    m.messagesReceived,
  );
  e.one("broker_messages_sent_total", "counter", "PUBLISH messages sent to clients", m.messagesSent);
  e.family("broker_messages_dropped_total", "counter", "Deliveries dropped, by reason", drops);
  e.one("broker_bytes_received_total", "counter", "Bytes read from client connections", m.bytesReceived);
  e.one("broker_bytes_sent_total", "counter", "Bytes written to client connections", m.bytesSent);
  e.one("broker_queued_messages", "gauge", "Deliveries waiting in session queues", d.gauges.current.queued);
  e.one("broker_retained_messages", "gauge", "Retained messages", d.gauges.current.retained);
  e.one(
    "broker_acl_denied_total",
    "counter",
    "Publishes, subscriptions and wills the ACL denied",
    m.aclDenied,
  );
  e.one("broker_auth_failures_total", "counter", "CONNECTs refused by authentication", m.authFailures);
  e.one("broker_keepalive_timeouts_total", "counter", "Connections closed for silence", m.keepaliveTimeouts);
  e.one(
    "broker_protocol_errors_total",
    "counter",
    "Connections closed for a protocol error",
    m.protocolErrors,
  );
  e.one(
    "broker_publishers_held_total",
    "counter",
    "Times a publisher was held by a slow subscriber",
    m.publishersHeld,
  );
  e.one("broker_sessions_expired_total", "counter", "Offline sessions that expired", m.sessionsExpired);
  e.family(
    "broker_limit_hits_total",
    "counter",
    "Times a limit refused something, by its configuration key (docs/limits.md)",
    LIMIT_NAMES.map((limit): [Labels, number] => [{ limit }, m.limitHits[limit]]),
  );
  e.one("broker_wills_published_total", "counter", "Will messages published", m.willsPublished);
  e.one(
    "broker_store_refused_total",
    "counter",
    "Messages kept in memory only: the store was full",
    m.storeRefused,
  );
  if (d.commitLatency !== null) {
    e.histogram("broker_store_commit_seconds", "Time one store commit took", d.commitLatency);
  }
  _bridges(e, d);
  _integrations(e, d);
}

function _integrations(e: Exposition, d: ApiDeps): void {
  const w = d.webhook();
  if (w !== null) {
    e.one("broker_webhook_queued_requests", "gauge", "Webhook requests waiting to be sent", w.queued);
    e.family(
      "broker_webhook_requests_total",
      "counter",
      "Webhook requests by what became of them",
      (["sent", "failed", "dropped", "retries"] as const).map((k) => [{ result: k }, w[k]]),
    );
  }
  const rules = d.rules.list();
  if (rules.length === 0) return;
  e.family(
    "broker_rule_matched_total",
    "counter",
    "Messages a rule's FROM matched",
    rules.map((r) => [{ rule: r.id }, r.metrics.matched]),
  );
  e.family(
    "broker_rule_passed_total",
    "counter",
    "Messages a rule's WHERE let through",
    rules.map((r) => [{ rule: r.id }, r.metrics.passed]),
  );
  e.family(
    "broker_rule_actions_total",
    "counter",
    "Rule outputs by action and result (ok, failed, dropped)",
    rules.flatMap((r) =>
      r.metrics.actions.flatMap((a) =>
        (["ok", "failed", "dropped"] as const).map((
          k,
        ): [Labels, number] => [{ rule: r.id, action: a.name, result: k }, a[k]])
      )
    ),
  );
}

function _bridges(e: Exposition, d: ApiDeps): void {
  if (d.bridges.length === 0) return;
  const rows = d.bridges.map((b) => ({ l: { bridge: b.name }, s: b.status(), up: b.state === "connected" }));
  e.family(
    "broker_bridge_up",
    "gauge",
    "1 while the bridge is connected upstream",
    rows.map((r) => [r.l, r.up ? 1 : 0]),
  );
  e.family(
    "broker_bridge_cached_messages",
    "gauge",
    "Messages waiting in the bridge's cache",
    rows.map((r) => [r.l, r.s.cached]),
  );
  e.family(
    "broker_bridge_forwarded_total",
    "counter",
    "Messages forwarded upstream",
    rows.map((r) => [r.l, r.s.forwarded]),
  );
  e.family(
    "broker_bridge_received_total",
    "counter",
    "Messages received from upstream",
    rows.map((r) => [r.l, r.s.received]),
  );
  e.family(
    "broker_bridge_alias_bytes_saved_total",
    "counter",
    "Bytes of topic names not sent upstream thanks to MQTT 5 Topic Aliases (net of the aliases)",
    rows.map((r) => [r.l, r.s.aliasBytesSaved]),
  );
  e.family(
    "broker_bridge_dropped_total",
    "counter",
    "Messages dropped by the full cache",
    rows.map((r) => [r.l, r.s.dropped]),
  );
}
