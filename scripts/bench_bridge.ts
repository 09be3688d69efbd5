/**
 * The bridge rows of the benchmark (`npm run bench -- --bridge`): an edge broker bridged to an
 * upstream Mosquitto at QoS 1, for three edges: Mosquitto's own bridge, this broker in memory, and
 * this broker with `sqlite { }`.
 *
 * - Forward rate: mqttload publishes QoS 1 to the edge, 64 in flight, as fast as the edge takes
 *   them; a subscriber on the upstream counts what arrives in the window and checks for gaps,
 *   duplicates and reordering.
 * - Drain rate: with the link cut (a TCP proxy), 100,000 QoS 1 messages are published to the edge
 *   and acknowledged; then the link is restored. The rate is 100,000 over the time from the first
 *   to the last arrival upstream.
 *
 * Mosquitto's bridge runs twice: with `max_queued_messages 0` (no limit), and with its defaults,
 * which keep 1000 queued messages. The edge runs on core 0; the upstream, mqttload and this script
 * (publisher and counting subscriber) on core 1.
 */
import { execFile, execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import process from "node:process";
import { promisify } from "node:util";
import mqttPacket from "mqtt-packet";
import { ServerDecoder } from "../src/protocol/codec.ts";
import { startTcpProxy } from "../test/helpers/tcp_proxy.ts";
import { k, median, startBroker } from "./bench_common.ts";

const UP = 18850;
const EDGE = 18851;
const CACHE = 100_000;
/** Encodes a packet at MQTT 3.1.1 (the publisher and the counter are not on any measured path). */
const gen = (p: object) => mqttPacket.generate(p as mqttPacket.Packet, { protocolVersion: 4 }) as Buffer;

interface Edge {
  name: string;
  /** The command that starts it bridged to 127.0.0.1:`up`. */
  cmd(up: number): string;
}

/** One run's figures. */
interface Figures {
  forward: number;
  cpu: number;
  gaps: number;
  dup: number;
  reorder: number;
  drain: number;
  drainGaps: number;
}

/** Counts QoS 1 messages under bench/# on the upstream; payloads carry mqttload's sequence number at byte 8. */
class Counter {
  distinct = 0;
  dup = 0;
  reorder = 0;
  maxSeq = -1;
  inWindow = 0;
  first = 0;
  last = 0;
  winFrom = Infinity;
  winTo = Infinity;
  private readonly seen = new Uint8Array(1 << 25);
  private readonly dec = new ServerDecoder(4);
  private sock!: net.Socket;

  async connect(port: number): Promise<void> {
    this.sock = net.connect(port, "127.0.0.1");
    this.sock.write(
      gen({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "counter", clean: true }),
    );
    this.sock.write(gen({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "bench/#", qos: 1 }] }));
    await new Promise<void>((resolve, reject) => {
      this.sock.once("error", reject);
      this.sock.on("data", (chunk: Buffer) => this._data(chunk, resolve));
    });
  }

  private _data(chunk: Buffer, subscribed: () => void): void {
    const now = performance.now();
    this.dec.push(chunk);
    const acks: number[] = [];
    for (let p = this.dec.next(); p !== null; p = this.dec.next()) {
      if (p.cmd === "suback") subscribed();
      if (p.cmd !== "publish") continue;
      const seq = p.payload.readUInt32LE(8);
      if (this.seen[seq] === 1) this.dup++;
      else {
        this.seen[seq] = 1;
        this.distinct++;
      }
      if (seq < this.maxSeq) this.reorder++;
      else this.maxSeq = seq;
      if (this.first === 0) this.first = now;
      this.last = now;
      if (now >= this.winFrom && now < this.winTo) this.inWindow++;
      if (p.qos === 1) acks.push(0x40, 2, p.messageId >> 8, p.messageId & 0xff);
    }
    if (acks.length > 0) this.sock.write(Buffer.from(acks));
  }

  /** Resolves once nothing has arrived for `idleMs`. */
  async quiet(idleMs: number): Promise<void> {
    let seen = -1;
    while (seen !== this.distinct + this.dup) {
      seen = this.distinct + this.dup;
      await new Promise((r) => setTimeout(r, idleMs));
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Publishes `n` QoS 1 messages (sequence numbers 0..n-1) to the edge, `window` in flight; resolves when all are acknowledged. */
function publishAll(
  port: number,
  n: number,
  window: number,
  topic = (_seq: number) => "bench/0",
): Promise<void> {
  const sock = net.connect(port, "127.0.0.1");
  const dec = new ServerDecoder(4);
  let sent = 0;
  let acked = 0;
  const payload = Buffer.alloc(64);
  const pump = (): void => {
    const out: Buffer[] = [];
    for (; sent < n && sent - acked < window; sent++) {
      payload.writeUInt32LE(sent, 8);
      const id = (sent % 65535) + 1;
      out.push(
        gen({
          cmd: "publish",
          topic: topic(sent),
          qos: 1,
          messageId: id,
          payload,
          retain: false,
          dup: false,
        }),
      );
    }
    if (out.length > 0) sock.write(Buffer.concat(out));
  };
  sock.write(
    gen({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "filler", clean: true }),
  );
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.on("data", (chunk: Buffer) => {
      dec.push(chunk);
      for (let p = dec.next(); p !== null; p = dec.next()) {
        if (p.cmd === "connack") pump();
        if (p.cmd === "puback") acked++;
      }
      if (acked === n) {
        sock.end();
        resolve();
      } else pump();
    });
  });
}

