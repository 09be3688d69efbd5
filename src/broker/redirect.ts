/**
 * Server redirection (MQTT 5 §4.11): with `serverReference` set, clients are sent to another
 * broker: refused at CONNECT, and those connected when a reload sets it are disconnected.
 */
import { RC } from "../protocol/reason_code.ts";
import type { BrokerContext } from "./context.ts";
import { disconnectClient } from "./sessions.ts";
import { ClientState } from "./state.ts";

/** The reason code clients are sent away with. */
export function redirectCode(ctx: BrokerContext): number {
  return ctx.opts.serverMoved ? RC.SERVER_MOVED : RC.USE_ANOTHER_SERVER;
}

/** Disconnects every connected client (not the broker's own) toward the Server Reference. */
export function redirectConnected(ctx: BrokerContext): void {
  const code = redirectCode(ctx);
  const reason = `Connect to ${ctx.opts.serverReference}`;
  for (const c of [...ctx.clients]) {
    if (c.state !== ClientState.Connected || c.sink.trusted === true) continue;
    disconnectClient(ctx, c, code, reason, ctx.opts.serverReference);
  }
}
