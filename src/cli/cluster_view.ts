/**
 * What the operations side of a multi-core broker sees: every worker. The other workers report
 * their counters to the first once a second and answer its questions (clients, subscriptions) and
 * requests (kick a client, subscribe its session) over the link between the workers; a request
 * about one client goes to the worker its session lives on.
 */
import { type BrokerStats, type BrokerView, singleView } from "../admin/broker_view.ts";
import type { Broker } from "../broker/broker.ts";
import { createMetrics, LIMIT_NAMES, type Metrics } from "../broker/metrics.ts";
import { homeWorker } from "../broker/peer_port.ts";

/** How long the first worker waits for another's answer before the API request fails. */
const ANSWER_MS = 5000;

/** What the view needs of the link between the workers. */
export interface ControlLink {
  readonly self: number;
  readonly count: number;
  control(peer: number, c: Record<string, unknown>): void;
}

/** The first worker's view of every worker. */
export interface ClusterView extends BrokerView {
  /** A control message from another worker; false when it is not the view's. */
  onControl(from: number, c: Record<string, unknown>): boolean;
}

type Report = { m: Metrics; s: BrokerStats };
type Waiting = { resolve(v: unknown): void; reject(e: Error): void; timer: ReturnType<typeof setTimeout> };

/** The view on the first worker, over `link` to the others. */
export function clusterView(broker: Broker, link: ControlLink): ClusterView {
  const local = singleView(broker);
  const reports: (Report | null)[] = Array(link.count).fill(null);
  const waiting = new Map<number, Waiting>();
  let nextId = 1;
  let clientsMax = 0;

  const ask = (peer: number, op: string, args: unknown[] = []): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`Worker ${peer} did not answer the HTTP API within ${ANSWER_MS / 1000} s`));
      }, ANSWER_MS);
      waiting.set(id, { resolve, reject, timer });
      link.control(peer, { adm: "q", id, op, args });
    });

  /** `op` on every worker, the answers in one list. */
  async function everywhere<T>(op: "clients" | "subscriptions", mine: () => Promise<T[]>): Promise<T[]> {
    const others: Promise<unknown>[] = [];
    for (let p = 0; p < link.count; p++) if (p !== link.self) others.push(ask(p, op));
    const lists = await Promise.all([mine(), ...others]);
    return (lists as T[][]).flat();
  }

  /** `op` where the session of `clientId` lives. */
  function atHome<T>(clientId: string, op: string, args: unknown[], mine: () => Promise<T>): Promise<T> {
    const home = homeWorker(clientId, link.count);
    return home === link.self ? mine() : ask(home, op, [clientId, ...args]) as Promise<T>;
  }

  return {
    metrics() {
      const sum = createMetrics();
      for (const m of [broker.metrics, ...reports.map((r) => r?.m)]) {
        if (m === undefined) continue;
        for (const k of Object.keys(sum) as (keyof Metrics)[]) {
          if (k !== "limitHits") sum[k] += m[k];
        }
        for (const n of LIMIT_NAMES) sum.limitHits[n] += m.limitHits?.[n] ?? 0;
      }
      // the most connected at once over all workers: sampled here, at least any one worker's most
      clientsMax = Math.max(clientsMax, sum.clientsConnected, broker.metrics.clientsMax);
      sum.clientsMax = clientsMax;
      return sum;
    },
    stats() {
      const sum = broker.stats();
      for (const r of reports) {
        if (r === null) continue;
        sum.clients += r.s.clients;
        sum.sessions += r.s.sessions;
        sum.subscriptions += r.s.subscriptions;
        sum.queued += r.s.queued;
        // every worker holds every retained message: the first one's count stands
      }
      return sum;
    },
    clients: () => everywhere("clients", local.clients),
    subscriptions: () => everywhere("subscriptions", local.subscriptions),
    kick: (id) => atHome(id, "kick", [], () => local.kick(id)),
    subscribeFor: (id, topic, qos) =>
      atHome(id, "subscribe", [topic, qos], () => local.subscribeFor(id, topic, qos)),
    unsubscribeFor: (id, topic) => atHome(id, "unsubscribe", [topic], () => local.unsubscribeFor(id, topic)),
    retained: local.retained,
    publish: local.publish,
    onControl(from, c) {
      if (c.adm === "r") {
        reports[from] = { m: c.m as Metrics, s: c.s as BrokerStats };
        return true;
      }
      if (c.adm !== "a") return false;
      const w = waiting.get(c.id as number);
      if (w === undefined) return true; // answered after the request gave up
      waiting.delete(c.id as number);
      clearTimeout(w.timer);
      w.resolve(c.r);
      return true;
    },
  };
}

/** A worker after the first: what it reports and answers. */
export interface ViewServer {
  /** Sends this worker's counters to the first; call once a second. */
  report(): void;
  /** A question from the first worker; false when the message is not the view's. */
  onControl(from: number, c: Record<string, unknown>): boolean;
}

/** Serves the first worker's view from `broker`. */
export function serveView(broker: Broker, link: ControlLink): ViewServer {
  const view = singleView(broker);
  const ops: Record<string, (a: unknown[]) => Promise<unknown>> = {
    clients: () => view.clients(),
    subscriptions: () => view.subscriptions(),
    kick: ([id]) => view.kick(id as string),
    subscribe: ([id, topic, qos]) => view.subscribeFor(id as string, topic as string, qos as 0 | 1 | 2),
    unsubscribe: ([id, topic]) => view.unsubscribeFor(id as string, topic as string),
  };
  return {
    report: () => link.control(0, { adm: "r", m: broker.metrics, s: broker.stats() }),
    onControl(from, c) {
      if (c.adm !== "q") return false;
      const op = ops[c.op as string];
      if (op === undefined) return true;
      void op(c.args as unknown[]).then((r) => link.control(from, { adm: "a", id: c.id, r }));
      return true;
    },
  };
}
