/** What the rest of the program may ask of the operating system. Only src/runtime/ implements it. */
import type { Connection } from "../transport/connection.ts";

/** A listening socket. */
export interface ServerHandle {
  /** The address actually bound (the port is known when 0 was asked for). */
  readonly address: { host: string; port: number };
  /** Stops accepting; existing connections stay. */
  close(): Promise<void>;
}

/** Operating-system services. */
export interface Runtime {
  /** "bun", "node" or "deno", and its version. */
  readonly name: string;
  readonly version: string;
  listenTcp(host: string, port: number, onConnection: (c: Connection) => void): Promise<ServerHandle>;
  readTextFile(path: string): Promise<string>;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` every `ms`; returns a function that stops it. Does not keep the process alive by itself. */
  every(ms: number, fn: () => void): () => void;
  /** Calls `fn` on each delivery of the signal. */
  onSignal(signal: "SIGINT" | "SIGTERM" | "SIGHUP", fn: () => void): void;
}
