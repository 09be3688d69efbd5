/** What the rest of the program may ask of the operating system. Only src/runtime/ implements it. */
import type { Connection } from "../transport/connection.ts";
import type { OsServices } from "./os_services.ts";
import type { WsListenOptions } from "./ws_listener.ts";

/** A listening socket. */
export interface ServerHandle {
  /** The address actually bound (the port is known when 0 was asked for). */
  readonly address: { host: string; port: number };
  /** Stops accepting; existing connections stay. */
  close(): Promise<void>;
}

/** A TLS listener's settings, PEM contents already read. */
export interface TlsOptions {
  key: string;
  cert: string;
  /** CA certificates that client certificates are verified against. */
  ca?: string;
  passphrase?: string;
  /** Ask clients for a certificate. */
  requestCert: boolean;
  /** Refuse clients whose certificate is missing or does not verify. */
  rejectUnauthorized: boolean;
  /** A handshake not finished within this is closed (default 10 s): a stalled client costs one socket, nothing more. */
  handshakeTimeoutMs?: number;
  /** Told about each failed or timed-out handshake. */
  onHandshakeError?: (remoteAddress: string, why: string) => void;
}

/** The default of {@link TlsOptions.handshakeTimeoutMs}. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The options for the TLS library itself, without ours. */
export function tlsLibraryOptions(
  t: TlsOptions,
): Omit<TlsOptions, "handshakeTimeoutMs" | "onHandshakeError"> {
  const { handshakeTimeoutMs: _t, onHandshakeError: _e, ...rest } = t;
  return rest;
}

/** A TLS client's settings (the bridge's `ssl { }`), PEM contents already read. */
export interface ClientTlsOptions {
  /** CA certificates the server's certificate is verified against (default: the system's). */
  ca?: string;
  /** A client certificate and its key, for servers that ask for one. */
  cert?: string;
  key?: string;
  passphrase?: string;
  /** Refuse a server whose certificate does not verify (default true). */
  rejectUnauthorized?: boolean;
}

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
  listenTcp(host: string, port: number, onConnection: (c: Connection) => void): Promise<ServerHandle>;
  /** As listenTcp, with TLS; `onConnection` runs once the handshake is done. */
  listenTls(
    host: string,
    port: number,
    tls: TlsOptions,
    onConnection: (c: Connection) => void,
  ): Promise<ServerHandle>;
  /** An outgoing TCP (or TLS) connection; rejects with the reason it could not be made. */
  connect(o: ConnectOptions): Promise<Connection>;
  /** MQTT over WebSocket (WSS with `o.tls`): node:http + ws under every runtime. */
  listenWs(o: WsListenOptions, onConnection: (c: Connection) => void): Promise<ServerHandle>;
  readTextFile(path: string): Promise<string>;
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` every `ms`; returns a function that stops it. Does not keep the process alive by itself. */
  every(ms: number, fn: () => void): () => void;
  /** Calls `fn` on each delivery of the signal. */
  onSignal(signal: "SIGINT" | "SIGTERM" | "SIGHUP", fn: () => void): void;
}
