/**
 * One connected spell of a bridge: the upstream connection and the bridge's own client connection
 * to the local broker, with packets relayed between them. A forwarded message keeps its packet
 * identifier on both sides, so the local broker's in-flight state for the bridge's session is the
 * upstream in-flight state too: it survives a lost uplink and a restart, and a resend after either
 * carries the identifier upstream already knows (QoS 2 stays exactly once with a persistent
 * upstream session). The same holds the other way for subscriptions.
 */
import {
  connectPacket,
  type IConnectPacket,
  ServerDecoder,
  type ServerPacket,
  writeAck,
  writePacket,
} from "../protocol/codec.ts";
import { PacketWriter } from "../protocol/packet_writer.ts";
import { emptyPublishOut, type PublishPacket, writePublish } from "../protocol/publish_codec.ts";
import { MqttError } from "../protocol/reason_code.ts";
import { topicMatches } from "../protocol/topic.ts";
import {
  type BridgeOptions,
  type ForwardRule,
  rewriteTopic,
  type SubscriptionRule,
} from "./bridge_options.ts";
import { LocalPipe } from "./local_pipe.ts";
import { writeLocalConnect, writeLocalSubscribes } from "./local_session_packets.ts";
import { UpstreamAliases } from "./upstream_aliases.ts";
import { UpstreamSubscriptions } from "./upstream_subscriptions.ts";
import type { Logger } from "../broker/deps.ts";
import type { Connection } from "../runtime/connection.ts";

/** Counts of one bridge, kept across its connections. */
export interface BridgeCounters {
  /** Messages sent upstream (resends included). */
  forwarded: number;
  /** Messages received from upstream and handed to the local broker. */
  received: number;
  /** Local messages that matched no forward rule any more (a rule removed from the configuration). */
  unmatched: number;
  /** Forwarded messages that upstream acknowledged with an error reason code (MQTT 5). */
  refused: number;
  /** The reason code of the last of them. */
  lastRefusal: number;
  /** Bytes of topic names not sent upstream thanks to Topic Aliases, less the aliases' own bytes. */
  aliasSaved: number;
}

/** What a BridgeConnection needs from its owner. */
export interface BridgeConnectionDeps {
  opts: BridgeOptions;
  upstream: Connection;
  /** Binds the bridge's local client connection to the broker. */
  attachLocal(conn: Connection): void;
  log: Logger;
  counters: BridgeCounters;
  /** Both sides are connected and subscribed. */
  onUp(): void;
  /** The connection ended (once); `why` is for the log. */
  onDown(why: string): void;
}

type Phase = "connack" | "local" | "localSub" | "sub" | "ready" | "closed";

const ACK_TYPE = { puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7 } as const;

/** One upstream connection and its local twin. */
export class BridgeConnection {
  private phase: Phase = "connack";
  private readonly up: ServerDecoder;
  private readonly local = new ServerDecoder(5);
  private readonly upW = new PacketWriter();
  private readonly localW = new PacketWriter();
  private readonly out = emptyPublishOut();
  private pipe: LocalPipe | null = null;
  /** Upstream packets that came before both sides were ready. */
  private early: ServerPacket[] = [];
  private pendingSubacks = 0;
  private readonly subs: UpstreamSubscriptions;
  /** The packet identifier of the SUBSCRIBE sent at connect, whose SUBACK makes the bridge ready. */
  private firstSub = -1;
  private lastRx = Date.now();
  private lastTx = Date.now();
  private timer: ReturnType<typeof setInterval> | null = null;
  private localFlushQueued = false;
  /** Topic Aliases toward upstream, as many as its CONNACK grants (MQTT 5). */
  private aliases: UpstreamAliases | null = null;

  constructor(private readonly d: BridgeConnectionDeps) {
    this.up = new ServerDecoder(d.opts.protoVer);
    this.subs = new UpstreamSubscriptions(d.opts, d.log);
  }

  /**
   * Subscription rules added while connected (HTTP API): subscribed now when the rules were
   * already subscribed at connect, else they go with that SUBSCRIBE.
   */
  subscribe(rules: readonly SubscriptionRule[], props: Record<string, unknown>): void {
    if (this.phase !== "sub" && this.phase !== "ready") return;
    this.subs.subscribe(this.upW, rules, props);
    this._flushUp();
  }

  /** Subscription rules removed while connected (HTTP API). */
  unsubscribe(filters: readonly string[], props: Record<string, unknown>): void {
    if (this.phase !== "sub" && this.phase !== "ready") return;
    this.subs.unsubscribe(this.upW, filters, props);
    this._flushUp();
  }

