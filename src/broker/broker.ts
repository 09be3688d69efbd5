/**
 * The broker core: all MQTT state, no I/O, no timers. The transport attaches connections, hands
 * it decoded packets, asks it to fill output buffers; the cli drives tick(now).
 */
import type { InboundPacket } from "../protocol/codec.ts";
import { PacketWriter } from "../protocol/packet_writer.ts";
import { emptyPublishOut } from "../protocol/publish_codec.ts";
import { MqttError, RC } from "../protocol/reason_code.ts";
import { createClient } from "./client.ts";
import type { BrokerContext } from "./context.ts";
import { type EncodeScratch, fillOutput } from "./fill_output.ts";
import { handleAck } from "./handle/ack.ts";
import { handleConnect } from "./handle/connect.ts";
import { handleDisconnect, handlePingreq } from "./handle/control.ts";
import { handleAuth } from "./handle/auth.ts";
import { redirectConnected } from "./redirect.ts";
import { handlePublish } from "./handle/publish.ts";
import { handleSubscribe, handleUnsubscribe } from "./handle/subscribe.ts";
import { CONNECT_TIMEOUT_MS, tickKeepalive } from "./keepalive.ts";
import { createMetrics, type Metrics } from "./metrics.ts";
import { rejectClient } from "./reject.ts";
import { createRetainedStore } from "./retained.ts";
import { LimitLog } from "./limits.ts";
import { journalRetained } from "./durable.ts";
import { detachClient, disconnectClient, queueBound, tickSessions } from "./sessions.ts";
import { createTopicTree } from "./topic_tree.ts";
import { tickCongestion } from "./flow_control.ts";
import type { JournalSnapshot } from "./journal.ts";
import { restoreState } from "./restore.ts";
import { revalidate } from "./revalidate.ts";
import { createMessage, type MessageInit } from "./message.ts";
import { publishMessage } from "./router.ts";
import { type Client, type ClientSink, ClientState, type Message } from "./state.ts";
import { peerCommitted, peerDrained, peerInterest, peerMessage, startPeering } from "./peering.ts";
import type { AuthHooks } from "./auth_port.ts";
import type { BrokerDeps } from "./deps.ts";
import { type BrokerOptions, DEFAULT_BROKER_OPTIONS } from "./options.ts";
import { AclPending } from "./access.ts";
import {
  type AdminRefusal,
  type ClientInfo,
  kickClient,
  listClients,
  listRetained,
  listSubscriptions,
  type RetainedInfo,
  subscribeFor,
  type SubscriptionInfo,
  unsubscribeFor,
} from "./admin.ts";

/** The broker as the transport and the cli see it. */
export interface Broker {
  readonly metrics: Metrics;
  readonly options: BrokerOptions;
  /** Where the transport counts and logs the limits it enforces (connections). */
  readonly limits: LimitLog;
  /** A new connection. */
  attach(sink: ClientSink): Client;
  /** A packet decoded from `c`. */
  handle(c: Client, p: InboundPacket): void;
  /** The transport could not decode `c`'s input: close it with the error's reason code. */
  reject(c: Client, err: MqttError): void;
  /** The connection closed (by the peer or the network). */
  detach(c: Client): void;
  /** Encodes `c`'s pending output into `w`; true when more could be sent right away. */
  fill(c: Client, w: PacketWriter, budget: number): boolean;
  /** Keep alive, will delays, session expiry. Call about once a second. */
  tick(now: number): void;
  /** Shutting down: MQTT 5 clients get DISCONNECT 0x8B, everyone is closed [MQTT-3.14.2-1]. */
  close(): void;
  /** Replaces the limits (reload): queue bounds change for every session, the rest for what comes next. */
  configure(opts: Partial<BrokerOptions>): void;
  /** Replaces authentication and access control (null: everything allowed). */
  setAuth(auth: AuthHooks | null): void;
  /** Publishes a message of the broker's own (`$SYS/...`): no client, no access control. */
  publish(topic: string, payload: Buffer, opts: Omit<MessageInit, "origin" | "topicBytes">): void;
  /** Loads journaled state into the new, empty broker; returns the sessions restored. */
  restore(snap: JournalSnapshot): number;
  /** One session's state, undefined when there is none. */
  session(clientId: string): SessionInfo | undefined;
  /** Multi-core: what another worker sends (see peering.ts); a no-op on a broker without peers. */
  peerInterest(from: number, key: string, added: boolean): void;
  peerMessage(from: number, msg: Message, how: number, groupKey: string): void;
  /** What was forwarded to `peer` has been taken: publishers held for it go on. */
  peerDrained(peer: number): void;
  /** `peer` has committed the batches it was sent up to `upTo` (persistence on). */
  peerCommitted(peer: number, upTo: number): void;
  /** The management API's view and actions (admin.ts). */
  clients(): ClientInfo[];
  subscriptions(): SubscriptionInfo[];
  retained(filter: string): RetainedInfo[];
  /** Disconnects a client (DISCONNECT 0x98); false when it is not connected. */
  kick(clientId: string): boolean;
  subscribeFor(clientId: string, topic: string, qos: 0 | 1 | 2): AdminRefusal | null;
  unsubscribeFor(clientId: string, topic: string): boolean;
  /** Counts for status output and tests. */
  stats(): { clients: number; sessions: number; subscriptions: number; retained: number; queued: number };
}

