/** An application message as the broker routes it: decoded once, encoded once per wire format. */
import type { PublishTemplate } from "../protocol/publish_codec.ts";
import type { Session } from "./session.ts";

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
}

/** Options of {@link createMessage}; every field has the default noted. */
export interface MessageInit {
  /** Default 0. */
  qos?: 0 | 1 | 2;
  /** Default false. */
  retain?: boolean;
  /** Default null. */
  props?: Buffer | null;
  /** Default 0 (never expires). */
  expiresAt?: number;
  /** Default null. */
  origin?: Session | null;
  /** `Buffer.byteLength(topic)` when the caller knows it already (default: computed). */
  topicBytes?: number;
}

/** Creates a message; `payload` is not copied (see {@link ownPayload}). */
export function createMessage(topic: string, payload: Buffer, init: MessageInit = {}): Message {
  return {
    topic,
    topicBytes: init.topicBytes ?? Buffer.byteLength(topic),
    payload,
    qos: init.qos ?? 0,
    retain: init.retain ?? false,
    props: init.props ?? null,
    expiresAt: init.expiresAt ?? 0,
    origin: init.origin ?? null,
    fanout: 0,
    tpl: null,
    owned: false,
    sid: 0,
  };
}

/**
 * Copies the payload (and properties) out of the socket read buffer they were decoded from, so that
 * a message that waits in a queue does not pin a whole 64 KB read chunk.
 */
export function ownPayload(msg: Message): void {
  if (msg.owned) return;
  msg.payload = Buffer.from(msg.payload);
  if (msg.props !== null) msg.props = Buffer.from(msg.props);
  msg.owned = true;
}
