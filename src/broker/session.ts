/** Session state: what survives a disconnect for as long as the Session Expiry Interval says. */
import { OutQueue } from "./outbound.ts";
import type { Message } from "./message.ts";
import type { Client } from "./client.ts";
import type { WillSpec } from "./will.ts";

/** Session Expiry Interval meaning "never expires" [MQTT-3.1.2-23] (and MQTT 3 clean session 0). */
export const NEVER_EXPIRES = 0xffffffff;

/** One subscription of a session. */
export interface Subscription {
  session: Session;
  /** The filter without any `$share/{group}/` prefix. */
  filter: string;
  /** Share group name, null for an ordinary subscription. */
  group: string | null;
  qos: number;
  noLocal: boolean;
  /** Retain As Published. */
  rap: boolean;
  /** Retain Handling 0, 1 or 2. */
  rh: number;
  /** `[Subscription Identifier]`, null when none: the form deliveries carry, built once. */
  subIds: readonly number[] | null;
}

/** A QoS 1/2 message sent and not yet completely acknowledged. */
export interface Inflight {
  msg: Message;
  qos: number;
  retain: boolean;
  subIds: readonly number[] | null;
  /** 1: waiting for PUBACK/PUBREC; 2: PUBREL sent, waiting for PUBCOMP. */
  state: 1 | 2;
}

/** The state of one client identifier. */
export interface Session {
  clientId: string;
  /** The connection using the session, null while offline. */
  client: Client | null;
  /** Subscriptions keyed by the filter exactly as subscribed (with any `$share/` prefix). */
  subs: Map<string, Subscription>;
  /** Session Expiry Interval in seconds. */
  expiryInterval: number;
  /** When an offline session ends (ms), 0 while online or when it never expires. */
  expiresAt: number;
  queue: OutQueue;
  /** Sent QoS 1/2 deliveries by packet identifier, in sending order. */
  inflight: Map<number, Inflight>;
  nextPid: number;
  /** Packet identifiers of QoS 2 messages received and not yet released. */
  rxQos2: Set<number>;
  will: WillSpec | null;
  /** Journal id of the will's message, 0 when not stored (durable.ts). */
  willSid: number;
  /** Last journal sequence number given to a queued delivery. */
  qseq: number;
  /** When a pending will is published (ms), 0 when none is pending. */
  willAt: number;
  /** Set on resume: unacknowledged deliveries are sent again before anything new [MQTT-4.4.0-1]. */
  resend: boolean;
  /** Publishers held until this session's queue drains (flow_control.ts), null when none. */
  waiters: Client[] | null;
  /** When the session started holding publishers (ms). */
  congestedAt: number;
  /** The session did not drain while holding publishers: it no longer holds anyone until it drains. */
  stalled: boolean;
}

/** Creates an empty session whose queue holds at most `queueBound` deliveries. */
export function createSession(clientId: string, queueBound: number): Session {
  return {
    clientId,
    client: null,
    subs: new Map(),
    expiryInterval: 0,
    expiresAt: 0,
    queue: new OutQueue(queueBound),
    inflight: new Map(),
    nextPid: 1,
    rxQos2: new Set(),
    will: null,
    willSid: 0,
    qseq: 0,
    willAt: 0,
    resend: false,
    waiters: null,
    congestedAt: 0,
    stalled: false,
  };
}

/** Allocates a packet identifier not in use by the session's in-flight deliveries [MQTT-2.2.1-3]. */
export function allocPacketId(s: Session): number {
  let id = s.nextPid;
  while (s.inflight.has(id)) id = id === 65535 ? 1 : id + 1;
  s.nextPid = id === 65535 ? 1 : id + 1;
  return id;
}
