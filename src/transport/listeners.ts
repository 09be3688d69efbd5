/** Starts the configured listeners and binds every accepted connection to the broker. */
import type { Broker } from "../broker/broker.ts";
import type { Logger } from "../broker/context.ts";
import type { Runtime, ServerHandle, TlsOptions } from "../runtime/runtime.ts";
import type { Connection } from "./connection.ts";
import { FlushScheduler, Link } from "./link.ts";

/** The running listeners. */
export interface Listeners {
  readonly servers: ServerHandle[];
  /** Stops accepting connections. */
  close(): Promise<void>;
}

/** One listener: plain TCP, or TLS when `tls` is given. */
export interface ListenerSpec {
  host: string;
  port: number;
  tls?: TlsOptions;
}

/** Listens on every address; a bind failure names the listener. */
export async function startListeners(
  rt: Runtime,
  broker: Broker,
  specs: ListenerSpec[],
  log: Logger,
): Promise<Listeners> {
  const flusher = new FlushScheduler();
  const servers: ServerHandle[] = [];
  const accept = (conn: Connection): void => void new Link(conn, broker, flusher, log);
  for (const b of specs) {
    const kind = b.tls === undefined ? "TCP" : "TLS";
    try {
      servers.push(
        b.tls === undefined
          ? await rt.listenTcp(b.host, b.port, accept)
          : await rt.listenTls(b.host, b.port, b.tls, accept),
      );
    } catch (e) {
      await Promise.all(servers.map((s) => s.close()));
      throw new Error(`${kind} listener ${b.host}:${b.port} could not start: ${(e as Error).message}`);
    }
    log.info(`Listening for MQTT over ${kind} on ${b.host}:${b.port}`);
  }
  return {
    servers,
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
