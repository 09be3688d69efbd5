/**
 * A small MQTT 3.1, 3.1.1 and 5.0 client over a runtime Connection, for the client tools (pub,
 * sub, conn, bench): CONNECT, SUBSCRIBE and UNSUBSCRIBE, PUBLISH at QoS 0, 1 and 2 both ways,
 * topic aliases from the server, keep alive, DISCONNECT. It keeps to the server's Receive Maximum
 * and to the socket's backpressure, and encodes with the broker's own codec.
 */
import {
  connectPacket,
  type IConnackPacket,
  type MqttPacket,
  ServerDecoder,
  type ServerPacket,
  writeAck,
  writePacket,
} from "../protocol/codec.ts";
import type { ConnectWill, ISubscription, Properties } from "../protocol/packets.ts";
import { PacketWriter } from "../protocol/packet_writer.ts";
import { emptyPublishOut, type PublishPacket, writePublish } from "../protocol/publish_codec.ts";
import { MqttError, reasonText } from "../protocol/reason_code.ts";
import type { Connection } from "../runtime/connection.ts";
import { ClientError } from "./client_error.ts";
import { describePacket } from "./describe_packet.ts";

/** How a client connects. */
export interface ClientOptions {
  version: 3 | 4 | 5;
  clientId: string;
  /** Seconds; 0 turns keep alive off. */
  keepalive: number;
  clean: boolean;
  username?: string;
  password?: Buffer;
  will?: ConnectWill;
  /** MQTT 5 CONNECT properties. */
  properties?: Properties;
  /** Told of every packet sent (">") and received ("<"), for -d. */
  debug?: (dir: ">" | "<", what: string) => void;
}

/** How one message is published; `props` are MQTT 5 property bytes (encodePropertyBytes), null for none. */
export interface PublishOptions {
  qos: 0 | 1 | 2;
  retain: boolean;
  props: Buffer | null;
}

type Waiter = { resolve(v: unknown): void; reject(e: Error): void };

const ACK = { puback: 4, pubrec: 5, pubrel: 6, pubcomp: 7 } as const;

