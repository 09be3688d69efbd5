/** What the broker needs from outside: a clock, a logger, and a journal for durable state. */
import type { Journal } from "./journal.ts";
import type { PeerPort } from "./peer_port.ts";
import type { BrokerHooks } from "./hooks.ts";

/** Where the broker logs; the cli supplies one. `clientId` goes on the line when there is one. */
export interface Logger {
  error(msg: string, clientId?: string): void;
  warn(msg: string, clientId?: string): void;
  info(msg: string, clientId?: string): void;
  debug(msg: string, clientId?: string): void;
}

/** What the broker needs from outside: a clock, a logger, and where to journal durable state. */
export interface BrokerDeps {
  /** Milliseconds since the epoch. */
  now(): number;
  log: Logger;
  /** Default none: nothing outlives the process. */
  journal?: Journal;
  /** The other workers of a multi-core broker; default none (one worker). */
  peers?: PeerPort;
  /** Webhooks and rules listen here; default none. The broker keeps this object: set its methods later. */
  hooks?: BrokerHooks;
}
