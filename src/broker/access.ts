/**
 * Access control on the broker's side: asks the auth hooks, caches the last publish answer per
 * client (publishers repeat their topic) and the read answers per client and topic, counts and
 * logs denials.
 */
import { identityOf } from "./client.ts";
import type { BrokerContext } from "./context.ts";
import type { Client, WillSpec } from "./state.ts";

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

/**
 * May `c` set a will on `topic`? Checked at CONNECT, as a publish: a client may not reach a topic
 * through its will that it may not publish to. Only call when `ctx.auth` is set.
 */
export function mayPublishWill(ctx: BrokerContext, c: Client, topic: string): boolean {
  const v = ctx.auth!.authorize(identityOf(c), "publish", topic);
  if (!v.allow) _denied(ctx, c, `set a will on "${topic}"`, v.rule);
  return v.allow;
}

/** May the will of session `clientId`, set by `by`, still go out (the ACL may have been reloaded)? */
export function willMayGo(ctx: BrokerContext, clientId: string, w: WillSpec): boolean {
  if (ctx.auth === null || w.by === null) return true;
  const v = ctx.auth.authorize(w.by, "publish", w.topic);
  if (!v.allow) {
    ctx.metrics.aclDenied++;
    const by = v.rule === "" ? "auth.no_match = deny" : v.rule;
    ctx.deps.log.warn(`The will on "${w.topic}" is not published: not authorized any more (${by})`, clientId);
  }
  return v.allow;
}

/** May `c` subscribe to `filter` (without any `$share/group/` prefix)? Only call when `ctx.auth` is set. */
export function maySubscribe(ctx: BrokerContext, c: Client, filter: string): boolean {
  if (c.sink.trusted === true) return true;
  const v = ctx.auth!.authorize(identityOf(c), "subscribe", filter);
  if (!v.allow) _denied(ctx, c, `subscribe to "${filter}"`, v.rule);
  return v.allow;
}

/** Read answers kept per connection; past this many topics the cache starts again. */
export const READ_CACHE_TOPICS = 1024;

/**
 * May `c` be delivered a message on `topic`? Checked for every delivery, whatever brought it
 * (live, retained, shared, queued while offline), so a subscription to `#` never carries a topic
 * the client may not read. Only call when `ctx.auth` is set.
 */
export function mayRead(ctx: BrokerContext, c: Client, topic: string): boolean {
  if (c.sink.trusted === true) return true;
  let cache = c.readAcl;
  if (cache === null || c.readGen !== ctx.authGen) {
    cache = c.readAcl = new Map();
    c.readGen = ctx.authGen;
  }
  const known = cache.get(topic);
  if (known !== undefined) return known;
  const v = ctx.auth!.authorize(identityOf(c), "read", topic);
  if (cache.size >= READ_CACHE_TOPICS) cache.clear();
  cache.set(topic, v.allow);
  if (!v.allow) {
    const by = v.rule === "" ? "auth.no_match = deny" : v.rule;
    ctx.deps.log.debug(
      `Messages on "${topic}" are not delivered: not authorized to read them (${by})`,
      c.session?.clientId,
    );
  }
  return v.allow;
}

function _denied(ctx: BrokerContext, c: Client, what: string, rule: string): void {
  ctx.metrics.aclDenied++;
  const by = rule === "" ? "auth.no_match = deny" : rule;
  ctx.deps.log.warn(`Not authorized to ${what} (${by})`, c.session?.clientId);
}
