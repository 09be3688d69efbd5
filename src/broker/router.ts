/**
 * route(message): match the tree once, pick one member per share group, apply No Local and the
 * QoS downgrade, append to each target's bounded queue and wake its connection.
 */
import type { BrokerContext } from "./context.ts";
import { ownPayload } from "./message.ts";
import { congest, highWater } from "./flow_control.ts";
import { journalQueued, journalRetained } from "./durable.ts";
import { mergeTargets, type SharedGroup, type Target } from "./topic_tree.ts";
import type { Message, Session, Subscription } from "./state.ts";
import { Forward, type Peering, touch } from "./peer_port.ts";

/** Stores or clears the retained copy, then routes. Returns the number of sessions it went to. */
export function publishMessage(ctx: BrokerContext, msg: Message): number {
  if (msg.retain) retain(ctx, msg);
  return route(ctx, msg);
}

/**
 * Stores (or, empty, clears) the retained copy of `msg`. A retained-message limit keeps a client's
 * message from being retained (counted and logged), not from being delivered: EMQX's rule. The
 * broker's own ($SYS, bridge states, the HTTP API's) count against the limits but are never refused.
 */
function retain(ctx: BrokerContext, msg: Message): void {
  if (msg.payload.length === 0) ctx.retained.delete(msg.topic);
  else {
    const o = ctx.opts;
    const over = msg.origin === null
      ? ctx.retained.set(msg)
      : ctx.retained.set(msg, o.maxRetained, o.maxRetainedBytes);
    if (over !== null) {
      ctx.limits.hit(over, `a retained message for ${msg.topic} was delivered but not retained`);
      return;
    }
    ownPayload(msg);
  }
  if (ctx.journal !== null) journalRetained(ctx, msg.topic, msg.payload.length === 0 ? null : msg);
  if (ctx.peering !== null) shareRetained(ctx, ctx.peering, msg);
}

/** Delivers `msg` to every matching subscription. Returns the number of sessions it went to. */
export function route(ctx: BrokerContext, msg: Message): number {
  const m = ctx.tree.match(msg.topic);
  const targets = m.targets;
  // forwarded by another worker: that one has sent it to the other workers and served the share groups
  const forwarded = msg.origin !== null && msg.origin.peer >= 0;
  const groups = forwarded ? NO_GROUPS : m.groups;
  msg.fanout = targets.length + groups.length;
  let n = 0;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i]!;
    if (t.session.peer >= 0) {
      if (forwarded) continue;
      forwardTo(ctx, ctx.peering!, t.session, msg, Forward.Route, "");
      n++;
      continue;
    }
    if (t.noLocal && t.session === msg.origin) {
      n += _routeNoLocal(ctx, t, msg);
      continue;
    }
    deliver(ctx, t.session, msg, t.qos < msg.qos ? t.qos : msg.qos, t.rap && msg.retain, t.subIds);
    n++;
  }
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    const sub = pickMember(g, false)!;
    if (sub.session.peer >= 0) {
      forwardTo(ctx, ctx.peering!, sub.session, msg, Forward.Group, g.key);
      n++;
      continue;
    }
    deliver(ctx, sub.session, msg, Math.min(sub.qos, msg.qos), sub.rap && msg.retain, sub.subIds);
    n++;
  }
  return n;
}

/** The publisher is among the subscribers and some of its matching subscriptions have No Local [MQTT-3.8.3-3]. */
function _routeNoLocal(ctx: BrokerContext, t: Target, msg: Message): number {
  const rest = mergeTargets(t.subs.filter((s) => !s.noLocal));
  const r = rest[0];
  if (r === undefined) return 0;
  deliver(ctx, r.session, msg, Math.min(r.qos, msg.qos), r.rap && msg.retain, r.subIds);
  return 1;
}

const NO_GROUPS: SharedGroup[] = [];

/**
 * Round-robin over the group's members, preferring connected ones [MQTT-4.8.2-3]; `localOnly`
 * skips other workers (a message another worker picked this one for). Undefined when none is left.
 */
export function pickMember(g: SharedGroup, localOnly: boolean): Subscription | undefined {
  const n = g.subs.length;
  let offline = -1;
  for (let k = 0; k < n; k++) {
    const i = (g.next + k) % n;
    const sub = g.subs[i]!;
    if (localOnly && sub.session.peer >= 0) continue;
    if (sub.session.client !== null) {
      g.next = (i + 1) % n;
      return sub;
    }
    if (offline < 0) offline = i;
  }
  if (offline < 0) return undefined;
  g.next = (offline + 1) % n;
  return g.subs[offline];
}

/** Queues one delivery for `s`; QoS 0 is not kept for offline sessions. */
export function deliver(
  ctx: BrokerContext,
  s: Session,
  msg: Message,
  qos: number,
  retain: boolean,
  subIds: readonly number[] | null,
): void {
  const c = s.client;
  if (c === null) {
    if (qos === 0) {
      ctx.metrics.droppedOffline++;
      return;
    }
    ownPayload(msg);
  } else if (c.sink.blocked) ownPayload(msg);
  const q = s.queue;
  const dropped = q.dropped;
  const queued = q.push(msg, qos, retain, subIds);
  ctx.metrics.droppedQueueFull += q.dropped - dropped;
  if (queued && qos > 0 && ctx.journal !== null) q.tagLast(journalQueued(ctx, s, msg, qos, retain, subIds));
  if (c === null || !queued) return;
  c.sink.wake();
  const publisher = msg.origin?.client;
  if (q.length >= highWater(s) && publisher) congest(ctx, s, publisher);
}

/** `msg` was routed to peer session `s`: it goes to its worker, holding the publisher while that one lags. */
function forwardTo(
  ctx: BrokerContext,
  pr: Peering,
  s: Session,
  msg: Message,
  how: number,
  key: string,
): void {
  if (!pr.port.forward(s.peer, msg, how, key)) return;
  ctx.metrics.peerForwarded++;
  if (ctx.journal !== null && msg.qos > 0) touch(pr, s.peer);
  if (!pr.port.congested(s.peer)) return;
  const publisher = msg.origin?.client;
  if (publisher) congest(ctx, s, publisher);
}

/** A stored or cleared retained message goes to every other worker. */
function shareRetained(ctx: BrokerContext, pr: Peering, msg: Message): void {
  for (let p = 0; p < pr.port.count; p++) {
    if (p === pr.port.self) continue;
    if (pr.port.forward(p, msg, Forward.Retained, "") && ctx.journal !== null && msg.qos > 0) touch(pr, p);
  }
}
