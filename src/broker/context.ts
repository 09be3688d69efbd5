/** Broker options with their defaults, and the state every packet handler works on. */
import type { Client } from "./client.ts";
import type { Journal } from "./journal.ts";
import type { Metrics } from "./metrics.ts";
import type { RetainedStore } from "./retained.ts";
import type { Session } from "./session.ts";
import type { TopicTree } from "./topic_tree.ts";

/** Tunables; the config maps NanoMQ's `mqtt { }` keys onto them. */
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
  sessionQueueLen: new Map(),
};

/** Where the broker logs; the cli supplies one. `clientId` goes on the line when there is one. */
export interface Logger {
  error(msg: string, clientId?: string): void;
  warn(msg: string, clientId?: string): void;
  info(msg: string, clientId?: string): void;
  debug(msg: string, clientId?: string): void;
}

/** Who a connection is, for authentication and access control. */
export interface Identity {
  clientId: string;
  username: string | undefined;
  /** Remote IP address, without port. */
  ip: string;
}

/** The result of an ACL check: allowed or not, and the rule that decided ("" for no_match). */
export interface AclVerdict {
  allow: boolean;
  rule: string;
}

/** Authentication and access control, supplied by src/auth; replaced as a whole on reload. */
export interface AuthHooks {
  /**
   * 0 to accept a CONNECT, else its CONNACK reason code (MQTT 5 numbering); may answer later.
   * `byCertificate`: the user name is a verified client certificate's CN, so no password is needed.
   */
  authenticate(who: Identity, password: Buffer | undefined, byCertificate: boolean): number | Promise<number>;
  /** May `who` publish to the topic / subscribe to the filter? */
  authorize(who: Identity, action: "publish" | "subscribe", topic: string): AclVerdict;
  /** `auth.deny_action`: on a denial, carry on or close the connection with 0x87. */
  readonly denyAction: "ignore" | "disconnect";
}

/** What the broker needs from outside: a clock, a logger, and where to journal durable state. */
export interface BrokerDeps {
  /** Milliseconds since the epoch. */
  now(): number;
  log: Logger;
  /** Default none: nothing outlives the process. */
  journal?: Journal;
}

/** The state shared by the packet handlers. */
export interface BrokerContext {
  opts: BrokerOptions;
  deps: BrokerDeps;
  sessions: Map<string, Session>;
  clients: Set<Client>;
  tree: TopicTree;
  retained: RetainedStore;
  metrics: Metrics;
  /** Sessions (offline or with a pending will) that tick() must look at. */
  timed: Set<Session>;
  /** Sessions holding publishers. */
  congested: Set<Session>;
  /** Null: everyone may connect, publish and subscribe. */
  auth: AuthHooks | null;
  /** Bumped when `auth` changes, to invalidate clients' cached ACL answers. */
  authGen: number;
  /** Where durable state is written (durable.ts), null without persistence. */
  journal: Journal | null;
  /** The journal refused the last message it was given (durable.ts). */
  storeFull: boolean;
}
