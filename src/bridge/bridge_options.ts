/** What one bridge is told to do, already checked by the configuration (the cli maps nanomq.conf to it). */
import { BRIDGE_CLIENT_PREFIX } from "../broker/handle/connect.ts";
import type { ClientTlsOptions } from "../runtime/tls_options.ts";

/** One upstream broker: `mqtt-tcp://host:port` or `tls+mqtt-tcp://host:port`. */
export interface UpstreamServer {
  url: string;
  host: string;
  port: number;
  tls?: ClientTlsOptions;
}

/** How a topic is rewritten: `topic` replaces it unless "", then `prefix` and `suffix` go around. */
export interface TopicRewrite {
  topic: string;
  prefix: string;
  suffix: string;
}

/** `forwards[i]`: local messages matching `filter` go upstream. */
export interface ForwardRule extends TopicRewrite {
  filter: string;
  /** Highest QoS forwarded (a message keeps a lower one). */
  qos: 0 | 1 | 2;
  /** RETAIN upstream: 0 or 1, or 2 for the message's own flag. */
  retain: 0 | 1 | 2;
}

/** `subscription[i]`: upstream messages matching `filter` come into the local broker. */
export interface SubscriptionRule extends TopicRewrite {
  filter: string;
  qos: 0 | 1 | 2;
  /** RETAIN locally: 0 or 1, or 2 for the flag as received. */
  retain: 0 | 1 | 2;
  rap: boolean;
  rh: 0 | 1 | 2;
}

/** Everything one bridge needs. */
export interface BridgeOptions {
  name: string;
  /** `server` first, then `hybrid_servers` (tried in turn when one fails). */
  servers: UpstreamServer[];
  protoVer: 3 | 4 | 5;
  clientId: string;
  keepaliveMs: number;
  backoffMaxMs: number;
  cleanStart: boolean;
  username?: string;
  password?: string;
  /** MQTT 5 CONNECT properties, in mqtt-packet's names. */
  connProps: Record<string, unknown>;
  /** The will, in mqtt-packet's shape; null for none. */
  will: Record<string, unknown> | null;
  forwards: ForwardRule[];
  subscriptions: SubscriptionRule[];
  /** MQTT 5 SUBSCRIBE properties, in mqtt-packet's names. */
  subProps: Record<string, unknown>;
  /** Most forwarded QoS 1/2 messages unacknowledged upstream (upstream's Receive Maximum may lower it). */
  window: number;
  /** Most messages waiting to be forwarded (`bridges.mqtt.cache.disk_cache_size`); more are dropped and counted. */
  cacheSize: number;
}

/** `topic` rewritten by `r`. */
export function rewriteTopic(r: TopicRewrite, topic: string): string {
  return r.prefix + (r.topic === "" ? topic : r.topic) + r.suffix;
}

/** The client identifier of the bridge's own session on its broker. */
export function localClientId(name: string): string {
  return BRIDGE_CLIENT_PREFIX + name;
}
