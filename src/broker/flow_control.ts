/**
 * Publisher flow control. A connected session whose queue passes half its bound holds the clients
 * publishing to it (the transport stops reading them) until the queue drains to a quarter, so bursts
 * are absorbed without loss instead of overflowing the queue. A session that makes no progress for
 * STALL_MS is marked stalled and stops holding anyone: one dead subscriber must not freeze its
 * publishers; its queue then overflows by the drop rule, counted.
 */
import type { BrokerContext } from "./context.ts";
import type { Client, Session } from "./state.ts";

/** How long a congested session may hold publishers without draining. */
export const STALL_MS = 5000;

/** Queue length at which a session starts holding publishers. */
export function highWater(s: Session): number {
  return s.queue.bound >> 1;
}

/** `publisher` just queued a delivery on the congested session `s`: hold it. */
export function congest(ctx: BrokerContext, s: Session, publisher: Client): void {
  if (s.stalled || publisher.session === s) return;
  const waiters = (s.waiters ??= []);
  if (waiters.includes(publisher)) return;
  if (waiters.length === 0) {
    s.congestedAt = ctx.deps.now();
    ctx.congested.add(s);
  }
  waiters.push(publisher);
  ctx.metrics.publishersHeld++;
  if (publisher.holds++ === 0) publisher.sink.hold();
}

/** `s` drained (or went away): let its publishers go. */
export function release(ctx: BrokerContext, s: Session): void {
  const waiters = s.waiters;
  if (waiters === null) return;
  s.waiters = null;
  ctx.congested.delete(s);
  for (const c of waiters) if (--c.holds === 0) c.sink.release();
}

/** Called after output was taken from `s`'s queue. */
export function drained(ctx: BrokerContext, s: Session): void {
  if (s.queue.length > s.queue.bound >> 2) return;
  s.stalled = false;
  release(ctx, s);
}

/** Marks sessions that hold publishers but have not drained for STALL_MS as stalled. */
export function tickCongestion(ctx: BrokerContext, now: number): void {
  for (const s of ctx.congested) {
    if (now - s.congestedAt < STALL_MS) continue;
    s.stalled = true;
    ctx.metrics.stalledSessions++;
    ctx.deps.log.warn(`Client ${s.clientId} does not read its messages; its queue now drops what overflows`);
    release(ctx, s);
  }
}