function edges(bench: string, mosquitto: string): Edge[] {
  const ours = (name: string, store: string): Edge => ({
    name,
    cmd: (up) => {
      const conf = `${bench}/edge-${store === "" ? "memory" : "sqlite"}.conf`;
      writeFileSync(
        conf,
        `listeners.tcp.bind = "127.0.0.1:${EDGE}"\n${store}bridges.mqtt.cloud {\n` +
          `  server = "mqtt-tcp://127.0.0.1:${up}"\n  proto_ver = 4\n  clientid = "edge"\n` +
          `  clean_start = false\n  backoff_max = 1s\n` +
          `  forwards = [ { local_topic = "bench/#", remote_topic = "", qos = 1 } ]\n}\n`,
      );
      return `${process.execPath} ${new URL("..", import.meta.url).pathname}src/main.ts start --conf ${conf}`;
    },
  });
  const mosq = (name: string, queue: string): Edge => ({
    name,
    cmd: (up) => {
      const conf = `${bench}/edge-mosquitto.conf`;
      writeFileSync(
        conf,
        `listener ${EDGE} 127.0.0.1\nallow_anonymous true\npersistence false\n${queue}` +
          `log_dest none\nconnection cloud\naddress 127.0.0.1:${up}\ntopic bench/# out 1\n` +
          "cleansession false\nclientid edge\nrestart_timeout 1\n",
      );
      return `${mosquitto} -c ${conf}`;
    },
  });
  return [
    mosq("Mosquitto bridge, max_queued_messages 0 (no limit)", "max_queued_messages 0\n"),
    mosq("Mosquitto bridge, defaults", ""),
    ours("this broker, memory", ""),
    ours("this broker, sqlite", `sqlite { mounted_file_path = "${bench}/store" }\n`),
  ];
}

async function _forward(
  e: Edge,
  load: string,
  duration: number,
): Promise<Omit<Figures, "drain" | "drainGaps">> {
  const counter = new Counter();
  await counter.connect(UP);
  const edge = await startBroker(e.cmd(UP), EDGE, 0);
  await new Promise((r) => setTimeout(r, 1500)); // the bridge connects
  counter.winFrom = performance.now() + 2000;
  counter.winTo = counter.winFrom + duration * 1000;
  const { stdout } = await promisify(execFile)("taskset", [
    "-c",
    "1",
    load,
    ...["--port", String(EDGE), "--pubs", "1", "--subs", "0", "--qos", "1", "--size", "64", "--quiet"],
    ...["--duration", String(duration), "--warmup", "2", "--broker-pid", String(edge.pid)],
  ]);
  await counter.quiet(2000);
  await edge.stop();
  counter.close();
  const r = JSON.parse(stdout.trim().split("\n").pop()!) as { broker_cpu_pct: number };
  return {
    forward: counter.inWindow / duration,
    cpu: r.broker_cpu_pct,
    gaps: counter.maxSeq + 1 - counter.distinct,
    dup: counter.dup,
    reorder: counter.reorder,
  };
}

async function _drain(e: Edge): Promise<{ drain: number; drainGaps: number }> {
  const counter = new Counter();
  await counter.connect(UP);
  const proxy = await startTcpProxy(UP);
  proxy.cut();
  const edge = await startBroker(e.cmd(proxy.port), EDGE, 0);
  await publishAll(EDGE, CACHE, 256);
  proxy.restore();
  for (let i = 0; i < 200 && counter.first === 0; i++) await new Promise((r) => setTimeout(r, 100));
  await counter.quiet(3000);
  await edge.stop();
  await proxy.close();
  counter.close();
  const got = counter.distinct;
  return {
    drain: got < CACHE ? NaN : CACHE / ((counter.last - counter.first) / 1000),
    drainGaps: CACHE - got,
  };
}

