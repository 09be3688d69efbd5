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
  const st = await loadSettings(rt, flags);
  const child = rt.env[DAEMON_CHILD] === "1";
  if (st.loaded.config.system.daemon && !child) return await _daemonize(rt, io, args, st, pidFile);
  return await _run(rt, io, [flags, args], st, pidFile, child);
}

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
  http: (poolSize: number) => HttpSend;
  workforce: Workforce | null;
}

async function _run(
  rt: Runtime,
  io: CliIo,
  [flags, args]: [StartFlags, string[]],
  st: Settings,
  pidFile: string,
  child: boolean,
) {
  const log = createLogger(_logSettings(st, child), io.err, rt);
  _exitOnInternalError(rt, log);
  for (const n of st.notices) log.warn(n);
  for (const w of st.loaded.warnings) log.warn(w);
  const http = httpPools(rt);
  const { count, notice } = workerCount(st.loaded.config.system.num_taskq_thread, rt);
  if (notice !== null) log.warn(notice);
  const workforce = count > 1 ? startWorkforce(rt, count, args, log, (why) => _lost(rt, log, why)) : null;
  let started: Started;
  try {
    started = await startBroker(rt, st, log, flags.discard_store === true, http, workforce?.peers ?? null);
    await workforce?.listening();
  } catch (e) {
    log.fatal(`${(e as Error).message}; the broker did not start`);
    if (!_logSettings(st, child).console) io.err(`${(e as Error).message}\n`);
    await workforce?.stop();
    log.close();
    return 1;
  }
  if (count > 1) log.info(`${count} workers, one per thread, share the TCP and TLS listeners`);
  const { broker, listeners, store } = started;
  const stopTick = rt.every(1000, () => {
    broker.tick(rt.now());
    store?.commit(); // expiries and wills journaled by the tick
  });
  const state: Running = { rt, flags, st, broker, log, child, pidFile, listeners, http, workforce };
  let reloading = Promise.resolve();
  rt.onSignal("SIGHUP", () => {
    reloading = reloading.then(() => _reload(state)).catch((e) =>
      log.error(`Reload failed: ${(e as Error).message}`)
    );
  });
  const stopped = _untilStopped(rt, log, pidFile, { ...started, stopTick, workforce });
  // only now: `broker stop` signals the pid it finds there, and the signal must find the handlers
  await rt.writeTextFile(pidFile, `${rt.pid}\n`);
  const on = listeners.servers.map((s) => `${s.address.host}:${s.address.port}`).join(", ");
  io.err(
    `broker ${rt.name} ${rt.version}: listening on ${on} (config: ${st.loaded.source}, pid ${rt.pid})\n`,
  );
  return await stopped;
}

/** Resolves with the exit code once SIGINT or SIGTERM has stopped everything. */
function _untilStopped(
  rt: Runtime,
  log: BrokerLogger,
  pidFile: string,
  { broker, listeners, store, bridges, stopTick, workforce }: Started & {
    stopTick: () => void;
    workforce: Workforce | null;
  },
): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      stopTick();
      for (const b of bridges) b.stop();
      void listeners.close();
      broker.close(); // MQTT 5 clients get DISCONNECT 0x8B
      log.info("Stopped by a signal");
      // let the final DISCONNECTs go out before the process ends
      const others = workforce?.stop() ?? Promise.resolve();
      setTimeout(async () => {
        await others;
        store?.close();
        rt.removeFile(pidFile);
        rt.removeFile(reloadFilePath(pidFile));
        log.close();
        resolve(0);
      }, 200);
    };
    rt.onSignal("SIGINT", stop);
    rt.onSignal("SIGTERM", stop);
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
function _exitOnInternalError(rt: Runtime, log: BrokerLogger): void {
  rt.onUncaughtError((e) => {
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

/** Re-reads the configuration and applies what can change without dropping connections. */
async function _reload(r: Running): Promise<void> {
  const req = await readReload(r.rt, r.pidFile);
  const pending = req !== null && req.done !== true ? req : null;
  const conf = pending?.conf ?? r.st.conf;
  let error: string | undefined;
  try {
    const st = await loadSettings(r.rt, r.flags, conf);
    r.log.configure(_logSettings(st, r.child));
    for (const w of st.loaded.warnings) r.log.warn(w);
    // bridges keep running as started, their caches too
    if (JSON.stringify(st.loaded.config.bridges) !== JSON.stringify(r.st.loaded.config.bridges)) {
      r.log.warn("Bridge changes take effect at the next restart (what waits in a bridge's cache is kept)");
    }
    if (!(await reconfigure(r.rt, r, [r.st, st], r.log, r.http, 0))) {
      r.log.warn("Listener changes take effect at the next restart");
    }
    r.st = st;
    await r.workforce?.reload(conf ?? undefined);
    r.log.info(`Configuration reloaded from ${st.loaded.source}`);
  } catch (e) {
    error = (e as Error).message;
    r.log.error(`Reload failed, the running configuration stays: ${error}`);
  }
  if (pending !== null) {
    const answer = {
      id: pending.id,
      done: true,
      ok: error === undefined,
      ...(error === undefined ? {} : { error }),
    };
    await r.rt.writeTextFile(reloadFilePath(r.pidFile), JSON.stringify(answer));
  }
}
