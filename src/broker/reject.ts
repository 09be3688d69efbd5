/** Ending a connection for an error: the reason code goes on the wire where the protocol allows. */
import { type MqttError, RC } from "../protocol/reason_code.ts";
import type { BrokerContext } from "./context.ts";
import type { LimitName } from "./metrics.ts";
import { refuseConnect } from "./handle/connect.ts";
import { disconnectClient } from "./sessions.ts";
import { type Client, ClientState } from "./state.ts";

/** A protocol error on `c` (counted): it is closed with the error's reason code. */
export function rejectClient(ctx: BrokerContext, c: Client, err: MqttError): void {
  if (c.state === ClientState.Closed) return;
  ctx.metrics.protocolErrors++;
  const limit = LIMIT_OF_CODE[err.code];
  if (limit !== undefined) {
    ctx.limits.hit(
      limit,
      `a connection from ${c.sink.remoteAddress} was closed: ${err.message}`,
      c.session?.clientId,
    );
  }
  closeWithError(ctx, c, err);
}

/** The limits the decoder and the packet handlers enforce by throwing. */
const LIMIT_OF_CODE: Partial<Record<number, LimitName>> = {
  [RC.PACKET_TOO_LARGE]: "max_packet_size",
  [RC.QUOTA_EXCEEDED]: "property_size",
  [RC.RECEIVE_MAXIMUM_EXCEEDED]: "max_inflight_window",
};

/** Closes `c` for `err`: CONNACK for an unsupported level, DISCONNECT (MQTT 5) once connected. */
export function closeWithError(ctx: BrokerContext, c: Client, err: MqttError): void {
  c.closeReason = err.message;
  if (c.state === ClientState.New && err.code === RC.UNSUPPORTED_PROTOCOL_VERSION) {
    refuseConnect(ctx, c, err.code, err.message);
  } else disconnectClient(ctx, c, err.code, err.message);
}
