/**
 * Hand-written PUBLISH codec: the hot path. mqtt-packet costs ~8x more per PUBLISH and reorders
 * user properties, which the spec forbids [MQTT-3.3.2-18]; here the forwarded MQTT 5 properties stay
 * as raw bytes from decode to encode.
 */
import { MqttError, RC } from "./reason_code.ts";
import type { PacketWriter } from "./packet_writer.ts";
import { isValidTopicName } from "./topic.ts";
import { tooManyUserProperties } from "./properties_codec.ts";
import { isValidUtf8 } from "./utf8.ts";
import { readVarint, varintSize } from "./varint.ts";

/** A decoded PUBLISH. `props` holds the properties forwarded unchanged (MQTT 5 only). */
export interface PublishPacket {
  cmd: "publish";
  topic: string;
  /** Length of `topic` in bytes on the wire. */
  topicBytes: number;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  dup: boolean;
  messageId: number;
  /** Topic Alias from the sender, 0 when absent. */
  topicAlias: number;
  /** Message Expiry Interval in seconds, -1 when absent. */
  expiry: number;
  /** Payload Format Indicator: 1 means the payload must be UTF-8. */
  payloadFormat: number;
  /** From a server only: the first Subscription Identifier, 0 when absent. */
  subId: number;
  props: Buffer | null;
}

const P_PAYLOAD_FORMAT = 0x01;
const P_EXPIRY = 0x02;
const P_CONTENT_TYPE = 0x03;
const P_RESPONSE_TOPIC = 0x08;
const P_CORRELATION = 0x09;
const P_SUBSCRIPTION_ID = 0x0b;
const P_TOPIC_ALIAS = 0x23;
const P_USER_PROPERTY = 0x26;

function malformed(msg: string, rule?: string): MqttError {
  return new MqttError(RC.MALFORMED_PACKET, msg, rule);
}

/**
 * Decodes the PUBLISH occupying `buf[start, end)` (variable header and payload; `flags` is the low
 * nibble of the first byte). Throws MqttError with the reason code for the DISCONNECT. A PUBLISH
 * `fromServer` may carry Subscription Identifiers: the first is kept in `subId`, none in `props`.
 */
export function decodePublish(
  buf: Buffer,
  start: number,
  end: number,
  flags: number,
  v5: boolean,
  fromServer = false,
  last: LastTopic | null = null,
  maxUserProperties = Infinity,
): PublishPacket {
  const qos = (flags >> 1) & 3;
  if (qos === 3) throw malformed("PUBLISH with QoS 3", "[MQTT-3.3.1-4]");
  if (start + 2 > end) throw malformed("PUBLISH too short");
  const tlen = (buf[start]! << 8) | buf[start + 1]!;
  let p = start + 2;
  if (p + tlen > end) throw malformed("PUBLISH topic longer than the packet");
  const topic = last !== null && _sameTopic(last, buf, p, tlen)
    ? last.topic
    : _decodeTopic(buf, p, tlen, last);
  p += tlen;
  let messageId = 0;
  if (qos > 0) {
    if (p + 2 > end) throw malformed("PUBLISH without packet identifier");
    messageId = (buf[p]! << 8) | buf[p + 1]!;
    if (messageId === 0) throw malformed("Packet identifier 0", "[MQTT-2.2.1-3]");
    p += 2;
  }
  const pkt: PublishPacket = {
    cmd: "publish",
    topic,
    topicBytes: tlen,
    payload: buf,
    qos: qos as 0 | 1 | 2,
    retain: (flags & 1) === 1,
    dup: (flags & 8) === 8,
    messageId,
    topicAlias: 0,
    expiry: -1,
    payloadFormat: 0,
    subId: 0,
    props: null,
  };
  if (v5) {
    p = _decodeProperties(buf, p, end, pkt, { mask: 0, fromServer, users: 0, maxUsers: maxUserProperties });
  } else if (tlen === 0) throw new MqttError(RC.TOPIC_NAME_INVALID, "Empty topic", "[MQTT-4.7.3-1]");
  pkt.payload = buf.subarray(p, end);
  return pkt;
}

