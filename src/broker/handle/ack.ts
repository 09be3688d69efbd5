/** PUBACK, PUBREC, PUBREL and PUBCOMP from a client. */
import type { AckPacket } from "../../protocol/codec.ts";
import { RC } from "../../protocol/reason_code.ts";
import { ackItem, sendCtrl } from "../client.ts";
import type { BrokerContext } from "../context.ts";
import { journalAcked, journalReceived, journalRxQos2 } from "../durable.ts";
import type { Client } from "../state.ts";

const PUBREL = 6;
const PUBCOMP = 7;

/** Advances the QoS 1/2 flows; an unknown packet identifier is answered as the spec says and otherwise ignored. */
export function handleAck(ctx: BrokerContext, c: Client, p: AckPacket): void {
  const s = c.session!;
  const id = p.messageId;
  const v5 = c.version === 5;
  switch (p.cmd) {
    case "puback": {
      const f = s.inflight.get(id);
      if (f !== undefined && f.qos === 1) {
        s.inflight.delete(id);
        journalAcked(ctx, s, id);
        ctx.hooks.acked?.(c, f.msg);
      }
      break;
    }
    case "pubrec": {
      const f = s.inflight.get(id);
      if (f === undefined || f.qos !== 2) {
        sendCtrl(c, ackItem(PUBREL, id, v5 ? RC.PACKET_IDENTIFIER_NOT_FOUND : 0));
        return;
      }
      if (p.reasonCode >= 0x80) {
        s.inflight.delete(id); // the flow ends here [MQTT-4.3.3-4]
        journalAcked(ctx, s, id);
      } else {
        f.state = 2;
        journalReceived(ctx, s, id, f.msg, f.qos);
        sendCtrl(c, ackItem(PUBREL, id));
      }
      break;
    }
    case "pubcomp": {
      const f = s.inflight.get(id);
      if (f !== undefined && f.state === 2) {
        s.inflight.delete(id);
        journalAcked(ctx, s, id);
        ctx.hooks.acked?.(c, f.msg);
      }
      break;
    }
    case "pubrel": {
      const known = s.rxQos2.delete(id);
      if (known) journalRxQos2(ctx, s, id, false);
      sendCtrl(c, ackItem(PUBCOMP, id, known || !v5 ? 0 : RC.PACKET_IDENTIFIER_NOT_FOUND));
      return;
    }
  }
  if (s.queue.length > 0) c.sink.wake(); // the send quota opened
}
