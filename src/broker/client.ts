/** A network connection as the broker sees it: no socket, only state and a sink to wake. */
import type { MqttPacket } from "../protocol/codec.ts";
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
  /** A packet arrived since the last tick. */
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
  /** Number of congested sessions holding this client (flow_control.ts). */
  holds: number;
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