/**
 * The last topic one connection published, kept by its decoder: publishers nearly always repeat
 * their topic, and bytes equal to ones already checked need neither the check nor a new string
 * (which would also be hashed again by every Map lookup on the topic).
 */
export interface LastTopic {
  /** The topic's bytes in `bytes[0, len)`; `len` is -1 while nothing is kept. */
  bytes: Buffer;
  len: number;
  topic: string;
}

/** Topics longer than this are not kept: the buffer is allocated once per connection. */
const LAST_TOPIC_MAX = 256;

export const newLastTopic = (): LastTopic => ({
  bytes: Buffer.allocUnsafe(LAST_TOPIC_MAX),
  len: -1,
  topic: "",
});

function _sameTopic(last: LastTopic, buf: Buffer, p: number, tlen: number): boolean {
  if (last.len !== tlen) return false;
  const b = last.bytes;
  for (let i = 0; i < tlen; i++) if (b[i] !== buf[p + i]) return false;
  return true;
}

function _decodeTopic(buf: Buffer, p: number, tlen: number, last: LastTopic | null): string {
  let ascii = true;
  for (let i = p; i < p + tlen; i++) {
    const b = buf[i]!;
    if (b === 0x2b || b === 0x23) {
      throw new MqttError(RC.TOPIC_NAME_INVALID, "Wildcard in PUBLISH topic", "[MQTT-3.3.2-2]");
    }
    if (b === 0 || b >= 0x80) ascii = false;
  }
  if (!ascii && !isValidUtf8(buf, p, p + tlen)) throw malformed("Topic is not valid UTF-8", "[MQTT-1.5.4-1]");
  if (tlen === 0) return ""; // not kept: an empty topic means a topic alias (MQTT 5)
  // the scan above proved an ASCII topic, and latin1 decodes ASCII faster than utf8
  const topic = buf.toString(ascii ? "latin1" : "utf8", p, p + tlen);
  if (last !== null && tlen <= LAST_TOPIC_MAX) {
    buf.copy(last.bytes, 0, p, p + tlen);
    last.len = tlen;
    last.topic = topic;
  }
  return topic;
}

function _skipString(buf: Buffer, p: number, end: number): number {
  if (p + 2 > end) throw malformed("Truncated property");
  const n = p + 2 + ((buf[p]! << 8) | buf[p + 1]!);
  if (n > end) throw malformed("Truncated property");
  return n;
}

/** Parses the MQTT 5 PUBLISH properties at `p`; returns where the payload starts. */
function _decodeProperties(
  buf: Buffer,
  p: number,
  end: number,
  pkt: PublishPacket,
  seen: Seen,
): number {
  const packed = readVarint(buf, p, end);
  const len = Math.floor(packed / 8);
  const pstart = p + (packed % 8);
  const pend = pstart + len;
  if (pend > end) throw malformed("Properties longer than the packet");
  let q = pstart;
  // Topic Alias and Message Expiry are consumed here; every other property is forwarded as raw bytes.
  let keepFrom = pstart;
  let kept: Buffer[] | null = null;
  while (q < pend) {
    const id = buf[q]!;
    const next = _property(buf, q + 1, pend, id, pkt, seen);
    if (id === P_EXPIRY || id === P_TOPIC_ALIAS || id === P_SUBSCRIPTION_ID) {
      kept ??= [];
      if (q > keepFrom) kept.push(buf.subarray(keepFrom, q));
      keepFrom = next;
    }
    q = next;
  }
  if (q !== pend) throw malformed("Truncated property");
  if (kept === null) pkt.props = len === 0 ? null : buf.subarray(pstart, pend);
  else {
    if (pend > keepFrom) kept.push(buf.subarray(keepFrom, pend));
    pkt.props = kept.length === 0 ? null : Buffer.concat(kept);
  }
  return pend;
}

