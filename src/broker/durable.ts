/**
 * Mirrors the broker's durable state into ctx.journal as it changes: persistent sessions (Session
 * Expiry Interval > 0) with their subscriptions, will, queued and in-flight QoS 1/2 deliveries and
 * received QoS 2 identifiers, and every retained message. Each function is a no-op without a
 * journal or for a session that ends with its connection.
 */
import type { BrokerContext } from "./context.ts";
import type { StoredDelivery } from "./journal.ts";
import type { Message, Session, Subscription } from "./state.ts";

/** True when `s` is journaled. */
export function durable(ctx: BrokerContext, s: Session): boolean {
  return ctx.journal !== null && s.expiryInterval > 0;
}

/** The journal id of `msg`, storing it on first use; -1 when the store is full (counted). */
export function storedId(ctx: BrokerContext, msg: Message): number {
  if (msg.sid !== 0) return msg.sid;
  const { topic, payload, qos, retain, props, expiresAt } = msg;
  msg.sid = ctx.journal!.addMessage({ topic, payload, qos, retain, props, expiresAt });
  _full(ctx, msg.sid < 0);
  return msg.sid;
}

/**
 * Counts a message the store refused (`sqlite.disk_cache_size` reached: it stays in memory only,
 * lost on a restart) and logs when the store fills up and when it has room again.
 */
function _full(ctx: BrokerContext, refused: boolean): void {
  if (refused) ctx.metrics.storeRefused++;
  if (refused === ctx.storeFull) return;
  ctx.storeFull = refused;
  if (refused) {
    ctx.deps.log.warn(
      "The store is full (sqlite.disk_cache_size): new messages are kept in memory only and are lost on a restart",
    );
  } else ctx.deps.log.info(`The store has room again; ${ctx.metrics.storeRefused} messages were not stored`);
}

/** Writes the session's own fields and will; a session that is no longer durable is deleted. */
export function journalSession(ctx: BrokerContext, s: Session): void {
  const j = ctx.journal;
  if (j === null) return;
  if (s.expiryInterval === 0) return j.deleteSession(s.clientId);
  const w = s.will;
  let will = null;
  if (w !== null) {
    if (s.willSid === 0) {
      s.willSid = j.addMessage({
        topic: w.topic,
        payload: w.payload,
        qos: w.qos,
        retain: w.retain,
        props: w.props,
        expiresAt: 0,
      });
      _full(ctx, s.willSid < 0);
    }
    if (s.willSid > 0) will = { msgId: s.willSid, at: s.willAt, delay: w.delay, expiry: w.expiry };
  }
  j.putSession({ clientId: s.clientId, expiryInterval: s.expiryInterval, expiresAt: s.expiresAt, will });
}

/** The session ended: everything of it goes. */
export function journalEnd(ctx: BrokerContext, s: Session): void {
  ctx.journal?.deleteSession(s.clientId);
}

export function journalSubscribe(ctx: BrokerContext, key: string, sub: Subscription): void {
  if (!durable(ctx, sub.session)) return;
  const subId = sub.subIds?.[0] ?? null;
  ctx.journal!.putSubscription(sub.session.clientId, {
    filter: key,
    qos: sub.qos,
    noLocal: sub.noLocal,
    rap: sub.rap,
    rh: sub.rh,
    subId,
  });
}

export function journalUnsubscribe(ctx: BrokerContext, s: Session, key: string): void {
  if (durable(ctx, s)) ctx.journal!.deleteSubscription(s.clientId, key);
}

function _delivery(
  msgId: number,
  qos: number,
  retain: boolean,
  subIds: readonly number[] | null,
): StoredDelivery {
  return { msgId, qos, retain, subIds: subIds === null ? [] : [...subIds] };
}

/** A QoS 1/2 delivery was queued for `s`: returns its journal sequence number, 0 when not journaled. */
export function journalQueued(
  ctx: BrokerContext,
  s: Session,
  msg: Message,
  qos: number,
  retain: boolean,
  subIds: readonly number[] | null,
): number {
  if (qos === 0 || !durable(ctx, s)) return 0;
  const id = storedId(ctx, msg);
  if (id < 0) return 0;
  const seq = ++s.qseq;
  ctx.journal!.enqueue(s.clientId, seq, _delivery(id, qos, retain, subIds));
  return seq;
}

/** A delivery left the queue as PUBLISH `pid` (0 for QoS 0): it is in flight now. */
export function journalSent(
  ctx: BrokerContext,
  s: Session,
  seq: number,
  pid: number,
  msg: Message,
  qos: number,
  retain: boolean,
  subIds: readonly number[] | null,
): void {
  // in flight first: dequeuing first would release the message's last reference and delete it
  if (pid !== 0 && durable(ctx, s)) {
    const id = storedId(ctx, msg);
    if (id > 0) ctx.journal!.putInflight(s.clientId, pid, 1, _delivery(id, qos, retain, subIds));
  }
  if (seq !== 0) ctx.journal!.dequeue(s.clientId, seq);
}

/** PUBREC arrived for `pid`: the delivery waits for PUBCOMP now (a restore resends only PUBREL, so RETAIN and subscription ids are not kept). */
export function journalReceived(
  ctx: BrokerContext,
  s: Session,
  pid: number,
  msg: Message,
  qos: number,
): void {
  if (!durable(ctx, s) || msg.sid <= 0) return;
  ctx.journal!.putInflight(s.clientId, pid, 2, _delivery(msg.sid, qos, false, null));
}

/** The delivery `pid` is complete (PUBACK, PUBCOMP, or a refusal). */
export function journalAcked(ctx: BrokerContext, s: Session, pid: number): void {
  if (durable(ctx, s)) ctx.journal!.deleteInflight(s.clientId, pid);
}

/** A QoS 2 message `pid` was received from `s` (added) or released by PUBREL (removed). */
export function journalRxQos2(ctx: BrokerContext, s: Session, pid: number, added: boolean): void {
  if (!durable(ctx, s)) return;
  if (added) ctx.journal!.putRxQos2(s.clientId, pid);
  else ctx.journal!.deleteRxQos2(s.clientId, pid);
}

/**
 * The retained message of a topic was set (msg) or cleared (null). `$SYS/...` is the broker's own
 * state, published again after a start: writing it every `sys_interval` would only wear the flash.
 */
export function journalRetained(ctx: BrokerContext, topic: string, msg: Message | null): void {
  const j = ctx.journal;
  if (j === null || topic.startsWith("$SYS/")) return;
  if (msg === null) return j.deleteRetained(topic);
  const id = storedId(ctx, msg);
  if (id > 0) j.setRetained(topic, id);
}
