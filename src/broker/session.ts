/** Sessions: what survives a disconnect for as long as the Session Expiry Interval says. */
import { OutQueue } from "./outbound.ts";
import { InflightTable } from "./inflight_table.ts";
import type { Message, Session } from "./state.ts";

/** Session Expiry Interval meaning "never expires" [MQTT-3.1.2-23] (and MQTT 3 clean session 0). */
export const NEVER_EXPIRES = 0xffffffff;

/** Creates an empty session whose queue holds at most `queueBound` deliveries. */
export function createSession(clientId: string, queueBound: number): Session {
  return {
    clientId,
    client: null,
    subs: new Map(),
    expiryInterval: 0,
    expiresAt: 0,
    queue: new OutQueue<Message>(queueBound),
    inflight: new InflightTable(),
    nextPid: 1,
    rxQos2: new InflightTable(),
    will: null,
    willSid: 0,
    qseq: 0,
    willAt: 0,
    resend: false,
    waiters: null,
    congestedAt: 0,
    stalled: false,
    owner: null,
    peer: -1,
  };
}

/** Allocates a packet identifier not in use by the session's in-flight deliveries [MQTT-2.2.1-3]. */
export function allocPacketId(s: Session): number {
  let id = s.nextPid;
  while (s.inflight.has(id)) id = id === 65535 ? 1 : id + 1;
  s.nextPid = id === 65535 ? 1 : id + 1;
  return id;
}
