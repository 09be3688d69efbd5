/**
 * `broker start`: load the configuration, refuse when a broker already holds the pid file, detach
 * with --daemon, listen, and run until SIGINT/SIGTERM; SIGHUP reloads.
 */
import { parseArgs } from "node:util";
import type { HttpSend } from "../auth/http_auth.ts";
import { httpPools } from "./auth_settings.ts";
import type { Broker } from "../broker/broker.ts";
import { reconfigure, startBroker, type Started } from "./start_broker.ts";
import { startWorkforce, workerCount, type Workforce } from "./multi_core.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { Listeners } from "../transport/listeners.ts";
import { loadSettings, type Settings } from "./load_settings.ts";
import { type BrokerLogger, createLogger, type LogSettings, logSettings } from "./logger.ts";
import { pidFilePath, readReload, reloadFilePath, runningPid } from "./pid_file.ts";
import { START_OPTIONS, START_USAGE, type StartFlags } from "./start_flags.ts";
import { type ApiControl, type Operations, startOperations } from "./start_api.ts";
import { Histogram } from "../admin/histogram.ts";
import { type BrokerView, singleView } from "../admin/broker_view.ts";
import { clusterView } from "./cluster_view.ts";
import type { Integrations } from "./integrations.ts";
import { updateConfigFile } from "./config_update.ts";

/** Where the cli prints. */
export interface CliIo {
  out(s: string): void;
  err(s: string): void;
}

/** Set in the environment of the background process `--daemon` starts. */
const DAEMON_CHILD = "BROKER_DAEMON_CHILD";

/** Parses start's flags (also used by restart and check). */
export function parseStartFlags(args: string[]): StartFlags {
  return parseArgs({ args, options: START_OPTIONS, strict: true, allowPositionals: false })
    .values as StartFlags;
}

/** Runs the broker; resolves with the exit code once it has stopped. */
export async function startCommand(args: string[], rt: Runtime, io: CliIo): Promise<number> {
  const flags = parseStartFlags(args);
  if (flags.help === true) {
    io.out(START_USAGE);
    return 0;
  }
  const pidFile = pidFilePath(rt);
  const running = await runningPid(rt, pidFile);
  if (running !== null) {
    io.err(`A broker is already running (pid ${running}, pid file ${pidFile}); stop it with "broker stop"\n`);
    return 1;
  }
  let st = await loadSettings(rt, flags);
  const child = rt.env[DAEMON_CHILD] === "1";
  if (st.loaded.config.system.daemon && !child) return await _daemonize(rt, io, args, st, pidFile);
  const signals = _signals(rt);
  for (;;) {
    const code = await _run(rt, io, [flags, args], st, pidFile, child, signals);
    if (code !== RESTART) return code;
    try {
      st = await loadSettings(rt, flags); // a restart reads the configuration again
    } catch (e) {
      io.err(`${(e as Error).message}; the broker did not restart\n`);
      return 1;
    }
  }
}

/** What the signal handlers call: the broker running now (a restart replaces it). */
interface Signals {
  stop(): void;
  hup(): void;
  /** Set when the API asked for a restart: the stop that follows starts the broker again. */
  restarting: boolean;
  /** The running broker's log, where an internal error is written. */
  log: BrokerLogger | null;
}

/** Registers the handlers once; each run of the broker sets what they do. */
function _signals(rt: Runtime): Signals {
  const s: Signals = { stop() {}, hup() {}, restarting: false, log: null };
  _exitOnInternalError(rt, () => s.log);
  rt.onSignal("SIGINT", () => s.stop());
  rt.onSignal("SIGTERM", () => s.stop());
  rt.onSignal("SIGHUP", () => s.hup());
  return s;
}

/** `_run`'s answer when the broker stopped to start again (POST /api/v4/ctrl/restart). */
const RESTART = -1;

async function _daemonize(
  rt: Runtime,
  io: CliIo,
  args: string[],
  st: Settings,
  pidFile: string,
): Promise<number> {
  const l = st.loaded.config.log;
  const logFile = logSettings(st.loaded.config).file ?? `${l.dir.replace(/\/+$/, "")}/${l.file}`;
  rt.removeFile(pidFile); // stale: runningPid() found no live process behind it
  const args2 = ["start", ...args.filter((a) => a !== "-d" && a !== "--daemon")];
  const pid = rt.spawnSelf(args2, logFile, { [DAEMON_CHILD]: "1" });
  for (let waited = 0; waited < 15_000; waited += 50) {
    if ((await runningPid(rt, pidFile)) === pid) {
      io.err(`broker started in the background (pid ${pid}, log ${logFile}, pid file ${pidFile})\n`);
      return 0;
    }
    if (!rt.isAlive(pid)) break;
    await rt.sleep(50);
  }
  io.err(`The broker did not start in the background; its log is in ${logFile}\n`);
  return 1;
}