  start(): void {
    const d = this.d;
    d.upstream.start({
      onData: (chunk) => this._fromUpstream(chunk),
      onDrain: () => this.pipe?.drain(),
      onClose: () => this.close("the upstream connection closed"),
    });
    const o = d.opts;
    const connect = connectPacket({
      version: o.protoVer,
      clientId: o.clientId,
      clean: o.cleanStart,
      keepalive: Math.round(o.keepaliveMs / 1000),
      username: o.username,
      password: o.password === undefined ? undefined : Buffer.from(o.password),
      will: o.will === null ? undefined : o.will as unknown as IConnectPacket["will"],
      properties: o.connProps,
    });
    writePacket(this.upW, connect, o.protoVer);
    this._flushUp();
    const tick = Math.max(100, Math.min(1000, o.keepaliveMs / 4));
    this.timer = setInterval(() => this._keepalive(), tick);
  }

  /** Ends both connections; the owner hears of it through onDown once. */
  close(why: string): void {
    if (this.phase === "closed") return;
    this.phase = "closed";
    if (this.timer !== null) clearInterval(this.timer);
    this.d.upstream.destroy();
    this.pipe?.destroy();
    this.d.onDown(why);
  }

  private _keepalive(): void {
    const ka = this.d.opts.keepaliveMs;
    const now = Date.now();
    // before it is up, a silent upstream (a blackholed link) is given as long as a keepalive, at most 10 s
    const limit = ka <= 0
      ? (this.phase === "ready" ? Infinity : 10_000)
      : this.phase === "ready"
      ? ka * 1.5
      : Math.min(ka * 1.5, 10_000);
    if (now - this.lastRx > limit) {
      return this.close(`nothing received from upstream for ${Math.round((now - this.lastRx) / 1000)} s`);
    }
    if (ka > 0 && this.phase === "ready" && now - this.lastTx >= ka / 2) {
      this.upW.u8(0xc0);
      this.upW.u8(0);
      this._flushUp();
    }
  }

  private _fromUpstream(chunk: Buffer): void {
    this.lastRx = Date.now();
    this.up.push(chunk);
    try {
      for (let p = this.up.next(); p !== null && this.phase !== "closed"; p = this.up.next()) {
        if (this.phase === "connack") this._connack(p);
        else if (p.cmd === "suback" && p.messageId === this.firstSub) this._upstreamSuback(p);
        else if (this.phase !== "ready") this.early.push(p);
        else this._upstreamPacket(p);
      }
    } catch (e) {
      // a bug here concerns this bridge connection only: it closes, and the bridge reconnects
      if (!(e instanceof MqttError)) {
        this.d.log.error(`Bridge ${this.d.opts.name}: internal error: ${(e as Error)?.stack ?? e}`);
        return this.close(`internal error: ${(e as Error)?.message ?? e}`);
      }
      return this.close(`upstream sent a malformed packet: ${e.message}`);
    }
    this._flushLocal();
    this._flushUp();
  }

  private _connack(p: ServerPacket): void {
    if (p.cmd !== "connack") return this.close(`upstream answered CONNECT with ${p.cmd}`);
    const code = p.reasonCode ?? p.returnCode ?? 0;
    if (code !== 0) return this.close(`upstream refused the connection (code 0x${code.toString(16)})`);
    const o = this.d.opts;
    const window = Math.min(o.window, p.properties?.receiveMaximum ?? 65535);
    const aliasMax = o.protoVer === 5 ? p.properties?.topicAliasMaximum ?? 0 : 0;
    if (aliasMax > 0) this.aliases = new UpstreamAliases(aliasMax, this.d.counters);
    this.phase = "local";
    this.pipe = new LocalPipe(`bridge ${o.name}`, {
      bytes: (buf) => this._fromLocal(buf),
      paused: (on) => this._pauseUpstream(on),
      closed: () => this.close("the local broker closed the bridge's session"),
    });
    this.d.attachLocal(this.pipe);
    writeLocalConnect(this.localW, o, window);
  }

  private _pauseUpstream(on: boolean): void {
    if (on) this.d.upstream.pause();
    else this.d.upstream.resume();
  }

  /** Bytes from the local broker: handshake answers, forwarded messages and acknowledgements. */
  private _fromLocal(buf: Buffer): boolean {
    this.local.push(buf);
    try {
      for (let p = this.local.next(); p !== null && this.phase !== "closed"; p = this.local.next()) {
        this._localPacket(p);
      }
    } catch (e) {
      if (!(e instanceof MqttError)) throw e;
      this.close(`the local broker sent a malformed packet: ${e.message}`);
      return true;
    }
    // the broker is writing to us: answer it after that write, not inside it
    if (!this.localFlushQueued) {
      this.localFlushQueued = true;
      queueMicrotask(() => {
        this.localFlushQueued = false;
        this._flushLocal();
      });
    }
    return this._flushUp();
  }

  private _localPacket(p: ServerPacket): void {
    switch (p.cmd) {
      case "publish":
        return this._forward(p);
      case "puback":
      case "pubrec":
      case "pubrel":
      case "pubcomp":
        return writeAck(this.upW, ACK_TYPE[p.cmd], p.messageId, p.reasonCode, this.d.opts.protoVer === 5);
      case "connack":
        return this._localConnack(p.reasonCode ?? 0);
      case "suback":
        if (--this.pendingSubacks === 0) this._subscribeUpstream();
        return;
      case "disconnect":
        return this.close(`the local broker disconnected the bridge (0x${(p.reasonCode ?? 0).toString(16)})`);
    }
  }

