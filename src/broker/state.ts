/**
 * The broker's state records: connections, sessions, subscriptions, in-flight deliveries, wills and
 * messages. They refer to each other (a session to its connection and back, a message to the
 * session that published it), so they are declared together; what creates and changes them lives
 * in client.ts, session.ts, message.ts and the handlers.
 */
import type { MqttPacket } from "../protocol/codec.ts";
import type { PublishTemplate } from "../protocol/publish_codec.ts";
import type { AclVerdict, EnhancedAuth, Identity } from "./auth_port.ts";

/**
 * An enhanced authentication exchange: at CONNECT, `connected` goes on with the CONNECT (the user
 * and the data for CONNACK) and `refuse` answers CONNACK; for a re-authentication both are null.
 */
export interface AuthExchange {
  method: string;
  ex: EnhancedAuth;
  connected: ((username: string, data: Buffer) => void) | null;
  refuse: ((code: number, reason: string) => void) | null;
}
import type { OutQueue } from "./outbound.ts";
import type { InflightTable } from "./inflight_table.ts";

/** What the transport gives the broker for each connection. */
export interface ClientSink {
  /** Output was queued: flush it at the end of this event-loop turn. */
  wake(): void;
  /** Flush what is queued, then close the connection. */
  close(): void;
  /** Stop reading from this connection (its messages congest a subscriber) ... */
  hold(): void;
  /** ... and start again. */
  release(): void;
  /** True while the socket does not accept more bytes (backpressure). */
  readonly blocked: boolean;
  readonly remoteAddress: string;
  /** On a listener with `use_cn_as_username`: the verified client certificate's CN, which becomes the user name. */
  readonly certUsername?: string | undefined;
  /** A connection from inside the broker (a bridge): no authentication, no access control. */
  readonly trusted?: boolean;
  /** The port of the listener it came through (HTTP authentication's %p). */
  readonly localPort?: number;
  /** Its listener's maximum packet size, when it has one of its own (told in CONNACK). */
  readonly maxPacketSize?: number;
  /** The verified client certificate's CN and subject (HTTP authentication's %C and %d). */
  peerCertificate?(): { cn: string | undefined; subject: string } | undefined;
}

/** Connection lifecycle. */
export const ClientState = { New: 0, Connected: 1, Closed: 2 } as const;
export type ClientState = (typeof ClientState)[keyof typeof ClientState];

/** Control packets waiting to be written: acks packed as numbers (type << 24 | reason << 16 | id), the rest as packets. */
export type CtrlItem = number | MqttPacket;

/** What a CONNECT said, kept on its Client for the connect and connack events (hooks.ts). */
export interface ConnectInfo {
  clientId: string;
  username: string | undefined;
  /** Seconds, as the CONNECT asked. */
  keepalive: number;
}

/** Per-connection state. */
export interface Client {
  readonly id: number;
  readonly sink: ClientSink;
  state: ClientState;
  /** Protocol level: 3, 4 or 5; 0 before CONNECT. */
  version: number;
  session: Session | null;
  ctrl: CtrlItem[];
  /** Keep alive in ms (0 = off) and the multiplier-adjusted deadline. */
  keepaliveMs: number;
  deadline: number;
  /** A packet arrived since the last tick (or the client took bytes the broker could not write before). */
  active: boolean;
  /** Most unacknowledged QoS 1/2 deliveries to this client (its Receive Maximum). */
  sendWindow: number;
  /** Largest packet the client accepts [MQTT-3.1.2-24]. */
  maxPacketSize: number;
  /** Topic aliases the broker may assign toward this client, and those assigned. */
  aliasMaxOut: number;
  aliasOut: Map<string, number> | null;
  /** Topic aliases the client has set toward the broker. */
  aliasIn: Map<number, string> | null;
  /** The MQTT 5 Authentication Method agreed in CONNECT, null for none [MQTT-4.12.0-1]. */
  authMethod: string | null;
  /** An enhanced authentication exchange going on (handle/auth.ts). */
  authx: AuthExchange | null;
  /** Request Problem Information: false suppresses reason strings [MQTT-3.1.2-29]. */
  problemInfo: boolean;
  /** DISCONNECT received (the will is then not sent unless reason 0x04). */
  graceful: boolean;
  username: string | undefined;
  /** Reasons to stop reading this client: congested sessions (flow_control.ts), a pending authentication. */
  holds: number;
  /** Built on first use by access control. */
  identity: Identity | null;
  /** The last topic checked for publishing, its answer, and the auth generation it was checked under. */
  aclTopic: string | null;
  aclAllowed: boolean;
  aclGen: number;
  /** The last topic this connection published that was within the topic limits (limits.ts). */
  topicOk: string | null;
  /** Whether this connection may read messages of a topic (access.ts), under auth generation `readGen`. */
  readAcl: Map<string, boolean> | null;
  readGen: number;
  /** AuthHooks.readClass of this connection's identity, under auth generation `readClassGen`. */
  readClass: number;
  readClassGen: number;
  /** SUBSCRIBE answers that came later (HTTP authentication), taken when the packet is handled again. */
  subAcl: Map<string, AclVerdict> | null;
  subGen: number;
  /** Why the connection ended, for the log. */
  closeReason: string | null;
  /** The reason code it ended with (DISCONNECT either way), -1 while open or when the network dropped it. */
  closeCode: number;
  /** CONNECT's Clean Start (Clean Session) flag, and when CONNACK accepted it (ms): the HTTP API shows them. */
  cleanStart: boolean;
  connectedAt: number;
  /** What its CONNECT said, kept only while the connect events are hooked (hooks.ts). */
  connectInfo: ConnectInfo | null;
}

