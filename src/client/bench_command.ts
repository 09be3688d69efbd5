/**
 * `broker bench pub|sub|conn`: many clients against a broker, a line of rates each second and a
 * summary with latency percentiles at the end. pub measures publish to acknowledgement (QoS 1 and
 * 2), sub publish to arrival (from the time bench pub writes into each payload: run both on one
 * machine), conn CONNECT to CONNACK. With --json the summary is one JSON object on stdout and the
 * other lines go to stderr.
 */
import type { Runtime } from "../runtime/runtime.ts";
import type { BenchSettings } from "./bench_flags.ts";
import { ClientError } from "./client_error.ts";
import { connectAll, disconnectAll, type ToolIo, untilDone } from "./client_run.ts";
import { Latency } from "./latency.ts";
import type { MqttClient, PublishOptions } from "./mqtt_client.ts";

/** The first bytes of a bench payload: "BNCH", then the send time (ms since the epoch, float64). */
const MAGIC = 0x424e4348;
const HEADER = 12;
/** Unacknowledged messages one publishing client keeps going at QoS 1 and 2 (the broker's Receive Maximum may allow fewer). */
const WINDOW = 1024;

interface Counts {
  connected: number;
  messages: number;
  errors: number;
  /** When the first and the last counted event (conn: connection, else message) happened. */
  first: number;
  last: number;
}

/** Counts an event of the kind the rate is of. */
function _event(n: Counts): void {
  const now = performance.now();
  if (n.first === 0) n.first = now;
  n.last = now;
}

/** Runs one benchmark; resolves with the error that ended it, null when it ended as asked. */
export async function benchCommand(rt: Runtime, b: BenchSettings, io: ToolIo): Promise<ClientError | null> {
  const t0 = performance.now();
  // a subscriber's rate runs from its first message, the others' from the start
  const n: Counts = { connected: 0, messages: 0, errors: 0, first: b.mode === "sub" ? 0 : t0, last: t0 };
  const latency = new Latency();
  const say = b.json ? io.err : io.out;
  const clients: MqttClient[] = [];
  let stop = false;
  let end: (e?: ClientError) => void = () => {};
  const ended = new Promise<void>((
    resolve,
    reject,
  ) => (end = (e) => (e === undefined ? resolve() : reject(e))));
  const ticker = _ticker(b, n, say, t0);
  const running: Promise<void>[] = [];
  const work = (async () => {
    clients.push(
      ...await connectAll(rt, b.clients, io, [b.clients.intervalMs, (c, i, ms) => {
        n.connected++;
        c.onClose = (e) => e !== null && end(e);
        if (b.mode === "conn") {
          latency.record(ms);
          _event(n);
        } else if (b.mode === "pub") running.push(_publish(rt, c, [b, i], [n, latency], () => stop));
        else running.push(_subscribe(c, [b, i], [n, latency], () => end()));
      }]),
    );
    say(`${clients.length} clients connected in ${_secs(performance.now() - t0)} s\n`);
    await Promise.all(running);
    if (b.mode === "pub") return;
    if (b.mode === "sub") say(`${clients.length} clients subscribed to ${b.topic} at QoS ${b.qos}\n`);
    await ended;
  })();
  const e = await untilDone(rt, { ...b.clients, timeoutMs: b.durationMs }, work, () => null);
  stop = true;
  clearInterval(ticker);
  for (const c of clients) c.onClose = () => {};
  const summary = _summary(b, n, latency);
  if (b.json) io.out(`${JSON.stringify(summary)}\n`);
  else io.out(_text(summary));
  await disconnectAll(clients);
  return e;
}

/** One client's messages: -L of them (or until stopped), -I apart, to its topic. */
async function _publish(
  rt: Runtime,
  c: MqttClient,
  [b, i]: [BenchSettings, number],
  [n, latency]: [Counts, Latency],
  stopped: () => boolean,
): Promise<void> {
  const topic = b.topic.replaceAll("%i", String((b.clients.idOffset ?? 0) + i));
  const o: PublishOptions = { qos: b.qos, retain: b.retain, props: null };
  const pending = new Set<Promise<void>>();
  for (let k = 0; (b.limit === null || k < b.limit) && !stopped(); k++) {
    const payload = Buffer.alloc(b.size);
    payload.writeUInt32BE(MAGIC, 0);
    payload.writeDoubleBE(performance.timeOrigin + performance.now(), 4);
    const sent = performance.now();
    const ack = c.publish(topic, payload, o).then((code) => {
      if (code >= 0x80) return void n.errors++;
      n.messages++;
      _event(n);
      if (b.qos > 0) latency.record(performance.now() - sent);
    }, () => void n.errors++);
    if (b.qos === 0) await ack;
    else {
      const p: Promise<void> = ack.finally(() => pending.delete(p));
      pending.add(p);
      if (pending.size >= WINDOW) await Promise.race(pending);
    }
    if (b.messageGapMs > 0) await rt.sleep(b.messageGapMs);
  }
  await Promise.all(pending);
}

