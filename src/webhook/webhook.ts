/**
 * NanoMQ's `webhook { }`: each configured event becomes a JSON POST to `url`. The bodies of
 * on_client_connack, on_client_disconnected and on_message_publish are NanoMQ's; the events NanoMQ
 * parses but does not send take the bodies of EMQX 4's web hook, whose names NanoMQ's follow.
 * A missing user name is "undefined", as in both. A topic on an event filters the message events.
 */
import type { BrokerHooks } from "../broker/hooks.ts";
import type { Client, Message, Session } from "../broker/state.ts";
import { topicMatches } from "../protocol/topic.ts";
import type { HttpDelivery } from "./http_delivery.ts";

/** What a webhook is told to send. */
export interface WebhookOptions {
  /** Per event, the topic filters of its entries (null: every topic). */
  events: ReadonlyMap<string, readonly (string | null)[]>;
  encoding: "plain" | "base64" | "base62";
  now(): number;
}

type Body = Record<string, unknown>;

const NONE = "undefined";

/** The broker hooks that post `o.events` through `delivery`. */
export function webhookHooks(o: WebhookOptions, delivery: HttpDelivery): BrokerHooks {
  const on = (event: string) => o.events.has(event);
  const post = (body: () => Body): void => {
    if (delivery.full) delivery.countDropped(); // not even built: a flood costs no JSON
    else delivery.post(JSON.stringify(body()));
  };
  // events on every topic need no matching
  const every = new Set([...o.events].filter(([, fs]) => fs.includes(null)).map(([e]) => e));
  const forTopic = (event: string, topic: string): boolean =>
    every.has(event) || o.events.get(event)?.some((f) => f !== null && topicMatches(f, topic)) === true;
  const h: BrokerHooks = {};
  if (on("on_client_connect")) {
    h.connect = (c, i) =>
      post(() => ({ action: "client_connect", ..._who(i.clientId, i.username), ..._conn(c, i.keepalive) }));
  }
  if (on("on_client_connack")) {
    h.connack = (c, i, code) =>
      post(() => ({
        proto_ver: c.version,
        keepalive: i.keepalive,
        conn_ack: code === 0 ? "success" : "fail",
        ..._who(i.clientId, i.username),
        action: "client_connack",
      }));
  }
  if (on("on_client_connected")) {
    h.connected = (c) =>
      post(() => ({
        action: "client_connected",
        ..._who(c.session!.clientId, c.username),
        ..._conn(c, c.keepaliveMs / 1000),
        connected_at: c.connectedAt,
      }));
  }
  if (on("on_client_disconnected")) {
    h.disconnected = (c, code) =>
      post(() => ({
        reason: code === 0 ? "normal" : "abnormal",
        ..._who(c.session?.clientId ?? "", c.username),
        action: "client_disconnected",
      }));
  }
  _subscriptionHooks(h, on, post);
  _messageHooks(h, o, [forTopic, post, delivery]);
  return h;
}

function _who(clientId: string, username: string | undefined): Body {
  return { clientid: clientId, username: username ?? NONE };
}

function _conn(c: Client, keepalive: number): Body {
  const a = c.sink.remoteAddress;
  return { ipaddress: a.slice(0, a.lastIndexOf(":")), keepalive, proto_ver: c.version };
}

function _subscriptionHooks(h: BrokerHooks, on: (e: string) => boolean, post: (b: () => Body) => void): void {
  const sess = (s: Session) => _who(s.clientId, s.owner?.username ?? s.client?.username);
  if (on("on_client_subscribe")) {
    h.subscribe = (c, topic, qos) =>
      post(() => ({
        action: "client_subscribe",
        ..._who(c.session!.clientId, c.username),
        topic,
        opts: { qos },
      }));
  }
  if (on("on_client_unsubscribe")) {
    h.unsubscribe = (c, topic) =>
      post(() => ({ action: "client_unsubscribe", ..._who(c.session!.clientId, c.username), topic }));
  }
  if (on("on_session_subscribed")) {
    h.subscribed = (s, topic, qos) =>
      post(() => ({ action: "session_subscribed", ...sess(s), topic, opts: { qos } }));
  }
  if (on("on_session_unsubscribed")) {
    h.unsubscribed = (s, topic) => post(() => ({ action: "session_unsubscribed", ...sess(s), topic }));
  }
  if (on("on_session_terminated")) {
    h.sessionTerminated = (s, reason) => post(() => ({ action: "session_terminated", ...sess(s), reason }));
  }
}

function _messageHooks(
  h: BrokerHooks,
  o: WebhookOptions,
  [forTopic, post, delivery]: [
    (event: string, topic: string) => boolean,
    (b: () => Body) => void,
    HttpDelivery,
  ],
): void {
  const message = (m: Message): Body => ({
    from_client_id: m.origin?.clientId ?? null,
    from_username: m.origin?.owner?.username ?? NONE,
    topic: m.topic,
    qos: m.qos,
    retain: m.retain,
    payload: encodePayload(m.payload, o.encoding),
    ts: o.now(),
  });
  if (o.events.has("on_message_publish")) {
    h.publish = (m, from) => {
      if (!forTopic("on_message_publish", m.topic)) return;
      // checked before the body's closure is made: a flood to a dead endpoint costs a count
      if (delivery.full) return delivery.countDropped();
      post(() => ({
        ts: o.now(),
        topic: m.topic,
        retain: m.retain,
        qos: m.qos,
        action: "message_publish",
        from_username: from.username ?? NONE,
        from_client_id: from.session!.clientId,
        payload: encodePayload(m.payload, o.encoding),
      }));
    };
  }
  for (
    const [event, key] of [["on_message_delivered", "delivered"], ["on_message_acked", "acked"]] as const
  ) {
    if (!o.events.has(event)) continue;
    h[key] = (c: Client, m: Message) => {
      if (!forTopic(event, m.topic)) return;
      post(() => ({ action: event.slice(3), ..._who(c.session!.clientId, c.username), ...message(m) }));
    };
  }
}

/**
 * The payload as `body.encoding` says: plain text, base64, or NanoMQ's "base62" (base64 without
 * padding, "+" written "A" and "/" written "B": it cannot be decoded back exactly, as in NanoMQ).
 */
export function encodePayload(p: Buffer, encoding: WebhookOptions["encoding"]): string {
  if (encoding === "plain") return p.toString("utf8");
  const b64 = p.toString("base64");
  return encoding === "base64" ? b64 : b64.replace(/=+$/, "").replaceAll("+", "A").replaceAll("/", "B");
}
