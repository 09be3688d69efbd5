/**
 * Connections held for minutes, on every transport and every runtime the broker ships for: nothing
 * closes what a client keeps alive (Bun once ended every socket at 120 s), and keep alive closes a
 * silent client at 1.5 times its interval, not earlier and not much later. Runs in real time
 * (HOLD_MS); `npm test` runs test/long/ beside the rest of the suite.
 */
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import {
  BROKER_RUNTIMES,
  type BrokerProcess,
  freePorts,
  startBrokerProcess,
  type Transport,
  TRANSPORTS,
  urlOf,
} from "../helpers/broker_process.ts";
import { makeTestCerts } from "../helpers/certs.ts";
import { connectPacket, openRawStream, type RawStream } from "../helpers/raw_stream.ts";
import { run } from "../helpers/run.ts";
import { waitFor } from "../helpers/live_broker.ts";

/**
 * Past Bun's 120 s socket timer, with room for a second 30 s keep alive round after it
 * (LONG_HOLD_S=N holds them longer, for looking at other timers).
 */
const HOLD_MS = Number(process.env.LONG_HOLD_S ?? 160) * 1000;
const PUBLISH_EVERY_MS = 2_000;
/** The broker checks keep alive once a second; beyond that, this much slack on a loaded machine. */
const LATE_MS = 5_000;
const KEEPALIVES = [0, 10, 60] as const;

