/** A leveled logger that writes lines to a stream (stderr by default). */
import type { Logger } from "../broker/context.ts";

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
/** NanoMQ's log levels. */
export type LogLevel = (typeof LEVELS)[number];

/** True when `s` is one of NanoMQ's log levels. */
export function isLogLevel(s: string): s is LogLevel {
  return (LEVELS as readonly string[]).includes(s);
}

/** Creates a logger that drops messages below `level`. */
export function createLogger(level: LogLevel, write: (line: string) => void): Logger {
  const min = LEVELS.indexOf(level);
  const at = (l: LogLevel) => (msg: string) => {
    if (LEVELS.indexOf(l) >= min) write(`${new Date().toISOString()} ${l}: ${msg}\n`);
  };
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}
