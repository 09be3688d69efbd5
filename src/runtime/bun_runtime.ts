/**
 * The Runtime under Bun: sockets on Bun.listen, everything else as in node_runtime.ts.
 *
 * Measured against node:net under Bun (docs/performance.md): 2 KB less memory per connection
 * (10,000 idle clients: 81 against 100 MB), the same throughput, and `write()` copies into the
 * kernel or reports how much it took, so the caller can reuse its output buffer at once.
 *
 * Only `globalThis.Bun` is touched, and only when this runtime is chosen: the module loads under
 * Node.js and Deno too.
 */
import process from "node:process";
import { createNodeRuntime } from "./node_runtime.ts";
import type { Runtime } from "./runtime.ts";
import {
  peerCertificateOf,
  TLS_HANDSHAKE_TIMEOUT_MS,
  tlsLibraryOptions,
  type TlsOptions,
} from "./tls_options.ts";
import type { Connection, ConnectionHandlers, PeerCertificate, ServerHandle } from "./connection.ts";
import { createWorkers } from "./workers.ts";
import { RuntimeError } from "./runtime_error.ts";

/** The part of Bun's socket API used here (bun-types would bring Bun's globals into every file). */
interface BunSocket {
  data: BunConnection;
  readonly remoteAddress: string;
  readonly remotePort?: number;
  readonly localPort?: number;
  write(data: Uint8Array): number;
  pause(): void;
  resume(): void;
  end(): void;
  /** shutdown(SHUT_WR): a FIN after what is written; reading goes on. */
  shutdown(halfClose?: boolean): void;
  terminate(): void;
  /** Seconds without activity before the `timeout` handler runs; 0 = none. */
  timeout(seconds: number): void;
  readonly authorized?: boolean;
  getPeerCertificate?(): { subject?: Record<string, string | string[] | undefined> } | null;
}
interface BunListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActiveConnections?: boolean): void;
}
interface BunApi {
  listen(options: {
    hostname: string;
    port: number;
    reusePort?: boolean;
    tls?: TlsOptions;
    socket: {
      open(s: BunSocket): void;
      data(s: BunSocket, d: Buffer): void;
      drain(s: BunSocket): void;
      close(s: BunSocket): void;
      error(s: BunSocket, e: Error): void;
      handshake?(s: BunSocket, success: boolean, authorizationError: Error | null): void;
      timeout?(s: BunSocket): void;
    };
  }): BunListener;
  gc(force: boolean): void;
}

/**
 * JavaScriptCore frees socket read buffers lazily: under a flood of ~300 MB/s, 50-100 MB of dead
 * read chunks piled up between collections (RSS 150-170 MB in scenario (c)). A collection after
 * every READ_PER_GC bytes read keeps RSS near 100 MB for ~3% of throughput; the interval grows
 * with the live heap so that a large broker does not spend its time marking.
 */
const READ_PER_GC = 32 * 1024 * 1024;

class GcPacer {
  private read = 0;
  private every = READ_PER_GC;
  constructor(private readonly bun: BunApi) {}

  add(n: number): void {
    this.read += n;
    if (this.read < this.every) return;
    this.read = 0;
    this.bun.gc(true);
    this.every = Math.max(READ_PER_GC, 2 * process.memoryUsage().heapUsed);
  }
}

class BunConnection implements Connection {
  readonly copiesWrites = true;
  handlers: ConnectionHandlers | null = null;
  /** The part of the last write the socket did not take; writes wait behind it. */
  private pending: Buffer | null = null;
  private ending = false;
  /** A TLS handshake is in progress: the socket's timer is its timeout. */
  handshaking = false;

