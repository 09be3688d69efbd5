/**
 * Rebuilds the broker's state from a journal snapshot at start: retained messages, then every
 * persistent session with its subscriptions, queue (in order), in-flight deliveries (sent again
 * with DUP on resume), received QoS 2 identifiers and will. A session whose client was connected
 * when the broker stopped starts its expiry now and has its will scheduled, as after a lost
 * connection.
 */
import { parseSharedFilter } from "../protocol/topic.ts";
import type { BrokerContext } from "./context.ts";
import type { JournalSnapshot, LoadedSession } from "./journal.ts";
import { createMessage } from "./message.ts";
import { createSession, NEVER_EXPIRES } from "./session.ts";
import { queueBound } from "./sessions.ts";
import { scheduleWill } from "./will.ts";
import type { Message, Session } from "./state.ts";

/** Messages of the snapshot as the broker routes them, made on first use. */
class Messages {
  private made = new Map<number, Message>();
  constructor(private readonly snap: JournalSnapshot) {}

  get(id: number): Message | null {
    let m = this.made.get(id);
    if (m !== undefined) return m;
    const s = this.snap.messages.get(id);
    if (s === undefined) return null;
    const buf = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
    m = createMessage(s.topic, buf(s.payload), {
      qos: s.qos,
      retain: s.retain,
      props: s.props === null ? null : buf(s.props),
      expiresAt: s.expiresAt,
    });
    m.owned = true;
    m.sid = id;
    this.made.set(id, m);
    return m;
  }
}

/** Loads `snap` into an empty broker; returns the number of sessions restored. */
export function restoreState(ctx: BrokerContext, snap: JournalSnapshot): number {
  const now = ctx.deps.now();
  const msgs = new Messages(snap);
  for (const r of snap.retained) {
    const m = msgs.get(r.msgId);
    if (m !== null && (m.expiresAt === 0 || m.expiresAt > now)) ctx.retained.set(m);
    else ctx.journal?.deleteRetained(r.topic);
  }
  const wills: Session[] = [];
  for (const ls of snap.sessions) {
    if (ls.expiresAt !== 0 && ls.expiresAt <= now) {
      ctx.journal?.deleteSession(ls.clientId);
      continue;
    }
    const s = _session(ctx, ls, msgs, now);
    if (ls.will !== null && s.will !== null) wills.push(s);
  }
  // after every session is back, so that the wills reach their subscribers
  for (const s of wills) {
    if (s.willAt === 0) scheduleWill(ctx, s);
    else ctx.timed.add(s);
  }
  return snap.sessions.length;
}

function _session(ctx: BrokerContext, ls: LoadedSession, msgs: Messages, now: number): Session {
  const s = createSession(ls.clientId, queueBound(ctx, ls.clientId));
  s.expiryInterval = ls.expiryInterval;
  s.expiresAt = ls.expiresAt !== 0 || ls.expiryInterval === NEVER_EXPIRES
    ? ls.expiresAt
    : now + ls.expiryInterval * 1000;
  if (s.expiresAt !== 0) ctx.timed.add(s);
  ctx.sessions.set(s.clientId, s);
  for (const r of ls.subscriptions) {
    const shared = parseSharedFilter(r.filter);
    if (shared === null) continue;
    const sub = {
      session: s,
      filter: shared === undefined ? r.filter : shared.filter,
      group: shared?.group ?? null,
      qos: r.qos,
      noLocal: r.noLocal,
      rap: r.rap,
      rh: r.rh,
      subIds: r.subId === null ? null : [r.subId],
    };
    s.subs.set(r.filter, sub);
    ctx.tree.add(sub);
  }
  for (const { seq, delivery: d } of ls.queue) {
    const m = msgs.get(d.msgId);
    if (m === null) continue;
    if (s.queue.push(m, d.qos, d.retain, d.subIds.length === 0 ? null : d.subIds)) s.queue.tagLast(seq);
    s.qseq = Math.max(s.qseq, seq);
  }
  for (const f of ls.inflight) {
    const m = msgs.get(f.delivery.msgId);
    if (m === null) continue;
    const subIds = f.delivery.subIds.length === 0 ? null : f.delivery.subIds;
    s.inflight.set(f.packetId, {
      msg: m,
      qos: f.delivery.qos,
      retain: f.delivery.retain,
      subIds,
      state: f.state,
    });
  }
  s.resend = s.inflight.size > 0;
  for (const pid of ls.rxQos2) s.rxQos2.set(pid, true);
  const w = ls.will === null ? null : msgs.get(ls.will.msgId);
  if (w !== null && ls.will !== null) {
    const { delay, expiry, at } = ls.will;
    s.will = {
      topic: w.topic,
      payload: w.payload,
      qos: w.qos,
      retain: w.retain,
      props: w.props,
      expiry,
      delay,
      by: null,
    };
    s.willSid = ls.will.msgId;
    s.willAt = at;
  }
  return s;
}
