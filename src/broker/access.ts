/**
 * Access control on the broker's side: asks the auth hooks, caches the last publish answer per
 * client (publishers repeat their topic), counts and logs denials.
 */
import { identityOf } from "./client.ts";
import type { BrokerContext } from "./context.ts";
import type { Client } from "./state.ts";

/** May `c` publish to `topic`? Only call when `ctx.auth` is set. */
export function mayPublish(ctx: BrokerContext, c: Client, topic: string): boolean {
  if (c.sink.trusted === true) return true;
  if (c.aclTopic === topic && c.aclGen === ctx.authGen) {
    if (!c.aclAllowed) ctx.metrics.aclDenied++;
    return c.aclAllowed;
  }
  const v = ctx.auth!.authorize(identityOf(c), "publish", topic);
  c.aclTopic = topic;
  c.aclAllowed = v.allow;
  c.aclGen = ctx.authGen;
  if (!v.allow) _denied(ctx, c, `publish to "${topic}"`, v.rule);
  return v.allow;
}

/** May `c` subscribe to `filter` (without any `$share/group/` prefix)? Only call when `ctx.auth` is set. */
export function maySubscribe(ctx: BrokerContext, c: Client, filter: string): boolean {
  if (c.sink.trusted === true) return true;
  const v = ctx.auth!.authorize(identityOf(c), "subscribe", filter);
  if (!v.allow) _denied(ctx, c, `subscribe to "${filter}"`, v.rule);
  return v.allow;
}

function _denied(ctx: BrokerContext, c: Client, what: string, rule: string): void {
  ctx.metrics.aclDenied++;
  const by = rule === "" ? "auth.no_match = deny" : rule;
  ctx.deps.log.warn(`Not authorized to ${what} (${by})`, c.session?.clientId);
}
