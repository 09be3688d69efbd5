/**
 * The other workers of a multi-core broker, as sessions: each peer worker is a session here whose
 * subscriptions are the filters that worker's clients hold (one per distinct filter, share groups
 * included, so that a group's round-robin spans workers). route() forwards what such a session
 * gets to its worker, once per message; the worker delivers it to its own subscribers.
 */
import { parseSharedFilter } from "../protocol/topic.ts";
import { createClient, sendCtrl } from "./client.ts";
import type { BrokerContext } from "./context.ts";
import { journalRetained } from "./durable.ts";
import { release } from "./flow_control.ts";
import { ownPayload } from "./message.ts";
import { Forward, type Peering, type PeerPort, touch } from "./peer_port.ts";
import { deliver, pickMember, route } from "./router.ts";
import { createSession, NEVER_EXPIRES } from "./session.ts";
import {
  type Client,
  ClientState,
  type CtrlItem,
  type Message,
  type Session,
  type Subscription,
} from "./state.ts";

/** Makes a session for every other worker and starts telling them what this one subscribes to. */
export function startPeering(ctx: BrokerContext, port: PeerPort): Peering {
  const sessions: Session[] = [];
  for (let p = 0; p < port.count; p++) sessions.push(_peerSession(port, p));
  const peering: Peering = {
    port,
    sessions,
    interest: new Map(),
    touched: [],
    deferred: [],
    waiting: new Map(),
    committed: Array<number>(port.count).fill(0),
  };
  ctx.tree.observer = (sub, added) => _observe(peering, sub, added);
  return peering;
}

function _peerSession(port: PeerPort, p: number): Session {
  const s = createSession(`$peer/${p}`, 0);
  s.peer = p;
  s.expiryInterval = NEVER_EXPIRES;
  // as a publisher, the peer is held (flow control) by holding what it forwards
  const c = createClient(-1 - p, {
    wake() {},
    close() {},
    hold: () => port.hold(p),
    release: () => port.release(p),
    blocked: false,
    remoteAddress: `worker ${p}`,
    trusted: true,
  });
  c.state = ClientState.Connected;
  c.session = s;
  s.client = c;
  return s;
}

function _keyOf(sub: Subscription): string {
  return sub.group === null ? sub.filter : `$share/${sub.group}/${sub.filter}`;
}

function _observe(pr: Peering, sub: Subscription, added: boolean): void {
  if (sub.session.peer >= 0) return;
  const key = _keyOf(sub);
  const n = (pr.interest.get(key) ?? 0) + (added ? 1 : -1);
  if (n > 0) pr.interest.set(key, n);
  else pr.interest.delete(key);
  if (n !== (added ? 1 : 0)) return;
  for (let p = 0; p < pr.port.count; p++) {
    if (p === pr.port.self) continue;
    pr.port.interest(p, key, added);
    // SUBACK waits until every worker routes to the new subscription: a message published
    // anywhere after it must reach it
    if (added) touch(pr, p);
  }
}

/** A peer's clients subscribed to `key` first, or unsubscribed last. */
export function peerInterest(
  ctx: BrokerContext,
  pr: Peering,
  from: number,
  key: string,
  added: boolean,
): void {
  const s = pr.sessions[from]!;
  const old = s.subs.get(key);
  if (old !== undefined) {
    ctx.tree.remove(old);
    s.subs.delete(key);
  }
  if (!added) return;
  const shared = parseSharedFilter(key);
  if (shared === null) return;
  const sub: Subscription = {
    session: s,
    filter: shared === undefined ? key : shared.filter,
    group: shared?.group ?? null,
    qos: 2,
    noLocal: false,
    rap: true,
    rh: 0,
    subIds: null,
  };
  s.subs.set(key, sub);
  ctx.tree.add(sub);
}

/** Before handling a packet that sendAck() answers: nothing waits on the peers yet. */
export function startAck(ctx: BrokerContext): void {
  if (ctx.peering !== null) ctx.peering.touched.length = 0;
}

/**
 * The acknowledgement `item` of a PUBLISH or SUBSCRIBE from `c`: sent now, or once every peer
 * in Peering.touched has taken (and committed) what it was sent, so that an acknowledged message
 * is on disk wherever it is to be delivered and a granted subscription gets what is published
 * after it on any worker; acknowledgements of one client keep their order.
 */
export function sendAck(ctx: BrokerContext, c: Client, item: CtrlItem): void {
  const pr = ctx.peering;
  if (pr === null) return sendCtrl(c, item);
  const t = pr.touched;
  if (t.length === 0 && !pr.waiting.has(c)) return sendCtrl(c, item);
  const need: number[] = [];
  for (let i = 0; i < t.length; i++) need.push(t[i]!, pr.port.nextBatch(t[i]!));
  t.length = 0;
  pr.deferred.push({ c, item, need });
  pr.waiting.set(c, (pr.waiting.get(c) ?? 0) + 1);
}

/** `peer` has committed its batches up to `upTo`: the acknowledgements waiting for them go. */
export function peerCommitted(pr: Peering, peer: number, upTo: number): void {
  pr.committed[peer] = upTo;
  const q = pr.deferred;
  let done = 0;
  for (; done < q.length; done++) {
    const { c, item, need } = q[done]!;
    let ok = true;
    for (let i = 0; i < need.length && ok; i += 2) ok = pr.committed[need[i]!]! >= need[i + 1]!;
    if (!ok) break;
    const n = pr.waiting.get(c)! - 1;
    if (n === 0) pr.waiting.delete(c);
    else pr.waiting.set(c, n);
    if (c.state !== ClientState.Closed) sendCtrl(c, item);
  }
  if (done > 0) q.splice(0, done);
}

/** The forwarding toward `peer` caught up: its publishers go on. */
export function peerDrained(ctx: BrokerContext, pr: Peering, peer: number): void {
  const s = pr.sessions[peer]!;
  s.stalled = false;
  release(ctx, s);
}

/** A message a peer forwarded. */
export function peerMessage(
  ctx: BrokerContext,
  pr: Peering,
  from: number,
  msg: Message,
  how: number,
  key: string,
): void {
  msg.origin = pr.sessions[from]!;
  ctx.metrics.peerReceived++;
  if (how === Forward.Retained) {
    if (msg.payload.length === 0) ctx.retained.delete(msg.topic);
    else {
      ownPayload(msg);
      ctx.retained.set(msg);
    }
    if (ctx.journal !== null) journalRetained(ctx, msg.topic, msg.payload.length === 0 ? null : msg);
    return;
  }
  if (how === Forward.Group) _toGroup(ctx, msg, key);
  else route(ctx, msg);
}

/** A member of the group here, round-robin, connected ones first. */
function _toGroup(ctx: BrokerContext, msg: Message, key: string): void {
  const shared = parseSharedFilter(key);
  const g = shared ? ctx.tree.group(shared.filter, shared.group) : undefined;
  const pick = g === undefined ? undefined : pickMember(g, true);
  if (pick === undefined) {
    ctx.metrics.droppedNoMember++; // every member here left while the message was on its way
    return;
  }
  msg.fanout = 1;
  deliver(ctx, pick.session, msg, Math.min(pick.qos, msg.qos), pick.rap && msg.retain, pick.subIds);
}
