/**
 * A worker thread of a multi-core broker, after the first: it starts a broker core of its own
 * (startBroker, without bridges or WebSocket listeners), reports to the first worker, and does what
 * it is told: reload, stop, answer the HTTP API.
 */
import type { HttpSend } from "../auth/http_auth.ts";
import { httpPools } from "./auth_settings.ts";
import { loadSettings, type Settings } from "./load_settings.ts";
import type { BrokerLogger } from "./logger.ts";
import { logSettings } from "./logger.ts";
import { startBarrier, workerLogger } from "./multi_core.ts";
import { parseStartFlags } from "./start.ts";
import type { StartFlags } from "./start_flags.ts";
import { reconfigure, startBroker, type Started } from "./start_broker.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { WorkerSeat } from "../runtime/workers.ts";
import { PeerLink } from "../transport/peer_link.ts";
import { serveView, type ViewServer } from "./cluster_view.ts";
import type { RuleDef } from "../rules/rule_engine.ts";

/** Runs until the first worker says stop. */
export async function runWorker(rt: Runtime, seat: WorkerSeat): Promise<void> {
  const flags = parseStartFlags((seat.data as { args: string[] }).args);
  const link = new PeerLink(seat, { warn() {}, info() {}, error() {}, debug() {} });
  const log = workerLogger(link, "info");
  link.log = log;
  // before anything is awaited: what the others send from now on must find its handler
  const barrier = startBarrier(link);
  let started: Started | null = null;
  let st: Settings | null = null;
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => {
    stop = () => {
      stopTick();
      void started?.listeners.close();
      started?.broker.close();
      setTimeout(() => {
        started?.integrations.close();
        started?.store?.close();
        link.control(0, { stopped: 1 });
        link.close();
        resolve();
      }, 200);
    };
  });
  let stopTick = (): void => {};
  const http = httpPools(rt);
  let view: ViewServer | null = null;
  link.onControl = (from, c) => {
    if (view?.onControl(from, c) === true) return;
    if (c.ready !== undefined) barrier.heard(from);
    if (c.reload !== undefined && started !== null && st !== null) {
      const values = (c.values ?? {}) as Record<string, unknown>;
      void _reload(rt, [log, flags, http, seat.index], started, st, [c.reload as string | null, values]).then(
        (next) => {
          st = next ?? st;
          link.control(0, { reloaded: 1 });
        },
      );
    } else if (c.reload !== undefined) link.control(0, { reloaded: 1 }); // not started: nothing to apply
    if (c.stop !== undefined) stop();
    if (c.rules !== undefined) started?.integrations.setApiRules(c.rules as RuleDef[]);
  };
  try {
    st = await loadSettings(rt, flags);
    log.configure(logSettings(st.loaded.config));
    const discard = flags.discard_store === true;
    const s = started = await startBroker(rt, st, log, discard, http, barrier.peers);
    const v = view = serveView(s.broker, link);
    stopTick = rt.every(1000, () => {
      s.broker.tick(rt.now());
      s.store?.commit();
      v.report();
    });
    link.control(0, { listening: 1 });
  } catch (e) {
    link.control(0, { failed: (e as Error).message });
  }
  await stopped;
}

/** Applies what a reload changes to this worker's core; the first worker has checked the configuration. */
async function _reload(
  rt: Runtime,
  [log, flags, http, worker]: [BrokerLogger, StartFlags, (poolSize: number) => HttpSend, number],
  s: Started,
  st: Settings,
  [conf, values]: [string | null, Record<string, unknown>],
): Promise<Settings | null> {
  try {
    const next = await loadSettings(rt, flags, conf ?? st.conf, values);
    log.configure(logSettings(next.loaded.config));
    await reconfigure(rt, s, [st, next], log, http, worker);
    return next;
  } catch (e) {
    log.error(`Reload failed, the running configuration stays: ${(e as Error).message}`);
    return null;
  }
}
