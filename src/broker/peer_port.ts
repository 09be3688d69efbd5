/**
 * What a broker core of a multi-core broker needs from the link to the other workers (each worker
 * runs one core on its own thread; src/transport/peer_link.ts implements this).
 */
import type { Client, CtrlItem, Message, Session } from "./state.ts";

/** How a forwarded message is to be handled by the worker it goes to. */
export const Forward = {
  /** Deliver to its own subscribers whose filters match (not to share groups). */
  Route: 0,
  /** Deliver to one of its own members of the share group named by the key. */
  Group: 1,
  /** Store (or, empty, clear) as the retained message of its topic; no delivery. */
  Retained: 2,
} as const;

/** The other workers, as one core sees them. */
export interface PeerPort {
  /** This worker's index, and how many workers there are. */
  readonly self: number;
  readonly count: number;
  /** This worker's clients now have (`added`) or no longer have a subscription to `key` (as subscribed, with any `$share/` prefix). */
  interest(peer: number, key: string, added: boolean): void;
  /** False when it was dropped: `peer` has not taken what it was sent for too long. */
  forward(peer: number, msg: Message, how: number, groupKey: string): boolean;
  /** More was forwarded to `peer` than it has taken yet: publishers that forward to it are held. */
  congested(peer: number): boolean;
  /** The number the batch being built for `peer` will have once posted (batches count from 1). */
  nextBatch(peer: number): number;
  /** Stop processing what `peer` forwards (a session here is congested by it) ... */
  hold(peer: number): void;
  /** ... and start again. */
  release(peer: number): void;
}

/**
 * The worker that holds the session of `clientId` among `count`: a connection that another worker
 * accepted is relayed there (FNV-1a of the UTF-16 code units, so every runtime agrees).
 */
export function homeWorker(clientId: string, count: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < clientId.length; i++) {
    h ^= clientId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % count;
}

/** A core's peer sessions and its own interest (peering.ts). */
export interface Peering {
  readonly port: PeerPort;
  /** By worker index; this worker's own entry is unused. */
  readonly sessions: Session[];
  /** Subscriptions of this worker's clients per filter as subscribed. */
  readonly interest: Map<string, number>;
  /**
   * The peers the packet being handled now must have reached before it is acknowledged: those a
   * QoS 1/2 message was forwarded to (persistence on), those told of a new subscription.
   */
  readonly touched: number[];
  /**
   * Acknowledgements held until the peers have taken (and committed) the batches that carried
   * what they wait for (PeerPort.nextBatch), in the order they were made; `need` is [peer, batch] pairs.
   */
  readonly deferred: { c: Client; item: CtrlItem; need: number[] }[];
  /** Clients with acknowledgements in `deferred`: their next ones wait too, to keep the order. */
  readonly waiting: Map<Client, number>;
  /** By peer: the last batch it has committed. */
  readonly committed: number[];
}

/** The acknowledgement of the packet being handled waits for `peer` (Peering.touched). */
export function touch(pr: Peering, peer: number): void {
  if (!pr.touched.includes(peer)) pr.touched.push(peer);
}
