/** Picks the runtime the program runs on. */
import process from "node:process";
import { createBunRuntime } from "./bun_runtime.ts";
import { createNodeRuntime } from "./node_runtime.ts";
import type { Runtime } from "./runtime.ts";

/** Bun.listen sockets under Bun, node:net under Node.js and Deno. `entry`: the main module, which worker threads run (none: no threads). */
export function createRuntime(entry?: string): Runtime {
  return (process.versions as Record<string, string | undefined>).bun !== undefined
    ? createBunRuntime(entry)
    : createNodeRuntime();
}
