/**
 * The `$SYS/broker/...` tree as Mosquitto publishes it: retained messages, every `sys_interval`
 * seconds, each only when its value changed (the uptime always). Subscribers get them like any
 * message: only where their ACL lets them read `$SYS/...`, and `#` does not match them.
 */
import { droppedTotal } from "../broker/metrics.ts";
import type { BrokerView } from "./broker_view.ts";
import { type Gauges, LOAD_SERIES } from "./gauges.ts";

const WINDOWS = ["1min", "5min", "15min"] as const;

/** Publishes the tree on its interval; `tick` is called about once a second. */
export class SysTree {
  private next = 0;
  private readonly last = new Map<string, string>();

  constructor(
    private readonly broker: BrokerView,
    private readonly gauges: Gauges,
    private readonly version: string,
    private readonly startedAt: number,
    private intervalMs: number,
  ) {}

  /** A reload changed `sys_interval` (0: off). */
  setInterval(ms: number): void {
    this.intervalMs = ms;
    this.next = 0;
  }

  tick(now: number): void {
    if (this.intervalMs <= 0 || now < this.next) return;
    this.next = now + this.intervalMs;
    for (const [topic, value] of this.values(now)) {
      if (this.last.get(topic) === value && !topic.endsWith("/uptime")) continue;
      this.last.set(topic, value);
      this.broker.publish(topic, Buffer.from(value), { retain: true });
    }
  }

  /** Every topic and its value now. */
  values(now: number): [string, string][] {
    const m = this.broker.metrics();
    const g = this.gauges;
    const offline = Math.max(0, g.current.sessions - m.clientsConnected);
    const dropped = droppedTotal(m);
    const v: [string, number | string][] = [
      ["version", `edge-mqtt-broker version ${this.version}`],
      ["uptime", `${Math.floor((now - this.startedAt) / 1000)} seconds`],
      ["clients/connected", m.clientsConnected],
      ["clients/active", m.clientsConnected],
      ["clients/disconnected", offline],
      ["clients/inactive", offline],
      ["clients/maximum", m.clientsMax],
      ["clients/total", m.clientsConnected + offline],
      ["clients/expired", m.sessionsExpired],
      ["messages/received", m.messagesReceived],
      ["messages/sent", m.messagesSent],
      ["messages/stored", g.current.queued + g.current.retained],
      ["publish/messages/dropped", dropped],
      ["bytes/received", m.bytesReceived],
      ["bytes/sent", m.bytesSent],
      ["subscriptions/count", g.current.subscriptions],
      ["retained messages/count", g.current.retained],
      ["store/messages/count", g.current.queued + g.current.retained],
      ["heap/current", g.current.memory],
      ["heap/maximum", g.max.memory],
    ];
    for (const series of LOAD_SERIES) {
      const avg = g.load.get(series)!;
      WINDOWS.forEach((w, i) => v.push([`load/${series}/${w}`, avg[i]!.toFixed(2)]));
    }
    return v.map(([k, x]) => [`$SYS/broker/${k}`, String(x)]);
  }
}
