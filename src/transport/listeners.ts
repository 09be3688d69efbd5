/** Starts the configured listeners and binds every accepted connection to the broker. */
import type { Broker } from "../broker/broker.ts";
import type { Logger } from "../broker/context.ts";
import type { BindAddress } from "../config/config.ts";
import type { Runtime, ServerHandle } from "../runtime/runtime.ts";
import { FlushScheduler, Link } from "./link.ts";

/** The running listeners. */
export interface Listeners {
  readonly servers: ServerHandle[];
  /** Stops accepting connections. */
  close(): Promise<void>;
}

/** Listens on every `tcp` address; a bind failure names the listener. */
export async function startListeners(
  rt: Runtime,
  broker: Broker,
  tcp: BindAddress[],
  log: Logger,
): Promise<Listeners> {
  const flusher = new FlushScheduler();
  const servers: ServerHandle[] = [];
  for (const b of tcp) {
    try {
      servers.push(await rt.listenTcp(b.host, b.port, (conn) => new Link(conn, broker, flusher, log)));
    } catch (e) {
      await Promise.all(servers.map((s) => s.close()));
      throw new Error(`TCP listener ${b.host}:${b.port} could not start: ${(e as Error).message}`);
    }
    log.info(`Listening for MQTT on ${b.host}:${b.port}`);
  }
  return {
    servers,
    close: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
