/** Starts the configured listeners and binds every accepted connection to the broker. */
import type { Broker } from "../broker/broker.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { FlushScheduler, Link, type LinkOptions } from "./link.ts";
import { Admission, type AdmissionLimits, type ListenerCount } from "./admission.ts";
import type { Logger } from "../broker/deps.ts";
import type { Connection, ServerHandle } from "../runtime/connection.ts";
import type { TlsOptions } from "../runtime/tls_options.ts";
import type { PeerLink } from "./peer_link.ts";
import { Relay } from "./relay.ts";

/** The running listeners. */
export interface Listeners {
  readonly servers: ServerHandle[];
  /** Reopens listener `i` with `spec` (renewed certificates); its existing connections stay. */
  replace(i: number, spec: ListenerSpec): Promise<void>;
  /** Stops accepting connections. */
  close(): Promise<void>;
  /** Binds a connection made elsewhere (a bridge's own) to the broker, as if accepted. */
  attach(conn: Connection): void;
  /** Applies reloaded limits: `specs` are the listeners as reloaded, in the same order. */
  setLimits(limits: AdmissionLimits, specs: ListenerSpec[]): void;
}

/** A listener could not start: its configuration key (or kind and address), and why. */
export class ListenerError extends Error {
  constructor(readonly listener: string, message: string) {
    super(message);
    this.name = "ListenerError";
  }
}

/** One listener: TCP, or TLS when `tls` is given; WebSocket (WSS with `tls`) when `wsPath` is. */
export interface ListenerSpec {
  host: string;
  port: number;
  tls?: TlsOptions;
  wsPath?: string;
  /** The verified client certificate's CN is the user name (Mosquitto's use_identity_as_username). */
  useCnAsUsername?: boolean;
  /** For errors: the configuration key ("listeners.ssl.default_1") and the certificate files it read. */
  name?: string;
  files?: string[];
  /** Its own limit on open connections (0 or absent: only the broker's). */
  maxConnections?: number;
  /** Its own maximum packet size (0 or absent: the broker's). */
  maxPacketSize?: number;
}

/** How the log names a listener: its configuration key, or its kind and address. */
function _label(b: ListenerSpec): string {
  return b.name ?? `${_kind(b)} listener ${b.host}:${b.port}`;
}

function _kind(b: ListenerSpec): string {
  if (b.wsPath !== undefined) return b.tls === undefined ? "WebSocket" : "WebSocket over TLS";
  return b.tls === undefined ? "TCP" : "TLS";
}

function _listen(
  rt: Runtime,
  b: ListenerSpec,
  max: number,
  accept: (c: Connection) => void,
  shared: boolean,
): Promise<ServerHandle> {
  if (b.wsPath !== undefined) {
    const o = { host: b.host, port: b.port, path: b.wsPath, maxFrame: max + 16 };
    return rt.listenWs(b.tls === undefined ? o : { ...o, tls: b.tls }, accept);
  }
  return b.tls === undefined
    ? rt.listenTcp(b.host, b.port, accept, shared)
    : rt.listenTls(b.host, b.port, b.tls, accept, shared);
}

/** How accepted connections reach the broker core: here, or (multi-core) through the relay. */
interface Binder {
  flusher: FlushScheduler;
  relay: Relay | null;
  admission: Admission;
}

/**
 * Listens on every address; a bind failure names the listener. With `link` (a worker of a
 * multi-core broker) TCP and TLS listeners share their ports with the other workers, and each
 * connection is bound to the worker of its client identifier (relay.ts).
 */
export async function startListeners(
  rt: Runtime,
  broker: Broker,
  specs: ListenerSpec[],
  log: Logger,
  opts: { commit?: (() => void) | null; link?: PeerLink; limits?: AdmissionLimits } = {},
): Promise<Listeners> {
  const flusher = new FlushScheduler(opts.commit ?? null);
  const relay = opts.link === undefined
    ? null
    : new Relay(opts.link, (conn, o) => void new Link(conn, broker, flusher, log, o));
  const limits = opts.limits ?? { maxConnections: 0, maxConnRatePerIp: 0 };
  const admission = new Admission(limits, opts.link?.count ?? 1, rt.now, broker.limits);
  const servers: ServerHandle[] = [];
  const counts: ListenerCount[] = [];
  const open = (b: ListenerSpec, i: number): Promise<ServerHandle> => {
    const count = counts[i] ??= { open: 0, max: 0, name: _label(b) };
    count.max = admission.shareOf(b.maxConnections ?? 0);
    return _open(rt, broker, { flusher, relay, admission }, log, b, count);
  };
  for (const [i, b] of specs.entries()) {
    try {
      servers.push(await open(b, i));
    } catch (e) {
      await Promise.all(servers.map((s) => s.close()));
      throw e;
    }
  }
  return {
    servers,
    async replace(i, b) {
      // closing stops accepting only: connections made through the old listener stay
      await servers[i]!.close();
      servers[i] = await open(b, i);
    },
    setLimits(l, specs) {
      admission.set(l);
      for (const [i, b] of specs.entries()) {
        if (counts[i] !== undefined) counts[i].max = admission.shareOf(b.maxConnections ?? 0);
      }
    },
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
    attach: (conn) => void new Link(conn, broker, flusher, log),
  };
}

async function _open(
  rt: Runtime,
  broker: Broker,
  { flusher, relay, admission }: Binder,
  log: Logger,
  b: ListenerSpec,
  count: ListenerCount,
): Promise<ServerHandle> {
  const kind = _kind(b);
  const max = b.maxPacketSize === undefined || b.maxPacketSize === 0
    ? broker.options.maxPacketSize
    : b.maxPacketSize;
  const o: LinkOptions = { useCn: b.useCnAsUsername === true, maxPacketSize: max };
  const accept = (accepted: Connection): void => {
    const conn = admission.admit(accepted, count);
    if (conn === null) return;
    if (relay === null) new Link(conn, broker, flusher, log, o);
    else relay.accept(conn, o);
  };
  const spec: ListenerSpec = b.tls === undefined ? b : {
    ...b,
    tls: {
      ...b.tls,
      onHandshakeError: (addr, why) =>
        log.warn(`TLS handshake with ${addr} on ${b.host}:${b.port} failed: ${why}`),
    },
  };
  try {
    const server = await _listen(rt, spec, max, accept, relay !== null);
    log.info(`Listening for MQTT over ${kind} on ${b.host}:${b.port}${b.wsPath ?? ""}`);
    return server;
  } catch (e) {
    const files = b.files === undefined ? "" : ` (files: ${b.files.join(", ")})`;
    const name = b.name === undefined ? "" : `${b.name}: `;
    throw new ListenerError(
      b.name ?? `${kind} ${b.host}:${b.port}`,
      `${name}${kind} listener ${b.host}:${b.port} could not start: ${(e as Error).message}${files}`,
    );
  }
}
