/**
 * One configured bridge over its lifetime: connects (to `server`, then each of `hybrid_servers` in
 * turn after a failure), reconnects with exponential backoff up to `backoff_max`, and reports its
 * state in the log and as a retained `$SYS/brokers/<name>/state` message.
 */
import type { SessionInfo } from "../broker/broker.ts";
import type { ConnectOptions } from "../runtime/runtime.ts";
import { BridgeConnection, type BridgeCounters } from "./bridge_connection.ts";
import { type BridgeOptions, localClientId, type SubscriptionRule } from "./bridge_options.ts";
import { registerLocalSession } from "./register_local_session.ts";
import type { Logger } from "../broker/deps.ts";
import type { Connection } from "../runtime/connection.ts";

/** What a bridge needs from the program around it. */
export interface BridgeDeps {
  connect(o: ConnectOptions): Promise<Connection>;
  /** Binds the bridge's own client connection to the local broker. */
  attachLocal(conn: Connection): void;
  /** Publishes a retained message of the broker's own. */
  publishState(topic: string, payload: string): void;
  /** The state of a local session (the bridge's own is its cache). */
  session(clientId: string): SessionInfo | undefined;
  log: Logger;
}

/** The first reconnect waits this long; each failure doubles it, up to backoff_max. */
const FIRST_BACKOFF_MS = 500;
const CONNECT_TIMEOUT_MS = 10_000;
/** How often the counters are looked at, for the state message and the drops log. */
const WATCH_MS = 1000;

export type BridgeState = "connecting" | "connected" | "disconnected" | "stopped";

/** A bridge to one upstream broker (or a list of them to fail over between). */
export class Bridge {
  state: BridgeState = "disconnected";
  readonly counters: BridgeCounters = {
    forwarded: 0,
    received: 0,
    unmatched: 0,
    refused: 0,
    lastRefusal: 0,
    aliasSaved: 0,
  };
  private current: BridgeConnection | null = null;
  private failures = 0;
  private serverIdx = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private watch: ReturnType<typeof setInterval> | null = null;
  /** Cache drops already logged. */
  private dropped = 0;
  /** Upstream refusals and unmatched messages already logged. */
  private refused = 0;
  private unmatched = 0;
  /** Why the bridge is down, "" while it is not. */
  private why = "";
  /** The state last published. */
  private lastState = "";

  /** The client id of the bridge's session on this broker: its cache. */
  private readonly localId: string;

  /** `opts` are replaced by {@link reconfigure}; the name stays. */
  constructor(public opts: BridgeOptions, private readonly deps: BridgeDeps) {
    this.localId = localClientId(opts.name);
  }

  /** Sets up the bridge's local session, then connects; a refusal from the local broker is logged. */
  start(): void {
    this.dropped = this.deps.session(this.localId)?.dropped ?? 0;
    this.watch = setInterval(() => this._report(), WATCH_MS);
    this._register();
  }

  /** Brings the local session's forward subscriptions up to date, then connects. */
  private _register(): void {
    const opts = this.opts;
    if (
      opts.protoVer === 5 && !opts.cleanStart &&
      !((opts.connProps.sessionExpiryInterval as number | undefined) ?? 0)
    ) {
      this.deps.log.warn(
        `Bridge ${opts.name}: with proto_ver = 5, clean_start = false keeps nothing: upstream ends the session ` +
          "at every disconnect (QoS 2 messages in flight with it). Set conn_properties.session_expiry_interval",
      );
    }
    registerLocalSession(opts, this.deps.attachLocal, this._staleFilters()).then(
      () => {
        if (opts === this.opts) this._connect();
      },
      (e: Error) => this.deps.log.error(`Bridge ${opts.name}: ${e.message}; it stays down`),
    );
  }

  /**
   * New settings at run time (HTTP API): the upstream connection is closed and, when `on`, made
   * again with them (else the bridge stays switched off); what waits in the cache stays and goes
   * by the new forward rules.
   */
  reconfigure(opts: BridgeOptions, on: boolean): void {
    if (this.watch === null) return; // the broker is stopping
    this.state = "stopped"; // the connection closed below is not followed by a reconnect
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.current?.close("reconfigured through the HTTP API");
    this.opts = opts;
    this.serverIdx = 0;
    this.failures = 0;
    this.deps.log.info(`Bridge ${opts.name}: reconfigured${on ? `, connecting to ${this._server.url}` : ""}`);
    if (!on) return this._report("switched off");
    this.state = "disconnected";
    this._register();
  }

  /**
   * Replaces the subscription rules at run time (HTTP API): while connected, upstream is sent an
   * UNSUBSCRIBE for the rules removed and a SUBSCRIBE (with MQTT 5 `props`) for the rules added or
   * changed; a later connection subscribes them all with the configured `sub_properties`.
   */
  setSubscriptions(rules: SubscriptionRule[], props: Record<string, unknown>): void {
    const before = new Map(this.opts.subscriptions.map((r) => [r.filter, r]));
    const kept = new Set(rules.map((r) => r.filter));
    const removed = [...before.keys()].filter((f) => !kept.has(f));
    const added = rules.filter((r) => {
      const b = before.get(r.filter);
      return b === undefined || b.qos !== r.qos || b.rap !== r.rap || b.rh !== r.rh;
    });
    // the connection reads the rules from the same options object
    this.opts.subscriptions = rules;
    if (removed.length > 0) this.current?.unsubscribe(removed, props);
    if (added.length > 0) this.current?.subscribe(added, props);
  }

