/**
 * What the broker writes down as its durable state changes, for src/store to keep. The broker
 * journals only persistent sessions (Session Expiry Interval > 0), their QoS 1/2 deliveries, and
 * retained messages; the writes become durable together when the transport commits before it
 * writes the turn's output.
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
  /** The will, null when none. */
  will: StoredWill | null;
}

/** A session's will: its message, when it is due (0: the client was connected), its delay and expiry. */
export interface StoredWill {
  msgId: number;
  /** When the pending will is published (ms), 0 while the client is connected. */
  at: number;
  /** Will Delay Interval in seconds. */
  delay: number;
  /** Message Expiry Interval in seconds, -1 when none. */
  expiry: number;
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

/** Everything journaled, as the broker restores it at start. */
export interface JournalSnapshot {
  messages: Map<number, StoredMessage>;
  sessions: LoadedSession[];
  retained: { topic: string; msgId: number }[];
}

/** The writes; a Store implements them (src/store/store.ts). */
export interface Journal {
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
}
