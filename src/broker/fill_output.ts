/**
 * Turns a connection's queued control packets and deliveries into bytes: called by the transport
 * once per event-loop turn per connection that has output, so that it makes one write.
 */
import { writeAck, writePacket, writePingresp } from "../protocol/codec.ts";
import type { PacketWriter } from "../protocol/packet_writer.ts";
import {
  encodePublishTemplate,
  type PublishOut,
  publishSize,
  writeFromTemplate,
  writePublish,
} from "../protocol/publish_codec.ts";
import type { BrokerContext } from "./context.ts";
import { mayRead, mayReadMessage } from "./access.ts";
import { drained } from "./flow_control.ts";
import { allocPacketId } from "./session.ts";
import { journalAcked, journalSent } from "./durable.ts";
import { type Client, ClientState, type Message, type Session } from "./state.ts";

/** Scratch state reused across deliveries so that encoding allocates nothing per message. */
export interface EncodeScratch {
  out: PublishOut;
  tplWriter: PacketWriter;
}

/**
 * Writes `c`'s control packets, then resends (after a resume), then queued deliveries while the
 * client's send quota allows and fewer than `budget` bytes are pending in `w`. Returns true when
 * deliveries that could be sent now remain queued.
 */
export function fillOutput(
  ctx: BrokerContext,
  c: Client,
  w: PacketWriter,
  budget: number,
  sc: EncodeScratch,
): boolean {
  if (c.ctrl.length > 0) _writeCtrl(c, w);
  const s = c.session;
  if (s === null || c.state !== ClientState.Connected) return false;
  const now = ctx.deps.now();
  if (s.resend) _resend(ctx, c, s, w, now, sc);
  const q = s.queue;
  const window = c.sendWindow;
  while (w.pending < budget) {
    const qos = q.peekQos();
    if (qos < 0 || (qos > 0 && s.inflight.size >= window)) break;
    const msg = q.shift()!;
    const retain = q.lastRetain;
    const subIds = q.lastSubIds;
    const seq = q.lastSeq;
    if (msg.expiresAt !== 0 && msg.expiresAt < now) {
      ctx.metrics.droppedExpired++;
      if (seq !== 0) journalSent(ctx, s, seq, 0, msg, qos, retain, subIds);
      continue;
    }
    if (ctx.auth !== null && !mayReadMessage(ctx, c, msg)) {
      ctx.metrics.droppedNotAuthorized++;
      if (seq !== 0) journalSent(ctx, s, seq, 0, msg, qos, retain, subIds);
      continue;
    }
    const pid = qos > 0 ? allocPacketId(s) : 0;
    if (!writeDelivery(c, w, msg, qos, retain, false, pid, subIds, now, sc)) {
      ctx.metrics.droppedTooLarge++;
      if (seq !== 0) journalSent(ctx, s, seq, 0, msg, qos, retain, subIds);
      continue;
    }
    if (qos > 0) {
      s.inflight.set(pid, { msg, qos, retain, subIds, state: 1 });
      if (ctx.journal !== null) journalSent(ctx, s, seq, pid, msg, qos, retain, subIds);
    }
    ctx.metrics.messagesSent++;
    ctx.hooks.delivered?.(c, msg);
  }
  if (s.waiters !== null || s.stalled) drained(ctx, s);
  const next = q.peekQos();
  return next === 0 || (next > 0 && s.inflight.size < window);
}

function _writeCtrl(c: Client, w: PacketWriter): void {
  const v5 = c.version === 5;
  for (const item of c.ctrl) {
    if (typeof item === "number") {
      const type = item >>> 24;
      if (type === 13) writePingresp(w);
      else writeAck(w, type, item & 0xffff, (item >>> 16) & 0xff, v5);
    } else writePacket(w, item, c.version || 4);
  }
  c.ctrl.length = 0;
}

/** Unacknowledged PUBLISH again with DUP set, and PUBREL for those already received [MQTT-4.4.0-1]. */
function _resend(
  ctx: BrokerContext,
  c: Client,
  s: Session,
  w: PacketWriter,
  now: number,
  sc: EncodeScratch,
): void {
  s.resend = false;
  for (const [pid, f] of s.inflight) {
    if (f.state === 2) writeAck(w, 6, pid, 0, c.version === 5);
    else if (ctx.auth !== null && !mayRead(ctx, c, f.msg.topic)) {
      // the session resumed under an identity (or an ACL) that may not read it
      s.inflight.delete(pid);
      journalAcked(ctx, s, pid);
      ctx.metrics.droppedNotAuthorized++;
    } else if (!writeDelivery(c, w, f.msg, f.qos, f.retain, true, pid, f.subIds, now, sc)) {
      // the new connection accepts smaller packets: it can never acknowledge this one
      s.inflight.delete(pid);
      journalAcked(ctx, s, pid);
      ctx.metrics.droppedTooLarge++;
    }
  }
}

/**
 * Encodes one PUBLISH for `c`: from the message's cached template when it goes to several
 * subscribers and nothing in it is specific to this one, otherwise field by field. Returns false
 * when it exceeds the client's Maximum Packet Size (the delivery is then discarded as the spec says
 * [MQTT-3.1.2-25]).
 */
export function writeDelivery(
  c: Client,
  w: PacketWriter,
  msg: Message,
  qos: number,
  retain: boolean,
  dup: boolean,
  pid: number,
  subIds: readonly number[] | null,
  now: number,
  sc: EncodeScratch,
): boolean {
  const v5 = c.version === 5;
  if (msg.fanout !== 1 && subIds === null && c.aliasMaxOut === 0 && msg.expiresAt === 0) {
    const slot = (v5 ? 2 : 0) + (qos > 0 ? 1 : 0);
    const tpls = (msg.tpl ??= [undefined, undefined, undefined, undefined]);
    let t = tpls[slot];
    if (t === undefined) {
      _fillOut(sc.out, msg, msg.topic, qos, v5, 0, null, -1);
      t = tpls[slot] = encodePublishTemplate(sc.out, msg.topicBytes, sc.tplWriter);
    }
    if (t.buf.length > c.maxPacketSize) return false;
    writeFromTemplate(w, t, (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0), pid);
    return true;
  }
  let topic = msg.topic;
  let alias = 0;
  let fresh = false;
  if (c.aliasMaxOut > 0) {
    const known = c.aliasOut!.get(topic);
    if (known !== undefined) {
      alias = known;
      topic = "";
    } else if (c.aliasOut!.size < c.aliasMaxOut) {
      alias = c.aliasOut!.size + 1;
      fresh = true;
    }
  }
  const expiry = msg.expiresAt === 0 ? -1 : Math.max(0, Math.ceil((msg.expiresAt - now) / 1000));
  const out = _fillOut(sc.out, msg, topic, qos, v5, alias, subIds, expiry);
  out.retain = retain;
  out.dup = dup;
  out.messageId = pid;
  const tb = topic === "" ? 0 : msg.topicBytes;
  if (publishSize(out, tb) > c.maxPacketSize) return false;
  if (fresh) c.aliasOut!.set(msg.topic, alias);
  writePublish(w, out, tb);
  return true;
}

function _fillOut(
  out: PublishOut,
  msg: Message,
  topic: string,
  qos: number,
  v5: boolean,
  alias: number,
  subIds: readonly number[] | null,
  expiry: number,
): PublishOut {
  out.topic = topic;
  out.payload = msg.payload;
  out.qos = qos;
  out.retain = false;
  out.dup = false;
  out.messageId = 0;
  out.v5 = v5;
  out.props = msg.props;
  out.expiry = expiry;
  out.alias = alias;
  out.subIds = subIds;
  return out;
}
