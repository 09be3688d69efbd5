/**
 * What the broker keeps across a restart: sessions with their subscriptions and expiry, offline
 * queues, in-flight QoS 1/2 state in both directions, retained messages and wills.
 *
 * Writes are synchronous and grouped: they become durable together at the next commit(), which the
 * broker calls once per event-loop turn before it writes any acknowledgement, so that nothing is
 * acknowledged before it is on disk. A message is stored once, however many queues, in-flight
 * tables and the retained table refer to it, and is deleted with its last reference.
 */

/** An application message as stored. */
export interface StoredMessage {
  topic: string;
  payload: Uint8Array;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** MQTT 5 properties as raw bytes, null when none. */
  props: Uint8Array | null;
  /** Absolute expiry in ms since the epoch, 0 when it does not expire. */
  expiresAt: number;
}

/** How one delivery of a stored message goes to one session. */
export interface StoredDelivery {
  msgId: number;
  qos: number;
  retain: boolean;
  /** Subscription identifiers the delivery carries, empty when none. */
  subIds: number[];
}

/** A subscription as stored, keyed by its filter exactly as subscribed (with any `$share/` prefix). */
export interface StoredSubscription {
  filter: string;
  qos: number;
  noLocal: boolean;
  /** Retain As Published. */
  rap: boolean;
  /** Retain Handling 0, 1 or 2. */
  rh: number;
  subId: number | null;
}

/** A session's own fields; its subscriptions, queue and in-flight state are stored apart. */
export interface StoredSession {
  clientId: string;
  /** Session Expiry Interval in seconds. */
  expiryInterval: number;
  /** When the offline session ends (ms), 0 when online or never. */
  expiresAt: number;
  /** The will message and its publication time, null when none. */
  will: { msgId: number; at: number } | null;
}

/** One session with everything that hangs off it, as load() returns it. */
export interface LoadedSession extends StoredSession {
  subscriptions: StoredSubscription[];
  /** Offline queue in order. */
  queue: { seq: number; delivery: StoredDelivery }[];
  /** Sent QoS 1/2 deliveries in sending order; state 2 means PUBREL was sent. */
  inflight: { packetId: number; state: 1 | 2; delivery: StoredDelivery }[];
  /** Packet identifiers of received QoS 2 messages not yet released. */
  rxQos2: number[];
}

/** Everything stored, read once at start. */
export interface StoreSnapshot {
  messages: Map<number, StoredMessage>;
  sessions: LoadedSession[];
  retained: { topic: string; msgId: number }[];
}

/** The store counters the broker reports. */
export interface StoreCounters {
  /** Messages stored now. */
  messages: number;
  /** Messages refused because `disk_cache_size` was reached. */
  refused: number;
}

/** The persistence interface; see the module comment for the commit rule. */
export interface Store {
  load(): StoreSnapshot;
  /** Stores a message and returns its id, or -1 when the store is full (counted in `refused`). */
  addMessage(msg: StoredMessage): number;
  /** Inserts or replaces a session's own fields. */
  putSession(s: StoredSession): void;
  /** Deletes a session with its subscriptions, queue, in-flight state and will. */
  deleteSession(clientId: string): void;
  putSubscription(clientId: string, sub: StoredSubscription): void;
  deleteSubscription(clientId: string, filter: string): void;
  /** Appends a delivery to an offline queue; `seq` orders the queue. */
  enqueue(clientId: string, seq: number, d: StoredDelivery): void;
  dequeue(clientId: string, seq: number): void;
  putInflight(clientId: string, packetId: number, state: 1 | 2, d: StoredDelivery): void;
  deleteInflight(clientId: string, packetId: number): void;
  putRxQos2(clientId: string, packetId: number): void;
  deleteRxQos2(clientId: string, packetId: number): void;
  /** Sets the retained message of `topic`, replacing any. */
  setRetained(topic: string, msgId: number): void;
  deleteRetained(topic: string): void;
  /** Makes every write since the last commit durable, all together. */
  commit(): void;
  readonly counters: StoreCounters;
  close(): void;
}
