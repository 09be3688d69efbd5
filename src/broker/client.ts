/** A network connection as the broker sees it: no socket, only state and a sink to wake. */
import type { MqttPacket } from "../protocol/codec.ts";
import type { Identity } from "./context.ts";
import type { Session } from "./session.ts";

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
}

/** Connection lifecycle. */
export const ClientState = { New: 0, Connected: 1, Closed: 2 } as const;
export type ClientState = (typeof ClientState)[keyof typeof ClientState];

/** Control packets waiting to be written: acks packed as numbers (type << 24 | reason << 16 | id), the rest as packets. */
export type CtrlItem = number | MqttPacket;

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
  /** Why the connection ended, for the log. */
  closeReason: string | null;
}

/** Creates the state for a new connection. */
export function createClient(id: number, sink: ClientSink): Client {
  return {
    id,
    sink,
    state: ClientState.New,
    version: 0,
    session: null,
    ctrl: [],
    keepaliveMs: 0,
    deadline: 0,
    active: true,
    sendWindow: 65535,
    maxPacketSize: 268435460,
    aliasMaxOut: 0,
    aliasOut: null,
    aliasIn: null,
    problemInfo: true,
    graceful: false,
    username: undefined,
    holds: 0,
    identity: null,
    aclTopic: null,
    aclAllowed: false,
    aclGen: 0,
    closeReason: null,
  };
}

/** Queues a control packet and wakes the transport. */
export function sendCtrl(c: Client, item: CtrlItem): void {
  c.ctrl.push(item);
  c.sink.wake();
}

/** Packs an acknowledgement for {@link sendCtrl}: `type` 4..7, 13 for PINGRESP. */
export function ackItem(type: number, messageId: number, reasonCode = 0): number {
  return (type << 24) | (reasonCode << 16) | messageId;
}

/** The IP address of "ip:port" / "[v6]:port" / "::ffff:v4:port", without the port. */
export function ipOf(remote: string): string {
  const ip = remote.startsWith("[")
    ? remote.slice(1, remote.indexOf("]"))
    : remote.slice(0, remote.lastIndexOf(":"));
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

/** The identity access control sees for a connected client. */
export function identityOf(c: Client): Identity {
  return (c.identity ??= {
    clientId: c.session?.clientId ?? "",
    username: c.username,
    ip: ipOf(c.sink.remoteAddress),
  });
}
