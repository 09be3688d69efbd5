/**
 * What the broker keeps across a restart: sessions with their subscriptions and expiry, offline
 * queues, in-flight QoS 1/2 state in both directions, retained messages and wills.
 *
 * Writes are synchronous and grouped: they become durable together at the next commit(), which the
 * broker calls once per event-loop turn before it writes any acknowledgement, so that nothing is
 * acknowledged before it is on disk. A message is stored once, however many queues, in-flight
 * tables and the retained table refer to it, and is deleted with its last reference.
 */
import type {
  Journal,
  JournalSnapshot,
  LoadedSession,
  StoredDelivery,
  StoredMessage,
  StoredSession,
  StoredSubscription,
} from "../broker/journal.ts";

export type { Journal, LoadedSession, StoredDelivery, StoredMessage, StoredSession, StoredSubscription };

/** Everything stored, read once at start. */
export type StoreSnapshot = JournalSnapshot;

/** The store counters the broker reports. */
export interface StoreCounters {
  /** Messages stored now. */
  messages: number;
  /** Messages refused because `disk_cache_size` was reached. */
  refused: number;
}

/** The persistence interface: what the broker journals, plus loading and committing. */
export interface Store extends Journal {
  load(): StoreSnapshot;
  /** Makes every write since the last commit durable, all together. */
  commit(): void;
  readonly counters: StoreCounters;
  close(): void;
}
