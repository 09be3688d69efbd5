/**
 * How `broker sub` prints a message: the payload (Mosquitto's default), topic and payload (-v),
 * or one JSON object a line (--format json) with the MQTT 5 properties and the payload as text
 * when it is UTF-8, else base64.
 */
import type { Properties } from "../protocol/packets.ts";
import { Reader } from "../protocol/properties_codec.ts";
import type { PublishPacket } from "../protocol/publish_codec.ts";
import { isValidUtf8 } from "../protocol/utf8.ts";
import { writeVarint } from "../protocol/varint.ts";

/** The PUBLISH packet type, for the property reader. */
const PUBLISH = 3;

/** One line (newline included) for `m`. */
export function formatMessage(m: PublishPacket, format: "text" | "json", verbose: boolean): string {
  if (format === "json") return `${JSON.stringify(messageJson(m))}\n`;
  const payload = m.payload.toString("utf8");
  return verbose ? `${m.topic} ${payload}\n` : `${payload}\n`;
}

/** `m` as the JSON line shows it. */
export function messageJson(m: PublishPacket): Record<string, unknown> {
  const text = isValidUtf8(m.payload);
  const out: Record<string, unknown> = { topic: m.topic, qos: m.qos, retain: m.retain };
  const props = _properties(m);
  if (Object.keys(props).length > 0) out.properties = props;
  out.payload = m.payload.toString(text ? "utf8" : "base64");
  out.encoding = text ? "utf8" : "base64";
  return out;
}

/** The properties a message arrived with, in NanoMQ's (snake_case) names. */
function _properties(m: PublishPacket): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (m.payloadFormat === 1) out.payload_format_indicator = 1;
  if (m.expiry >= 0) out.message_expiry_interval = m.expiry;
  if (m.subId > 0) out.subscription_identifier = m.subId;
  const p = _decode(m.props);
  if (p === undefined) return out;
  if (p.contentType !== undefined) out.content_type = p.contentType;
  if (p.responseTopic !== undefined) out.response_topic = p.responseTopic;
  if (p.correlationData !== undefined) {
    const c = p.correlationData;
    out.correlation_data = isValidUtf8(c) ? c.toString("utf8") : { base64: c.toString("base64") };
  }
  if (p.userProperties !== undefined) out.user_properties = p.userProperties;
  return out;
}

/** The forwarded property bytes (without their length) decoded. */
function _decode(bytes: Buffer | null): Properties | undefined {
  if (bytes === null || bytes.length === 0) return undefined;
  const framed = Buffer.allocUnsafe(4 + bytes.length);
  const at = writeVarint(framed, 0, bytes.length);
  bytes.copy(framed, at);
  return new Reader(framed, 0, at + bytes.length).props(PUBLISH);
}
