/**
 * Starting one broker core with what it needs: its store (restored), authentication, webhooks and
 * rules, listeners and bridges. A multi-core broker does this once per worker, each with its own store file and a
 * link to the others; only the first worker runs the bridges and the WebSocket listeners.
 */
import type { HttpSend } from "../auth/http_auth.ts";
import { Bridge } from "../bridge/bridge.ts";
import type { BridgeOptions } from "../bridge/bridge_options.ts";
import { type Broker, createBroker } from "../broker/broker.ts";
import { homeWorker } from "../broker/peer_port.ts";
import { ConfigError } from "../config/config_error.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { Store } from "../store/store.ts";
import type { JournalSnapshot } from "../broker/journal.ts";
import { type Listeners, type ListenerSpec, startListeners } from "../transport/listeners.ts";
import type { PeerLink } from "../transport/peer_link.ts";
import { authHooks } from "./auth_settings.ts";
import { admissionLimits, brokerOptions, type Settings } from "./load_settings.ts";
import type { BrokerLogger } from "./logger.ts";
import { openStore, storeSpec } from "./open_store.ts";
import type { Histogram } from "../admin/histogram.ts";
import type { BrokerHooks } from "../broker/hooks.ts";
import { type Integrations, startIntegrations } from "./integrations.ts";
import { apiRulesPath, loadApiRules } from "./rules_control.ts";

/** The most workers `system.num_taskq_thread` allows. */
const MAX_WORKERS = 64;

/** A started broker core. */
export interface Started {
  broker: Broker;
  listeners: Listeners;
  store: Store | null;
  bridges: Bridge[];
  /** Webhooks and rules. */
  integrations: Integrations;
}

/** This worker's place in a multi-core broker. */
export interface Peers {
  link: PeerLink;
  /** Resolves once every worker has restored its state and told the others what it subscribes to. */
  ready(): Promise<void>;
}

/** Starts each bridge; its local client connection goes through the listeners' flusher. */
function startBridges(
  rt: Runtime,
  broker: Broker,
  listeners: Listeners,
  specs: BridgeOptions[],
  log: BrokerLogger,
): Bridge[] {
  return specs.map((o) => {
    const b = new Bridge(o, {
      connect: (c) => rt.connect(c),
      attachLocal: (conn) => listeners.attach(conn),
      publishState: (topic, payload) => broker.publish(topic, Buffer.from(payload), { retain: true }),
      session: (id) => broker.session(id),
      log,
    });
    b.start();
    return b;
  });
}

/** Opens the store, restores from it, and starts the broker and its listeners. */
export async function startBroker(
  rt: Runtime,
  st: Settings,
  log: BrokerLogger,
  discardStore: boolean,
  http: (poolSize: number) => HttpSend,
  peers: Peers | null = null,
  commitLatency: Histogram | null = null,
): Promise<Started> {
  const cfg = st.loaded.config;
  const worker = peers?.link.self ?? 0;
  if (worker === 0) _checkOrphans(rt, st, peers?.link.count ?? 1);
  const store = openStore(rt, cfg, st.loaded.source, log, discardStore, worker);
  let integrations: Integrations | null = null;
  try {
    const hooks: BrokerHooks = {};
    const broker = createBroker(brokerOptions(st), {
      now: rt.now,
      log,
      hooks,
      ...(store && { journal: store }),
      ...(peers && { peers: peers.link }),
    });
    if (peers !== null) {
      peers.link.broker = broker;
      if (store !== null) peers.link.commit = store.commit.bind(store);
    }
    const spec = storeSpec(cfg, worker);
    if (store !== null && spec !== null) {
      const snap = store.load();
      if (peers !== null) _checkHomes(snap, peers.link, spec.path, st.loaded.source);
      const n = broker.restore(snap);
      store.commit();
      log.info(
        `Persistence on: ${spec.path}, ${n} sessions and ${broker.stats().retained} retained messages restored`,
      );
      if (spec.ignored !== "") log.warn(spec.ignored);
    }
    broker.setAuth(authHooks(rt, st.auth, log, http));
    integrations = await startIntegrations(rt, st, [broker, hooks], log, worker);
    integrations.setApiRules(await loadApiRules(rt, apiRulesPath(st)));
    await peers?.ready();
    const commit = store === null ? null : _timed(store, commitLatency);
    const first = worker === 0;
    const listeners = await startListeners(rt, broker, _listenerSpecs(st, worker), log, {
      commit,
      limits: admissionLimits(st),
      ...(peers && { link: peers.link }),
    });
    if (first && store === null && st.bridges.length > 0) {
      log.warn(
        "Bridges keep what they have not forwarded yet in memory only: add a bridges.mqtt.cache { } (or sqlite { }) section so that it survives a restart",
      );
    }
    const bridges = first ? startBridges(rt, broker, listeners, st.bridges, log) : [];
    return { broker, store, listeners, bridges, integrations };
  } catch (e) {
    integrations?.close();
    store?.close();
    throw e;
  }
}