/** What {@link Broker.session} tells of a session. */
export interface SessionInfo {
  /** Deliveries waiting in its queue. */
  queued: number;
  /** Deliveries sent and not yet acknowledged. */
  inflight: number;
  /** Deliveries dropped because its queue was full, since the broker started. */
  dropped: number;
  /** Its subscriptions' filters, as subscribed. */
  filters: string[];
}

/** Creates a broker. `opts` override {@link DEFAULT_BROKER_OPTIONS}. */
export function createBroker(opts: Partial<BrokerOptions>, deps: BrokerDeps): Broker {
  const ctx = _context(opts, deps);
  const scratch: EncodeScratch = { out: emptyPublishOut(), tplWriter: new PacketWriter() };
  let nextId = 1;
  return {
    metrics: ctx.metrics,
    limits: ctx.limits,
    get options() {
      return ctx.opts;
    },
    attach(sink) {
      const c = createClient(nextId++, sink);
      ctx.clients.add(c);
      ctx.metrics.connectionsAccepted++;
      c.deadline = deps.now() + CONNECT_TIMEOUT_MS * ctx.opts.keepaliveMultiplier;
      return c;
    },
    handle(c, p) {
      if (c.state === ClientState.Closed) return;
      c.active = true;
      _handle(ctx, c, p);
    },
    reject: (c, err) => rejectClient(ctx, c, err),
    detach: (c) => detachClient(ctx, c),
    fill: (c, w, budget) => fillOutput(ctx, c, w, budget, scratch),
    tick(now) {
      tickKeepalive(ctx, now);
      tickSessions(ctx, now);
      tickCongestion(ctx, now);
    },
    ..._operations(ctx),
  };
}

function _context(opts: Partial<BrokerOptions>, deps: BrokerDeps): BrokerContext {
  const metrics = createMetrics();
  const ctx: BrokerContext = {
    opts: { ...DEFAULT_BROKER_OPTIONS, ...opts },
    deps,
    sessions: new Map(),
    clients: new Set(),
    tree: createTopicTree(),
    retained: createRetainedStore((topic) => journalRetained(ctx, topic, null)),
    metrics,
    timed: new Set(),
    congested: new Set(),
    auth: null,
    authGen: 0,
    journal: deps.journal ?? null,
    storeFull: false,
    limits: new LimitLog(metrics, deps.log, deps.now),
    peering: null,
    hooks: deps.hooks ?? {},
  };
  if (deps.peers !== undefined) ctx.peering = startPeering(ctx, deps.peers);
  return ctx;
}

/** What the cli and the bridges ask of the broker beside the packet path. */
function _operations(
  ctx: BrokerContext,
): Omit<
  Broker,
  "metrics" | "limits" | "options" | "attach" | "handle" | "reject" | "detach" | "fill" | "tick"