/** The running broker's parts that a reload replaces. */
interface Running {
  rt: Runtime;
  flags: StartFlags;
  st: Settings;
  broker: Broker;
  log: BrokerLogger;
  child: boolean;
  pidFile: string;
  listeners: Listeners;
  integrations: Integrations;
  http: (poolSize: number) => HttpSend;
  workforce: Workforce | null;
  ops: Operations | null;
}

async function _run(
  rt: Runtime,
  io: CliIo,
  [flags, args]: [StartFlags, string[]],
  st: Settings,
  pidFile: string,
  child: boolean,
  signals: Signals,
) {
  const log = createLogger(_logSettings(st, child), io.err, rt);
  signals.log = log;
  signals.restarting = false;
  for (const n of st.notices) log.warn(n);
  for (const w of st.loaded.warnings) log.warn(w);
  const http = httpPools(rt);
  const { count, notice } = workerCount(st.loaded.config.system.num_taskq_thread, rt);
  if (notice !== null) log.warn(notice);
  const workforce = count > 1 ? startWorkforce(rt, count, args, log, (why) => _lost(rt, log, why)) : null;
  const latency = new Histogram();
  let started: Started;
  try {
    started = await startBroker(
      rt,
      st,
      log,
      flags.discard_store === true,
      http,
      workforce?.peers ?? null,
      latency,
    );
    await workforce?.listening();
  } catch (e) {
    return await _failed(e, log, io, _logSettings(st, child).console, workforce);
  }
  const { broker, listeners, store } = started;
  const state: Running = {
    rt,
    flags,
    st,
    broker,
    log,
    child,
    pidFile,
    listeners,
    integrations: started.integrations,
    http,
    workforce,
    ops: null,
  };
  const control = _control(state, signals);
  let ops: Operations;
  try {
    ops = state.ops = await startOperations(rt, {
      started,
      shareRules: (rules) => workforce?.tell({ rules }),
      view: _view(broker, workforce),
      settings: () => state.st,
      log,
      control,
      commitLatency: store === null ? null : latency,
    });
  } catch (e) {
    for (const b of started.bridges) b.stop();
    started.integrations.close();
    broker.close();
    await listeners.close();
    store?.close();
    return await _failed(e, log, io, _logSettings(st, child).console, workforce);
  }
  if (count > 1) log.info(`${count} workers, one per thread, share the TCP and TLS listeners`);
  const stopTick = rt.every(1000, () => {
    const now = rt.now();
    broker.tick(now);
    ops.tick(now);
    store?.commit(); // expiries and wills journaled by the tick
  });
  signals.hup = () => void control.reload({});
  const stopped = _untilStopped(rt, log, pidFile, signals, { ...started, stopTick, workforce, ops });
  // only now: `broker stop` signals the pid it finds there, and the signal must find the handlers
  await rt.writeTextFile(pidFile, `${rt.pid}\n`);
  const on = listeners.servers.map((s) => `${s.address.host}:${s.address.port}`).join(", ");
  io.err(
    `broker ${rt.name} ${rt.version}: listening on ${on} (config: ${st.loaded.source}, pid ${rt.pid})\n`,
  );
  return await stopped;
}

/** The broker as the operations side sees it: with other workers, theirs too. */
function _view(broker: Broker, workforce: Workforce | null): BrokerView {
  if (workforce === null) return singleView(broker);
  const view = clusterView(broker, workforce.peers.link);
  workforce.onView = view.onControl;
  return view;
}

/** The broker could not start: says why where the user looks, stops the other workers; exit code 1. */
async function _failed(
  e: unknown,
  log: BrokerLogger,
  io: CliIo,
  console: boolean,
  workforce: Workforce | null,
): Promise<number> {
  log.fatal(`${(e as Error).message}; the broker did not start`);
  if (!console) io.err(`${(e as Error).message}\n`);
  await workforce?.stop();
  log.close();
  return 1;
}

/** What the HTTP API and SIGHUP ask of the running broker; reloads run one after the other. */
function _control(state: Running, signals: Signals): ApiControl {
  let reloading: Promise<unknown> = Promise.resolve();
  return {
    reload(values: Record<string, unknown>): Promise<string | null> {
      const run = reloading.then(() => _reload(state, values));
      reloading = run.catch(() => {});
      return run.catch((e: Error) => {
        state.log.error(`Reload failed: ${e.message}`);
        return e.message;
      });
    },
    load: (values) => loadSettings(state.rt, state.flags, state.st.conf, values),
    updateConfig: (text) => updateConfigFile(state.rt, state.flags, state.st.conf, text),
    stop: () => signals.stop(),
    restart() {
      signals.restarting = true;
      signals.stop();
    },
  };
}

