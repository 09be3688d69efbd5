/** The broker's tunables and their defaults. */

/** Tunables; the cli maps NanoMQ's `mqtt { }` keys onto them. */
export interface BrokerOptions {
  /** Largest packet accepted and advertised as Maximum Packet Size, bytes (`mqtt.max_packet_size`, default 10 MB). */
  maxPacketSize: number;
  /** Bound of each session's queue (`mqtt.max_mqueue_len`, default 2048). */
  maxQueueLen: number;
  /** Most unacknowledged QoS 1/2 messages per direction (`mqtt.max_inflight_window`, default 2048, at most 65535). */
  maxInflight: number;
  /** Keep alive is enforced at this multiple of the client's interval (`mqtt.keepalive_multiplier`, default 1.5). */
  keepaliveMultiplier: number;
  /** Largest keep alive granted; MQTT 5 clients are told via Server Keep Alive (`mqtt.max_keepalive`, default 65535). */
  maxKeepalive: number;
  /** Topic Alias Maximum offered to MQTT 5 clients (`mqtt.max_topic_alias`, default 64). */
  topicAliasMaximum: number;
  /**
   * Sessions (connected or not) the broker keeps, each of N workers 1/N of them; a CONNECT that needs
   * one more is refused with 0x97 (`mqtt.max_sessions`).
   */
  maxSessions: number;
  /** Subscriptions per session; each one over is refused in SUBACK with 0x97 (`mqtt.max_subscriptions`). */
  maxSubscriptions: number;
  /** Levels of a topic name or filter (`mqtt.max_topic_levels`). */
  maxTopicLevels: number;
  /** Bytes of a topic name or filter (`mqtt.max_topic_length`). */
  maxTopicLength: number;
  /** Retained messages kept; more are delivered but not retained (`mqtt.max_retained_messages`). */
  maxRetained: number;
  /** Bytes (topics and payloads) of the retained messages kept (`mqtt.max_retained_bytes`). */
  maxRetainedBytes: number;
  /** User Properties in one packet; a packet with more closes its connection with 0x97 (`mqtt.property_size`). */
  maxUserProperties: number;
  /**
   * Response Information for clients that ask for it in CONNECT, `%c` and `%u` filled in with the
   * client identifier and user name; "" sends none (`mqtt.response_information`).
   */
  responseInformation: string;
  /**
   * Another broker to send clients to: MQTT 5 clients get CONNACK (and, when it is set by a reload,
   * DISCONNECT) 0x9C Use another server, or 0x9D Server moved when `serverMoved`, with this as
   * Server Reference; MQTT 3 clients are refused as "server unavailable". "" for none
   * (`mqtt.server_reference`, `mqtt.server_moved`).
   */
  serverReference: string;
  serverMoved: boolean;
  /** Queue bounds of particular sessions, by client id, instead of maxQueueLen (a bridge's cache). */
  sessionQueueLen: ReadonlyMap<string, number>;
}

/** The defaults of {@link BrokerOptions}. */
export const DEFAULT_BROKER_OPTIONS: Readonly<BrokerOptions> = {
  maxPacketSize: 10 * 1024 * 1024,
  maxQueueLen: 2048,
  maxInflight: 2048,
  keepaliveMultiplier: 1.5,
  maxKeepalive: 65535,
  topicAliasMaximum: 64,
  maxSessions: 100_000,
  maxSubscriptions: 10_000,
  maxTopicLevels: 128,
  maxTopicLength: 4096,
  maxRetained: 100_000,
  maxRetainedBytes: 128 * 1024 * 1024,
  maxUserProperties: 32,
  responseInformation: "",
  serverReference: "",
  serverMoved: false,
  sessionQueueLen: new Map(),
};
