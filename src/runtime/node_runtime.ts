/**
 * The Runtime on node:net and node:fs: one code path for Bun, Node.js and Deno (measured as fast as
 * Bun.listen under Bun; see README).
 */
import { readFile } from "node:fs/promises";
import net from "node:net";
import process from "node:process";
import type { Connection, ConnectionHandlers } from "../transport/connection.ts";
import type { Runtime, ServerHandle } from "./runtime.ts";

class SocketConnection implements Connection {
  readonly remoteAddress: string;
  readonly copiesWrites = false;
  constructor(private readonly s: net.Socket) {
    this.remoteAddress = `${s.remoteAddress ?? "?"}:${s.remotePort ?? 0}`;
    s.setNoDelay(true);
  }
  start(h: ConnectionHandlers): void {
    const s = this.s;
    s.on("data", h.data);
    s.on("drain", h.drain);
    s.once("close", h.close);
    s.on("error", () => {}); // 'close' follows every error; the broker learns of it there
  }
  write(buf: Buffer): boolean {
    return this.s.write(buf);
  }
  pause(): void {
    this.s.pause();
  }
  resume(): void {
    this.s.resume();
  }
  end(): void {
    this.s.end();
  }
  destroy(): void {
    this.s.destroy();
  }
}

function _runtimeName(): [string, string] {
  const v = process.versions as Record<string, string | undefined>;
  if (v.bun !== undefined) return ["bun", v.bun];
  if (v.deno !== undefined) return ["deno", v.deno];
  return ["node", process.versions.node];
}

/** Creates the node:* based runtime. */
export function createNodeRuntime(): Runtime {
  const [name, version] = _runtimeName();
  return {
    name,
    version,
    listenTcp(host, port, onConnection) {
      return new Promise<ServerHandle>((resolve, reject) => {
        const server = net.createServer({ noDelay: true }, (s) => onConnection(new SocketConnection(s)));
        server.once("error", reject);
        server.listen({ host, port, backlog: 4096 }, () => {
          server.off("error", reject);
          const a = server.address() as net.AddressInfo;
          resolve({
            address: { host: a.address, port: a.port },
            close: () => new Promise<void>((r) => server.close(() => r())),
          });
        });
      });
    },
    readTextFile: (path) => readFile(path, "utf8"),
    now: Date.now,
    every(ms, fn) {
      const t = setInterval(fn, ms);
      t.unref?.();
      return () => clearInterval(t);
    },
    onSignal(signal, fn) {
      process.on(signal, fn);
    },
  };
}
