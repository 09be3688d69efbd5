/**
 * After `broker reload` replaced authentication and access control: connections whose user is no
 * longer let in are closed (MQTT 5: DISCONNECT 0x87), and subscriptions no longer allowed are
 * removed from their sessions. Deliveries are checked against the new rules anyway (access.ts
 * mayRead, whose cache the new auth generation empties); this also stops queuing for them.
 */
import { RC } from "../protocol/reason_code.ts";
import { identityOf } from "./client.ts";
import type { BrokerContext } from "./context.ts";
import { journalUnsubscribe } from "./durable.ts";
import { disconnectClient } from "./sessions.ts";
import { ClientState } from "./state.ts";

/** Applies the current `ctx.auth` to the connections and sessions there are. */
export function revalidate(ctx: BrokerContext): void {
  const auth = ctx.auth;
  if (auth === null) return;
  const log = ctx.deps.log;
  for (const c of [...ctx.clients]) {
    if (c.state !== ClientState.Connected || c.sink.trusted === true) continue;
    if (auth.stillAuthenticated(identityOf(c), c.sink.certUsername !== undefined)) continue;
    ctx.metrics.authFailures++;
    log.warn(
      "Not authorized any more after the reload (user removed, or anonymous access off)",
      c.session?.clientId,
    );
    disconnectClient(ctx, c, RC.NOT_AUTHORIZED, "Not authorized any more");
  }
  for (const s of ctx.sessions.values()) {
    const who = s.owner;
    if (who === null) continue;
    for (const [key, sub] of s.subs) {
      const v = auth.recheck(who, sub.filter);
      if (v === null || v.allow) continue;
      ctx.tree.remove(sub);
      s.subs.delete(key);
      journalUnsubscribe(ctx, s, key);
      ctx.metrics.aclDenied++;
      log.warn(
        `Subscription "${key}" removed: not authorized any more after the reload (${
          v.rule || "auth.no_match = deny"
        })`,
        s.clientId,
      );
    }
  }
}
