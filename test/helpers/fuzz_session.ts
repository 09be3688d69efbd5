/**
 * A fuzzing session against a real broker process (the linux-x86_64 binary): fuzz cases from
 * fuzz.ts on many connections at once while a canary publisher and subscriber (MQTT.js) exchange
 * numbered QoS 1 messages. Afterwards the broker must be alive, hold no connection but the
 * canary's, have logged no internal error, and the canary must have every message once, in order.
 */
import mqtt, { type MqttClient } from "mqtt";
import { type FuzzCase, makeCase, runCase } from "./fuzz.ts";
import { waitFor } from "./live_broker.ts";
import { connectionsOf, rssOf, type TcpBroker } from "./tcp_broker.ts";

/** Two MQTT.js clients exchanging numbered QoS 1 messages until stopped. */
export class Canary {
  sent = 0;
  readonly got: number[] = [];
  closes = 0;
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  private constructor(private readonly pub: MqttClient, private readonly sub: MqttClient) {}

  static async start(port: number): Promise<Canary> {
    const o = { protocolVersion: 5 as const, reconnectPeriod: 0, keepalive: 30 };
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...o, clientId: "canary-sub" });
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...o, clientId: "canary-pub" });
    const c = new Canary(pub, sub);
    sub.on("message", (_t, m) => c.got.push(Number(m.toString())));
    for (const x of [pub, sub]) x.on("close", () => c.closes++);
    await sub.subscribeAsync("canary/seq", { qos: 1 });
    c.loop = c._run();
    return c;
  }

  private async _run(): Promise<void> {
    while (this.running && this.closes === 0) {
      await this.pub.publishAsync("canary/seq", String(this.sent), { qos: 1 });
      this.sent++;
      if (this.sent % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Stops publishing and waits for the last messages; returns what went wrong, null if nothing. */
  async stop(): Promise<string | null> {
    this.running = false;
    await this.loop.catch(() => {});
    await waitFor(() => this.got.length >= this.sent || this.closes > 0, "the canary's last messages").catch(
      () => {},
    );
    this.pub.end(true);
    this.sub.end(true);
    if (this.closes > 0) return "a canary connection was closed";
    for (let i = 0; i < this.got.length; i++) {
      if (this.got[i] !== i) return `the canary got message ${this.got[i]} where ${i} was due`;
    }
    return this.got.length === this.sent
      ? null
      : `the canary got ${this.got.length} of ${this.sent} messages`;
  }
}

/** What a session found. */
export interface FuzzReport {
  cases: number;
  findings: { c: FuzzCase; why: string }[];
  /** Problems of the broker as a whole: it died, logged an internal error, the canary lost messages. */
  problems: string[];
  canaryMessages: number;
  closedByBroker: number;
  rssBefore: number;
  rssAfter: number;
}

/** Runs cases from `seed0` on `parallel` connections until `untilMs` (a Date.now()) or `maxCases`. */
export async function fuzzSession(
  b: TcpBroker,
  o: {
    seed0: number;
    parallel: number;
    untilMs: number;
    maxCases?: number;
    onFinding?: (c: FuzzCase, why: string) => void;
  },
): Promise<FuzzReport> {
  const rssBefore = rssOf(b.pid);
  const canary = await Canary.start(b.port);
  const r: FuzzReport = {
    cases: 0,
    findings: [],
    problems: [],
    canaryMessages: 0,
    closedByBroker: 0,
    rssBefore,
    rssAfter: 0,
  };
  const max = o.maxCases ?? Infinity;
  let next = o.seed0;
  const worker = async () => {
    while (Date.now() < o.untilMs && r.cases < max && b.exited() === null) {
      const c = makeCase(next++);
      r.cases++;
      const out = await runCase(b.port, c);
      if (out.closed) r.closedByBroker++;
      if (out.finding !== null) {
        r.findings.push({ c, why: out.finding });
        o.onFinding?.(c, out.finding);
      }
    }
  };
  await Promise.all(Array.from({ length: o.parallel }, worker));
  const lost = await canary.stop();
  r.canaryMessages = canary.sent;
  if (lost !== null) r.problems.push(lost);
  await _settle(b, r);
  return r;
}

async function _settle(b: TcpBroker, r: FuzzReport): Promise<void> {
  const ex = b.exited();
  if (ex !== null) {
    r.problems.push(`the broker exited (code ${ex.code}):\n${b.log().slice(-4000)}`);
    return;
  }
  // lingering closes end within 5 s (transport/link.ts CLOSE_GRACE_MS)
  // polled gently: each poll is an HTTP request, and the API takes http_server.limit_conn at once
  let open = -1;
  for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((x) => setTimeout(x, 200))) {
    if ((open = await connectionsOf(b)) === 0) break;
  }
  if (open !== 0) {
    const left = await fetch(`http://127.0.0.1:${b.httpPort}/api/v4/clients`).then((x) => x.text(), String);
    r.problems.push(
      `${open} connections were left open after the session (-1: no answer): ${left.slice(0, 2000)}`,
    );
  }
  await _discardSessions(b);
  r.rssAfter = rssOf(b.pid);
  const bad = /Internal error|uncaught|TypeError|RangeError/i.exec(b.log());
  if (bad !== null) {
    r.problems.push(`the broker logged: ${b.log().slice(Math.max(0, bad.index - 200), bad.index + 800)}`);
  }
}

/**
 * Ends the sessions that mutated CONNECTs left behind (a cleared Clean Session bit makes a session
 * that never expires, and its subscription collects the other cases' messages): each subscribed
 * client identifier is taken over with Clean Start. Then the broker holds what it held before.
 */
async function _discardSessions(b: TcpBroker): Promise<void> {
  const r = await fetch(`http://127.0.0.1:${b.httpPort}/api/v4/subscriptions?_limit=100000`);
  const subs = (await r.json() as { data: { clientid: string }[] }).data;
  const ids = new Set(subs.map((x) => x.clientid).filter((id) => !id.startsWith("canary-")));
  for (const clientId of ids) {
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, {
      clientId,
      clean: true,
      reconnectPeriod: 0,
    })
      .catch(() => null);
    c?.end(true);
  }
}
