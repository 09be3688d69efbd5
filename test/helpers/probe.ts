/**
 * A well-behaved client beside an attack: an MQTT.js publisher and subscriber that make a QoS 1
 * round trip every PERIOD_MS and record how long each took. Tests assert that it keeps being served
 * while the attack goes on; the latencies are printed (figures in docs/limits.md), not asserted.
 */
import mqtt, { type MqttClient } from "mqtt";

const PERIOD_MS = 50;

/** What the probe saw. */
export interface ProbeReport {
  trips: number;
  p50: number;
  p99: number;
  max: number;
  /** Connections of the probe that closed: none is expected. */
  closes: number;
}

export class Probe {
  private readonly ms: number[] = [];
  private closes = 0;
  private running = true;
  private readonly loop: Promise<void>;

  private constructor(
    private readonly pub: MqttClient,
    private readonly sub: MqttClient,
    private readonly topic: string,
  ) {
    for (const c of [pub, sub]) c.on("close", () => this.closes++);
    this.loop = this._run();
  }

  static async start(port: number, topic = "probe/rtt"): Promise<Probe> {
    const o = { reconnectPeriod: 0, protocolVersion: 5 as const };
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, o);
    await sub.subscribeAsync(topic, { qos: 1 });
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, o);
    return new Probe(pub, sub, topic);
  }

  private async _run(): Promise<void> {
    while (this.running && this.closes === 0) {
      const t = performance.now();
      const got = new Promise((r) => this.sub.once("message", r));
      await this.pub.publishAsync(this.topic, "x", { qos: 1 });
      await got;
      this.ms.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, PERIOD_MS));
    }
  }

  /** Round trips so far. */
  get trips(): number {
    return this.ms.length;
  }

  /** Waits for `n` more round trips (the probe is served now, not only before). */
  async served(n = 3): Promise<void> {
    const want = this.ms.length + n;
    while (this.ms.length < want) {
      if (this.closes > 0) throw new Error("a probe connection closed");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<ProbeReport> {
    this.running = false;
    await this.loop.catch(() => {});
    this.pub.end(true);
    this.sub.end(true);
    const s = [...this.ms].sort((a, b) => a - b);
    const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
    return { trips: s.length, p50: at(0.5), p99: at(0.99), max: s.at(-1) ?? NaN, closes: this.closes };
  }
}

/** "p50 1.2 / p99 3.4 / max 5.6 ms over N round trips". */
export function probeText(r: ProbeReport): string {
  return `p50 ${r.p50.toFixed(1)} / p99 ${r.p99.toFixed(1)} / max ${
    r.max.toFixed(1)
  } ms over ${r.trips} round trips`;
}
