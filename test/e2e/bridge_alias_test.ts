/**
 * The bridge's outbound Topic Aliases (MQTT 5): a release-binary edge bridged at MQTT 5 to
 * Mosquitto, which grants 10 aliases. Messages on 12 topics, each several times: Mosquitto's
 * subscriber gets every message under its own topic (Mosquitto resolved the aliases we set and
 * reused, and the two topics past its maximum went without one), in order, and the bridge counts
 * the bytes it saved; at MQTT 3.1.1 it saves none.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { freePort, mqttListening, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";
import { startTcpBroker, type TcpBroker } from "../helpers/tcp_broker.ts";

const stops: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const s of stops.reverse()) await s();
});

async function mosquitto(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "alias-mosquitto-"));
  const port = await freePort();
  writeFileSync(join(dir, "m.conf"), `listener ${port} 127.0.0.1\nallow_anonymous true\nlog_dest none\n`);
  const p = run("mosquitto", ["-c", join(dir, "m.conf")], 600_000);
  stops.push(async () => (process.kill(p.pid, "SIGTERM"), await p.done));
  await mqttListening(port);
  return port;
}

async function client(port: number): Promise<MqttClient> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
  stops.push(() => c.endAsync(true));
  await new Promise((r, j) => (c.once("connect", r), c.once("error", j)));
  return c;
}

async function forwardThrough(protoVer: 4 | 5): Promise<{ got: string[]; saved: number; sent: string[] }> {
  const up = await mosquitto();
  const edge: TcpBroker = await startTcpBroker(
    `bridges.mqtt.cloud {\n  server = "mqtt-tcp://127.0.0.1:${up}"\n  proto_ver = ${protoVer}\n` +
      `  clientid = "edge-alias-${protoVer}"\n  forwards = [ { local_topic = "plant/#", remote_topic = "", qos = 1 } ]\n}\n`,
  );
  stops.push(() => edge.stop());
  const cloud = await client(up);
  const got: string[] = [];
  cloud.on("message", (t, p) => got.push(`${t} ${p}`));
  await cloud.subscribeAsync("plant/#", { qos: 1 });
  type View = { bridge: { state: string; aliasBytesSaved: number } };
  const bridgeUp = async () =>
    ((await (await fetch(`http://127.0.0.1:${edge.httpPort}/api/v4/bridges/cloud`)).json()) as View).bridge;
  await waitFor(async () => (await bridgeUp()).state === "connected", "the bridge");
  const device = await client(edge.port);
  const sent: string[] = [];
  for (let round = 0; round < 5; round++) {
    for (let t = 0; t < 12; t++) {
      const topic = `plant/line-${t % 3}/machine-${t}/telemetry/temperature`;
      sent.push(`${topic} r${round}`);
      await device.publishAsync(topic, `r${round}`, { qos: 1 });
    }
  }
  await waitFor(() => got.length >= sent.length, "every message upstream");
  return { got, saved: (await bridgeUp()).aliasBytesSaved, sent };
}

test("MQTT 5: Mosquitto resolves the aliases the bridge sets; bytes saved are counted", async () => {
  const { got, saved, sent } = await forwardThrough(5);
  assert.deepEqual(got, sent);
  // 10 topics of 46-49 bytes aliased, 4 more times each, less 3 bytes per aliased packet
  assert.ok(saved > 10 * 4 * 40, `saved ${saved} bytes`);
});

test("MQTT 3.1.1 has no aliases: nothing saved, everything delivered", async () => {
  const { got, saved, sent } = await forwardThrough(4);
  assert.deepEqual(got, sent);
  assert.equal(saved, 0);
});
