/** SUBSCRIBE and UNSUBSCRIBE: validate, add/replace/remove, acknowledge, send retained messages. */
import { journalSubscribe, journalUnsubscribe } from "../durable.ts";
import type { ISubscribePacket, IUnsubscribePacket, MqttPacket } from "../../protocol/codec.ts";
import { MqttError, RC } from "../../protocol/reason_code.ts";
import { isValidTopicFilter, parseSharedFilter } from "../../protocol/topic.ts";
import { isCleanString } from "../../protocol/utf8.ts";
import { sendCtrl } from "../client.ts";
import { topicLimitText, topicOverLimit } from "../limits.ts";
import type { BrokerContext } from "../context.ts";
import { deliver } from "../router.ts";
import { askSubscribe, doneSubscribe, maySubscribe } from "../access.ts";
import { disconnectClient } from "../sessions.ts";
import { sendAck, startAck } from "../peering.ts";
import type { Client, Session, Subscription } from "../state.ts";

type Raw = { raw?: Buffer };
type SubscriptionIn = ISubscribePacket["subscriptions"][number];

/** Handles SUBSCRIBE. Throws MqttError for a protocol violation. */
export function handleSubscribe(ctx: BrokerContext, c: Client, p: ISubscribePacket & Raw): void {
  if (ctx.auth !== null) {
    askSubscribe(ctx, c, p.subscriptions.map((r) => parseSharedFilter(r.topic)?.filter ?? r.topic));
  }
  let added: [Subscription, boolean][] | null;
  try {
    added = _subscribeAll(ctx, c, p);
  } finally {
    doneSubscribe(c);
  }
  if (added === null) return; // closed: deny_action = disconnect
  for (const [sub, isNew] of added) sendRetained(ctx, sub, isNew);
}

/** The retained messages a new (or renewed) subscription gets. */
export function sendRetained(ctx: BrokerContext, sub: Subscription, isNew: boolean): void {
  // Retain Handling 0: always, 1: only for a new subscription, 2: never; never to shared ones [MQTT-3.3.1-9..11]
  if (sub.group !== null || sub.rh === 2 || (sub.rh === 1 && !isNew)) return;
  for (const m of ctx.retained.match(sub.filter, ctx.deps.now())) {
    deliver(ctx, sub.session, m, Math.min(m.qos, sub.qos), true, sub.subIds);
  }
}

/** Applies every filter and answers SUBACK; returns what was added, or null when the client was closed. */
function _subscribeAll(
  ctx: BrokerContext,
  c: Client,
  p: ISubscribePacket & Raw,
): [Subscription, boolean][] | null {
  const v5 = c.version === 5;
  const subId = v5 ? _subscriptionId(p) : 0;
  const raw = p.raw ?? Buffer.alloc(0);
  const granted: number[] = [];
  const added: [Subscription, boolean][] = [];
  startAck(ctx);
  for (const req of p.subscriptions) {
    if (!isCleanString(req.topic, raw)) {
      throw new MqttError(RC.MALFORMED_PACKET, "Topic filter is not valid UTF-8", "[MQTT-1.5.4-1]");
    }
    const sub = _subscribeOne(ctx, c, req, subId, v5);
    if (sub === DENIED && ctx.auth!.denyAction === "disconnect") {
      disconnectClient(ctx, c, RC.NOT_AUTHORIZED, `Not authorized to subscribe to ${req.topic}`);
      return null;
    }
    if (sub === DENIED) granted.push(v5 ? RC.NOT_AUTHORIZED : 0x80);
    else if (typeof sub === "number") granted.push(sub);
    else {
      granted.push(sub[0].qos);
      added.push(sub);
    }
  }
  const ack: MqttPacket = { cmd: "suback", messageId: p.messageId ?? 0, granted };
  if (v5 && c.problemInfo && granted.some((g) => g >= 0x80)) {
    ack.properties = { reasonString: _refusals(p, granted) };
  }
  sendAck(ctx, c, ack);
  return added;
}

const REFUSAL_TEXT: Record<number, string> = {
  [RC.NOT_AUTHORIZED]: "not authorized",
  [RC.TOPIC_FILTER_INVALID]: "not a valid filter or over the topic limits",
  [RC.QUOTA_EXCEEDED]: "over mqtt.max_subscriptions",
  [RC.SHARED_SUBSCRIPTIONS_NOT_SUPPORTED]: "shared subscriptions are not supported here",
};

/** The SUBACK's Reason String: each refused filter and why. */
function _refusals(p: ISubscribePacket, granted: number[]): string {
  const parts: string[] = [];
  granted.forEach((g, i) => {
    if (g >= 0x80) parts.push(`${p.subscriptions[i]!.topic}: ${REFUSAL_TEXT[g] ?? `0x${g.toString(16)}`}`);
  });
  return `Refused ${parts.join("; ")}`;
}

function _subscriptionId(p: ISubscribePacket): number {
  const id = p.properties?.subscriptionIdentifier as number | number[] | undefined;
  if (id === undefined) return 0;
  if (typeof id !== "number" || id === 0) {
    throw new MqttError(
      RC.PROTOCOL_ERROR,
      "Subscription Identifier must be one number from 1",
      "[MQTT-3.8.2-1]",
    );
  }
  return id;
}

