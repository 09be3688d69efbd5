/**
 * The clients of scripts/soak.ts, on MQTT.js: publisher/subscriber pairs, idle subscribers that are
 * fed now and then, and persistent sessions that disconnect and come back (churn). Every message
 * carries a sequence number per topic, so that losses, duplicates and reordering are counted.
 */
import mqtt, { type IClientOptions, type MqttClient } from "mqtt";

/** Counts across all clients. */
export interface SoakCounts {
  sentQos0: number;
  /** QoS 1 messages whose PUBACK arrived: the broker owes them to their subscribers. */
  ackedQos1: number;
  received: number;
  /** Sequence numbers skipped: messages lost, by QoS. */
  lostQos0: number;
  lostQos1: number;
  /** A number seen again with DUP set: a QoS 1 message resent after a reconnect, as QoS 1 allows. */
  redelivered: number;
  /** A number seen again without DUP: a real duplicate. */
  duplicates: number;
  /** Connections closed that this script did not close. */
  unexpectedCloses: number;
  /** Disconnects and reconnects the churn clients made on purpose. */
  reconnects: number;
  connected: number;
}

export function emptyCounts(): SoakCounts {
  return {
    sentQos0: 0,
    ackedQos1: 0,
    received: 0,
    lostQos0: 0,
    lostQos1: 0,
    redelivered: 0,
    duplicates: 0,
    unexpectedCloses: 0,
    reconnects: 0,
    connected: 0,
  };
}

/** What one subscriber expects next on each topic it hears. */
class Expect {
  private readonly next = new Map<string, number>();
  constructor(private readonly n: SoakCounts) {}

  got(topic: string, seq: number, qos: number, dup: boolean): void {
    this.n.received++;
    const want = this.next.get(topic) ?? 0;
    if (seq < want) dup ? this.n.redelivered++ : this.n.duplicates++;
    else {
      if (seq > want) qos === 0 ? (this.n.lostQos0 += seq - want) : (this.n.lostQos1 += seq - want);
      this.next.set(topic, seq + 1);
    }
  }

  /** At the end: what was sent on `topic` (`sent` messages of `qos`) and never arrived. */
  settle(topic: string, sent: number, qos: number): void {
    const missing = sent - (this.next.get(topic) ?? 0);
    if (missing > 0) qos === 0 ? (this.n.lostQos0 += missing) : (this.n.lostQos1 += missing);
  }
}

/** Where the broker listens, by MQTT.js URL scheme. */
export type Urls = { mqtt: string; mqtts: string; ws: string; wss: string };
const SCHEMES = ["mqtt", "mqtts", "ws", "wss"] as const;

/** Opens and tracks the soak's connections. */
export class SoakClients {
  readonly n = emptyCounts();
  private readonly open = new Set<MqttClient>();
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private readonly settles: (() => void)[] = [];
  private stopping = false;
  /** Publishing stopped: churn clients stay (or come back) to take what waits for them. */
  private draining = false;

  constructor(private readonly urls: Urls, private readonly ca: string) {}

  /**
   * A connection on the i-th transport in turn; a close it did not ask for is counted. `expect`
   * hears its messages from the first: a resumed session's queue can arrive with the CONNACK.
   */
  async connect(i: number, o: IClientOptions, expect?: Expect): Promise<MqttClient> {
    const url = this.urls[SCHEMES[i % SCHEMES.length]!];
    const c = mqtt.connect(url, { reconnectPeriod: 0, ca: this.ca, connectTimeout: 30_000, ...o });
    if (expect !== undefined) {
      c.on("message", (t, p, pk) => expect.got(t, Number(p.toString()), pk.qos, pk.dup));
    }
    await new Promise((resolve, reject) => {
      c.once("connect", resolve);
      c.once("error", reject);
    });
    this.open.add(c);
    this.n.connected++;
    c.on("close", () => {
      if (!this.open.delete(c)) return;
      this.n.connected--;
      if (!c.disconnecting && !this.stopping) this.n.unexpectedCloses++;
    });
    return c;
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(setInterval(fn, ms));
  }

