/** PINGREQ and DISCONNECT from a client (AUTH: auth.ts). */
import type { IDisconnectPacket } from "../../protocol/codec.ts";
import { MqttError, RC } from "../../protocol/reason_code.ts";
import { ackItem, sendCtrl } from "../client.ts";
import type { BrokerContext } from "../context.ts";
import { detachClient } from "../sessions.ts";
import type { Client } from "../state.ts";

/** Answers PINGREQ with PINGRESP [MQTT-3.12.4-1]. */
export function handlePingreq(c: Client): void {
  sendCtrl(c, ackItem(13, 0));
}

/** A client's DISCONNECT: no will unless reason 0x04 [MQTT-3.14.4-3]; may change the Session Expiry Interval. */
export function handleDisconnect(ctx: BrokerContext, c: Client, p: IDisconnectPacket): void {
  const s = c.session!;
  const expiry = p.properties?.sessionExpiryInterval;
  if (expiry !== undefined) {
    if (s.expiryInterval === 0 && expiry !== 0) {
      throw new MqttError(
        RC.PROTOCOL_ERROR,
        "Session Expiry Interval set on DISCONNECT after 0 in CONNECT",
        "[MQTT-3.14.2-2]",
      );
    }
    s.expiryInterval = expiry;
  }
  c.graceful = (p.reasonCode ?? 0) !== RC.DISCONNECT_WITH_WILL;
  c.closeCode = p.reasonCode ?? 0;
  c.closeReason = `DISCONNECT from the client (0x${(p.reasonCode ?? 0).toString(16).padStart(2, "0")})`;
  detachClient(ctx, c); // the server sends nothing back [MQTT-3.14.4-1]
  c.sink.close();
}
