/** Files, processes and the environment, for the cli: the same code under Bun, Node.js and Deno. */
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import os from "node:os";
import process from "node:process";
import { openSqlite, type SqliteDatabase, sqliteMissing } from "./sqlite.ts";
import { RuntimeError } from "./runtime_error.ts";

/** A file opened for appending log lines. */
export interface AppendFile {
  /** Writes synchronously: a line logged before a crash is on disk. */
  write(s: string): void;
  /** Bytes in the file. */
  readonly size: number;
  close(): void;
}

/** What the cli asks of the operating system besides sockets. */
export interface OsServices {
  readonly env: Record<string, string | undefined>;
  readonly pid: number;
  /** Writes the whole file, creating its directory. */
  writeTextFile(path: string, text: string): Promise<void>;
  openAppend(path: string): AppendFile;
  renameFile(from: string, to: string): void;
  /** Removes a file; no error when it is absent. */
  removeFile(path: string): void;
  fileExists(path: string): boolean;
  /** True when a process with this pid exists. */
  isAlive(pid: number): boolean;
  /** Sends a signal; false when there is no such process. */
  kill(pid: number, signal: "SIGTERM" | "SIGKILL" | "SIGHUP"): boolean;
  /** Starts this program again in the background with `args` and extra `env`, output appended to `logFile`; returns its pid. */
  spawnSelf(args: string[], logFile: string, env: Record<string, string>): number;
  sleep(ms: number): Promise<void>;
  /** Reads a password: asked twice without echo on a terminal, else the first line of stdin. */
  readSecret(): Promise<string>;
  /** A whole file's bytes. */
  readFile(path: string): Promise<Buffer>;
  /** The lines of stdin (without their line ends) as they come, until it ends. */
  stdinLines(): AsyncIterable<string>;
  /** Why this runtime cannot open an embedded SQLite database, or null when it can. */
  sqliteMissing(): string | null;
  /** Opens (creating) an SQLite database file; throws what SQLite says about a bad file. */
  openSqlite(path: string): SqliteDatabase;
  /** Ends the process at once with `code`: no pending output is written. */
  exitNow(code: number): never;
  /** Calls `fn` with any exception no code caught, and any rejected promise nobody awaited. */
  onUncaughtError(fn: (e: unknown) => void): void;
  /** This process's memory and CPU time, and the machine's load and memory (HTTP API, $SYS). */
  processStats(): ProcessStats;
}

/** What {@link OsServices.processStats} reports. */
export interface ProcessStats {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** CPU time used by the process since it started, microseconds. */
  cpuMicros: number;
  /** The machine's load averages over 1, 5 and 15 minutes. */
  load: [number, number, number];
  cpus: number;
  memTotal: number;
  memFree: number;
}

/** The program and script this process runs, to start it again. */
function _self(): string[] {
  const script = process.argv[1];
  // a compiled Bun binary reports its embedded entry point, which is not a file to pass
  if (script === undefined || script.startsWith("/$bunfs/") || script.startsWith("B:/~BUN/")) return [];
  return [script];
}

/** The node:fs / node:child_process implementation. */
export function createOsServices(): OsServices {
  return {
    env: process.env,
    pid: process.pid,
    async writeTextFile(path, text) {
      mkdirSync(dirname(path), { recursive: true });
      await writeFile(path, text);
    },
    openAppend(path) {
      mkdirSync(dirname(path), { recursive: true });
      const fd = openSync(path, "a");
      let size = fstatSync(fd).size;
      return {
        write(s) {
          size += writeSync(fd, s);
        },
        get size() {
          return size;
        },
        close: () => closeSync(fd),
      };
    },
    sqliteMissing,
    openSqlite,
    processStats() {
      const m = process.memoryUsage();
      const cpu = process.cpuUsage();
      const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
      return {
        rss: m.rss,
        heapUsed: m.heapUsed,
        heapTotal: m.heapTotal,
        cpuMicros: cpu.user + cpu.system,
        load: [l1, l5, l15],
        cpus: os.availableParallelism?.() ?? os.cpus().length,
        memTotal: os.totalmem(),
        memFree: os.freemem(),
      };
    },
    exitNow: (code) => process.exit(code),
    onUncaughtError(fn) {
      process.on("uncaughtException", fn);
      process.on("unhandledRejection", fn);
    },
    renameFile: (from, to) => renameSync(from, to),
    removeFile: (path) => rmSync(path, { force: true }),
    fileExists: (path) => existsSync(path),
    isAlive(pid) {
      try {
        process.kill(pid, 0);
        return true;
      } catch (e) {
        return (e as { code?: string }).code === "EPERM";
      }
    },
    kill(pid, signal) {
      try {
        process.kill(pid, signal);
        return true;
      } catch {
        return false;
      }
    },
    spawnSelf(args, logFile, env) {
      mkdirSync(dirname(logFile), { recursive: true });
      const out = openSync(logFile, "a");
      const child = spawn(process.execPath, [..._self(), ...args], {
        detached: true,
        stdio: ["ignore", out, out],
        env: { ...process.env, ...env },
      });
      child.unref();
      closeSync(out);
      return child.pid ?? 0;
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    readSecret: () => (process.stdin.isTTY ? _askTwice() : _firstLine()),
    readFile: (path) => readFile(path),
    stdinLines: _stdinLines,
  };
}

async function* _stdinLines(): AsyncIterable<string> {
  let rest = "";
  process.stdin.setEncoding("utf8"); // a character split between two reads stays whole
  for await (const chunk of process.stdin) {
    const lines = (rest + (chunk as string)).split("\n");
    rest = lines.pop()!;
    for (const l of lines) yield l.endsWith("\r") ? l.slice(0, -1) : l;
  }
  if (rest !== "") yield rest;
}

async function _firstLine(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes("\n")) break;
  }
  return text.split(/\r?\n/)[0] ?? "";
}

async function _askTwice(): Promise<string> {
  const a = await _ask("Password: ");
  const b = await _ask("Reenter password: ");
  if (a !== b) throw new RuntimeError("input", "The passwords do not match; run the command again");
  return a;
}

function _ask(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let s = "";
    const onData = (b: Buffer): void => {
      for (const ch of b.toString("utf8")) {
        if (ch === "\r" || ch === "\n" || ch === "\u0003") {
          stdin.off("data", onData);
          stdin.setRawMode(false);
          stdin.pause();
          process.stderr.write("\n");
          if (ch === "\u0003") reject(new RuntimeError("input", "Interrupted"));
          else resolve(s);
          return;
        }
        s = ch === "\u007f" ? s.slice(0, -1) : s + ch;
      }
    };
    stdin.on("data", onData);
  });
}
