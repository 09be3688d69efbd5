/** Plain counters; nothing on the hot path does more than increment them. */

/**
 * The limits that refuse something (docs/limits.md), named as their configuration keys and as the
 * `limit` label of `nanomq_limit_hits_total`.
 */
export const LIMIT_NAMES = [
  "max_connections",
  "listener_max_connections",
  "max_conn_rate",
  "max_sessions",
  "max_subscriptions",
  "max_topic_levels",
  "max_topic_length",
  "max_retained_messages",
  "max_retained_bytes",
  "property_size",
  "max_packet_size",
  "max_inflight_window",
] as const;
/** One of {@link LIMIT_NAMES}. */
export type LimitName = (typeof LIMIT_NAMES)[number];

/** Broker-wide counters. */
export interface Metrics {
  connectionsAccepted: number;
  messagesReceived: number;
  messagesSent: number;
  /** Deliveries dropped because a session queue was full (`mqtt.max_mqueue_len`). */
  droppedQueueFull: number;
  /** Deliveries dropped because they exceeded the client's Maximum Packet Size [MQTT-3.1.2-25]. */
  droppedTooLarge: number;
  /** Deliveries dropped because their Message Expiry Interval passed while queued. */
  droppedExpired: number;
  /** QoS 0 messages not queued for an offline session. */
  droppedOffline: number;
  /** Deliveries withheld because the subscriber may not read their topic (ACL). */
  droppedNotAuthorized: number;
  /** Messages kept in memory only because the store was full (`sqlite.disk_cache_size`). */
  storeRefused: number;
  willsPublished: number;
  sessionsExpired: number;
  protocolErrors: number;
  /** Connections closed for silence: keep alive passed, or no CONNECT within 15 s. */
  keepaliveTimeouts: number;
  /** Times a publisher was held because a subscriber's queue was half full. */
  publishersHeld: number;
  /** Times a subscriber held publishers without draining and was marked stalled. */
  stalledSessions: number;
  /** CONNECTs refused by authentication. */
  authFailures: number;
  /** Publishes, subscriptions and wills denied by the ACL. */
  aclDenied: number;
  /** Multi-core: messages forwarded to other workers, and taken from them. */
  peerForwarded: number;
  peerReceived: number;
  /** Multi-core: messages for a share group whose members on this worker all left on the way. */
  droppedNoMember: number;
  /** Bytes read from and written to client connections (the transport counts them). */
  bytesReceived: number;
  bytesSent: number;
  /** Connections accepted by CONNACK, and the most open at once. */
  clientsConnected: number;
  clientsMax: number;
  /** Times each limit refused something (or, max_mqueue_len, see droppedQueueFull). */
  limitHits: Record<LimitName, number>;
}

/** All counters at zero. */
export function createMetrics(): Metrics {
  return {
    connectionsAccepted: 0,
    messagesReceived: 0,
    messagesSent: 0,
    droppedQueueFull: 0,
    droppedTooLarge: 0,
    droppedExpired: 0,
    droppedOffline: 0,
    droppedNotAuthorized: 0,
    storeRefused: 0,
    willsPublished: 0,
    sessionsExpired: 0,
    protocolErrors: 0,
    keepaliveTimeouts: 0,
    publishersHeld: 0,
    stalledSessions: 0,
    authFailures: 0,
    aclDenied: 0,
    peerForwarded: 0,
    peerReceived: 0,
    droppedNoMember: 0,
    bytesReceived: 0,
    bytesSent: 0,
    clientsConnected: 0,
    clientsMax: 0,
    limitHits: Object.fromEntries(LIMIT_NAMES.map((n) => [n, 0])) as Record<LimitName, number>,
  };
}

/** Deliveries dropped, by reason (named as the metrics export them). */
export function dropsByReason(m: Metrics): [string, number][] {
  return [
    ["queue_full", m.droppedQueueFull],
    ["too_large", m.droppedTooLarge],
    ["expired", m.droppedExpired],
    ["offline_qos0", m.droppedOffline],
    ["not_authorized", m.droppedNotAuthorized],
    ["no_share_member", m.droppedNoMember],
  ];
}

/** Deliveries dropped, all reasons. */
export function droppedTotal(m: Metrics): number {
  let n = 0;
  for (const [, v] of dropsByReason(m)) n += v;
  return n;
}
