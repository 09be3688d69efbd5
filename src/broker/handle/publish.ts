/** PUBLISH from a client: topic alias, QoS 2 duplicate suppression, retain, route, acknowledge. */
import type { PublishPacket } from "../../protocol/publish_codec.ts";
import { MqttError, RC } from "../../protocol/reason_code.ts";
import { isValidUtf8 } from "../../protocol/utf8.ts";
import { ackItem, refusalAck, sendCtrl } from "../client.ts";
import type { BrokerContext } from "../context.ts";
import { createMessage } from "../message.ts";
import { publishMessage } from "../router.ts";
import { topicLimitText, topicOverLimit } from "../limits.ts";
import type { LimitName } from "../metrics.ts";
import { mayPublish } from "../access.ts";
import { disconnectClient } from "../sessions.ts";
import { journalRxQos2 } from "../durable.ts";
import { sendAck, startAck } from "../peering.ts";
import type { Client } from "../state.ts";

const PUBACK = 4;
const PUBREC = 5;

/** Handles an inbound PUBLISH. Throws MqttError for a protocol violation. */
export function handlePublish(ctx: BrokerContext, c: Client, p: PublishPacket): void {
  const s = c.session!;
  const v5 = c.version === 5;
  const topic = v5 ? _resolveAlias(ctx, c, p) : p.topic;
  const qos = p.qos;
  if (qos === 2) {
    if (s.rxQos2.has(p.messageId)) {
      sendCtrl(c, ackItem(PUBREC, p.messageId)); // already received: not routed again [MQTT-4.3.3-10]
      return;
    }
    if (s.rxQos2.size >= ctx.opts.maxInflight) {
      throw new MqttError(
        RC.RECEIVE_MAXIMUM_EXCEEDED,
        "More QoS 2 messages in flight than Receive Maximum",
        "[MQTT-3.3.4-9]",
      );
    }
  }
  if (topic !== c.topicOk) {
    const over = topicOverLimit(ctx.opts, topic, topic === p.topic ? p.topicBytes : Buffer.byteLength(topic));
    if (over !== null) return _overLimit(ctx, c, p, over);
    c.topicOk = topic;
  }
  if (ctx.auth !== null && !mayPublish(ctx, c, topic)) return _denied(ctx, c, p);
  if (p.payloadFormat === 1 && !isValidUtf8(p.payload)) {
    if (qos === 0) {
      throw new MqttError(RC.PAYLOAD_FORMAT_INVALID, "Payload is not UTF-8 as its format indicator says");
    }
    const why = "The payload is not UTF-8 as its Payload Format Indicator says";
    sendCtrl(c, refusalAck(c, qos, p.messageId, RC.PAYLOAD_FORMAT_INVALID, why));
    return;
  }
  const expiresAt = p.expiry >= 0 ? ctx.deps.now() + p.expiry * 1000 : 0;
  const msg = createMessage(topic, p.payload, {
    qos,
    retain: p.retain,
    props: p.props,
    expiresAt,
    origin: s,
    topicBytes: topic === p.topic ? p.topicBytes : Buffer.byteLength(topic),
  });
  ctx.metrics.messagesReceived++;
  ctx.hooks.publish?.(msg, c, p.messageId);
  startAck(ctx);
  // a retained-message limit keeps it from being retained, not from being delivered (counted, logged)
  const n = publishMessage(ctx, msg);
  if (qos === 0) return;
  if (qos === 2) {
    s.rxQos2.set(p.messageId, true);
    journalRxQos2(ctx, s, p.messageId, true);
  }
  sendAck(
    ctx,
    c,
    ackItem(qos === 1 ? PUBACK : PUBREC, p.messageId, v5 && n === 0 ? RC.NO_MATCHING_SUBSCRIBERS : 0),
  );
}

/**
 * The topic exceeds mqtt.max_topic_levels or max_topic_length: an MQTT 5 publisher at QoS 1 or 2 is
 * told in the acknowledgement (0x90, Topic Name invalid); the others, which cannot be told, are
 * disconnected rather than have their message dropped unseen.
 */
function _overLimit(ctx: BrokerContext, c: Client, p: PublishPacket, over: LimitName): void {
  const why = topicLimitText(ctx.opts, over);
  ctx.limits.hit(over, `a PUBLISH was refused: ${why}`, c.session!.clientId);
  if (c.version !== 5 || p.qos === 0) return disconnectClient(ctx, c, RC.TOPIC_NAME_INVALID, why);
  sendCtrl(c, refusalAck(c, p.qos, p.messageId, RC.TOPIC_NAME_INVALID, why));
}

/**
 * The ACL denied the publish: MQTT 5 learns it from the acknowledgement (0x87); MQTT 3 has no way
 * to be told, so its message is acknowledged and dropped. `deny_action = disconnect` closes instead.
 */
function _denied(ctx: BrokerContext, c: Client, p: PublishPacket): void {
  if (ctx.auth!.denyAction === "disconnect") {
    disconnectClient(ctx, c, RC.NOT_AUTHORIZED, `Not authorized to publish to this topic`);
    return;
  }
  if (p.qos === 0) return;
  const v5 = c.version === 5;
  if (p.qos === 2 && !v5) {
    c.session!.rxQos2.set(p.messageId, true); // its PUBREL completes the flow
    journalRxQos2(ctx, c.session!, p.messageId, true);
  }
  sendCtrl(
    c,
    refusalAck(c, p.qos, p.messageId, RC.NOT_AUTHORIZED, `Not authorized to publish to ${p.topic}`),
  );
}

/** Applies and records Topic Aliases [MQTT-3.3.2-7] .. [MQTT-3.3.2-12]. */
function _resolveAlias(ctx: BrokerContext, c: Client, p: PublishPacket): string {
  const alias = p.topicAlias;
  if (alias === 0) {
    if (p.topic === "") {
      throw new MqttError(RC.PROTOCOL_ERROR, "Empty topic without a Topic Alias", "[MQTT-3.3.2-8]");
    }
    return p.topic;
  }
  if (alias > ctx.opts.topicAliasMaximum) {
    throw new MqttError(RC.TOPIC_ALIAS_INVALID, `Topic Alias ${alias} exceeds the maximum`, "[MQTT-3.3.2-9]");
  }
  if (p.topic !== "") {
    (c.aliasIn ??= new Map()).set(alias, p.topic);
    return p.topic;
  }
  const known = c.aliasIn?.get(alias);
  if (known === undefined) {
    throw new MqttError(RC.PROTOCOL_ERROR, `Topic Alias ${alias} was never set`, "[MQTT-3.3.2-12]");
  }
  return known;
}
