/**
 * Opens the SQLite store that `sqlite { }` asks for. A file that cannot be read as a database stops
 * the start with the path and what to do: it is never replaced silently, since it may hold
 * acknowledged messages.
 */
import { join } from "node:path";
import type { Config } from "../config/config.ts";
import { ConfigError } from "../config/config_error.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { createSqliteStore } from "../store/sqlite_store.ts";
import type { Store } from "../store/store.ts";

/** The database file of `sqlite.mounted_file_path` (NanoMQ's default folder is /tmp/). */
export function storePath(cfg: Config): string {
  return join(cfg.sqlite?.mounted_file_path || "/tmp/", "broker.db");
}

/** The store, or null when persistence is off; throws ConfigError when the file is unusable. */
export function openStore(rt: Runtime, cfg: Config, source: string): Store | null {
  const sq = cfg.sqlite;
  if (sq === null || !sq.enable) return null;
  const path = storePath(cfg);
  try {
    return createSqliteStore(rt.openSqlite(path), { maxMessages: sq.disk_cache_size });
  } catch (e) {
    throw new ConfigError(
      source,
      0,
      "sqlite.mounted_file_path",
      `cannot open the store ${path}: ${(e as Error).message}. It may hold acknowledged messages, ` +
        "so it is left as it is: move it aside (or repair it with sqlite3 .recover) and start again",
    );
  }
}
