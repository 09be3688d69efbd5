/**
 * The broker's log: one line per event (time, level, client id when there is one, message) to the
 * console and/or a file that rotates by size. Reconfigured in place on reload.
 */
import { type Config, LOG_LEVELS, type LogLevel } from "../config/config.ts";
import type { AppendFile, OsServices } from "../runtime/os_services.ts";
import type { Logger } from "../broker/deps.ts";

/** Where and what to log. */
export interface LogSettings {
  level: LogLevel;
  console: boolean;
  /** Full path of the log file, or null. */
  file: string | null;
  /** Rotate when the file would pass this many bytes ... */
  rotationSize: number;
  /** ... keeping this many old files (`nanomq.log.1` is the newest). */
  rotationCount: number;
}

/** A Logger with NanoMQ's six levels that can be reconfigured. */
export interface BrokerLogger extends Logger {
  trace(msg: string, clientId?: string): void;
  fatal(msg: string, clientId?: string): void;
  configure(s: LogSettings): void;
  close(): void;
}

/** The log settings of a configuration (`log { }`). */
export function logSettings(cfg: Config): LogSettings {
  const l = cfg.log;
  return {
    level: l.level,
    console: l.to.includes("console"),
    file: l.to.includes("file") ? `${l.dir.replace(/\/+$/, "")}/${l.file}` : null,
    rotationSize: l.rotation.size,
    rotationCount: l.rotation.count,
  };
}

/** Creates the logger; `console` receives whole lines. */
export function createLogger(
  initial: LogSettings,
  console: (line: string) => void,
  os: Pick<OsServices, "openAppend" | "renameFile" | "removeFile">,
): BrokerLogger {
  let s = initial;
  let min = LOG_LEVELS.indexOf(s.level);
  let file: AppendFile | null = null;
  const rotate = (path: string): void => {
    file?.close();
    file = null;
    os.removeFile(`${path}.${s.rotationCount}`);
    for (let i = s.rotationCount - 1; i >= 1; i--) {
      try {
        os.renameFile(`${path}.${i}`, `${path}.${i + 1}`);
      } catch { /* that one does not exist yet */ }
    }
    os.renameFile(path, `${path}.1`);
  };
  const toFile = (line: string): void => {
    if (s.file === null) return;
    try {
      file ??= os.openAppend(s.file);
      if (file.size > 0 && file.size + line.length > s.rotationSize) {
        rotate(s.file);
        file = os.openAppend(s.file);
      }
      file.write(line);
    } catch (e) {
      console(`${_line("error", `Cannot write the log file ${s.file}: ${(e as Error).message}`)}`);
      s = { ...s, file: null };
    }
  };
  const at = (level: LogLevel) => (msg: string, clientId?: string): void => {
    if (LOG_LEVELS.indexOf(level) < min) return;
    const line = _line(level, msg, clientId);
    if (s.console) console(line);
    toFile(line);
  };
  return {
    ...byLevel(at),
    configure(next) {
      if (next.file !== s.file) {
        file?.close();
        file = null;
      }
      s = next;
      min = LOG_LEVELS.indexOf(s.level);
    },
    close() {
      file?.close();
      file = null;
    },
  };
}

function _line(level: LogLevel, msg: string, clientId?: string): string {
  const who = clientId === undefined
    ? ""
    : /^[\x21-\x5a\x5c\x5e-\x7e]+$/.test(clientId)
    ? ` [${clientId}]`
    : ` [${JSON.stringify(clientId)}]`;
  return `${new Date().toISOString()} ${level.padEnd(5)}${who} ${msg}\n`;
}

/** The six level methods of a BrokerLogger, made by `at`. */
export function byLevel(
  at: (level: LogLevel) => (msg: string, clientId?: string) => void,
): Pick<BrokerLogger, LogLevel> {
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    fatal: at("fatal"),
  };
}
