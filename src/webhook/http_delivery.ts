/**
 * Bounded, asynchronous HTTP POSTs (webhooks, the rule engine's webhook action): bodies wait in a
 * queue of at most `queueMax` and go out `concurrency` at a time; a failed one (no answer, 5xx,
 * 408, 429) is tried again `maxRetries` times with a backoff doubling from 500 ms. Nothing here
 * waits in the caller: a slow or dead endpoint fills the queue, and what does not fit is dropped
 * and counted. Failures and drops are logged at most every 10 s.
 */
import type { Logger } from "../broker/deps.ts";
import type { HttpRequester } from "../runtime/http_client.ts";
import type { ClientTlsOptions } from "../runtime/tls_options.ts";

/** Where and how bodies are posted. */
export interface DeliveryOptions {
  /** For the log: "Webhook", "Rule rule:3". */
  name: string;
  url: string;
  headers: Record<string, string>;
  tls?: ClientTlsOptions;
  concurrency: number;
  queueMax: number;
  timeoutMs: number;
  maxRetries: number;
}

/** What happened to the bodies posted. */
export interface DeliveryCounters {
  /** Answered with a 2xx status. */
  sent: number;
  /** Given up after the last try (or refused with a 4xx). */
  failed: number;
  /** Not queued: the queue was full. */
  dropped: number;
  /** Tries after a failure. */
  retries: number;
}

const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
const LOG_EVERY_MS = 10_000;

/** One endpoint's queue and senders. */
export class HttpDelivery {
  readonly counters: DeliveryCounters = { sent: 0, failed: 0, dropped: 0, retries: 0 };
  private queue: string[] = [];
  private head = 0;
  private active = 0;
  private closed = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private lastLog = 0;
  private logged: DeliveryCounters = { sent: 0, failed: 0, dropped: 0, retries: 0 };
  private lastError = "";
  private logTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly o: DeliveryOptions,
    private readonly send: HttpRequester,
    private readonly log: Logger,
  ) {}

  /** Bodies waiting (not yet being sent). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  /** True when a body posted now would be dropped: the caller need not build it. */
  get full(): boolean {
    return this.queued >= this.o.queueMax;
  }

  /** Queues `body`; false when the queue is full (the body is dropped and counted). */
  post(body: string): boolean {
    if (this.closed) return false;
    if (this.full) {
      this.counters.dropped++;
      this._report();
      return false;
    }
    this.queue.push(body);
    this._pump();
    return true;
  }

  /** A body the caller dropped without building it (the queue was full). */
  countDropped(): void {
    this.counters.dropped++;
    if (this.logTimer === null) this._report();
  }

  /** Stops: what waits is dropped, retries are cancelled. */
  close(): void {
    this.closed = true;
    if (this.logTimer !== null) clearTimeout(this.logTimer);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue = [];
    this.head = 0;
  }

  private _pump(): void {
    while (this.active < this.o.concurrency && this.head < this.queue.length) {
      const body = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.active++;
      void this._attempt(body, 0);
    }
  }

  private async _attempt(body: string, tries: number): Promise<void> {
    const outcome = await this._once(body);
    if (this.closed) return;
    if (outcome === "retry" && tries < this.o.maxRetries) {
      this.counters.retries++;
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!this.closed) void this._attempt(body, tries + 1);
      }, Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** tries));
      this.timers.add(t);
      return;
    }
    if (outcome === "ok") this.counters.sent++;
    else this._failed();
    this.active--;
    this._pump();
  }

  /** One try: "retry" for no answer, 5xx, 408 and 429; "fail" for another status. */
  private async _once(body: string): Promise<"ok" | "retry" | "fail"> {
    try {
      const r = await this.send({
        url: this.o.url,
        method: "POST",
        headers: this.o.headers,
        body,
        timeoutMs: this.o.timeoutMs,
        connectTimeoutMs: this.o.timeoutMs,
        ...(this.o.tls === undefined ? {} : { tls: this.o.tls }),
      });
      if (r.status >= 200 && r.status < 300) return "ok";
      this.lastError = `HTTP ${r.status}`;
      return r.status >= 500 || r.status === 408 || r.status === 429 ? "retry" : "fail";
    } catch (e) {
      this.lastError = (e as Error).message;
      return "retry";
    }
  }

  private _failed(): void {
    this.counters.failed++;
    this._report();
  }

  /** Logs failures and drops, at most every LOG_EVERY_MS: what comes sooner is logged at the end of the wait. */
  private _report(): void {
    const now = Date.now();
    const wait = this.lastLog + LOG_EVERY_MS - now;
    if (wait > 0) {
      if (this.logTimer === null && !this.closed) {
        this.logTimer = setTimeout(() => {
          this.logTimer = null;
          this._report();
        }, wait);
      }
      return;
    }
    this.lastLog = now;
    const c = this.counters;
    const failed = c.failed - this.logged.failed;
    const dropped = c.dropped - this.logged.dropped;
    this.logged = { ...c };
    if (failed === 0 && dropped === 0) return;
    const parts: string[] = [];
    if (failed > 0) {
      parts.push(
        `${failed} requests to ${this.o.url} failed${this.lastError === "" ? "" : ` (${this.lastError})`}`,
      );
    }
    if (dropped > 0) parts.push(`${dropped} dropped: ${this.o.queueMax} were waiting (max_queue_len)`);
    this.log.error(`${this.o.name}: ${parts.join("; ")}`);
  }
}
