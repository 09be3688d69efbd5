/** The packets of the bridge's own client connection to the local broker. */
import { type MqttPacket, writePacket } from "../protocol/codec.ts";
import type { PacketWriter } from "../protocol/packet_writer.ts";
import { type BridgeOptions, localClientId } from "./bridge_options.ts";

/** CONNECT of the bridge's own persistent session on the local broker. */
export function writeLocalConnect(w: PacketWriter, o: BridgeOptions, window: number): void {
  const connect = {
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 5,
    clientId: localClientId(o.name),
    clean: false,
    keepalive: 0,
    properties: { sessionExpiryInterval: 0xffffffff, receiveMaximum: window },
  };
  writePacket(w, connect as MqttPacket, 5);
}

/**
 * One SUBSCRIBE per forward rule: its Subscription Identifier names the rule in every delivery. No
 * Local keeps what the bridge brought down from going back up; retained messages are not replayed.
 */
export function writeLocalSubscribes(w: PacketWriter, o: BridgeOptions): void {
  o.forwards.forEach((r, i) => {
    const sub = {
      cmd: "subscribe",
      messageId: i + 1,
      subscriptions: [{ topic: r.filter, qos: r.qos, nl: true, rap: true, rh: 2 }],
      properties: { subscriptionIdentifier: i + 1 },
    };
    writePacket(w, sub as MqttPacket, 5);
  });
}
