/** Keep alive, checked on every tick: the one timer that closes a connection the client keeps open. */
import { MqttError, RC } from "../protocol/reason_code.ts";
import type { BrokerContext } from "./context.ts";
import { closeWithError } from "./reject.ts";
import { ClientState } from "./state.ts";

/** Time a new connection has to send CONNECT, before the keep alive multiplier. */
export const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A connection with no packet for keep alive × multiplier (or no CONNECT in time) is closed. A
 * client the broker does not read (held by flow control or a pending authentication) is not
 * blamed for the packets that wait unread.
 */
export function tickKeepalive(ctx: BrokerContext, now: number): void {
  for (const c of ctx.clients) {
    if (c.active || c.holds > 0) {
      c.active = false;
      if (c.keepaliveMs > 0) c.deadline = now + c.keepaliveMs * ctx.opts.keepaliveMultiplier;
    } else if (now >= c.deadline && (c.keepaliveMs > 0 || c.state === ClientState.New)) {
      ctx.metrics.keepaliveTimeouts++;
      const why = c.state === ClientState.New ? "No CONNECT in time" : "Keep alive timed out [MQTT-3.1.2-22]";
      closeWithError(ctx, c, new MqttError(RC.KEEP_ALIVE_TIMEOUT, why));
    }
  }
}