const certs = makeTestCerts();
const ca = certs.pem(certs.caFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What went wrong, collected from every case so that one run reports them all. */
const problems: string[] = [];

/** An MQTT.js client whose every close is a problem until the test ends it. */
async function held(
  b: BrokerProcess,
  t: Transport,
  name: string,
  o: mqtt.IClientOptions,
): Promise<MqttClient> {
  const c = await mqtt.connectAsync(urlOf(b, t), { reconnectPeriod: 0, ca, clientId: name, ...o });
  c.on("close", () => {
    if (!c.disconnecting) problems.push(`${name} was closed after ${Math.round((Date.now() - t0) / 1000)} s`);
  });
  return c;
}
let t0 = 0;
const stage = (what: string) => console.error(`[${Math.round((Date.now() - t0) / 1000)} s] ${what}`);

/** A publisher and a subscriber with keep alive `k`, QoS 0 and 1 every PUBLISH_EVERY_MS; and an idle client. */
async function traffic(b: BrokerProcess, t: Transport, k: number) {
  const name = `${b.runtime}-${t}-k${k}`;
  const topic = `long/${name}`;
  const idle = await held(b, t, `${name}-idle`, { keepalive: k, protocolVersion: 4 });
  const sub = await held(b, t, `${name}-sub`, { keepalive: k, protocolVersion: 5 });
  const got: Record<string, number[]> = { q0: [], q1: [] };
  sub.on("message", (tp, payload) => got[tp.slice(topic.length + 1)]?.push(Number(payload.toString())));
  await sub.subscribeAsync(`${topic}/+`, { qos: 1 });
  const pub = await held(b, t, `${name}-pub`, { keepalive: k, protocolVersion: k === 60 ? 4 : 5 });
  let sent = 0;
  const timer = setInterval(() => {
    const n = sent++;
    void pub.publishAsync(`${topic}/q0`, String(n), { qos: 0 });
    pub.publishAsync(`${topic}/q1`, String(n), { qos: 1 }).catch((e) => problems.push(`${name}: ${e}`));
  }, PUBLISH_EVERY_MS);
  return {
    name,
    clients: [idle, sub, pub],
    stop: () => clearInterval(timer),
    complete: () => got.q0!.length >= sent && got.q1!.length >= sent,
    check() {
      const want = Array.from({ length: sent }, (_, i) => i);
      for (const q of ["q0", "q1"]) {
        if (JSON.stringify(got[q]) !== JSON.stringify(want)) {
          problems.push(`${name}: ${q} got ${got[q]!.length} of ${sent} (${got[q]!.join(",")})`);
        }
      }
    },
  };
}

/** A raw client with keep alive `k` that sends nothing after CONNECT: closed at 1.5 k with 0x8D. */
async function silent(b: BrokerProcess, t: Transport, k: number) {
  const name = `${b.runtime}-${t}-silent-k${k}`;
  const s = await openRawStream(t, b.ports[t], ca);
  const sentAt = Date.now();
  s.write(connectPacket(name, k));
  return {
    check() {
      const lived = s.closedAt === null ? null : s.closedAt - sentAt;
      if (lived === null || lived < 1500 * k || lived > 1500 * k + LATE_MS) {
        problems.push(`${name}: closed after ${lived} ms, expected ${1500 * k} to ${1500 * k + LATE_MS}`);
      }
      const d = s.packets.find((p) => p.cmd === "disconnect");
      if (d?.cmd !== "disconnect" || d.reasonCode !== 0x8d) {
        problems.push(`${name}: got ${s.packets.map((p) => p.cmd).join(",")}, not DISCONNECT 0x8D`);
      }
    },
  };
}

/** A raw client with keep alive 10 that pings every 13 s (inside 1.5 x 10): never closed. */
async function pinger(b: BrokerProcess, t: Transport) {
  const name = `${b.runtime}-${t}-pinger`;
  const s: RawStream = await openRawStream(t, b.ports[t], ca);
  s.write(connectPacket(name, 10));
  const timer = setInterval(() => s.write(Buffer.from([0xc0, 0x00])), 13_000);
  return {
    stop() {
      clearInterval(timer);
      if (s.closedAt !== null) problems.push(`${name} was closed after ${(s.closedAt - t0) / 1000} s`);
      const pongs = s.packets.filter((p) => p.cmd === "pingresp").length;
      if (pongs < Math.floor(HOLD_MS / 13_000) - 1) problems.push(`${name}: ${pongs} PINGRESP`);
      s.close();
    },
  };
}

/** mosquitto_sub with keep alive 30 (the client the drop was first seen with): one CONNACK, every message. */
function mosquittoSub(b: BrokerProcess, t: "mqtt" | "mqtts") {
  const name = `${b.runtime}-${t}-mosquitto_sub`;
  const tlsArgs = t === "mqtts" ? ["--cafile", certs.caFile] : [];
  const p = run("mosquitto_sub", [
    ...["-h", "127.0.0.1", "-p", String(b.ports[t]), ...tlsArgs, "-k", "30", "-q", "1", "-d", "-i", name],
    ...["-t", `long/${b.runtime}-${t}-k10/q1`],
  ], HOLD_MS + 120_000);
  return {
    async stop(sent: number) {
      p.kill();
      const out = (await p.done).stdout;
      const connacks = out.split("received CONNACK").length - 1;
      const msgs = out.split("received PUBLISH").length - 1;
      if (connacks !== 1 || msgs < sent) {
        problems.push(`${name}: ${connacks} CONNACK, ${msgs} of ${sent} messages`);
      }
    },
  };
}

/**
 * Each broker bridges to the next (bun -> node over TLS, node -> deno, deno -> bun), keep alive 10 s:
 * the bridge's own outgoing connection stays up too, and carries every message.
 */
function bridgeTo(rt: string, upstream: Record<Transport, number>, tls: boolean): string {
  const server = tls ? `tls+mqtt-tcp://127.0.0.1:${upstream.mqtts}` : `mqtt-tcp://127.0.0.1:${upstream.mqtt}`;
  return `bridges.mqtt.long {\n  server = "${server}"\n  proto_ver = 4\n  clientid = "bridge-${rt}"\n` +
    `  keepalive = 10s\n  clean_start = false\n` +
    `  forwards = [ { local_topic = "bridged/#", remote_topic = "", prefix = "from-${rt}/" } ]\n` +
    (tls ? `  ssl { cacertfile = "${certs.caFile}" }\n` : "") + "}\n";
}

async function bridged(b: BrokerProcess, upstream: BrokerProcess) {
  const name = `${b.runtime}-bridge`;
  const got: number[] = [];
  const sub = await held(upstream, "mqtt", `${name}-sub`, { keepalive: 30 });
  sub.on("message", (_t, p) => got.push(Number(p.toString())));
  await sub.subscribeAsync(`from-${b.runtime}/bridged/#`, { qos: 1 });
  const pub = await held(b, "mqtt", `${name}-pub`, { keepalive: 30 });
  let sent = 0;
  const timer = setInterval(
    () => void pub.publishAsync(`bridged/${b.runtime}`, String(sent++), { qos: 1 }),
    PUBLISH_EVERY_MS,
  );
  return {
    name,
    clients: [sub, pub],
    stop: () => clearInterval(timer),
    complete: () => got.length >= sent,
    check() {
      const ups = b.log().split("Bridge long: connected to").length - 1;
      if (ups !== 1) problems.push(`${name}: connected ${ups} times`);
      if (JSON.stringify(got) !== JSON.stringify(Array.from({ length: sent }, (_, i) => i))) {
        problems.push(`${name}: got ${got.length} of ${sent} (${got.join(",")})`);
      }
    },
  };
}

test(
  `connections on ${TRANSPORTS.join(", ")} and bridges stay up for ${HOLD_MS / 1000} s on ${
    BROKER_RUNTIMES.join(", ")
  }; silent ones close at 1.5 x keep alive`,
  {
    timeout: HOLD_MS + 180_000,
  },
  async () => {
    const ports = await Promise.all(BROKER_RUNTIMES.map(() => freePorts()));
    const brokers = await Promise.all(BROKER_RUNTIMES.map((rt, i) =>
      startBrokerProcess(rt, certs, {
        maxMs: HOLD_MS + 240_000,
        ports: ports[i]!,
        extra: bridgeTo(rt, ports[(i + 1) % ports.length]!, i === 0),
      })
    ));
    try {
      t0 = Date.now();
      const each = <T>(f: (b: BrokerProcess, t: Transport) => Promise<T>) =>
        Promise.all(brokers.flatMap((b) => TRANSPORTS.map((t) => f(b, t))));
      stage("connecting");
      const flows = [
        ...(await each((b, t) => Promise.all(KEEPALIVES.map((k) => traffic(b, t, k))))).flat(),
        ...await Promise.all(brokers.map((b, i) => bridged(b, brokers[(i + 1) % brokers.length]!))),
      ];
      const silents = [...await each((b, t) => silent(b, t, 10)), ...await each((b, t) => silent(b, t, 60))];
      const pingers = await each(pinger);
      const subs = brokers.flatMap((b) => (["mqtt", "mqtts"] as const).map((t) => mosquittoSub(b, t)));
      stage(`holding ${flows.length * 3 + silents.length + pingers.length + subs.length} connections`);
      await sleep(HOLD_MS);
      stage("checking");
      for (const f of flows) f.stop();
      for (const b of brokers) { // before any client is ended here
        const drops = b.log().split("\n").filter((l) => l.includes("connection closed by the client"));
        if (drops.length > 0) problems.push(`${b.runtime} broker logged:\n${drops.join("\n")}`);
      }
      await waitFor(() => flows.every((f) => f.complete()), "the last messages", 20_000).catch(() => {});
      for (const f of flows) f.check();
      for (const s of silents) s.check();
      for (const p of pingers) p.stop();
      await Promise.all(subs.map((s) => s.stop(Math.floor(HOLD_MS / PUBLISH_EVERY_MS) - 5)));
      for (const c of flows.flatMap((f) => f.clients)) c.end(true);
      assert.deepEqual(problems, []);
    } finally {
      await Promise.all(brokers.map((b) => b.stop()));
    }
  },
);
