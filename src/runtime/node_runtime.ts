/**
 * The Runtime on node:net and node:fs: one code path for Bun, Node.js and Deno (measured as fast as
 * Bun.listen under Bun; see docs/performance.md).
 */
import { createOsServices } from "./os_services.ts";
import { listenWs } from "./ws_listener.ts";
import { connectWs } from "./ws_client.ts";
import { listenHttp } from "./http_server.ts";
import { createHttpClient } from "./http_client.ts";
import { readFile } from "node:fs/promises";
import net from "node:net";
import type tls from "node:tls";
import process from "node:process";
import type { ConnectOptions, Runtime } from "./runtime.ts";
import { peerCertificateOf, TLS_HANDSHAKE_TIMEOUT_MS, tlsLibraryOptions } from "./tls_options.ts";
import type { Connection, ConnectionHandlers, PeerCertificate, ServerHandle } from "./connection.ts";
import { RuntimeError } from "./runtime_error.ts";

function _listen(server: net.Server, host: string, port: number): Promise<ServerHandle> {
  return new Promise<ServerHandle>((resolve, reject) => {
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
}

class SocketConnection implements Connection {
  readonly copiesWrites = false;
  constructor(private readonly s: net.Socket) {
    s.setNoDelay(true);
  }
  get remoteAddress(): string {
    return `${this.s.remoteAddress ?? "?"}:${this.s.remotePort ?? 0}`;
  }
  start(h: ConnectionHandlers): void {
    const s = this.s;
    s.on("data", (chunk: Buffer) => h.onData(chunk));
    s.on("drain", () => h.onDrain());
    s.once("close", () => h.onClose());
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
  get localPort(): number {
    return this.s.localPort ?? 0;
  }
  peerCertificate(): PeerCertificate | undefined {
    const t = this.s as tls.TLSSocket;
    if (t.encrypted !== true || !t.authorized) return undefined;
    return peerCertificateOf(
      t.getPeerCertificate()?.subject as unknown as Record<string, string> | undefined,
    );
  }
}

/**
 * node:tls is loaded by the first TLS listener or connection (ws_listener.ts and http_client.ts do
 * the same with node:http and ws): a gateway on plain TCP does not pay their memory
 * (docs/performance.md).
 */
const loadTls = (): Promise<typeof tls> => import("node:tls").then((m) => m.default);

async function _connect(o: ConnectOptions): Promise<Connection> {
  const s = o.tls === undefined
    ? net.connect({ host: o.host, port: o.port, noDelay: true })
    : (await loadTls()).connect({
      host: o.host,
      port: o.port,
      servername: net.isIP(o.host) ? "" : o.host,
      ...o.tls,
    });
  // the listeners go on in the same turn the socket was made: none of its events is missed
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      s.destroy();
      reject(new RuntimeError("connect", why));
    };
    const timer = setTimeout(() => fail(`no connection within ${o.timeoutMs} ms`), o.timeoutMs);
    s.once("error", (e) => fail(e.message));
    s.once(o.tls === undefined ? "connect" : "secureConnect", () => {
      clearTimeout(timer);
      s.removeAllListeners("error");
      resolve(new SocketConnection(s));
    });
  });
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
    ...createOsServices(),
    name,
    version,
    // no `shared`: without workers (below) a port is never shared
    listenTcp(host, port, onConnection) {
      const server = net.createServer({ noDelay: true }, (s) => onConnection(new SocketConnection(s)));
      return _listen(server, host, port);
    },
    async listenTls(host, port, t, onConnection) {
      const tlsLib = await loadTls();
      const ms = t.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS;
      /**
       * Handshakes in progress, by remote address: tls.Server's own handshakeTimeout is not honoured
       * by every runtime's node:tls (Bun's), so the raw socket gets a timer of ours.
       */
      const pending = new Map<string, ReturnType<typeof setTimeout>>();
      const server = tlsLib.createServer(
        { ...tlsLibraryOptions(t), noDelay: true, handshakeTimeout: ms },
        (s) => {
          const key = `${s.remoteAddress}:${s.remotePort}`;
          clearTimeout(pending.get(key));
          pending.delete(key);
          onConnection(new SocketConnection(s));
        },
      );
      server.on("connection", (raw: net.Socket) => {
        const key = `${raw.remoteAddress}:${raw.remotePort}`;
        const timer = setTimeout(() => {
          pending.delete(key);
          t.onHandshakeError?.(key, "handshake timed out");
          raw.destroy();
        }, ms);
        pending.set(key, timer);
        raw.once("close", () => {
          if (pending.get(key) === timer) pending.delete(key);
          clearTimeout(timer);
        });
      });
      // a failed handshake concerns that client only
      server.on("tlsClientError", (e: Error, s: tls.TLSSocket) => {
        t.onHandshakeError?.(`${s.remoteAddress ?? "?"}:${s.remotePort ?? 0}`, e.message);
        s.destroy();
      });
      return _listen(server, host, port);
    },
    // Node.js shares a port between threads (reusePort) from 22.12 on, Deno not at all
    workers: null,
    listenWs,
    listenHttp,
    httpClient: createHttpClient,
    connect: _connect,
    connectWs,
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
