/**
 * Which accepted connections are let in: at most mqtt.max_connections open (and a listener's own
 * max_connections through it), at most mqtt.max_conn_rate_per_ip new ones per second from one
 * address. A connection over a limit is closed before a byte is read from it, as Mosquitto and
 * EMQX do: no state is kept for it. On a multi-core broker each worker takes its share of the
 * limits on connections (the kernel spreads a shared port's connections evenly).
 */
import type { LimitLog } from "../broker/limits.ts";
import { ipOf } from "../broker/client.ts";
import type { Connection, ConnectionHandlers } from "../runtime/connection.ts";
import { ForwardingConnection } from "./forwarding_connection.ts";

/** The limits on connections as a whole. */
export interface AdmissionLimits {
  /** Open connections, 0 for no limit. */
  maxConnections: number;
  /** New connections per second from one IP address, 0 for no limit. */
  maxConnRatePerIp: number;
}

/** One listener's count of open connections and its own limit (0: none). */
export interface ListenerCount {
  open: number;
  max: number;
  name: string;
}

/** Per-IP token buckets are pruned once there are this many. */
const PRUNE_AT = 4096;

/** Counts open connections and new ones per IP address. */
export class Admission {
  private open = 0;
  private prunedAt = 0;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private limits: AdmissionLimits,
    private readonly share: number,
    private readonly now: () => number,
    private readonly log: LimitLog,
  ) {}

  set(limits: AdmissionLimits): void {
    this.limits = limits;
  }

  /** This worker's share of a limit on connections (0: none). */
  shareOf(max: number): number {
    return max === 0 ? 0 : Math.ceil(max / this.share);
  }

  /** `conn` was accepted by listener `l`: the connection to bind, or null when it was closed. */
  admit(conn: Connection, l: ListenerCount): Connection | null {
    const max = this.shareOf(this.limits.maxConnections);
    if (max > 0 && this.open >= max) {
      return this._refuse(conn, "max_connections", `${max} connections are open`);
    }
    if (l.max > 0 && l.open >= l.max) {
      return this._refuse(conn, "listener_max_connections", `${l.max} connections are open on ${l.name}`);
    }
    if (this.limits.maxConnRatePerIp > 0 && !this._take(ipOf(conn.remoteAddress))) {
      return this._refuse(
        conn,
        "max_conn_rate",
        `${conn.remoteAddress} opened more than ${this.limits.maxConnRatePerIp} connections in a second`,
      );
    }
    this.open++;
    l.open++;
    return new CountedConnection(conn, this, l);
  }

  /** A connection `admit` let in through `l` has closed. */
  closed(l: ListenerCount): void {
    this.open--;
    l.open--;
  }

  private _refuse(conn: Connection, name: Parameters<LimitLog["hit"]>[0], why: string): null {
    this.log.hit(name, `a connection from ${conn.remoteAddress} was closed: ${why}`);
    conn.destroy();
    return null;
  }

  /** A token from the bucket of `ip`, which refills at the rate per second up to the rate. */
  private _take(ip: string): boolean {
    const rate = this.limits.maxConnRatePerIp;
    const t = this.now();
    let b = this.buckets.get(ip);
    if (b === undefined) {
      if (this.buckets.size >= PRUNE_AT && t - this.prunedAt >= 1000) this._prune(t, rate);
      this.buckets.set(ip, b = { tokens: rate, at: t });
    } else {
      b.tokens = Math.min(rate, b.tokens + ((t - b.at) * rate) / 1000);
      b.at = t;
    }
    if (b.tokens < 1) return false;
    b.tokens--;
    return true;
  }

  /** Buckets that have refilled are the same as none. */
  private _prune(t: number, rate: number): void {
    this.prunedAt = t;
    for (const [ip, b] of this.buckets) {
      if (b.tokens + ((t - b.at) * rate) / 1000 >= rate) this.buckets.delete(ip);
    }
  }
}

/**
 * A connection that gives its place back when it closes. It is its own handler object, as Link is:
 * no closures per connection.
 */
class CountedConnection extends ForwardingConnection implements ConnectionHandlers {
  private h: ConnectionHandlers | null = null;

  constructor(conn: Connection, private readonly admission: Admission, private readonly l: ListenerCount) {
    super(conn);
  }
  override start(h: ConnectionHandlers): void {
    this.h = h;
    this.conn.start(this);
  }
  onData(chunk: Buffer): void {
    this.h!.onData(chunk);
  }
  onDrain(): void {
    this.h!.onDrain();
  }
  onClose(): void {
    this.admission.closed(this.l);
    this.h!.onClose();
  }
}
