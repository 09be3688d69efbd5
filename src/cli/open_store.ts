/**
 * Opens the SQLite store that `sqlite { }` asks for. A file that cannot be read as a database stops
 * the start with the path and what to do: it is never replaced silently, since it may hold
 * acknowledged messages.
 */
import { join } from "node:path";
import type { Config } from "../config/config.ts";
import { ConfigError } from "../config/config_error.ts";
import type { BrokerLogger } from "./logger.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { createSqliteStore } from "../store/sqlite_store.ts";
import type { Store } from "../store/store.ts";

/** The database file of `sqlite.mounted_file_path` (NanoMQ's default folder is /tmp/). */
export function storePath(cfg: Config): string {
  return join(cfg.sqlite?.mounted_file_path || "/tmp/", "broker.db");
}

/**
 * The store, or null when persistence is off. An unusable file is a ConfigError, unless `discard`
 * (`--discard_store`): then it is moved aside, with its WAL, and an empty store starts.
 */
export function openStore(
  rt: Runtime,
  cfg: Config,
  source: string,
  log: BrokerLogger,
  discard = false,
): Store | null {
  const sq = cfg.sqlite;
  if (sq === null || !sq.enable) return null;
  const path = storePath(cfg);
  const onFailure = (e: Error): never => {
    log.fatal(
      `The store ${path} could not be written (${e.message}): stopping at once, so that nothing is ` +
        "acknowledged that is not on disk. What was acknowledged before is in the file: make room " +
        "(or repair the file system) and start the broker again",
    );
    log.close();
    return rt.exitNow(1);
  };
  const open = () => createSqliteStore(rt.openSqlite(path), { maxMessages: sq.disk_cache_size, onFailure });
  try {
    return open();
  } catch (e) {
    const why = `cannot open the store ${path}: ${(e as Error).message}`;
    if (!discard) {
      throw new ConfigError(
        source,
        0,
        "sqlite.mounted_file_path",
        `${why}. It may hold acknowledged messages, so it is left as it is: move it aside (or repair ` +
          "it with sqlite3 .recover), or start with --discard_store to have it moved aside and start empty",
      );
    }
    const aside = `${path}.unreadable-${new Date(rt.now()).toISOString().replace(/[:.]/g, "-")}`;
    for (const suffix of ["", "-wal", "-shm"]) {
      if (rt.fileExists(path + suffix)) rt.renameFile(path + suffix, aside + suffix);
    }
    log.warn(`${why}; moved to ${aside} (--discard_store), starting with an empty store`);
    return open();
  }
}
