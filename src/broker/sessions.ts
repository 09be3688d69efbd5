/** Session lifecycle: open (new, resumed or taken over), detach on disconnect, end on expiry. */
import type { MqttPacket } from "../protocol/codec.ts";
import { RC } from "../protocol/reason_code.ts";
import type { BrokerContext } from "./context.ts";
import { createSession, NEVER_EXPIRES } from "./session.ts";
import { publishWill, scheduleWill } from "./will.ts";
import { publishDisconnected } from "./client_events.ts";
import { release } from "./flow_control.ts";
import { journalEnd, journalSession } from "./durable.ts";
import { type Client, ClientState, type Session } from "./state.ts";

/**
 * Attaches `c` to the session of `clientId`: an existing connection is taken over [MQTT-3.1.4-3],
 * Clean Start discards the old session [MQTT-3.1.2-4]. Returns Session Present.
 */
export function openSession(
  ctx: BrokerContext,
  c: Client,
  clientId: string,
  cleanStart: boolean,
  expiry: number,
): boolean {
  const held = ctx.sessions.get(clientId)?.client;
  if (held) disconnectClient(ctx, held, RC.SESSION_TAKEN_OVER, "Another connection took over the session");
  let s = ctx.sessions.get(clientId);
  if (s !== undefined && cleanStart) {
    endSession(ctx, s, "discarded");
    s = undefined;
  }
  const present = s !== undefined;
  if (s === undefined) {
    s = createSession(clientId, queueBound(ctx, clientId));
    ctx.sessions.set(clientId, s);
  }
  ctx.timed.delete(s);
  s.client = c;
  s.expiresAt = 0;
  s.expiryInterval = expiry;
  s.will = null; // a pending delayed will is not sent when the session is resumed [MQTT-3.1.3-9]
  s.willSid = 0;
  s.willAt = 0;
  s.queue.bound = queueBound(ctx, clientId);
  s.resend = s.inflight.size > 0;
  c.session = s;
  return present;
}

/**
 * Closes `c`: MQTT 5 clients first get DISCONNECT with `code` [MQTT-4.13.1-1], MQTT 3 clients are
 * just disconnected. Detaches it from its session.
 */
export function disconnectClient(
  ctx: BrokerContext,
  c: Client,
  code: number,
  reason?: string,
  serverReference?: string,
): void {
  if (c.state === ClientState.Closed) return;
  c.closeReason ??= reason === undefined ? `reason 0x${code.toString(16)}` : reason;
  if (c.closeCode < 0) c.closeCode = code;
  if (c.version === 5 && c.state === ClientState.Connected) {
    const p: MqttPacket = { cmd: "disconnect", reasonCode: code };
    const props: NonNullable<typeof p.properties> = {};
    if (reason !== undefined && c.problemInfo) props.reasonString = reason;
    if (serverReference !== undefined) props.serverReference = serverReference;
    if (reason !== undefined || serverReference !== undefined) p.properties = props;
    c.ctrl.push(p);
  }
  detachClient(ctx, c);
  c.sink.close();
}

/** The connection is gone: the session goes offline, the will is scheduled unless DISCONNECT said otherwise. */
export function detachClient(ctx: BrokerContext, c: Client): void {
  if (c.state === ClientState.Closed) return;
  _logClose(ctx, c);
  if (c.state === ClientState.Connected) {
    publishDisconnected(ctx, c);
    ctx.hooks.disconnected?.(c, c.closeCode < 0 ? RC.UNSPECIFIED_ERROR : c.closeCode);
  }
  c.state = ClientState.Closed;
  ctx.clients.delete(c);
  const s = c.session;
  if (s === null || s.client !== c) return;
  s.client = null;
  s.queue.dropQos0();
  release(ctx, s); // an offline session holds no publishers
  if (c.graceful) s.will = null; // [MQTT-3.1.2-10]
  else scheduleWill(ctx, s);
  if (s.expiryInterval === 0) {
    endSession(ctx, s, "normal");
    return;
  }
  s.expiresAt = s.expiryInterval === NEVER_EXPIRES ? 0 : ctx.deps.now() + s.expiryInterval * 1000;
  if (s.expiresAt !== 0) ctx.timed.add(s);
  journalSession(ctx, s);
}

/**
 * Ends a session: its subscriptions go, a pending will is published now [MQTT-3.1.3-9]. `reason`
 * is for the session-terminated event: "normal", "expired", "discarded" (a clean start).
 */
export function endSession(ctx: BrokerContext, s: Session, reason: string): void {
  ctx.hooks.sessionTerminated?.(s, reason);
  if (s.willAt !== 0) publishWill(ctx, s);
  for (const sub of s.subs.values()) ctx.tree.remove(sub);
  s.subs.clear();
  s.queue.clear();
  s.inflight.clear();
  s.rxQos2.clear();
  ctx.timed.delete(s);
  if (ctx.sessions.get(s.clientId) === s) ctx.sessions.delete(s.clientId);
  journalEnd(ctx, s);
}

/** Expires offline sessions and publishes delayed wills whose time has come. */
export function tickSessions(ctx: BrokerContext, now: number): void {
  for (const s of ctx.timed) {
    if (s.willAt !== 0 && now >= s.willAt) publishWill(ctx, s);
    if (s.client === null && s.expiresAt !== 0 && now >= s.expiresAt) {
      ctx.metrics.sessionsExpired++;
      endSession(ctx, s, "expired");
      continue;
    }
    if (s.willAt === 0 && (s.client !== null || s.expiresAt === 0)) ctx.timed.delete(s);
  }
}

function _logClose(ctx: BrokerContext, c: Client): void {
  const why = c.closeReason ?? "connection closed by the client";
  if (c.state === ClientState.Connected) ctx.deps.log.info(`Disconnected: ${why}`, c.session?.clientId);
  else ctx.deps.log.debug(`Connection from ${c.sink.remoteAddress} closed before CONNECT completed: ${why}`);
}

/** How many deliveries the session of `clientId` may queue. */
export function queueBound(ctx: BrokerContext, clientId: string): number {
  return ctx.opts.sessionQueueLen.get(clientId) ?? ctx.opts.maxQueueLen;
}