/** The store's commit, timed into `h` when given (the store commit latency metric). */
function _timed(store: Store, h: Histogram | null): () => void {
  if (h === null) return store.commit.bind(store);
  return () => {
    const t = performance.now();
    store.commit();
    h.observe((performance.now() - t) / 1000);
  };
}

/** The listeners of worker `worker`: every one on the first, the TCP and TLS ones (shared) on the others. */
function _listenerSpecs(st: Settings, worker: number): ListenerSpec[] {
  return worker === 0 ? st.listeners : st.listeners.filter((l) => l.wsPath === undefined);
}

/**
 * Applies to a running core what a reload changes without dropping connections: the broker's
 * options, authentication, and the certificates of TLS listeners (reopened; their connections
 * stay). False when listener addresses changed, which takes a restart.
 */
export async function reconfigure(
  rt: Runtime,
  s: Pick<Started, "broker" | "listeners" | "integrations">,
  [before, next]: [Settings, Settings],
  log: BrokerLogger,
  http: (poolSize: number) => HttpSend,
  worker: number,
): Promise<boolean> {
  // first: a webhook or rule the new configuration cannot build leaves everything as it was
  await s.integrations.reconfigure(next);
  s.broker.configure({ ...brokerOptions(next), sessionQueueLen: s.broker.options.sessionQueueLen });
  s.broker.setAuth(authHooks(rt, next.auth, log, http));
  const [old, now] = [_listenerSpecs(before, worker), _listenerSpecs(next, worker)];
  const where = (ls: ListenerSpec[]) =>
    ls.map((l) => `${l.tls === undefined ? "tcp" : "tls"}://${l.host}:${l.port}${l.wsPath ?? ""}`).join(",");
  if (where(old) !== where(now)) return false;
  s.listeners.setLimits(admissionLimits(next), now);
  const pem = (l: ListenerSpec) =>
    `${l.tls?.key}|${l.tls?.cert}|${l.tls?.ca ?? ""}|${l.tls?.passphrase ?? ""}`;
  for (let i = 0; i < now.length; i++) {
    const l = now[i]!;
    if (l.tls === undefined || pem(l) === pem(old[i]!)) continue;
    await s.listeners.replace(i, l);
    log.info(`${l.name ?? "TLS listener"}: certificates reloaded for new connections`);
  }
  return true;
}

/** No store of a worker beyond `count` may hold sessions that would be out of reach. */
function _checkOrphans(rt: Runtime, st: Settings, count: number): void {
  for (let k = count; k <= MAX_WORKERS; k++) {
    const path = storeSpec(st.loaded.config, k)?.path;
    if (path === undefined || !rt.fileExists(path)) continue;
    throw new ConfigError(
      st.loaded.source,
      0,
      "system.num_taskq_thread",
      `the store ${path} of worker ${k} is there, but the broker runs ${count} workers: its sessions ` +
        `would be out of reach. Start with the number of workers it was written with (at least ${k + 1}), ` +
        "or move the store files aside to start empty",
    );
  }
}

/**
 * Every session in a worker's store must be one whose client identifier that worker is home to:
 * with another number of workers than the store was written with, they would be out of reach.
 */
function _checkHomes(snap: JournalSnapshot, link: PeerLink, path: string, source: string): void {
  const away = snap.sessions.filter((s) => homeWorker(s.clientId, link.count) !== link.self);
  if (away.length === 0) return;
  throw new ConfigError(
    source,
    0,
    "system.num_taskq_thread",
    `the store ${path} holds ${away.length} sessions (${away[0]!.clientId}, ...) that belong to another ` +
      `worker with ${link.count} workers: it was written with another system.num_taskq_thread. Start ` +
      "with the number of workers it was written with, or move the store files aside to start empty",
  );
}