/** Resolves with the exit code (or RESTART) once SIGINT, SIGTERM or the API has stopped everything. */
function _untilStopped(
  rt: Runtime,
  log: BrokerLogger,
  pidFile: string,
  signals: Signals,
  { broker, listeners, store, bridges, integrations, stopTick, workforce, ops }: Started & {
    stopTick: () => void;
    workforce: Workforce | null;
    ops: Operations;
  },
): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      stopTick();
      for (const b of bridges) b.stop();
      integrations.close();
      const closed = Promise.all([listeners.close(), ops.stop()]);
      broker.close(); // MQTT 5 clients get DISCONNECT 0x8B
      const restart = signals.restarting;
      log.info(restart ? "Stopping to restart (HTTP API)" : "Stopped by a signal");
      // let the final DISCONNECTs go out before the process ends
      const others = workforce?.stop() ?? Promise.resolve();
      setTimeout(async () => {
        await Promise.all([others, closed]);
        store?.close();
        rt.removeFile(pidFile);
        rt.removeFile(reloadFilePath(pidFile));
        log.close();
        resolve(restart ? RESTART : 0);
      }, 200);
    };
    signals.stop = stop;
  });
}

/** A worker thread ended without being told to: as an internal error, the broker exits. */
function _lost(rt: Runtime, log: BrokerLogger, why: string): never {
  log.fatal(`Internal error: ${why}; the broker exits with code ${INTERNAL_ERROR_EXIT}`);
  log.close();
  return rt.exitNow(INTERNAL_ERROR_EXIT);
}

/** The exit code of a broker that stopped itself on an internal error (EX_SOFTWARE). */
export const INTERNAL_ERROR_EXIT = 70;

/**
 * An exception that reaches the top is a bug in no connection's code path (those close only
 * their connection, in the transport): the broker's state can no longer be trusted, and a broker
 * that keeps running half-dead is worse than one that stops. It exits at once, leaving nothing
 * acknowledged that the store does not hold, for systemd or procd to start it again.
 */
function _exitOnInternalError(rt: Runtime, current: () => BrokerLogger | null): void {
  rt.onUncaughtError((e) => {
    const log = current();
    if (log === null) throw e;
    log.fatal(
      `Internal error: ${
        (e as Error)?.stack ?? String(e)
      }\nThe broker exits with code ${INTERNAL_ERROR_EXIT} ` +
        "so that its service manager starts it again; please report this error with the lines above",
    );
    log.close();
    rt.exitNow(INTERNAL_ERROR_EXIT);
  });
}

function _logSettings(st: Settings, child: boolean): LogSettings {
  const s = logSettings(st.loaded.config);
  // a daemon's console output already goes to its log file
  return child && s.file !== null ? { ...s, console: false } : s;
}

/**
 * Re-reads the configuration and applies what can change without dropping connections; `values`
 * (the HTTP API's, dotted key paths) go over the file. Resolves with the error, null when applied.
 */
async function _reload(r: Running, values: Record<string, unknown>): Promise<string | null> {
  const fromApi = Object.keys(values).length > 0;
  const req = fromApi ? null : await readReload(r.rt, r.pidFile);
  const pending = req !== null && req.done !== true ? req : null;
  const conf = pending?.conf ?? r.st.conf;
  let error: string | null = null;
  try {
    const st = await loadSettings(r.rt, r.flags, conf, values);
    r.log.configure(_logSettings(st, r.child));
    for (const w of st.loaded.warnings) r.log.warn(w);
    // bridges keep running as started, their caches too
    if (JSON.stringify(st.loaded.config.bridges) !== JSON.stringify(r.st.loaded.config.bridges)) {
      r.log.warn("Bridge changes take effect at the next restart (what waits in a bridge's cache is kept)");
    }
    if (!(await reconfigure(r.rt, r, [r.st, st], r.log, r.http, 0))) {
      r.log.warn("Listener changes take effect at the next restart");
    }
    if (JSON.stringify(st.loaded.config.http_server) !== JSON.stringify(r.st.loaded.config.http_server)) {
      r.log.warn("HTTP API changes take effect at the next restart");
    }
    r.st = st;
    r.ops?.configure(st);
    await r.workforce?.reload(conf ?? undefined, values);
    r.log.info(
      `Configuration reloaded from ${st.loaded.source}${fromApi ? " with values from the HTTP API" : ""}`,
    );
  } catch (e) {
    error = (e as Error).message;
    r.log.error(`Reload failed, the running configuration stays: ${error}`);
  }
  if (pending !== null) {
    const answer = { id: pending.id, done: true, ok: error === null, ...(error === null ? {} : { error }) };
    await r.rt.writeTextFile(reloadFilePath(r.pidFile), JSON.stringify(answer));
  }
  return error;
}
