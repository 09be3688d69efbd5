/** The pid file (`NANOMQ_PID_FILE`, NanoMQ's default path) and the reload handshake file beside it. */
import type { Runtime } from "../runtime/runtime.ts";

/** NanoMQ's default pid file. */
export const DEFAULT_PID_FILE = "/tmp/nanomq/nanomq.pid";

/** Where the pid file is. */
export function pidFilePath(rt: Runtime): string {
  return rt.env.NANOMQ_PID_FILE ?? DEFAULT_PID_FILE;
}

/** The pid of the running broker, or null when the file is absent or names no live process. */
export async function runningPid(rt: Runtime, path: string): Promise<number | null> {
  let text: string;
  try {
    text = await rt.readTextFile(path);
  } catch {
    return null;
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 && pid !== rt.pid && rt.isAlive(pid) ? pid : null;
}

/**
 * `broker reload` writes a request here ({id, conf}) and sends SIGHUP; the broker answers in the
 * same file ({id, done, ok, error}).
 */
export function reloadFilePath(pidFile: string): string {
  return `${pidFile}.reload`;
}

/** A reload request or its answer. */
export interface ReloadMessage {
  id: string;
  conf?: string | null;
  done?: boolean;
  ok?: boolean;
  error?: string;
}

/** Reads the reload file; null when absent or unreadable. */
export async function readReload(rt: Runtime, pidFile: string): Promise<ReloadMessage | null> {
  try {
    return JSON.parse(await rt.readTextFile(reloadFilePath(pidFile))) as ReloadMessage;
  } catch {
    return null;
  }
}