/** Subscribes one client; each message is counted, its latency taken from a bench payload. */
async function _subscribe(
  c: MqttClient,
  [b, i]: [BenchSettings, number],
  [n, latency]: [Counts, Latency],
  reachedLimit: () => void,
): Promise<void> {
  c.onMessage = (m) => {
    if (m.payload.length >= HEADER && m.payload.readUInt32BE(0) === MAGIC) {
      latency.record(performance.timeOrigin + performance.now() - m.payload.readDoubleBE(4));
    }
    _event(n);
    if (++n.messages === b.limit) reachedLimit();
  };
  const topic = b.topic.replaceAll("%i", String((b.clients.idOffset ?? 0) + i));
  const [code] = await c.subscribe([{ topic, qos: b.qos }]);
  if ((code ?? 0x80) >= 0x80) {
    throw new ClientError(
      "refused",
      `the server refused the subscription to "${topic}" (code ${code})`,
      code,
    );
  }
}

/** Prints the rates of the last second, every second. */
function _ticker(b: BenchSettings, n: Counts, say: (s: string) => void, t0: number) {
  let last = { messages: 0, connected: 0 };
  return setInterval(() => {
    const s = Math.round((performance.now() - t0) / 1000);
    const msgs = n.messages - last.messages;
    const conns = n.connected - last.connected;
    last = { messages: n.messages, connected: n.connected };
    const rate = b.mode === "conn"
      ? `${conns.toLocaleString("en")} conn/s`
      : `${b.mode === "pub" ? "sent" : "received"} ${msgs.toLocaleString("en")} msg/s (${
        n.messages.toLocaleString("en")
      } in all)`;
    const errors = n.errors > 0 ? `, ${n.errors} errors` : "";
    say(
      `[${
        String(s).padStart(4)
      }s] ${b.mode} ${rate}, ${n.connected}/${b.clients.clients} connected${errors}\n`,
    );
  }, 1000);
}

/** What a benchmark measured. */
export interface BenchSummary {
  mode: string;
  clients: number;
  connected: number;
  messages: number;
  errors: number;
  seconds: number;
  /** Messages (conn: connections) per second, from the start (sub: the first message) to the last. */
  rate: number;
  /** What the latency measures, and its percentiles in ms. */
  latency: { of: string } & ReturnType<Latency["summary"]>;
}

function _summary(b: BenchSettings, n: Counts, latency: Latency): BenchSummary {
  const of = b.mode === "conn"
    ? "CONNECT to CONNACK"
    : b.mode === "sub"
    ? "publish to arrival"
    : b.qos === 0
    ? "none at QoS 0"
    : `publish to ${b.qos === 1 ? "PUBACK" : "PUBCOMP"}`;
  const seconds = n.first === 0 ? 0 : Math.round(n.last - n.first) / 1000;
  const done = b.mode === "conn" ? n.connected : n.messages;
  return {
    mode: b.mode,
    clients: b.clients.clients,
    connected: n.connected,
    messages: n.messages,
    errors: n.errors,
    seconds,
    rate: seconds > 0 ? Math.round(done / seconds) : 0,
    latency: { of, ...latency.summary() },
  };
}

function _text(s: BenchSummary): string {
  const l = s.latency;
  const what = s.mode === "conn"
    ? `${s.connected} connections`
    : `${s.messages.toLocaleString("en")} messages`;
  const lat = l.count === 0
    ? `latency: ${l.of}\n`
    : `latency (${l.of}), ms: p50 ${l.p50}  p90 ${l.p90}  p99 ${l.p99}  p99.9 ${l.p999}  max ${l.max}  (${
      l.count.toLocaleString("en")
    } samples)\n`;
  return `bench ${s.mode}: ${s.clients} clients, ${what} in ${s.seconds} s: ${
    s.rate.toLocaleString("en")
  }/s, ${s.errors} errors\n${lat}`;
}

function _secs(ms: number): string {
  return (ms / 1000).toFixed(1);
}
