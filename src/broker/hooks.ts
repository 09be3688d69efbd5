/**
 * The broker's events for webhooks and the rule engine: a handful of optional methods, each called
 * where the event happens (NanoMQ's and EMQX's event names in brackets). They run inside packet
 * handling, so they must not throw or wait: they copy what they need and queue their work. A
 * method left unset costs one check; the program around the broker sets and clears them at run
 * time (a reload), on the same object.
 */
import type { Client, ConnectInfo, Message, Session } from "./state.ts";

/** The events; every method optional. */
export interface BrokerHooks {
  /** A CONNECT arrived, before authentication [on_client_connect]. */
  connect?(c: Client, info: ConnectInfo): void;
  /** The CONNACK going out; `code` 0 accepts (MQTT 5 numbering) [on_client_connack]. */
  connack?(c: Client, info: ConnectInfo, code: number): void;
  /** The client is connected [on_client_connected]. */
  connected?(c: Client): void;
  /** The connection ended; `code` is its DISCONNECT reason, 0x80 when the network dropped it [on_client_disconnected]. */
  disconnected?(c: Client, code: number): void;
  /** A SUBSCRIBE asks for `filter`, before access control [on_client_subscribe]. */
  subscribe?(c: Client, filter: string, qos: number): void;
  /** An UNSUBSCRIBE names `filter` [on_client_unsubscribe]. */
  unsubscribe?(c: Client, filter: string): void;
  /** The session now has the subscription [on_session_subscribed]. */
  subscribed?(s: Session, filter: string, qos: number): void;
  /** The session no longer has it [on_session_unsubscribed]. */
  unsubscribed?(s: Session, filter: string): void;
  /** The session ended: `reason` "expired", "takenover" or "discarded" (a clean start) [on_session_terminated]. */
  sessionTerminated?(s: Session, reason: string): void;
  /**
   * A client's message was accepted, before it is routed [on_message_publish]. Its payload may
   * share memory with a socket read buffer: copy what outlives the call.
   */
  publish?(msg: Message, from: Client, packetId: number): void;
  /** A message was written to a subscriber [on_message_delivered]. */
  delivered?(to: Client, msg: Message): void;
  /** A subscriber acknowledged a QoS 1 or 2 message (PUBACK, PUBCOMP) [on_message_acked]. */
  acked?(by: Client, msg: Message): void;
}
