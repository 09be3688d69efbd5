/**
 * Operating the running broker: the counters sampled each second, the `$SYS/broker/...` tree and
 * the HTTP API on `http_server`. They run on the first worker and see every worker's core.
 */
import pkg from "../../package.json" with { type: "json" };
import type { BrokerView } from "../admin/broker_view.ts";
import type { ConfigUpdate } from "../admin/api_types.ts";
import { Gauges } from "../admin/gauges.ts";
import type { Histogram } from "../admin/histogram.ts";
import { createHttpApi } from "../admin/http_api.ts";
import { SysTree } from "../admin/sys_tree.ts";
import type { ServerHandle } from "../runtime/connection.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { loadDashboard } from "../runtime/dashboard_assets.ts";
import { API_MAX_BODY, apiSettings, maskSecrets } from "./api_settings.ts";
import { bridgeControl } from "./bridge_control.ts";
import { apiRulesPath, rulesControl } from "./rules_control.ts";
import type { RuleDef } from "../rules/rule_engine.ts";
import { showConfig } from "../config/config.ts";
import type { Settings } from "./load_settings.ts";
import type { BrokerLogger } from "./logger.ts";
import type { Started } from "./start_broker.ts";

/** What the API asks the process to do. */
export interface ApiControl {
  reload(values: Record<string, unknown>): Promise<string | null>;
  /** Loads the configuration with `values` (dotted key paths) over the file; throws ConfigError. */
  load(values: Record<string, unknown>): Promise<Settings>;
  updateConfig(text: string): Promise<ConfigUpdate>;
  stop(): void;
  restart(): void;
}

/** The running operations side. */
export interface Operations {
  /** Samples the counters and publishes `$SYS` when due; call once a second. */
  tick(now: number): void;
  /** Applies a reloaded configuration (`sys_interval`; the API's settings need a restart). */
  configure(st: Settings): void;
  /** The HTTP server's address, null when the API is off. */
  readonly address: { host: string; port: number } | null;
  stop(): Promise<void>;
}

/** What the operations side is started with. */
export interface OperationsDeps {
  started: Started;
  /** The broker as the API sees it: this worker's core, or every worker's. */
  view: BrokerView;
  settings: () => Settings;
  log: BrokerLogger;
  control: ApiControl;
  /** How long store commits take; null without persistence. */
  commitLatency: Histogram | null;
  /** Hands the rules made through the API to the other workers. */
  shareRules(rules: RuleDef[]): void;
}

/** Starts sampling, `$SYS` and (when configured) the HTTP API; throws ConfigError or ListenerError's kin. */
export async function startOperations(
  rt: Runtime,
  { started, view, settings, log, control, commitLatency, shareRules }: OperationsDeps,
): Promise<Operations> {
  const st = settings();
  const startedAt = rt.now();
  const gauges = new Gauges(view, () => rt.processStats());
  gauges.sample(startedAt);
  const sys = new SysTree(view, gauges, pkg.version, startedAt, st.loaded.config.mqtt.sys_interval * 1000);
  const api = await apiSettings(rt, st.loaded.config, st.loaded.source);
  let server: ServerHandle | null = null;
  if (api !== null) {
    const dashboard = await loadDashboard();
    const handle = createHttpApi({
      broker: view,
      auth: api.auth,
      version: pkg.version,
      startedAt,
      now: rt.now,
      processStats: () => rt.processStats(),
      gauges,
      config: () => maskSecrets(showConfig(settings().loaded.config)) as Record<string, unknown>,
      runningConfig: () => settings().loaded.config,
      reload: control.reload,
      updateConfig: control.updateConfig,
      stop: control.stop,
      restart: control.restart,
      bridges: started.bridges.map((b) => bridgeControl(b, settings, control.load)),
      rules: rulesControl(rt, started.integrations, apiRulesPath(st), shareRules),
      webhook: () => {
        const w = started.integrations.webhook;
        return w === null ? null : { queued: w.queued, ...w.counters };
      },
      commitLatency,
      listeners: st.listeners.map((l) => ({ name: l.name ?? _kind(l), port: l.port })),
    }, dashboard);
    try {
      server = await rt.listenHttp(
        { host: api.host, port: api.port, maxConnections: api.limitConn, maxBody: API_MAX_BODY },
        handle,
      );
    } catch (e) {
      throw new Error(
        `http_server: the HTTP API cannot listen on ${api.host}:${api.port}: ${(e as Error).message}`,
      );
    }
    const how = api.auth.kind === "none" ? "without authentication" : `${api.auth.kind} authentication`;
    log.info(`HTTP API on ${api.host}:${server.address.port}/api/v4 (${how})`);
    if (typeof dashboard === "string") log.info(`No dashboard: ${dashboard}`);
    else log.info(`Dashboard on http://${api.host}:${server.address.port}/`);
    if (api.auth.kind === "none") {
      log.warn("The HTTP API runs without authentication (http_server.auth_type = no_auth)");
    }
    if (api.auth.kind === "basic" && api.auth.password === "public") {
      log.warn('http_server.password is NanoMQ\'s well-known default "public": set one of your own');
    }
  }
  return {
    tick(now) {
      gauges.sample(now);
      sys.tick(now);
    },
    configure: (next) => sys.setInterval(next.loaded.config.mqtt.sys_interval * 1000),
    address: server?.address ?? null,
    stop: async () => await server?.close(),
  };
}

function _kind(l: Settings["listeners"][number]): string {
  const kind = l.wsPath === undefined
    ? (l.tls === undefined ? "tcp" : "ssl")
    : l.tls === undefined
    ? "ws"
    : "wss";
  return `listeners.${kind}`;
}
