/**
 * Embedded SQLite: bun:sqlite under Bun, node:sqlite under Node.js (>= 22.13, or 22.5 with
 * --experimental-sqlite) and Deno. Both are reached through process.getBuiltinModule, so this
 * module loads everywhere and the bundle names neither.
 */
import process from "node:process";
import { RuntimeError } from "./runtime_error.ts";

export type SqlValue = string | number | bigint | Uint8Array | null;

/** The part of a prepared statement the store uses; bun:sqlite and node:sqlite both have it. */
export interface SqliteStatement {
  run(...params: SqlValue[]): { lastInsertRowid: number | bigint };
  all(...params: SqlValue[]): Record<string, SqlValue>[];
}

/** The part of a database connection the store uses. */
export interface SqliteDatabase {
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  close(): void;
}

type Builtin = (id: string) => Record<string, new (path: string) => SqliteDatabase> | undefined;

function _builtin(id: string): Record<string, new (path: string) => SqliteDatabase> | undefined {
  const get = (process as { getBuiltinModule?: Builtin }).getBuiltinModule;
  try {
    return get?.(id);
  } catch {
    return undefined; // an unknown builtin throws on some versions
  }
}

/** Why SQLite cannot be opened here, or null when it can. */
export function sqliteMissing(): string | null {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions.bun !== undefined || _builtin("node:sqlite") !== undefined) return null;
  const runtime = versions.deno !== undefined ? `Deno ${versions.deno}` : `Node.js ${process.versions.node}`;
  return `${runtime} has no node:sqlite, which needs Node.js >= 22.13 (or >= 22.5 with --experimental-sqlite)`;
}

/** Opens (creating) the database file at `path`; throws what SQLite says, e.g. for a corrupt file. */
export function openSqlite(path: string): SqliteDatabase {
  const bun = _builtin("bun:sqlite");
  if (bun !== undefined) return new bun.Database!(path);
  const node = _builtin("node:sqlite");
  if (node === undefined) throw new RuntimeError("sqlite", `cannot open ${path}: ${sqliteMissing()}`);
  return new node.DatabaseSync!(path);
}
