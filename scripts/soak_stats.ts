/** What scripts/soak.ts reads off the broker process (from /proc) and how it writes the samples. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { SoakCounts } from "./soak_clients.ts";

/** One reading of the broker process. */
export interface BrokerStats {
  at: number;
  rssMb: number;
  /** utime + stime, in clock ticks. */
  cpuTicks: number;
  /** Established TCP connections on the broker's listening ports, as the kernel counts them. */
  connections: number;
}

/** One line of samples.csv. */
export interface Sample {
  min: number;
  broker: BrokerStats;
  prev: BrokerStats;
  probe: { n: number; p50: number; p99: number; max: number };
  /** The soak process's own worst timer lag in the interval, ms. */
  lag: number;
  n: SoakCounts;
}

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

function _established(ports: number[]): number {
  const mine = new Set(ports);
  let n = 0;
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== "01") continue; // ESTABLISHED
      if (mine.has(parseInt(cols[1]?.split(":")[1] ?? "", 16))) n++;
    }
  }
  return n;
}

/** Reads the broker's RSS, CPU time and connections. */
export function brokerStats(pid: number, ports: number[]): BrokerStats {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // from field 3 (state) on
  const cpuTicks = Number(fields[11]) + Number(fields[12]); // utime (14), stime (15)
  return { at: Date.now(), rssMb: rssKb / 1024, cpuTicks, connections: _established(ports) };
}

export const SAMPLE_HEADER =
  "minute,rss_mb,cpu_pct,broker_connections,clients_connected,probe_n,probe_p50_ms," +
  "probe_p99_ms,probe_max_ms,soak_lag_ms,sent_qos0,acked_qos1,received,lost_qos0,lost_qos1,redelivered,duplicates," +
  "unexpected_disconnects,churn_reconnects";

export function sampleRow(s: Sample): string {
  const cpu = ((s.broker.cpuTicks - s.prev.cpuTicks) / CLK_TCK) / ((s.broker.at - s.prev.at) / 1000) * 100;
  const n = s.n;
  return [
    s.min.toFixed(1),
    s.broker.rssMb.toFixed(1),
    cpu.toFixed(1),
    s.broker.connections,
    n.connected,
    s.probe.n,
    s.probe.p50.toFixed(2),
    s.probe.p99.toFixed(2),
    s.probe.max.toFixed(2),
    s.lag.toFixed(0),
    n.sentQos0,
    n.ackedQos1,
    n.received,
    n.lostQos0,
    n.lostQos1,
    n.redelivered,
    n.duplicates,
    n.unexpectedCloses,
    n.reconnects,
  ].join(",");
}

/**
 * RSS growth in MB per hour: the least-squares slope over the samples after the warm-up (the
 * first sixth of the run, at most 10 minutes), when heaps and buffers reach their working size.
 */
export function rssSlope(samples: Sample[]): number {
  const total = samples.at(-1)?.min ?? 0;
  const after = samples.filter((s) => s.min >= Math.min(10, total / 6));
  if (after.length < 2) return NaN;
  const mx = after.reduce((a, s) => a + s.min, 0) / after.length;
  const my = after.reduce((a, s) => a + s.broker.rssMb, 0) / after.length;
  let num = 0;
  let den = 0;
  for (const s of after) {
    num += (s.min - mx) * (s.broker.rssMb - my);
    den += (s.min - mx) ** 2;
  }
  return den === 0 ? NaN : (num / den) * 60;
}
