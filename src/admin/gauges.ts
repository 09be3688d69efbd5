/**
 * Counts sampled once a second for the API, Prometheus and `$SYS`: the current and highest
 * numbers of sessions, subscriptions and topics, CPU use, and Mosquitto-style load averages (the
 * per-minute rate of a counter, smoothed over 1, 5 and 15 minutes).
 */
import type { BrokerView } from "./broker_view.ts";
import type { ProcessStats } from "../runtime/os_services.ts";

/** The counters the load averages follow, by their `$SYS/broker/load/...` names. */
export const LOAD_SERIES = [
  "messages/received",
  "messages/sent",
  "bytes/received",
  "bytes/sent",
  "connections",
] as const;
export type LoadSeries = (typeof LOAD_SERIES)[number];

const WINDOWS_MIN = [1, 5, 15] as const;

/** What one sample reads. */
export interface Sample {
  sessions: number;
  subscriptions: number;
  retained: number;
  queued: number;
  /** CPU use of the process over the last interval, percent of one core. */
  cpuPercent: number;
  memory: number;
}

/** The sampled values and their maxima since the start. */
export class Gauges {
  readonly current: Sample = {
    sessions: 0,
    subscriptions: 0,
    retained: 0,
    queued: 0,
    cpuPercent: 0,
    memory: 0,
  };
  readonly max: Sample = { ...this.current };
  /** Most distinct filters seen by a scrape (counting them takes a walk, so scrapes do it). */
  topicsMax = 0;
  /** Per series: the smoothed per-minute rates over 1, 5 and 15 minutes. */
  readonly load = new Map<LoadSeries, [number, number, number]>(
    LOAD_SERIES.map((s) => [s, [0, 0, 0]]),
  );
  private last: { at: number; cpu: number; counts: number[] } | null = null;

  constructor(private readonly broker: BrokerView, private readonly stats: () => ProcessStats) {}

  /** Takes the once-a-second sample at `now` (ms): CPU use and the load averages move on. */
  sample(now: number): void {
    const p = this.stats();
    const counts = this._counts();
    const last = this.last;
    const dt = last === null ? 0 : (now - last.at) / 1000;
    const cpu = last === null || dt <= 0 ? 0 : ((p.cpuMicros - last.cpu) / 1e6 / dt) * 100;
    this.current.cpuPercent = Math.max(0, cpu);
    this.current.memory = p.rss;
    this.refresh();
    if (last !== null && dt > 0) this._smooth(counts, last.counts, dt);
    this.last = { at: now, cpu: p.cpuMicros, counts };
  }

  /** Reads the broker's counts now (a scrape wants them as they are) and updates the maxima. */
  refresh(): Sample {
    const b = this.broker.stats();
    const c = this.current;
    c.sessions = b.sessions;
    c.subscriptions = b.subscriptions;
    c.retained = b.retained;
    c.queued = b.queued;
    for (const k of Object.keys(this.max) as (keyof Sample)[]) this.max[k] = Math.max(this.max[k], c[k]);
    return c;
  }

  private _counts(): number[] {
    const m = this.broker.metrics();
    return [m.messagesReceived, m.messagesSent, m.bytesReceived, m.bytesSent, m.connectionsAccepted];
  }

  /** Exponential smoothing as Mosquitto does it: new = rate + (old - rate) * e^(-dt / window). */
  private _smooth(counts: number[], before: number[], dt: number): void {
    LOAD_SERIES.forEach((series, i) => {
      const perMinute = ((counts[i]! - before[i]!) / dt) * 60;
      const avg = this.load.get(series)!;
      WINDOWS_MIN.forEach((w, j) => {
        avg[j] = perMinute + (avg[j]! - perMinute) * Math.exp(-dt / (w * 60));
      });
    });
  }
}

/** NanoMQ's uptime wording: "3 Hours, 2 minutes, 1 seconds" (days added when there are any). */
export function uptimeText(ms: number): string {
  let s = Math.floor(ms / 1000);
  const days = Math.floor(s / 86400);
  s -= days * 86400;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const text = `${h} Hours, ${m} minutes, ${s % 60} seconds`;
  return days > 0 ? `${days} Days, ${text}` : text;
}

/** "YYYY-MM-DD HH:MM:SS" in local time, as NanoMQ's `datetime`. */
export function dateTimeText(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }:${p(d.getSeconds())}`;
}
