/**
 * The `repub` action: each output, as JSON, is published at QoS 0 to `topic` on `server` (NanoMQ's
 * `mqtt-tcp://host:port`, also `tls+mqtt-tcp://`, `mqtt://`, `mqtts://`), through the client the
 * client tools use; with no server, into this broker. The connection is made at start and again
 * after a loss, with a backoff up to 30 s; outputs wait for it in a bounded queue.
 */
import type { Logger } from "../broker/deps.ts";
import { openConnection, parseUrl } from "../client/client_target.ts";
import { MqttClient } from "../client/mqtt_client.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { ActionCounters, RuleAction } from "./rule_engine.ts";

/** Where and how a repub action publishes. */
export interface RepubOptions {
  /** "" for this broker. */
  server: string;
  topic: string;
  protoVer: 3 | 4 | 5;
  clientId: string;
  keepaliveMs: number;
  clean: boolean;
  username: string | null;
  password: string | null;
}

/** Outputs waiting for the connection at most; more are dropped and counted. */
const QUEUE_MAX = 10_000;
/** QoS 0 publishes the socket has not taken yet at most, before outputs wait in the queue. */
const UNWRITTEN_MAX = 1000;
const CONNECT_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
const LOG_EVERY_MS = 10_000;

/** One rule's repub. */
export class RepubAction implements RuleAction {
  readonly name = "repub";
  readonly counters: ActionCounters = { ok: 0, failed: 0, dropped: 0 };
  private client: MqttClient | null = null;
  private queue: Buffer[] = [];
  private unwritten = 0;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private lastLog = 0;

  /** `local` publishes into this broker (used when there is no server). */
  constructor(
    private readonly rt: Runtime,
    private readonly o: RepubOptions,
    private readonly local: (topic: string, payload: Buffer) => void,
    private readonly log: Logger,
  ) {
    if (o.server !== "") {
      parseUrl(o.server); // a bad address is refused now, where the rule is made
      void this._connect();
    }
  }

  run(out: Record<string, unknown>): void {
    if (this.closed) return;
    const payload = Buffer.from(JSON.stringify(out));
    if (this.o.server === "") {
      this.local(this.o.topic, payload);
      this.counters.ok++;
    } else if (this.client !== null && this.queue.length === 0 && this.unwritten < UNWRITTEN_MAX) {
      this._send(this.client, payload);
    } else if (this.queue.length < QUEUE_MAX) this.queue.push(payload);
    else {
      this.counters.dropped++;
      this._report(`${QUEUE_MAX} messages were waiting for ${this.o.server}`);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.queue = [];
    void this.client?.disconnect();
  }

  private _send(c: MqttClient, payload: Buffer): void {
    this.unwritten++;
    c.publish(this.o.topic, payload, { qos: 0, retain: false, props: null }).then(() => {
      this.unwritten--;
      this.counters.ok++;
      this._drain();
    }, () => {
      this.unwritten--;
      this.counters.failed++;
    });
  }

  private _drain(): void {
    const c = this.client;
    while (c !== null && this.queue.length > 0 && this.unwritten < UNWRITTEN_MAX) {
      this._send(c, this.queue.shift()!);
    }
  }

  private async _connect(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    const o = this.o;
    try {
      const conn = await openConnection(this.rt, parseUrl(o.server), undefined, CONNECT_TIMEOUT_MS);
      const c = new MqttClient(conn, {
        version: o.protoVer,
        clientId: o.clientId,
        keepalive: Math.round(o.keepaliveMs / 1000),
        clean: o.clean,
        ...(o.username === null ? {} : { username: o.username }),
        ...(o.password === null ? {} : { password: Buffer.from(o.password) }),
      });
      c.onClose = (e) => this._lost(e?.message ?? "closed");
      await c.connect(CONNECT_TIMEOUT_MS);
      if (this.closed) return void c.disconnect();
      this.client = c;
      this.failures = 0;
      this.log.info(`Rule repub: connected to ${o.server}`);
      this._drain();
    } catch (e) {
      this._lost((e as Error).message);
    }
  }

  private _lost(why: string): void {
    this.client = null;
    if (this.closed || this.timer !== null) return;
    const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.failures);
    this.failures = Math.min(this.failures + 1, 30);
    this._report(`no connection to ${this.o.server} (${why}); trying again in ${delay} ms`);
    this.timer = setTimeout(() => void this._connect(), delay);
  }

  private _report(why: string): void {
    const now = Date.now();
    if (now - this.lastLog < LOG_EVERY_MS) return;
    this.lastLog = now;
    this.log.warn(
      `Rule repub to ${this.o.topic}: ${why} (${this.queue.length} waiting, ${this.counters.dropped} dropped so far)`,
    );
  }
}