/** Messages of the Topic Alias run, and their topics: ten sensors of a plant, 43 bytes each. */
const ALIAS_N = 20_000;
const sensorTopic = (seq: number) => `bench/plant/line-${seq % 10 % 3}/machine-${seq % 10}/telemetry/temp`;

/**
 * Bytes the bridge sends upstream per message at MQTT 3.1.1 and at MQTT 5, where Mosquitto grants
 * 10 Topic Aliases: counted by a TCP proxy between the edge (this broker) and the upstream.
 */
async function _aliasBytes(bench: string, mosquitto: string, upConf: string): Promise<string[]> {
  const lines = [
    "",
    "| bridge to Mosquitto | bytes upstream per message (64-byte payload, 10 topics of 43 bytes, QoS 1) |",
    "|---|---:|",
  ];
  for (const v of [4, 5]) {
    const up = await startBroker(`${mosquitto} -c ${upConf}`, UP, 1);
    const counter = new Counter();
    await counter.connect(UP);
    const proxy = await startTcpProxy(UP);
    const conf = `${bench}/edge-alias.conf`;
    writeFileSync(
      conf,
      `listeners.tcp.bind = "127.0.0.1:${EDGE}"
bridges.mqtt.cloud {
` +
        `  server = "mqtt-tcp://127.0.0.1:${proxy.port}"
  proto_ver = ${v}
  clientid = "edge"
` +
        `  forwards = [ { local_topic = "bench/#", remote_topic = "", qos = 1 } ]
}
`,
    );
    const root = new URL("..", import.meta.url).pathname;
    const edge = await startBroker(`${process.execPath} ${root}src/main.ts start --conf ${conf}`, EDGE, 0);
    await new Promise((r) => setTimeout(r, 1500)); // the bridge connects
    const before = proxy.bytesUp();
    await publishAll(EDGE, ALIAS_N, 256, sensorTopic);
    await counter.quiet(2000);
    const perMessage = (proxy.bytesUp() - before) / ALIAS_N;
    await edge.stop();
    await proxy.close();
    counter.close();
    await up.stop();
    const missing = ALIAS_N - counter.distinct;
    console.error(
      `[bridge aliases] MQTT ${v === 5 ? "5" : "3.1.1"}: ${
        perMessage.toFixed(1)
      } B/message, ${missing} missing`,
    );
    lines.push(
      `| MQTT ${v === 5 ? "5 (Topic Aliases)" : "3.1.1"} | ${perMessage.toFixed(1)} B${
        missing === 0 ? "" : ` (${missing} missing)`
      } |`,
    );
  }
  return lines;
}

/** Runs the bridge benchmark; returns the Markdown table. */
export async function benchBridge(
  o: { reps: number; duration: number; bench: string; load: string },
): Promise<string> {
  execFileSync("taskset", ["-a", "-p", "-c", "1", String(process.pid)], { stdio: "ignore" });
  const mosquitto = "/usr/sbin/mosquitto";
  const upConf = `${o.bench}/upstream.conf`;
  writeFileSync(upConf, `listener ${UP} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest none\n`);
  const lines = [
    "| edge | forwarded to upstream (QoS 1) | edge CPU | gaps / dup / reordered | drain of a 100,000-message cache | not drained |",
    "|---|---:|---:|---:|---:|---:|",
  ];
  for (const e of edges(o.bench, mosquitto)) {
    const runs: Figures[] = [];
    for (let rep = 1; rep <= o.reps; rep++) {
      rmSync(`${o.bench}/store`, { recursive: true, force: true });
      mkdirSync(`${o.bench}/store`, { recursive: true });
      const up = await startBroker(`${mosquitto} -c ${upConf}`, UP, 1);
      const f = await _forward(e, o.load, o.duration);
      rmSync(`${o.bench}/store`, { recursive: true, force: true });
      mkdirSync(`${o.bench}/store`, { recursive: true });
      const d = await _drain(e);
      await up.stop();
      runs.push({ ...f, ...d });
      console.error(
        `[bridge ${rep}/${o.reps}] ${e.name}: forward ${k(f.forward)}/s (gaps ${f.gaps}, dup ${f.dup}, ` +
          `reorder ${f.reorder}), drain ${k(d.drain)}/s (${d.drainGaps} missing)`,
      );
    }
    const m = (f: (r: Figures) => number) => median(runs.map(f));
    lines.push(
      `| ${e.name} | ${k(m((r) => r.forward))}/s | ${m((r) => r.cpu).toFixed(0)}% | ${m((r) => r.gaps)} / ${
        m((r) => r.dup)
      } / ${m((r) => r.reorder)} | ${k(m((r) => r.drain))}/s | ${m((r) => r.drainGaps)} |`,
    );
  }
  lines.push(...await _aliasBytes(o.bench, mosquitto, upConf));
  return lines.join("\n");
}