/** One connection to a broker. */
export class MqttClient {
  /** A message for one of the subscriptions (its payload is valid until the handler returns). */
  onMessage: (m: PublishPacket) => void = () => {};
  /** The connection ended: `e` says why, null after {@link disconnect}. */
  onClose: (e: ClientError | null) => void = () => {};
  /** The server's CONNACK, once connected. */
  connack: IConnackPacket | null = null;
  private readonly w = new PacketWriter();
  private readonly dec: ServerDecoder;
  private readonly out = emptyPublishOut();
  private readonly v5: boolean;
  private nextId = 1;
  /** By packet identifier: publishes at QoS 1 and 2, subscribes and unsubscribes in flight. */
  private readonly waiting = new Map<number, Waiter>();
  private readonly rxQos2 = new Set<number>();
  private readonly aliases = new Map<number, string>();
  private inflight = 0;
  private sendQuota = 65535;
  private readonly slotWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private blocked = false;
  private flushQueued = false;
  private connecting: Waiter | null = null;
  private ending = false;
  private closed = false;
  private why: ClientError | null = null;
  private lastTx = 0;
  private lastRx = 0;
  private keepaliveMs = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly conn: Connection, private readonly o: ClientOptions) {
    this.dec = new ServerDecoder(o.version);
    this.v5 = o.version === 5;
  }

  /** The client identifier it connects with (the server may assign another: see its CONNACK). */
  get clientId(): string {
    return this.o.clientId;
  }

  /** Sends CONNECT; resolves with the CONNACK, rejects with ClientError ("refused" with its code, "timeout", "closed"). */
  connect(timeoutMs: number): Promise<IConnackPacket> {
    this.conn.start({
      onData: (chunk) => this._data(chunk),
      onDrain: () => this._drained(),
      onClose: () => this._closed(),
    });
    this._write(connectPacket(this.o));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this._end(new ClientError("timeout", `no CONNACK within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.connecting = {
        resolve: (v) => (clearTimeout(timer), resolve(v as IConnackPacket)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      };
    });
  }

  /** Subscribes; resolves with the SUBACK's codes, one per subscription. */
  subscribe(subs: ISubscription[], properties?: Properties): Promise<number[]> {
    const messageId = this._id();
    const p: Record<string, unknown> = { cmd: "subscribe", messageId, subscriptions: subs };
    if (this.v5 && properties !== undefined) p.properties = properties;
    return this._request(messageId, p as unknown as MqttPacket) as Promise<number[]>;
  }

  /** Unsubscribes; resolves with the UNSUBACK's codes (MQTT 5; none before). */
  unsubscribe(topics: string[], properties?: Properties): Promise<number[]> {
    const messageId = this._id();
    const p: Record<string, unknown> = { cmd: "unsubscribe", messageId, unsubscriptions: topics };
    if (this.v5 && properties !== undefined) p.properties = properties;
    return this._request(messageId, p as unknown as MqttPacket) as Promise<number[]>;
  }

  /**
   * Publishes; resolves with the reason code once the server acknowledged it (QoS 1: PUBACK, QoS 2:
   * PUBCOMP, or a PUBREC refusing it), at QoS 0 once the socket takes more. Waits for a free slot
   * under the server's Receive Maximum.
   */
  async publish(topic: string, payload: Buffer, o: PublishOptions): Promise<number> {
    if (o.qos > 0) {
      while (this.inflight >= this.sendQuota) await new Promise<void>((r) => this.slotWaiters.push(r));
    }
    if (this.closed) throw this.why ?? new ClientError("closed", "the connection is closed");
    const out = this.out;
    out.topic = topic;
    out.payload = payload;
    out.qos = o.qos;
    out.retain = o.retain;
    out.dup = false;
    out.messageId = o.qos > 0 ? this._id() : 0;
    out.v5 = this.v5;
    out.props = this.v5 ? o.props : null;
    writePublish(this.w, out, Buffer.byteLength(topic));
    if (this.o.debug !== undefined) this._debug(">", _describePublish({ ...out, payload }));
    this._queueFlush();
    if (o.qos === 0) {
      if (this.blocked) await new Promise<void>((r) => this.drainWaiters.push(r));
      return 0;
    }
    this.inflight++;
    return await new Promise<number>((resolve, reject) => {
      this.waiting.set(out.messageId, { resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /** Sends DISCONNECT and closes; resolves once the connection is closed. */
  disconnect(reasonCode = 0, properties?: Properties): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.ending = true;
    const p: Record<string, unknown> = { cmd: "disconnect", reasonCode };
    if (properties !== undefined) p.properties = properties;
    this._write(p as unknown as MqttPacket);
    this._flush();
    const done = new Promise<void>((r) => {
      const before = this.onClose;
      this.onClose = (e) => (before(e), r());
    });
    this.conn.end();
    return done;
  }

  /** Closes at once, without DISCONNECT (the will is published). */
  destroy(): void {
    this.conn.destroy();
  }

  private _request(id: number, p: MqttPacket): Promise<unknown> {
    if (this.closed) return Promise.reject(this.why ?? new ClientError("closed", "the connection is closed"));
    this._write(p);
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  private _id(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = id === 0xffff ? 1 : id + 1;
      if (!this.waiting.has(id)) return id;
    }
  }

  private _write(p: MqttPacket): void {
    writePacket(this.w, p, this.o.version);
    this._debug(">", describePacket(p));
    this._queueFlush();
  }

  private _debug(dir: ">" | "<", what: string): void {
    this.o.debug?.(dir, what);
  }

  private _queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => this._flush());
  }

  private _flush(): void {
    this.flushQueued = false;
    const b = this.w.take();
    if (b === null || this.closed) return;
    this.lastTx = Date.now();
    if (!this.conn.write(b)) this.blocked = true;
  }

  private _drained(): void {
    this.blocked = false;
    const ws = this.drainWaiters;
    this.drainWaiters = [];
    for (const r of ws) r();
  }

  private _data(chunk: Buffer): void {
    this.lastRx = Date.now();
    this.dec.push(chunk);
    try {
      for (let p = this.dec.next(); p !== null && !this.closed; p = this.dec.next()) this._packet(p);
    } catch (e) {
      if (!(e instanceof MqttError)) throw e;
      this._end(new ClientError("protocol", `the server sent a malformed packet: ${e.message}`, e.code));
    }
  }

  private _packet(p: ServerPacket): void {
    if (this.o.debug !== undefined) {
      this._debug("<", p.cmd === "publish" ? _describePublish(p) : describePacket(p as MqttPacket));
    }
    switch (p.cmd) {
      case "connack":
        return this._connack(p);
      case "publish":
        return this._receive(p);
      case "puback":
      case "pubcomp":
        return this._acked(p.messageId, p.reasonCode);
      case "pubrec":
        if (p.reasonCode >= 0x80) return this._acked(p.messageId, p.reasonCode);
        return this._ack("pubrel", p.messageId);
      case "pubrel":
        this.rxQos2.delete(p.messageId);
        return this._ack("pubcomp", p.messageId);
      case "suback":
        return this._answered(p.messageId ?? 0, p.granted);
      case "unsuback":
        return this._answered(p.messageId ?? 0, p.granted ?? []);
      case "disconnect": {
        const code = p.reasonCode ?? 0;
        const said = p.properties?.reasonString;
        const why = `the server disconnected: ${reasonText(code)}${said === undefined ? "" : ` "${said}"`}`;
        return this._end(new ClientError("closed", why, code));
      }
    }
  }

  private _connack(p: IConnackPacket): void {
    const code = (this.v5 ? p.reasonCode : p.returnCode) ?? 0;
    if (code !== 0) {
      const said = p.properties?.reasonString;
      const why = `the server refused the connection: ${reasonText(code, !this.v5)}${
        said === undefined ? "" : ` "${said}"`
      }`;
      return this._end(new ClientError("refused", why, code));
    }
    this.connack = p;
    this.sendQuota = p.properties?.receiveMaximum ?? 65535;
    this.keepaliveMs = (p.properties?.serverKeepAlive ?? this.o.keepalive) * 1000;
    if (this.keepaliveMs > 0) {
      this.timer = setInterval(() => this._keepalive(), Math.min(1000, this.keepaliveMs / 4));
    }
    const c = this.connecting;
    this.connecting = null;
    c?.resolve(p);
  }

  private _receive(p: PublishPacket): void {
    if (p.topicAlias > 0) {
      if (p.topic !== "") this.aliases.set(p.topicAlias, p.topic);
      else {
        const known = this.aliases.get(p.topicAlias);
        if (known === undefined) {
          return this._end(
            new ClientError("protocol", `the server used topic alias ${p.topicAlias} before setting it`),
          );
        }
        p.topic = known;
      }
    }
    if (p.qos === 2) {
      if (!this.rxQos2.has(p.messageId)) this.onMessage(p);
      this.rxQos2.add(p.messageId);
      return this._ack("pubrec", p.messageId);
    }
    this.onMessage(p);
    if (p.qos === 1) this._ack("puback", p.messageId);
  }

  private _ack(type: keyof typeof ACK, id: number): void {
    writeAck(this.w, ACK[type], id, 0, this.v5);
    if (this.o.debug !== undefined) this._debug(">", `${type.toUpperCase()} (m${id})`);
    this._queueFlush();
  }

  private _acked(id: number, code: number): void {
    const w = this.waiting.get(id);
    if (w === undefined) return;
    this.waiting.delete(id);
    this.inflight--;
    this.slotWaiters.shift()?.();
    w.resolve(code);
  }

  private _answered(id: number, codes: number[]): void {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    w?.resolve(codes);
  }

  private _keepalive(): void {
    const now = Date.now();
    if (now - this.lastRx > this.keepaliveMs * 1.5) {
      return this._end(
        new ClientError("timeout", `the server sent nothing for ${Math.round((now - this.lastRx) / 1000)} s`),
      );
    }
    if (now - this.lastTx >= this.keepaliveMs / 2) this._write({ cmd: "pingreq" });
  }

  /** Ends the connection with `why`; the close that follows reports it. */
  private _end(why: ClientError): void {
    if (this.why === null) this.why = why;
    this.conn.destroy();
  }

  private _closed(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    const why = this.why ??
      (this.ending ? null : new ClientError("closed", "the server closed the connection"));
    const failure = why ?? new ClientError("closed", "the connection is closed");
    this.connecting?.reject(failure);
    this.connecting = null;
    for (const w of this.waiting.values()) w.reject(failure);
    this.waiting.clear();
    for (const r of this.slotWaiters.splice(0)) r();
    this._drained();
    this.onClose(why);
  }
}

function _describePublish(
  p: { qos: number; retain: boolean; messageId: number; topic: string; payload: Buffer },
): string {
  return `PUBLISH (q${p.qos}, r${
    p.retain ? 1 : 0
  }, m${p.messageId}, '${p.topic}', ${p.payload.length} bytes)`;
}
