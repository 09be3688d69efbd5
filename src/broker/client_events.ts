/**
 * NanoMQ's client events: a JSON message on `$SYS/brokers/connected` when CONNACK accepts a
 * client, and on `$SYS/brokers/disconnected` when it goes, with NanoMQ's field names. They are
 * routed like any message, so a subscriber gets them only where its ACL lets it read them.
 */
import { ipOf } from "./client.ts";
import type { BrokerContext } from "./context.ts";
import { createMessage } from "./message.ts";
import { publishMessage } from "./router.ts";
import type { Client } from "./state.ts";

export const CONNECTED_TOPIC = "$SYS/brokers/connected";
export const DISCONNECTED_TOPIC = "$SYS/brokers/disconnected";

/** The reason code reported for a connection the network dropped without DISCONNECT (Unspecified error). */
const CONNECTION_LOST = 0x80;

/** The protocol name a client's CONNECT carried. */
export function protoName(version: number): string {
  return version === 3 ? "MQIsdp" : "MQTT";
}

/** Counts `c`, just accepted, and publishes its `connected` event. */
export function publishConnected(ctx: BrokerContext, c: Client): void {
  const m = ctx.metrics;
  if (++m.clientsConnected > m.clientsMax) m.clientsMax = m.clientsConnected;
  // not retained: with no subscriber there is nothing to build (a reconnect storm after a power cut)
  if (!_wanted(ctx, CONNECTED_TOPIC)) return;
  const body = {
    username: c.username ?? "",
    ts: c.connectedAt,
    proto_name: protoName(c.version),
    keepalive: c.keepaliveMs / 1000,
    return_code: "0",
    proto_ver: c.version,
    client_id: c.session!.clientId,
    clean_start: c.cleanStart ? 1 : 0,
    IPv4: ipOf(c.sink.remoteAddress),
  };
  _publish(ctx, CONNECTED_TOPIC, body);
}

/** Counts `c` out and publishes its `disconnected` event. */
export function publishDisconnected(ctx: BrokerContext, c: Client): void {
  ctx.metrics.clientsConnected--;
  if (!_wanted(ctx, DISCONNECTED_TOPIC)) return;
  const code = c.closeCode < 0 ? CONNECTION_LOST : c.closeCode;
  const body = {
    username: c.username ?? "",
    ts: ctx.deps.now(),
    reason_code: code.toString(16),
    client_id: c.session?.clientId ?? "",
    IPv4: ipOf(c.sink.remoteAddress),
  };
  _publish(ctx, DISCONNECTED_TOPIC, body);
}

/** True when someone (here or on another worker) subscribes to the event topic. */
function _wanted(ctx: BrokerContext, topic: string): boolean {
  const m = ctx.tree.match(topic); // cached: one map lookup per connect until subscriptions change
  return m.targets.length > 0 || m.groups.length > 0;
}

function _publish(ctx: BrokerContext, topic: string, body: object): void {
  publishMessage(ctx, createMessage(topic, Buffer.from(JSON.stringify(body))));
}