  private _localConnack(code: number): void {
    if (code !== 0) {
      return this.close(`the local broker refused the bridge's session (0x${code.toString(16)})`);
    }
    this.phase = "localSub";
    const rules = this.d.opts.forwards;
    if (rules.length === 0) return this._subscribeUpstream();
    this.pendingSubacks = rules.length;
    writeLocalSubscribes(this.localW, this.d.opts);
  }

  private _subscribeUpstream(): void {
    const o = this.d.opts;
    this.phase = "sub";
    if (o.subscriptions.length === 0) return this._ready();
    this.firstSub = this.subs.subscribe(this.upW, o.subscriptions, o.subProps);
  }

  private _upstreamSuback(p: ServerPacket & { cmd: "suback" }): void {
    this.firstSub = -1;
    this.subs.answered(p);
    this._ready();
  }

  private _ready(): void {
    this.phase = "ready";
    this.d.onUp();
    const early = this.early;
    this.early = [];
    for (const p of early) this._upstreamPacket(p);
  }

  /** A local message for the bridge's session: upstream with the rule's topic and flags. */
  private _forward(p: PublishPacket): void {
    const o = this.d.opts;
    const rule = this._forwardRule(p.subId, p.topic);
    if (rule === undefined) {
      this.d.counters.unmatched++;
      if (p.qos > 0) writeAck(this.localW, p.qos === 1 ? 4 : 5, p.messageId, 0, true);
      return;
    }
    const out = this.out;
    out.topic = rewriteTopic(rule, p.topic);
    out.payload = p.payload;
    out.qos = p.qos;
    out.retain = rule.retain === 2 ? p.retain : rule.retain === 1;
    out.dup = p.dup;
    out.messageId = p.messageId;
    out.v5 = o.protoVer === 5;
    out.props = p.props;
    out.expiry = p.expiry;
    const topicBytes = Buffer.byteLength(out.topic);
    writePublish(this.upW, out, this.aliases === null ? topicBytes : this.aliases.apply(out, topicBytes));
    this.d.counters.forwarded++;
  }

  /**
   * The rule the Subscription Identifier names, checked against the topic: a message queued before
   * the configuration changed may carry the number of a rule that is now another one.
   */
  private _forwardRule(subId: number, topic: string): ForwardRule | undefined {
    const rules = this.d.opts.forwards;
    const named = rules[subId - 1];
    if (named !== undefined && topicMatches(named.filter, topic)) return named;
    for (let i = 0; i < rules.length; i++) if (topicMatches(rules[i]!.filter, topic)) return rules[i];
    return undefined;
  }

  private _upstreamPacket(p: ServerPacket): void {
    switch (p.cmd) {
      case "publish":
        return this._receive(p);
      case "puback":
      case "pubrec":
      case "pubrel":
      case "pubcomp":
        if ((p.reasonCode ?? 0) >= 0x80) {
          this.d.counters.refused++;
          this.d.counters.lastRefusal = p.reasonCode!;
        }
        return writeAck(this.localW, ACK_TYPE[p.cmd], p.messageId, p.reasonCode, true);
      case "suback":
      case "unsuback":
        return this.subs.answered(p);
      case "disconnect":
        return this.close(`upstream disconnected the bridge (0x${(p.reasonCode ?? 0).toString(16)})`);
    }
  }

  /** An upstream message for a subscription rule: into the local broker as the bridge's own. */
  private _receive(p: PublishPacket): void {
    const rules = this.d.opts.subscriptions;
    let rule: SubscriptionRule | undefined;
    // the first matching rule applies, as in NanoMQ
    for (let i = 0; i < rules.length && rule === undefined; i++) {
      if (topicMatches(rules[i]!.filter, p.topic)) rule = rules[i];
    }
    const out = this.out;
    out.topic = rule === undefined ? p.topic : rewriteTopic(rule, p.topic);
    out.payload = p.payload;
    out.qos = p.qos;
    out.retain = rule === undefined || rule.retain === 2 ? p.retain : rule.retain === 1;
    out.dup = p.dup;
    out.messageId = p.messageId;
    out.v5 = true;
    out.props = p.props;
    out.expiry = p.expiry;
    writePublish(this.localW, out, Buffer.byteLength(out.topic));
    this.d.counters.received++;
  }

  private _flushLocal(): void {
    const b = this.localW.take();
    if (b !== null && this.pipe !== null) this.pipe.push(b);
  }

  /** Writes what is ready for upstream; false when the socket asks to wait for drain. */
  private _flushUp(): boolean {
    const b = this.upW.take();
    if (b === null || this.phase === "closed") return true;
    this.lastTx = Date.now();
    return this.d.upstream.write(b);
  }
}
