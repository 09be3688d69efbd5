/**
 * Access control on the broker's side: asks the auth hooks, caches the last publish answer per
 * client (publishers repeat their topic) and the read answers per client and topic, counts and
 * logs denials. An answer that comes later (HTTP authentication) throws AclPending: the broker
 * holds the client, and handles the same packet again once the answer is in.
 */
import { identityOf } from "./client.ts";
import type { AclVerdict } from "./auth_port.ts";
import type { BrokerContext } from "./context.ts";
import type { Client, Message, WillSpec } from "./state.ts";

/** A check is waiting for its answer; `answer` resolves once it is cached where the check looks. */
export class AclPending extends Error {
  constructor(readonly answer: Promise<void>) {
    super("An access control answer is pending");
    this.name = "AclPending";
  }
}

/** May `c` publish to `topic`? Only call when `ctx.auth` is set. */
export function mayPublish(ctx: BrokerContext, c: Client, topic: string): boolean {
  if (c.sink.trusted === true) return true;
  if (c.aclTopic === topic && c.aclGen === ctx.authGen) {
    if (!c.aclAllowed) ctx.metrics.aclDenied++;
    return c.aclAllowed;
  }
  const gen = ctx.authGen;
  const v = ctx.auth!.authorize(identityOf(c), "publish", topic);
  if (v instanceof Promise) {
    throw new AclPending(v.then((w) => {
      _rememberPublish(c, topic, w.allow, gen);
      if (!w.allow) _log(ctx, c, `publish to "${topic}"`, w.rule); // counted when the packet is handled again
    }));
  }
  _rememberPublish(c, topic, v.allow, gen);
  if (!v.allow) _denied(ctx, c, `publish to "${topic}"`, v.rule);
  return v.allow;
}

function _rememberPublish(c: Client, topic: string, allow: boolean, gen: number): void {
  c.aclTopic = topic;
  c.aclAllowed = allow;
  c.aclGen = gen;
}

/**
 * Asks about every filter of a SUBSCRIBE before any is applied; throws AclPending when some
 * answer comes later, after which maySubscribe() finds them all (until doneSubscribe()). Only
 * call when `ctx.auth` is set.
 */
export function askSubscribe(ctx: BrokerContext, c: Client, filters: readonly string[]): void {
  if (c.sink.trusted === true) return;
  const later: Promise<void>[] = [];
  const gen = ctx.authGen;
  for (const f of filters) {
    if (c.subAcl?.has(f) === true && c.subGen === gen) continue;
    const v = ctx.auth!.authorize(identityOf(c), "subscribe", f);
    if (v instanceof Promise) later.push(v.then((w) => _rememberSubscribe(c, f, w, gen)));
  }
  if (later.length > 0) throw new AclPending(Promise.all(later).then(() => {}));
}

/** The SUBSCRIBE is handled: the answers kept for it go. */
export function doneSubscribe(c: Client): void {
  c.subAcl = null;
}

function _rememberSubscribe(c: Client, filter: string, v: AclVerdict, gen: number): void {
  if (c.subAcl === null || c.subGen !== gen) {
    c.subAcl = new Map();
    c.subGen = gen;
  }
  c.subAcl.set(filter, v);
}

/** May `c` subscribe to `filter` (without any `$share/group/` prefix), as written? Only call when `ctx.auth` is set. */
export function maySubscribe(ctx: BrokerContext, c: Client, filter: string): boolean {
  if (c.sink.trusted === true) return true;
  let v: AclVerdict | Promise<AclVerdict> | undefined;
  if (c.subAcl !== null && c.subGen === ctx.authGen) v = c.subAcl.get(filter);
  v ??= ctx.auth!.authorize(identityOf(c), "subscribe", filter);
  if (v instanceof Promise) {
    const gen = ctx.authGen;
    throw new AclPending(v.then((w) => _rememberSubscribe(c, filter, w, gen)));
  }
  if (!v.allow) _denied(ctx, c, `subscribe to "${filter}"`, v.rule);
  return v.allow;
}

/**
 * May `c` set a will on `topic`? Checked at CONNECT, as a publish: a client may not reach a topic
 * through its will that it may not publish to. Only call when `ctx.auth` is set.
 */
export function mayPublishWill(ctx: BrokerContext, c: Client, topic: string): boolean | Promise<boolean> {
  const what = `set a will on "${topic}"`;
  const v = ctx.auth!.authorize(identityOf(c), "publish", topic);
  if (!(v instanceof Promise)) {
    if (!v.allow) _denied(ctx, c, what, v.rule);
    return v.allow;
  }
  return v.then((w) => {
    if (!w.allow) _denied(ctx, c, what, w.rule);
    return w.allow;
  }, () => false);
}

/** May the will of session `clientId`, set by `w.by`, still go out (the ACL may have been reloaded)? */
export function willMayGo(ctx: BrokerContext, clientId: string, w: WillSpec): boolean | Promise<boolean> {
  if (ctx.auth === null || w.by === null) return true;
  const answer = (v: AclVerdict): boolean => {
    if (!v.allow) {
      ctx.metrics.aclDenied++;
      const by = v.rule === "" ? "auth.no_match = deny" : v.rule;
      ctx.deps.log.warn(
        `The will on "${w.topic}" is not published: not authorized any more (${by})`,
        clientId,
      );
    }
    return v.allow;
  };
  const v = ctx.auth.authorize(w.by, "publish", w.topic);
  return v instanceof Promise ? v.then(answer, () => false) : answer(v);
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
  const v = ctx.auth!.authorizeRead(identityOf(c), topic);
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

/**
 * mayRead for a delivery of `msg`: the message keeps the last answer with the read class it holds
 * for, so the subscribers of one class (typically all of them) share one lookup per message.
 */
export function mayReadMessage(ctx: BrokerContext, c: Client, msg: Message): boolean {
  const gen = ctx.authGen;
  if (c.readClassGen !== gen) {
    c.readClass = ctx.auth!.readClass(identityOf(c));
    c.readClassGen = gen;
  }
  if (msg.readGen === gen && msg.readClass === c.readClass) return msg.readAllowed;
  msg.readGen = gen;
  msg.readClass = c.readClass;
  return (msg.readAllowed = mayRead(ctx, c, msg.topic));
}

function _denied(ctx: BrokerContext, c: Client, what: string, rule: string): void {
  ctx.metrics.aclDenied++;
  _log(ctx, c, what, rule);
}

function _log(ctx: BrokerContext, c: Client, what: string, rule: string): void {
  const by = rule === "" ? "auth.no_match = deny" : rule;
  ctx.deps.log.warn(`Not authorized to ${what} (${by})`, c.session?.clientId);
}