  /** A publisher and a subscriber: one message a `periodMs`, QoS 0 and 1 in turn, on their own topics. */
  async pair(i: number, periodMs: number): Promise<void> {
    const topic = `soak/pair/${i}`;
    const expect = new Expect(this.n);
    const sub = await this.connect(
      i,
      { clientId: `soak-sub-${i}`, keepalive: 30, protocolVersion: 5 },
      expect,
    );
    await sub.subscribeAsync(`${topic}/+`, { qos: 1 });
    const pub = await this.connect(i + 1, { clientId: `soak-pub-${i}`, keepalive: 60, protocolVersion: 4 });
    const sent = [0, 0];
    this.every(periodMs, () => {
      const qos = (sent[0]! + sent[1]!) % 2;
      const seq = sent[qos]!++;
      if (qos === 0) {
        this.n.sentQos0++;
        return void pub.publish(`${topic}/0`, String(seq), { qos: 0 });
      }
      pub.publishAsync(`${topic}/1`, String(seq), { qos: 1 }).then(() => this.n.ackedQos1++, () => {});
    });
    this.settles.push(() => {
      expect.settle(`${topic}/0`, sent[0]!, 0);
      expect.settle(`${topic}/1`, sent[1]!, 1);
    });
  }

  /** Idle subscribers with assorted keep alives (0 among them), each fed one QoS 1 message a `feedMs`. */
  async idle(from: number, count: number, feedMs: number): Promise<void> {
    const feeder = await this.connect(0, { clientId: "soak-idle-feeder", keepalive: 60 });
    const expect = new Expect(this.n);
    const keepalives = [0, 30, 60, 300];
    for (let i = from; i < from + count; i++) {
      const c = await this.connect(i, {
        clientId: `soak-idle-${i}`,
        keepalive: keepalives[i % keepalives.length]!,
        protocolVersion: i % 2 === 0 ? 4 : 5,
      }, expect);
      await c.subscribeAsync(`soak/idle/${i}`, { qos: 1 });
    }
    let fed = 0;
    this.every(feedMs, () => {
      const seq = fed++;
      for (let i = from; i < from + count; i++) {
        feeder.publishAsync(`soak/idle/${i}`, String(seq), { qos: 1 }).then(
          () => this.n.ackedQos1++,
          () => {},
        );
      }
    });
    this.settles.push(() => {
      for (let i = from; i < from + count; i++) expect.settle(`soak/idle/${i}`, fed, 1);
    });
  }

  /**
   * Persistent sessions that stay `minStayMs`..2x that, disconnect cleanly, and come back a few
   * seconds later; a feeder publishes QoS 1 to them all along, online or not.
   */
  async churn(from: number, count: number, periodMs: number, minStayMs: number): Promise<void> {
    const feeder = await this.connect(0, { clientId: "soak-churn-feeder", keepalive: 60 });
    const expect = new Expect(this.n);
    const sent = new Array<number>(count).fill(0);
    const session = (i: number): IClientOptions => ({
      clientId: `soak-churn-${i}`,
      keepalive: 30,
      clean: false,
      protocolVersion: i % 2 === 0 ? 4 : 5,
      ...(i % 2 === 0 ? {} : { properties: { sessionExpiryInterval: 3600 } }),
    });
    const live = async (i: number, first: boolean): Promise<void> => {
      if (this.stopping) return;
      const c = await this.connect(i, session(from + i), expect);
      if (first) await c.subscribeAsync(`soak/churn/${from + i}`, { qos: 1 });
      const stay = minStayMs * (1 + Math.random());
      setTimeout(() => {
        if (this.draining) return;
        this.n.reconnects++;
        c.end(
          false,
          {},
          () => setTimeout(() => void live(i, false).catch(() => {}), 1000 + Math.random() * 4000),
        );
      }, stay);
    };
    for (let i = 0; i < count; i++) await live(i, true);
    let turn = 0;
    this.every(periodMs, () => {
      const i = turn++ % count;
      const seq = sent[i]!++;
      feeder.publishAsync(`soak/churn/${from + i}`, String(seq), { qos: 1 }).then(
        () => this.n.ackedQos1++,
        () => {},
      );
    });
    this.settles.push(() => {
      for (let i = 0; i < count; i++) expect.settle(`soak/churn/${from + i}`, sent[i]!, 1);
    });
  }

  /** Stops publishing; after `graceMs` for the last deliveries, counts what never arrived and closes. */
  async finish(graceMs: number): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.draining = true;
    await new Promise((r) => setTimeout(r, graceMs));
    this.stopping = true;
    for (const s of this.settles) s();
    for (const c of this.open) c.end(true);
  }
}