> {
  return {
    peerInterest(from, key, added) {
      if (ctx.peering !== null) peerInterest(ctx, ctx.peering, from, key, added);
    },
    peerMessage(from, msg, how, key) {
      if (ctx.peering !== null) peerMessage(ctx, ctx.peering, from, msg, how, key);
    },
    peerDrained(peer) {
      if (ctx.peering !== null) peerDrained(ctx, ctx.peering, peer);
    },
    peerCommitted(peer, upTo) {
      if (ctx.peering !== null) peerCommitted(ctx.peering, peer, upTo);
    },
    close() {
      for (const c of [...ctx.clients]) {
        disconnectClient(ctx, c, RC.SERVER_SHUTTING_DOWN, "The broker is shutting down");
      }
    },
    configure(opts) {
      const before = ctx.opts.serverReference;
      ctx.opts = { ...ctx.opts, ...opts };
      if (ctx.opts.serverReference !== "" && ctx.opts.serverReference !== before) redirectConnected(ctx);
      for (const s of ctx.sessions.values()) s.queue.bound = queueBound(ctx, s.clientId);
    },
    setAuth(auth) {
      ctx.auth = auth;
      ctx.authGen++;
      revalidate(ctx);
    },
    publish(topic, payload, opts) {
      publishMessage(ctx, createMessage(topic, payload, opts));
    },
    restore: (snap) => restoreState(ctx, snap),
    session(clientId) {
      const s = ctx.sessions.get(clientId);
      if (s === undefined) return undefined;
      return {
        queued: s.queue.length,
        inflight: s.inflight.size,
        dropped: s.queue.dropped,
        filters: [...s.subs.keys()],
      };
    },
    stats: () => _stats(ctx),
    clients: () => listClients(ctx),
    subscriptions: () => listSubscriptions(ctx),
    retained: (filter) => listRetained(ctx, filter),
    kick: (id) => kickClient(ctx, id),
    subscribeFor: (id, topic, qos) => subscribeFor(ctx, id, topic, qos),
    unsubscribeFor: (id, topic) => unsubscribeFor(ctx, id, topic),
  };
}

function _handle(ctx: BrokerContext, c: Client, p: InboundPacket): void {
  try {
    _dispatch(ctx, c, p);
  } catch (e) {
    if (e instanceof AclPending) return _later(ctx, c, p, e.answer);
    if (!(e instanceof MqttError)) throw e;
    rejectClient(ctx, c, e);
  }
}

/**
 * An access control answer comes later: nothing more is read from `c` until it is in, then the
 * same packet is handled again (finding the answer) before the packets behind it.
 */
function _later(ctx: BrokerContext, c: Client, p: InboundPacket, answer: Promise<void>): void {
  if (p.cmd === "publish") {
    // the payload may point into a read buffer that will not stay
    p.payload = Buffer.from(p.payload);
    if (p.props !== null) p.props = Buffer.from(p.props);
  }
  if (c.holds++ === 0) c.sink.hold();
  void answer.catch(() => {}).then(() => {
    if (c.state === ClientState.Closed) return;
    _handle(ctx, c, p);
    if (--c.holds === 0 && (c.state as ClientState) !== ClientState.Closed) c.sink.release();
  });
}

/** Counts of this core's own sessions: the stand-ins for other workers (multi-core) are not counted. */
function _stats(ctx: BrokerContext): ReturnType<Broker["stats"]> {
  let queued = 0;
  let sessions = 0;
  let subscriptions = 0;
  for (const s of ctx.sessions.values()) {
    if (s.peer >= 0) continue;
    sessions++;
    subscriptions += s.subs.size;
    queued += s.queue.length;
  }
  return { clients: ctx.clients.size, sessions, subscriptions, retained: ctx.retained.count, queued };
}

function _dispatch(ctx: BrokerContext, c: Client, p: InboundPacket): void {
  if (c.state === ClientState.New) {
    if (p.cmd === "auth" && c.authx !== null) return handleAuth(ctx, c, p);
    if (c.authx !== null) {
      throw new MqttError(RC.PROTOCOL_ERROR, `${p.cmd} during authentication`, "[MQTT-4.12.0-4]");
    }
    if (p.cmd !== "connect") {
      throw new MqttError(RC.PROTOCOL_ERROR, `${p.cmd} before CONNECT`, "[MQTT-3.1.0-1]");
    }
    handleConnect(ctx, c, p);
    return;
  }
  switch (p.cmd) {
    case "publish":
      return handlePublish(ctx, c, p);
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return handleAck(ctx, c, p);
    case "subscribe":
      return handleSubscribe(ctx, c, p);
    case "unsubscribe":
      return handleUnsubscribe(ctx, c, p);
    case "pingreq":
      return handlePingreq(c);
    case "disconnect":
      return handleDisconnect(ctx, c, p);
    case "auth":
      return handleAuth(ctx, c, p);
    case "connect":
      throw new MqttError(RC.PROTOCOL_ERROR, "Second CONNECT", "[MQTT-3.1.0-2]");
  }
}