  /** Bun sets TCP_NODELAY on every accepted socket itself (strace): no second setsockopt here. */
  constructor(private readonly s: BunSocket) {}
  private addr: string | undefined;
  /**
   * Each of Bun's remoteAddress and remotePort is a getpeername(2): built once, when first asked
   * (the CONNECT handling asks), instead of three system calls per connection.
   */
  get remoteAddress(): string {
    return (this.addr ??= `${this.s.remoteAddress}:${this.s.remotePort ?? 0}`);
  }
  start(h: ConnectionHandlers): void {
    this.handlers = h;
  }
  write(buf: Buffer): boolean {
    if (this.pending !== null) {
      this.pending = Buffer.concat([this.pending, buf]);
      return false;
    }
    const n = this.s.write(buf);
    if (n === buf.length) return true;
    this.pending = buf.subarray(n > 0 ? n : 0);
    return false;
  }
  onDrain(): void {
    const p = this.pending;
    if (p !== null) {
      const n = this.s.write(p);
      if (n < p.length) {
        this.pending = p.subarray(n > 0 ? n : 0);
        return;
      }
      this.pending = null;
      if (this.ending) return this.s.shutdown();
    }
    this.handlers?.onDrain();
  }
  pause(): void {
    this.s.pause();
  }
  resume(): void {
    this.s.resume();
  }
  /**
   * Half-closes: Bun's end() closes the socket outright, and closing with unread input sends a
   * reset that can make the client's TCP stack drop the DISCONNECT it has not read yet.
   */
  end(): void {
    if (this.pending !== null) this.ending = true;
    else this.s.shutdown();
  }
  destroy(): void {
    this.s.terminate();
  }
  get localPort(): number {
    return this.s.localPort ?? 0;
  }
  peerCertificate(): PeerCertificate | undefined {
    if (this.s.authorized !== true) return undefined;
    return peerCertificateOf(this.s.getPeerCertificate?.()?.subject);
  }
}

/**
 * Bun hands an exception thrown in a socket callback to that socket's `error` handler, where it
 * would vanish: what the transport did not handle is thrown again outside, where the process's
 * policy for internal errors sees it.
 */
function _uncaught(e: unknown): void {
  queueMicrotask(() => {
    throw e;
  });
}

function _listen(
  bun: BunApi,
  gc: GcPacer,
  host: string,
  port: number,
  tls: TlsOptions | undefined,
  onConnection: (c: Connection) => void,
  shared: boolean,
): Promise<ServerHandle> {
  try {
    const server = bun.listen({
      hostname: host,
      port,
      ...(shared ? { reusePort: true } : {}),
      ...(tls === undefined ? {} : { tls: tlsLibraryOptions(tls) }),
      socket: {
        open(s) {
          const c = new BunConnection(s);
          s.data = c;
          // Bun arms a 120 s timer on every accepted socket that traffic does not reset: without
          // this, a `timeout` handler (ours, for TLS handshakes) would end every connection at 120 s
          if (tls === undefined) s.timeout(0);
          else {
            c.handshaking = true;
            s.timeout(Math.ceil((tls.handshakeTimeoutMs ?? TLS_HANDSHAKE_TIMEOUT_MS) / 1000));
          }
          onConnection(c);
        },
        handshake(s, ok, err) {
          s.timeout(0);
          s.data.handshaking = false;
          if (!ok || (err !== null && tls?.rejectUnauthorized === true)) {
            tls?.onHandshakeError?.(s.data.remoteAddress, err?.message ?? "handshake failed");
            s.terminate();
          }
        },
        timeout(s) {
          // only a handshake is timed here; keep alive is the broker's (tick)
          if (!s.data.handshaking) return s.timeout(0);
          tls?.onHandshakeError?.(s.data.remoteAddress, "handshake timed out");
          s.terminate();
        },
        data(s, d) {
          gc.add(d.length);
          try {
            s.data.handlers?.onData(d);
          } catch (e) {
            _uncaught(e);
          }
        },
        drain(s) {
          try {
            s.data.onDrain();
          } catch (e) {
            _uncaught(e);
          }
        },
        close(s) {
          try {
            s.data?.handlers?.onClose();
          } catch (e) {
            _uncaught(e);
          }
        },
        error() {}, // close follows every error; the broker learns of it there
      },
    });
    return Promise.resolve({
      address: { host: server.hostname, port: server.port },
      close: () => Promise.resolve(server.stop(false)),
    });
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Creates the Bun runtime; call only under Bun. */
export function createBunRuntime(entry?: string): Runtime {
  const bun = (globalThis as { Bun?: BunApi }).Bun;
  if (bun === undefined) {
    throw new RuntimeError("runtime", "createBunRuntime() needs Bun: use createNodeRuntime()");
  }
  const gc = new GcPacer(bun);
  return {
    ...createNodeRuntime(),
    listenTcp: (host, port, onConnection, shared) =>
      _listen(bun, gc, host, port, undefined, onConnection, shared === true),
    listenTls: (host, port, tls, onConnection, shared) =>
      _listen(bun, gc, host, port, tls, onConnection, shared === true),
    workers: entry === undefined ? null : createWorkers(entry),
  };
}
