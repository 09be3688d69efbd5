/** One line per control packet for `-d` (debug) output, in the manner of mosquitto_pub -d. */
import type { MqttPacket } from "../protocol/codec.ts";

/** `CONNECT (c: id, k: 60, v: 5)`, `SUBACK (m1: 1)`, ... */
export function describePacket(p: MqttPacket): string {
  switch (p.cmd) {
    case "connect":
      return `CONNECT (c: '${p.clientId}', k: ${p.keepalive ?? 0}, v: ${p.protocolVersion ?? 4}, clean: ${
        p.clean ?? true
      })`;
    case "connack":
      return `CONNACK (session present: ${p.sessionPresent ? 1 : 0}, code: ${
        p.reasonCode ?? p.returnCode ?? 0
      })`;
    case "subscribe":
      return `SUBSCRIBE (m${p.messageId ?? 0}: ${
        p.subscriptions.map((s) => `'${s.topic}' q${s.qos}`).join(", ")
      })`;
    case "suback":
      return `SUBACK (m${p.messageId ?? 0}: ${p.granted.join(", ")})`;
    case "unsubscribe":
      return `UNSUBSCRIBE (m${p.messageId ?? 0}: ${p.unsubscriptions.map((t) => `'${t}'`).join(", ")})`;
    case "unsuback":
      return `UNSUBACK (m${p.messageId ?? 0})`;
    case "disconnect":
      return `DISCONNECT (code: ${p.reasonCode ?? 0})`;
    default:
      return p.cmd.toUpperCase();
  }
}