/** One subscription of a session. */
export interface Subscription {
  session: Session;
  /** The filter without any `$share/{group}/` prefix. */
  filter: string;
  /** Share group name, null for an ordinary subscription. */
  group: string | null;
  qos: number;
  noLocal: boolean;
  /** Retain As Published. */
  rap: boolean;
  /** Retain Handling 0, 1 or 2. */
  rh: number;
  /** `[Subscription Identifier]`, null when none: the form deliveries carry, built once. */
  subIds: readonly number[] | null;
}

/** A QoS 1/2 message sent and not yet completely acknowledged. */
export interface Inflight {
  msg: Message;
  qos: number;
  retain: boolean;
  subIds: readonly number[] | null;
  /** 1: waiting for PUBACK/PUBREC; 2: PUBREL sent, waiting for PUBCOMP. */
  state: 1 | 2;
}

/** The state of one client identifier. */
export interface Session {
  clientId: string;
  /** The connection using the session, null while offline. */
  client: Client | null;
  /** Subscriptions keyed by the filter exactly as subscribed (with any `$share/` prefix). */
  subs: Map<string, Subscription>;
  /** Session Expiry Interval in seconds. */
  expiryInterval: number;
  /** When an offline session ends (ms), 0 while online or when it never expires. */
  expiresAt: number;
  queue: OutQueue<Message>;
  /** Sent QoS 1/2 deliveries by packet identifier, in sending order. */
  inflight: InflightTable<Inflight>;
  nextPid: number;
  /** Packet identifiers of QoS 2 messages received and not yet released. */
  rxQos2: InflightTable<true>;
  will: WillSpec | null;
  /** Journal id of the will's message, 0 when not stored (durable.ts). */
  willSid: number;
  /** Last journal sequence number given to a queued delivery. */
  qseq: number;
  /** When a pending will is published (ms), 0 when none is pending. */
  willAt: number;
  /** Set on resume: unacknowledged deliveries are sent again before anything new [MQTT-4.4.0-1]. */
  resend: boolean;
  /** Publishers held until this session's queue drains (flow_control.ts), null when none. */
  waiters: Client[] | null;
  /** When the session started holding publishers (ms). */
  congestedAt: number;
  /** The session did not drain while holding publishers: it no longer holds anyone until it drains. */
  stalled: boolean;
  /** Who last connected with it (access control on reload), null before that or for the broker's own. */
  owner: Identity | null;
  /**
   * -1 for a client's session. Otherwise the index of another worker of a multi-core broker
   * (peering.ts): its subscriptions are what that worker's clients subscribed to, and what is
   * routed to it is forwarded there.
   */
  peer: number;
}

/** A will as given in CONNECT. */
export interface WillSpec {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  props: Buffer | null;
  /** Message Expiry Interval in seconds, -1 when none. */
  expiry: number;
  /** Will Delay Interval in seconds. */
  delay: number;
  /**
   * Who set it: the will goes out only if they may still publish to its topic then. Null for a
   * will restored after a restart (the store keeps no user names): the check at CONNECT stands.
   */
  by: Identity | null;
}

/** A message on its way through the broker. Shared by every delivery of it; never mutated after routing except for its caches. */
export interface Message {
  topic: string;
  /** `Buffer.byteLength(topic)`, computed once. */
  topicBytes: number;
  payload: Buffer;
  qos: 0 | 1 | 2;
  /** RETAIN as published. */
  retain: boolean;
  /** MQTT 5 properties forwarded unchanged (raw bytes), null when none. */
  props: Buffer | null;
  /** Absolute expiry in ms since the epoch, 0 when the message does not expire. */
  expiresAt: number;
  /** The session that published it (No Local, flow control), null for broker messages. */
  origin: Session | null;
  /**
   * Deliveries route() started with (an upper bound): a message that goes to one subscriber is
   * encoded straight into its output, and only a fan-out pays for building templates.
   */
  fanout: number;
  /** Encoded forms: [v3 QoS 0, v3 QoS>0, v5 QoS 0, v5 QoS>0]. */
  tpl: (PublishTemplate | undefined)[] | null;
  /** True once the payload no longer shares memory with a socket read buffer. */
  owned: boolean;
  /** Journal id: 0 until stored, -1 when the store refused it (durable.ts). */
  sid: number;
  /**
   * The last read answer for this message (access.ts): subscribers of one read class, under auth
   * generation `readGen`, get the same one, so a fan-out asks once.
   */
  readAllowed: boolean;
  readClass: number;
  readGen: number;
}
