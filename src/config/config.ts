/** The typed configuration, with NanoMQ's key names mapped to ours and NanoMQ's defaults. */

/** A host and port to listen on. */
export interface BindAddress {
  host: string;
  port: number;
}

/** `listeners.ssl { }`: a TLS listener. */
export interface TlsListenerConfig {
  bind: BindAddress;
  /** PEM files; `cacertfile` verifies client certificates. */
  keyfile: string;
  certfile: string;
  cacertfile: string | null;
  /** `key_password`: passphrase of an encrypted key. */
  keyPassword: string | null;
  /** `verify_peer`: ask clients for a certificate (default false). */
  verifyPeer: boolean;
  /** `fail_if_no_peer_cert`: with verify_peer, refuse clients without a valid one (default false). */
  failIfNoPeerCert: boolean;
}

/** The `mqtt { }` section. */
export interface MqttConfig {
  /** `property_size`: most user properties accepted per packet (default 32). */
  propertySize: number;
  /** `max_packet_size` in bytes (default 10 MB). */
  maxPacketSize: number;
  /** `max_mqueue_len`: bound of each session's queue (default 2048). */
  maxMqueueLen: number;
  /** `retry_interval` in ms (default 10 s); MQTT 3.1.1 and 5 resend only on reconnect, so it is not used. */
  retryInterval: number;
  /** `keepalive_multiplier` (default 1.5). */
  keepaliveMultiplier: number;
  /** `max_inflight_window` (default 2048). */
  maxInflightWindow: number;
  /** `max_keepalive` in seconds (default 65535), as Mosquitto's option of that name. */
  maxKeepalive: number;
  /** `max_topic_alias` offered to MQTT 5 clients (default 64). */
  maxTopicAlias: number;
}

/** Everything the broker reads from its configuration file. */
export interface Config {
  /** The file it came from, "(defaults)" when none. */
  source: string;
  listeners: { tcp: BindAddress; ssl: TlsListenerConfig | null };
  mqtt: MqttConfig;
  /** Problems that do not stop the broker (unsupported sections, unknown keys). */
  warnings: string[];
}

/** The configuration when no file is given. */
export function defaultConfig(): Config {
  return {
    source: "(defaults)",
    listeners: { tcp: { host: "0.0.0.0", port: 1883 }, ssl: null },
    mqtt: {
      propertySize: 32,
      maxPacketSize: 10 * 1024 * 1024,
      maxMqueueLen: 2048,
      retryInterval: 10_000,
      keepaliveMultiplier: 1.5,
      maxInflightWindow: 2048,
      maxKeepalive: 65535,
      maxTopicAlias: 64,
    },
    warnings: [],
  };
}