  /** Closes the connections; no reconnect follows. */
  stop(): void {
    this.state = "stopped";
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.watch !== null) clearInterval(this.watch);
    this.watch = null;
    this.current?.close("the broker is stopping");
    this._report("");
  }

  /** Messages waiting in the cache (its local session) for upstream, and those the full cache dropped. */
  cacheStatus(): { cached: number; dropped: number } {
    const s = this.deps.session(this.localId);
    return { cached: s === undefined ? 0 : s.queued + s.inflight, dropped: s?.dropped ?? 0 };
  }

  /** Switched off (the HTTP API): disconnects and stays down until switched on; the cache keeps filling. */
  switchOff(): void {
    if (this.state === "stopped") return;
    this.state = "stopped";
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.current?.close("switched off");
    this.deps.log.info(`Bridge ${this.opts.name}: switched off`);
    this._report("switched off");
  }

  /** Switched on again after {@link switchOff}; nothing once the broker is stopping. */
  switchOn(): void {
    if (this.state !== "stopped" || this.watch === null) return;
    this.state = "disconnected";
    this.failures = 0;
    this.deps.log.info(`Bridge ${this.opts.name}: switched on`);
    this._connect();
  }

  private get _server() {
    return this.opts.servers[this.serverIdx]!;
  }

  private _connect(): void {
    this.timer = null;
    if (this.state === "stopped") return;
    this.state = "connecting";
    const s = this._server;
    const o: ConnectOptions = { host: s.host, port: s.port, timeoutMs: CONNECT_TIMEOUT_MS };
    if (s.tls !== undefined) o.tls = s.tls;
    this.deps.connect(o).then(
      (upstream) => {
        if (this.state === "stopped") return upstream.destroy();
        this.current = new BridgeConnection({
          opts: this.opts,
          upstream,
          attachLocal: this.deps.attachLocal,
          log: this.deps.log,
          counters: this.counters,
          onUp: () => this._up(),
          onDown: (why) => this._down(why),
        });
        this.current.start();
      },
      (e: Error) => this._down(`cannot connect: ${e.message}`),
    );
  }

  private _up(): void {
    this.failures = 0;
    this.state = "connected";
    this.deps.log.info(`Bridge ${this.opts.name}: connected to ${this._server.url}`);
    this._report("");
  }

  private _down(why: string): void {
    this.current = null;
    if (this.state === "stopped") return;
    const wasUp = this.state === "connected";
    const url = this._server.url;
    this.state = "disconnected";
    if (!wasUp && this.opts.servers.length > 1) {
      this.serverIdx = (this.serverIdx + 1) % this.opts.servers.length;
    }
    const delay = Math.min(this.opts.backoffMaxMs, FIRST_BACKOFF_MS * 2 ** this.failures);
    this.failures = Math.min(this.failures + 1, 30);
    this.deps.log.warn(
      `Bridge ${this.opts.name}: ${
        wasUp ? "lost the" : "no"
      } connection to ${url} (${why}); trying ${this._server.url} in ${delay} ms`,
    );
    this._report(why);
    this.timer = setTimeout(() => this._connect(), delay);
  }

  /** Filters of the bridge's session that no forward rule has any more (the configuration changed). */
  private _staleFilters(): string[] {
    const now = new Set(this.opts.forwards.map((f) => f.filter));
    return (this.deps.session(this.localId)?.filters ?? []).filter((f) => !now.has(f));
  }

  /** Publishes the state when it changed (looked at every WATCH_MS); `why` says why the bridge is down. */
  private _report(why = this.why): void {
    this.why = why;
    const s = this.deps.session(this.localId);
    const c = this.counters;
    this._logLosses(s);
    const payload = JSON.stringify({
      state: this.state,
      server: this._server.url,
      forwarded: c.forwarded,
      received: c.received,
      cached: s === undefined ? 0 : s.queued + s.inflight,
      dropped: s?.dropped ?? 0,
      refused: c.refused,
      unmatched: c.unmatched,
      ...(why === "" ? {} : { reason: why }),
    });
    if (payload === this.lastState) return;
    this.lastState = payload;
    this.deps.publishState(`$SYS/brokers/${this.opts.name}/state`, payload);
  }

  /** Logs the messages lost since the last look: dropped by the full cache, refused upstream, unmatched. */
  private _logLosses(s: SessionInfo | undefined): void {
    const name = `Bridge ${this.opts.name}`;
    if (s !== undefined && s.dropped !== this.dropped) {
      this.deps.log.error(
        `${name}: the cache is full (${s.queued} messages waiting for upstream); ` +
          `${s.dropped - this.dropped} new messages were dropped, ${s.dropped} since the start. ` +
          "Raise bridges.mqtt.cache.disk_cache_size to keep more",
      );
      this.dropped = s.dropped;
    }
    const c = this.counters;
    if (c.refused !== this.refused) {
      this.deps.log.error(
        `${name}: upstream refused ${c.refused - this.refused} forwarded messages ` +
          `(last reason code 0x${c.lastRefusal.toString(16)}); they are not sent again`,
      );
      this.refused = c.refused;
    }
    if (c.unmatched !== this.unmatched) {
      this.deps.log.warn(
        `${name}: ${c.unmatched - this.unmatched} waiting messages match no forward rule any more ` +
          "(the rules changed) and were dropped",
      );
      this.unmatched = c.unmatched;
    }
  }
}
