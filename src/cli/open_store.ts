/**
 * Opens the SQLite store that `sqlite { }` (or `bridges.mqtt.cache { }`) asks for. A file that cannot be read as a database stops
 * the start with the path and what to do: it is never replaced silently, since it may hold
 * acknowledged messages.
 */
import { join } from "node:path";
import type { Config } from "../config/config.ts";
import { ConfigError } from "../config/config_error.ts";
import { DEFAULT_DISK_CACHE_SIZE } from "../config/config_sections.ts";
import type { BrokerLogger } from "./logger.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { createSqliteStore } from "../store/sqlite_store.ts";
import type { Store } from "../store/store.ts";

/** Where the store is and how many messages it keeps. */
export interface StoreSpec {
  path: string;
  maxMessages: number;
  /** The section that asked for it, for errors. */
  key: "sqlite" | "bridges.mqtt.cache";
  /** A setting that is not used because of the other section, for a warning; "" when none. */
  ignored: string;
}

/**
 * `sqlite { }`, else `bridges.mqtt.cache { }` when a bridge is enabled: a bridge's cache is its
 * session in the broker's store, so the cache section turns the store on. The file is `broker.db`
 * in `mounted_file_path` (default /tmp/). The store keeps every session's messages, so it holds at
 * least as many as the bridges' cache (and as sqlite's default).
 */
export function storeSpec(cfg: Config, worker = 0): StoreSpec | null {
  const sq = cfg.sqlite;
  const cache = cfg.bridges.mqtt?.cache ?? null;
  // each worker of a multi-core broker keeps the sessions whose home it is in a file of its own
  const file = (dir: string) =>
    join(dir || "/tmp/", worker === 0 ? "broker.db" : `broker.worker${worker}.db`);
  if (sq !== null && sq.enable) {
    const path = file(sq.mounted_file_path);
    const other = cache === null || cache.mounted_file_path === "" ? path : file(cache.mounted_file_path);
    const ignored = other === path
      ? ""
      : `bridges.mqtt.cache.mounted_file_path is not used: the bridges' cache is kept in the store of sqlite { }, ${path}`;
    return {
      path,
      maxMessages: Math.max(sq.disk_cache_size, cache?.disk_cache_size ?? 0),
      key: "sqlite",
      ignored,
    };
  }
  const bridging = Object.values(cfg.bridges.mqtt?.named ?? {}).some((b) => b.enable);
  if (cache === null || !bridging) return null;
  return {
    path: file(cache.mounted_file_path),
    maxMessages: Math.max(DEFAULT_DISK_CACHE_SIZE, cache.disk_cache_size),
    key: "bridges.mqtt.cache",
    ignored: "",
  };
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
  worker = 0,
): Store | null {
  const spec = storeSpec(cfg, worker);
  if (spec === null) return null;
  const { path } = spec;
  const onFailure = (e: Error): never => {
    log.fatal(
      `The store ${path} could not be written (${e.message}): stopping at once, so that nothing is ` +
        "acknowledged that is not on disk. What was acknowledged before is in the file: make room " +
        "(or repair the file system) and start the broker again",
    );
    log.close();
    return rt.exitNow(1);
  };
  const open = () => createSqliteStore(rt.openSqlite(path), { maxMessages: spec.maxMessages, onFailure });
  try {
    return open();
  } catch (e) {
    const why = `cannot open the store ${path}: ${(e as Error).message}`;
    if (!discard) {
      throw new ConfigError(
        source,
        0,
        `${spec.key}.mounted_file_path`,
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
