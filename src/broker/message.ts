/** Creating application messages, and taking their bytes out of the socket's read buffer. */
import type { Message, Session } from "./state.ts";

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
    readAllowed: false,
    readClass: -1,
    readGen: -1,
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