/** What the properties of one PUBLISH had so far, and its limit of User Properties. */
interface Seen {
  mask: number;
  fromServer: boolean;
  users: number;
  maxUsers: number;
}

/** Single-occurrence properties, as bits of `seen.mask` [MQTT-2.2.2-2]. */
const ONCE: Record<number, [number, string]> = {
  [P_PAYLOAD_FORMAT]: [1, "Payload Format Indicator"],
  [P_CONTENT_TYPE]: [2, "Content Type"],
  [P_RESPONSE_TOPIC]: [4, "Response Topic"],
  [P_CORRELATION]: [8, "Correlation Data"],
  [P_EXPIRY]: [16, "Message Expiry Interval"],
  [P_TOPIC_ALIAS]: [32, "Topic Alias"],
};

/** Reads the value of property `id` starting at `q`; returns where the next property starts. */
function _property(
  buf: Buffer,
  q: number,
  pend: number,
  id: number,
  pkt: PublishPacket,
  seen: Seen,
): number {
  const once = ONCE[id];
  if (once !== undefined) {
    if (seen.mask & once[0]) {
      throw new MqttError(RC.PROTOCOL_ERROR, `${once[1]} appears twice`, "[MQTT-2.2.2-2]");
    }
    seen.mask |= once[0];
  }
  switch (id) {
    case P_PAYLOAD_FORMAT:
      pkt.payloadFormat = buf[q]!;
      if (pkt.payloadFormat > 1) {
        throw new MqttError(RC.PROTOCOL_ERROR, "Payload Format Indicator must be 0 or 1");
      }
      return q + 1;
    case P_CONTENT_TYPE:
    case P_CORRELATION:
      return _skipString(buf, q, pend);
    case P_USER_PROPERTY:
      if (++seen.users > seen.maxUsers) throw tooManyUserProperties(seen.maxUsers);
      return _skipString(buf, _skipString(buf, q, pend), pend);
    case P_RESPONSE_TOPIC: {
      const next = _skipString(buf, q, pend);
      if (!isValidTopicName(buf.toString("utf8", q + 2, next))) {
        throw new MqttError(RC.PROTOCOL_ERROR, "Response Topic must be a topic name", "[MQTT-3.3.2-14]");
      }
      return next;
    }
    case P_EXPIRY:
      if (q + 4 > pend) throw malformed("Truncated property");
      pkt.expiry = buf.readUInt32BE(q);
      return q + 4;
    case P_TOPIC_ALIAS:
      if (q + 2 > pend) throw malformed("Truncated property");
      pkt.topicAlias = (buf[q]! << 8) | buf[q + 1]!;
      if (pkt.topicAlias === 0) {
        throw new MqttError(RC.TOPIC_ALIAS_INVALID, "Topic Alias 0", "[MQTT-3.3.2-8]");
      }
      return q + 2;
    case P_SUBSCRIPTION_ID: {
      if (!seen.fromServer) {
        throw new MqttError(
          RC.PROTOCOL_ERROR,
          "Subscription Identifier in a client PUBLISH",
          "[MQTT-3.3.4-6]",
        );
      }
      const packed = readVarint(buf, q, pend);
      if (pkt.subId === 0) pkt.subId = Math.floor(packed / 8);
      return q + (packed % 8);
    }
    default:
      throw new MqttError(RC.PROTOCOL_ERROR, `Property 0x${id.toString(16)} is not allowed in PUBLISH`);
  }
}

/** What the broker sends: one delivery of a message to one subscriber. */
export interface PublishOut {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  dup: boolean;
  messageId: number;
  v5: boolean;
  props: Buffer | null;
  /** Remaining Message Expiry Interval in seconds, -1 when none. */
  expiry: number;
  /** Topic Alias to send, 0 for none. With an alias the topic may be "" (alias already known). */
  alias: number;
  subIds: readonly number[] | null;
}

