/** What the rest of the program may ask of the operating system. Only src/runtime/ implements it. */
import type { HttpRequester } from "./http_client.ts";
import type { OsServices } from "./os_services.ts";
import type { ClientTlsOptions, TlsOptions } from "./tls_options.ts";
import type { WsListenOptions } from "./ws_listener.ts";
import type { WsConnectOptions } from "./ws_client.ts";
import type { Connection, ServerHandle } from "./connection.ts";
import type { Workers } from "./workers.ts";
import type { HttpListenOptions, HttpReply, HttpRequest } from "./http_server.ts";

/** Where an outgoing connection goes. */
export interface ConnectOptions {
  host: string;
  port: number;
  tls?: ClientTlsOptions;
  /** Give up when the connection (and TLS handshake) is not up within this. */
  timeoutMs: number;
}

/** Operating-system services. */
export interface Runtime extends OsServices {
  /** "bun", "node" or "deno", and its version. */
  readonly name: string;
  readonly version: string;
  /**
   * `shared`: every worker of a multi-core broker listens on the port (SO_REUSEPORT) and the kernel
   * spreads the connections; only where {@link Runtime.workers} is not null.
   */
  listenTcp(
    host: string,
    port: number,
    onConnection: (c: Connection) => void,
    shared?: boolean,
  ): Promise<ServerHandle>;
  /** As listenTcp, with TLS; `onConnection` runs once the handshake is done. */
  listenTls(
    host: string,
    port: number,
    tls: TlsOptions,
    onConnection: (c: Connection) => void,
    shared?: boolean,
  ): Promise<ServerHandle>;
  /** Threads for a multi-core broker; null where listeners cannot be shared between threads. */
  readonly workers: Workers | null;
  /** An outgoing TCP (or TLS) connection; rejects with the reason it could not be made. */
  connect(o: ConnectOptions): Promise<Connection>;
  /** An outgoing MQTT-over-WebSocket connection (WSS with `o.tls`). */
  connectWs(o: WsConnectOptions): Promise<Connection>;
  /** An HTTP(S) client keeping at most `poolSize` connections per server (HTTP authentication). */
  httpClient(poolSize: number): HttpRequester;
  /** MQTT over WebSocket (WSS with `o.tls`): node:http + ws under every runtime. */
  listenWs(o: WsListenOptions, onConnection: (c: Connection) => void): Promise<ServerHandle>;
  /** The management API's HTTP server (node:http under every runtime). */
  listenHttp(o: HttpListenOptions, handle: (req: HttpRequest) => Promise<HttpReply>): Promise<ServerHandle>;
  readTextFile(path: string): Promise<string>;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` every `ms`; returns a function that stops it. Does not keep the process alive by itself. */
  every(ms: number, fn: () => void): () => void;
  /** Calls `fn` on each delivery of the signal. */
  onSignal(signal: "SIGINT" | "SIGTERM" | "SIGHUP", fn: () => void): void;
}
