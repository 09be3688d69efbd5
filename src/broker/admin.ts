/**
 * What the management API reads of the broker's state and does to it beside the packet path:
 * clients, subscriptions, kicking a client, subscribing on its behalf. Built on
 * demand by walking the state; nothing here costs the packet path anything.
 */
import { isValidTopicFilter, parseSharedFilter } from "../protocol/topic.ts";
import { RC } from "../protocol/reason_code.ts";
import { ipOf } from "./client.ts";
import { protoName } from "./client_events.ts";
import type { BrokerContext } from "./context.ts";
import { disconnectClient } from "./sessions.ts";
import { removeSubscription, sendRetained, setSubscription } from "./handle/subscribe.ts";
import { type Client, ClientState } from "./state.ts";

/** One connected client, as the HTTP API lists it. */
export interface ClientInfo {
  clientId: string;
  username: string | undefined;
  ip: string;
  /** The client's own port, and the broker port it connected to. */
  port: number;
  listenerPort: number;
  protoName: string;
  protoVer: number;
  keepalive: number;
  cleanStart: boolean;
  connectedAt: number;
  subscriptions: number;
  queued: number;
  inflight: number;
  /** The broker's own connection (a bridge's local client). */
  internal: boolean;
}

/** One subscription, as the HTTP API lists it. */
export interface SubscriptionInfo {
  clientId: string;
  /** As subscribed, with any `$share/{group}/` prefix. */
  topic: string;
  qos: number;
  /** Share group name, null for an ordinary subscription. */
  group: string | null;
}

/** One retained message, as the HTTP API lists it. */
export interface RetainedInfo {
  topic: string;
  qos: number;
  payload: Buffer;
  /** When it expires (ms since the epoch), 0 never. */
  expiresAt: number;
}

/** The retained messages matching `filter` (every worker holds them all). */
export function listRetained(ctx: BrokerContext, filter: string): RetainedInfo[] {
  return ctx.retained.match(filter, ctx.deps.now()).map((m) => ({
    topic: m.topic,
    qos: m.qos,
    payload: m.payload,
    expiresAt: m.expiresAt,
  }));
}

/** Every connected client. */
export function listClients(ctx: BrokerContext): ClientInfo[] {
  const out: ClientInfo[] = [];
  for (const c of ctx.clients) {
    if (c.state === ClientState.Connected && c.session !== null) out.push(_info(c));
  }
  return out;
}

function _info(c: Client): ClientInfo {
  const s = c.session!;
  const remote = c.sink.remoteAddress;
  return {
    clientId: s.clientId,
    username: c.username,
    ip: ipOf(remote),
    port: Number(remote.slice(remote.lastIndexOf(":") + 1)) || 0,
    listenerPort: c.sink.localPort ?? 0,
    protoName: protoName(c.version),
    protoVer: c.version,
    keepalive: c.keepaliveMs / 1000,
    cleanStart: c.cleanStart,
    connectedAt: c.connectedAt,
    subscriptions: s.subs.size,
    queued: s.queue.length,
    inflight: s.inflight.size,
    internal: c.sink.trusted === true,
  };
}

/** Every subscription of every client session (online or not); other workers' stand-ins excluded. */
export function listSubscriptions(ctx: BrokerContext): SubscriptionInfo[] {
  const out: SubscriptionInfo[] = [];
  for (const s of ctx.sessions.values()) {
    if (s.peer >= 0) continue;
    for (const [topic, sub] of s.subs) {
      out.push({ clientId: s.clientId, topic, qos: sub.qos, group: sub.group });
    }
  }
  return out;
}

/** Disconnects the client with this id (MQTT 5: DISCONNECT 0x98); false when it is not connected. */
export function kickClient(ctx: BrokerContext, clientId: string): boolean {
  const c = ctx.sessions.get(clientId)?.client;
  if (c === null || c === undefined) return false;
  disconnectClient(ctx, c, RC.ADMINISTRATIVE_ACTION, "Disconnected by the administrator");
  return true;
}

/** Why {@link subscribeFor} did nothing. */
export type AdminRefusal = "no-session" | "bad-filter";

/**
 * Subscribes the session of `clientId` (connected or not) as if it had sent SUBSCRIBE, retained
 * messages included; the client gets no SUBACK (it asked for nothing). Delivery still asks the
 * ACL whether the client may read each message.
 */
export function subscribeFor(
  ctx: BrokerContext,
  clientId: string,
  topic: string,
  qos: 0 | 1 | 2,
): AdminRefusal | null {
  const s = ctx.sessions.get(clientId);
  if (s === undefined || s.peer >= 0) return "no-session";
  const shared = parseSharedFilter(topic); // null: "$share/" without a group and filter
  if (shared === null) return "bad-filter";
  const filter = shared?.filter ?? topic;
  if (!isValidTopicFilter(filter)) return "bad-filter";
  const [sub, isNew] = setSubscription(ctx, s, filter, shared?.group ?? null, { topic, qos }, 0);
  if (s.client !== null) sendRetained(ctx, sub, isNew);
  return null;
}

/** Removes a subscription of `clientId`; false when it had none with this filter. */
export function unsubscribeFor(ctx: BrokerContext, clientId: string, topic: string): boolean {
  const s = ctx.sessions.get(clientId);
  return s !== undefined && s.peer < 0 && removeSubscription(ctx, s, topic);
}