/** A PublishOut with every field at its neutral value (QoS 0, no properties). */
export function emptyPublishOut(): PublishOut {
  return {
    topic: "",
    payload: Buffer.alloc(0),
    qos: 0,
    retain: false,
    dup: false,
    messageId: 0,
    v5: false,
    props: null,
    expiry: -1,
    alias: 0,
    subIds: null,
  };
}

/** Size in bytes of the MQTT 5 property section of `p` (without its length prefix). */
function _propsSize(p: PublishOut): number {
  let n = p.props === null ? 0 : p.props.length;
  if (p.expiry >= 0) n += 5;
  if (p.alias > 0) n += 3;
  if (p.subIds !== null) { for (const id of p.subIds) n += 1 + varintSize(id); }
  return n;
}

function _remaining(p: PublishOut, topicBytes: number, ps: number): number {
  const rem = 2 + topicBytes + (p.qos > 0 ? 2 : 0) + p.payload.length;
  return p.v5 ? rem + varintSize(ps) + ps : rem;
}

/** Size of the whole PUBLISH `p` on the wire. */
export function publishSize(p: PublishOut, topicBytes: number): number {
  const rem = _remaining(p, topicBytes, p.v5 ? _propsSize(p) : 0);
  return 1 + varintSize(rem) + rem;
}

/** Appends the PUBLISH `p` to `w`. `topicBytes` is `Buffer.byteLength(p.topic)`. */
export function writePublish(w: PacketWriter, p: PublishOut, topicBytes: number): void {
  const ps = p.v5 ? _propsSize(p) : 0;
  const rem = _remaining(p, topicBytes, ps);
  w.reserve(5 + rem);
  w.u8(0x30 | (p.dup ? 8 : 0) | (p.qos << 1) | (p.retain ? 1 : 0));
  w.varint(rem);
  w.u16(topicBytes);
  if (topicBytes > 0) w.pos += w.buf.write(p.topic, w.pos, "utf8");
  if (p.qos > 0) w.u16(p.messageId);
  if (p.v5) {
    w.varint(ps);
    if (p.expiry >= 0) {
      w.u8(P_EXPIRY);
      w.u32(p.expiry);
    }
    if (p.alias > 0) {
      w.u8(P_TOPIC_ALIAS);
      w.u16(p.alias);
    }
    if (p.subIds !== null) {
      for (const id of p.subIds) {
        w.u8(P_SUBSCRIPTION_ID);
        w.varint(id);
      }
    }
    if (p.props !== null) w.bytes(p.props);
  }
  w.bytes(p.payload);
}

/**
 * A PUBLISH encoded once for a fan-out: copy `buf`, then patch byte 0 (flags) and, for QoS > 0,
 * the packet identifier at `pidOffset`.
 */
export interface PublishTemplate {
  buf: Buffer;
  pidOffset: number;
}

/** Encodes `p` (alias 0, no subscription identifiers) as a reusable template. */
export function encodePublishTemplate(
  p: PublishOut,
  topicBytes: number,
  scratch: PacketWriter,
): PublishTemplate {
  writePublish(scratch, p, topicBytes);
  const out = scratch.take()!;
  const rem = _remaining(p, topicBytes, p.v5 ? _propsSize(p) : 0);
  return { buf: Buffer.from(out), pidOffset: 1 + varintSize(rem) + 2 + topicBytes };
}

/** Appends a copy of `t` with the given flags and packet identifier. */
export function writeFromTemplate(
  w: PacketWriter,
  t: PublishTemplate,
  flags: number,
  messageId: number,
): void {
  const n = t.buf.length;
  w.reserve(n);
  const at = w.pos;
  w.buf.set(t.buf, at);
  w.buf[at] = 0x30 | flags;
  if (messageId > 0) {
    w.buf[at + t.pidOffset] = messageId >>> 8;
    w.buf[at + t.pidOffset + 1] = messageId & 0xff;
  }
  w.pos = at + n;
}
