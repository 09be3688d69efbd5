/** Will messages: published on an abnormal end of the connection, after the Will Delay Interval. */
import { willMayGo } from "./access.ts";
import type { BrokerContext } from "./context.ts";
import { createMessage } from "./message.ts";
import { publishMessage } from "./router.ts";
import { journalSession } from "./durable.ts";
import type { Session, WillSpec } from "./state.ts";

/** The connection ended without a normal DISCONNECT: publish the will now or when its delay passes. */
export function scheduleWill(ctx: BrokerContext, s: Session): void {
  if (s.will === null) return;
  if (s.will.delay === 0) {
    publishWill(ctx, s);
    return;
  }
  s.willAt = ctx.deps.now() + s.will.delay * 1000;
  ctx.timed.add(s);
  journalSession(ctx, s);
}

/** Publishes (when the ACL still lets its author) and forgets the session's will [MQTT-3.1.2-8]. */
export function publishWill(ctx: BrokerContext, s: Session): void {
  const w = s.will;
  s.will = null;
  s.willSid = 0;
  s.willAt = 0;
  if (w === null) return;
  const ok = willMayGo(ctx, s.clientId, w);
  if (ok === true) _publish(ctx, s, w);
  else if (ok !== false) void ok.then((allowed) => allowed && _publish(ctx, s, w));
  if (ctx.sessions.get(s.clientId) === s) journalSession(ctx, s); // the will is gone
}

function _publish(ctx: BrokerContext, s: Session, w: WillSpec): void {
  const expiresAt = w.expiry >= 0 ? ctx.deps.now() + w.expiry * 1000 : 0;
  const msg = createMessage(w.topic, w.payload, {
    qos: w.qos,
    retain: w.retain,
    props: w.props,
    expiresAt,
    origin: s,
  });
  msg.owned = true;
  ctx.metrics.willsPublished++;
  publishMessage(ctx, msg);
}
