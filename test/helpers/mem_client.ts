/**
 * In-memory connection pair for broker unit tests: packets are encoded with mqtt-packet (as a client
 * would), decoded by our Decoder, handled by the broker; output goes through broker.fill and is
 * parsed back with mqtt-packet's client-side parser. The clock is manual.
 */
import mqttPacket, { type Packet } from "mqtt-packet";
import { type Broker, createBroker } from "../../src/broker/broker.ts";
import { Decoder } from "../../src/protocol/codec.ts";
import { PacketWriter } from "../../src/protocol/packet_writer.ts";
import { MqttError } from "../../src/protocol/reason_code.ts";
import type { Client, ClientSink } from "../../src/broker/state.ts";
import type { BrokerDeps, Logger } from "../../src/broker/deps.ts";
import type { BrokerOptions } from "../../src/broker/options.ts";

export const quietLog: Logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

/** A broker with a manual clock. */
export class TestBroker {
  now = 1_000_000;
  readonly broker: Broker;
  constructor(opts: Partial<BrokerOptions> = {}, deps: Partial<BrokerDeps> = {}) {
    this.broker = createBroker(opts, { now: () => this.now, log: quietLog, ...deps });
  }
  /** Advances the clock and runs tick(). */
  advance(ms: number): void {
    this.now += ms;
    this.broker.tick(this.now);
  }
  client(version = 4): MemClient {
    return new MemClient(this.broker, version);
  }
  /** A connected subscriber ("sub", subscribed to `topic` when given) and publisher ("pub"). */
  pair(version = 4, topic?: string, qos: 0 | 1 | 2 = 0): { sub: MemClient; pub: MemClient } {
    const sub = this.client(version);
    sub.connect("sub");
    if (topic !== undefined) sub.subscribe(topic, qos);
    const pub = this.client(version);
    pub.connect("pub");
    return { sub, pub };
  }
}

/** A broker (a new one unless given) with a connected MQTT 5 subscriber ("sub") and publisher ("pub"). */
export function pair5(tb = new TestBroker()): { tb: TestBroker; sub: MemClient; pub: MemClient } {
  return { tb, ...tb.pair(5) };
}

/** One client connection. `received` collects what the broker sent. */
export class MemClient implements ClientSink {
  blocked = false;
  /** A connection of the broker's own (a bridge): no authentication, no ACL. */
  trusted = false;
  closed = false;
  readonly remoteAddress = "memory";
  readonly received: Packet[] = [];
  readonly client: Client;
  private readonly decoder = new Decoder();
  private readonly parser;
  private readonly writer = new PacketWriter();

  constructor(private readonly broker: Broker, private readonly version: number) {
    this.client = broker.attach(this);
    this.parser = mqttPacket.parser({ protocolVersion: version });
    this.parser.on("packet", (p: Packet) => this.received.push(p));
    this.parser.on("error", (e: Error) => {
      throw e;
    });
  }

  held = false;
  wake(): void {}
  hold(): void {
    this.held = true;
  }
  release(): void {
    this.held = false;
  }
  close(): void {
    if (!this.closed) this.flush();
    this.closed = true;
  }

  /** Sends raw bytes as if read from the socket. */
  sendRaw(bytes: Buffer): void {
    this.decoder.push(bytes);
    try {
      for (let p = this.decoder.next(); p !== null; p = this.decoder.next()) {
        this.broker.handle(this.client, p);
      }
    } catch (e) {
      if (!(e instanceof MqttError)) throw e;
      this.broker.reject(this.client, e);
    }
    this.flush();
  }

  /** Encodes `p` for this client's protocol version and sends it. */
  send(p: Packet): void {
    this.sendRaw(mqttPacket.generate(p, { protocolVersion: this.version }));
  }

  /** Collects what the broker has queued for this connection. */
  flush(): void {
    while (this.broker.fill(this.client, this.writer, 1 << 20)) {
      const b = this.writer.take();
      if (b !== null) this.parser.parse(Buffer.from(b));
    }
    const b = this.writer.take();
    if (b !== null) this.parser.parse(Buffer.from(b));
  }

  /** CONNECT and return the CONNACK. */
  connect(clientId: string, extra: Record<string, unknown> = {}): Packet & Record<string, unknown> {
    this.send(
      {
        cmd: "connect",
        protocolId: this.version === 3 ? "MQIsdp" : "MQTT",
        protocolVersion: this.version as 3 | 4 | 5,
        clientId,
        clean: true,
        keepalive: 60,
        ...extra,
      } as Packet,
    );
    return this.take("connack");
  }

  /** The oldest received packet of `cmd`, removed from `received`; throws when there is none. */
  take(cmd: string): Packet & Record<string, unknown> {
    this.flush();
    const i = this.received.findIndex((p) => p.cmd === cmd);
    if (i < 0) {
      throw new Error(`no ${cmd} received; got ${this.received.map((p) => p.cmd).join(",") || "nothing"}`);
    }
    return this.received.splice(i, 1)[0] as Packet & Record<string, unknown>;
  }

  /** Every received packet of `cmd`, removed. */
  takeAll(cmd: string): (Packet & Record<string, unknown>)[] {
    this.flush();
    const out = this.received.filter((p) => p.cmd === cmd) as (Packet & Record<string, unknown>)[];
    for (let i = this.received.length - 1; i >= 0; i--) {
      if (this.received[i]!.cmd === cmd) this.received.splice(i, 1);
    }
    return out;
  }

  subscribe(
    topic: string,
    qos: 0 | 1 | 2 = 0,
    extra: Record<string, unknown> = {},
    properties?: Record<string, unknown>,
  ): Packet & Record<string, unknown> {
    this.requestSubscribe(topic, qos, extra, properties);
    return this.take("suback");
  }

  /** Sends SUBSCRIBE without waiting for SUBACK (on a multi-core broker it waits for the other workers). */
  requestSubscribe(
    topic: string,
    qos: 0 | 1 | 2 = 0,
    extra: Record<string, unknown> = {},
    properties?: Record<string, unknown>,
  ): void {
    const p: Record<string, unknown> = {
      cmd: "subscribe",
      messageId: 1,
      subscriptions: [{ topic, qos, ...extra }],
    };
    if (properties !== undefined) p.properties = properties;
    this.send(p as unknown as Packet);
  }

  publish(topic: string, payload: string, qos: 0 | 1 | 2 = 0, extra: Record<string, unknown> = {}): void {
    this.send(
      {
        cmd: "publish",
        topic,
        payload: Buffer.from(payload),
        qos,
        retain: false,
        dup: false,
        messageId: qos > 0 ? 7 : undefined,
        ...extra,
      } as Packet,
    );
  }

  /** Payloads (as strings) of the PUBLISH packets received, removed. */
  payloads(): string[] {
    return this.takeAll("publish").map((p) => String(p.payload));
  }
}
