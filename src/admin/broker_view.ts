/**
 * The broker as the HTTP API, Prometheus and `$SYS` see it: one broker core, or (system.
 * num_taskq_thread > 1) every worker's core together, the others' answered over the link
 * between the workers (src/cli/cluster_view.ts).
 */
import type { AdminRefusal, ClientInfo, RetainedInfo, SubscriptionInfo } from "../broker/admin.ts";
import type { Broker } from "../broker/broker.ts";
import type { Metrics } from "../broker/metrics.ts";
import { parseSharedFilter } from "../protocol/topic.ts";

/** The counts a sample reads. */
export type BrokerStats = ReturnType<Broker["stats"]>;

/** What the operations side reads of the broker and does to it. */
export interface BrokerView {
  /** The counters (with several workers summed; another worker's as of its last report, at most a second old). */
  metrics(): Metrics;
  stats(): BrokerStats;
  /** Connected clients and the subscriptions of every session, on every worker. */
  clients(): Promise<ClientInfo[]>;
  subscriptions(): Promise<SubscriptionInfo[]>;
  /** Every worker holds every retained message: read where the API runs. */
  retained(filter: string): RetainedInfo[];
  /** Done where the client's session lives. */
  kick(clientId: string): Promise<boolean>;
  subscribeFor(clientId: string, topic: string, qos: 0 | 1 | 2): Promise<AdminRefusal | null>;
  unsubscribeFor(clientId: string, topic: string): Promise<boolean>;
  /** Publishes a message of the broker's own (the API's publish, `$SYS`); it reaches every worker. */
  publish: Broker["publish"];
}

/** One broker core as the view. */
export function singleView(broker: Broker): BrokerView {
  return {
    metrics: () => broker.metrics,
    stats: () => broker.stats(),
    clients: () => Promise.resolve(broker.clients()),
    subscriptions: () => Promise.resolve(broker.subscriptions()),
    retained: (filter) => broker.retained(filter),
    kick: (id) => Promise.resolve(broker.kick(id)),
    subscribeFor: (id, topic, qos) => Promise.resolve(broker.subscribeFor(id, topic, qos)),
    unsubscribeFor: (id, topic) => Promise.resolve(broker.unsubscribeFor(id, topic)),
    publish: (topic, payload, opts) => broker.publish(topic, payload, opts),
  };
}

/** A level of the topic tree: its name, the filters below it, the clients subscribed right there. */
export interface TopicNode {
  topic: string;
  children: Map<string, TopicNode>;
  clientIds: string[];
}

/** The subscribed filters as a tree of levels (the root's topic is ""). */
export function topicTreeOf(subs: readonly SubscriptionInfo[]): TopicNode {
  const root: TopicNode = { topic: "", children: new Map(), clientIds: [] };
  for (const sub of subs) {
    let node = root;
    for (const level of (parseSharedFilter(sub.topic)?.filter ?? sub.topic).split("/")) {
      let next = node.children.get(level);
      if (next === undefined) {
        node.children.set(level, next = { topic: level, children: new Map(), clientIds: [] });
      }
      node = next;
    }
    if (!node.clientIds.includes(sub.clientId)) node.clientIds.push(sub.clientId);
  }
  return root;
}