/** {@link _subscribeOne}'s answer when the ACL refuses the filter. */
const DENIED = -1;

/** Returns the failure reason code (or DENIED), or the subscription and whether it is new. */
function _subscribeOne(
  ctx: BrokerContext,
  c: Client,
  req: SubscriptionIn,
  subId: number,
  v5: boolean,
): number | [Subscription, boolean] {
  const fail = v5 ? RC.TOPIC_FILTER_INVALID : 0x80;
  const shared = parseSharedFilter(req.topic);
  if (shared === null) return fail;
  if (shared !== undefined && req.nl === true) {
    throw new MqttError(RC.PROTOCOL_ERROR, "No Local on a shared subscription", "[MQTT-3.8.3-4]");
  }
  const filter = shared === undefined ? req.topic : shared.filter;
  if (!isValidTopicFilter(filter)) return fail;
  const over = _overLimit(ctx, c, req.topic, filter);
  if (over >= 0) return v5 ? over : 0x80;
  ctx.hooks.subscribe?.(c, req.topic, req.qos);
  if (ctx.auth !== null && !maySubscribe(ctx, c, filter)) return DENIED;
  const opts = v5 ? req : { topic: req.topic, qos: req.qos };
  return setSubscription(ctx, c.session!, filter, shared?.group ?? null, opts, subId);
}

/**
 * The reason code (MQTT 5) refusing a filter over mqtt.max_topic_levels or max_topic_length
 * (Topic Filter invalid), or one subscription too many (mqtt.max_subscriptions: Quota exceeded);
 * -1 when within the limits. A bridge's own session has no subscription limit.
 */
function _overLimit(ctx: BrokerContext, c: Client, topic: string, filter: string): number {
  const o = ctx.opts;
  const s = c.session!;
  const over = topicOverLimit(o, filter, Buffer.byteLength(filter));
  if (over !== null) {
    ctx.limits.hit(over, `a subscription was refused: ${topicLimitText(o, over)}`, s.clientId);
    return RC.TOPIC_FILTER_INVALID;
  }
  if (s.subs.size < o.maxSubscriptions || s.subs.has(topic) || c.sink.trusted === true) return -1;
  ctx.limits.hit(
    "max_subscriptions",
    `a session has ${o.maxSubscriptions} subscriptions and asked for more`,
    s.clientId,
  );
  return RC.QUOTA_EXCEEDED;
}

/**
 * Adds the subscription to `s`, or updates the one with an identical filter, which it replaces
 * [MQTT-3.8.4-3]: the same record, updated. Returns it and whether it is new.
 */
export function setSubscription(
  ctx: BrokerContext,
  s: Session,
  filter: string,
  group: string | null,
  req: SubscriptionIn,
  subId: number,
): [Subscription, boolean] {
  const old = s.subs.get(req.topic);
  const sub: Subscription = old ?? {
    session: s,
    filter,
    group,
    qos: 0,
    noLocal: false,
    rap: false,
    rh: 0,
    subIds: null,
  };
  sub.qos = req.qos;
  sub.noLocal = req.nl === true;
  sub.rap = req.rap === true;
  sub.rh = req.rh ?? 0;
  sub.subIds = subId > 0 ? [subId] : null;
  s.subs.set(req.topic, sub);
  if (old === undefined) ctx.tree.add(sub);
  else ctx.tree.changed();
  journalSubscribe(ctx, req.topic, sub);
  ctx.hooks.subscribed?.(s, req.topic, req.qos);
  return [sub, old === undefined];
}

/** Handles UNSUBSCRIBE; MQTT 5 gets a reason code per filter. */
export function handleUnsubscribe(ctx: BrokerContext, c: Client, p: IUnsubscribePacket & Raw): void {
  const s = c.session!;
  const raw = p.raw ?? Buffer.alloc(0);
  const codes: number[] = [];
  for (const filter of p.unsubscriptions) {
    if (!isCleanString(filter, raw)) {
      throw new MqttError(RC.MALFORMED_PACKET, "Topic filter is not valid UTF-8", "[MQTT-1.5.4-1]");
    }
    ctx.hooks.unsubscribe?.(c, filter);
    codes.push(removeSubscription(ctx, s, filter) ? RC.SUCCESS : RC.NO_SUBSCRIPTION_EXISTED);
  }
  const ack: MqttPacket = { cmd: "unsuback", messageId: p.messageId ?? 0, granted: codes };
  sendCtrl(c, ack);
}

/** Removes the subscription of `s` with this filter (as subscribed); false when there was none. */
export function removeSubscription(ctx: BrokerContext, s: Session, filter: string): boolean {
  const sub = s.subs.get(filter);
  if (sub === undefined) return false;
  ctx.tree.remove(sub);
  s.subs.delete(filter);
  journalUnsubscribe(ctx, s, filter);
  ctx.hooks.unsubscribed?.(s, filter);
  return true;
}
