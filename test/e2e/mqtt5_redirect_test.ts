/**
 * MQTT 5 Request/Response Information and server redirection from the configuration, on the
 * release binary with MQTT.js and Mosquitto's client: mqtt.response_information answered to a
 * client that asks; mqtt.server_reference with server_moved refusing MQTT 5 with 0x9D and the
 * Server Reference, MQTT 3.1.1 as unavailable; set by `broker reload`, connected clients moved.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { appendFileSync } from "node:fs";
import { resolve } from "node:path";
import process from "node:process";
import mqtt, { type IConnackPacket, type IDisconnectPacket } from "mqtt";
import { run } from "../helpers/run.ts";
import { startTcpBroker, type TcpBroker } from "../helpers/tcp_broker.ts";

const BIN = resolve(process.env.BROKER_BIN ?? "dist/broker-linux-x86_64");
const brokers: TcpBroker[] = [];
after(async () => {
  for (const b of brokers) await b.stop();
});

function connect5(port: number, opts: mqtt.IClientOptions): Promise<IConnackPacket> {
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, reconnectPeriod: 0, ...opts });
  return new Promise((resolve, reject) => {
    c.once("connect", (ack) => (c.end(true), resolve(ack)));
    c.once("error", (e) => (c.end(true), reject(e)));
  });
}

test("mqtt.response_information goes to the clients that ask, %c filled in", async () => {
  const b = await startTcpBroker('mqtt { response_information = "replies/%c/" }\n');
  brokers.push(b);
  const ack = await connect5(b.port, { clientId: "dev-7", properties: { requestResponseInformation: true } });
  assert.equal(ack.properties?.responseInformation, "replies/dev-7/");
  const plain = await connect5(b.port, { clientId: "dev-8" });
  assert.equal(plain.properties?.responseInformation, undefined);
});

test("mqtt.server_reference: MQTT 5 gets 0x9D with the reference, MQTT 3.1.1 is refused as unavailable", async () => {
  const b = await startTcpBroker('mqtt { server_reference = "backup.example:1883", server_moved = true }\n');
  brokers.push(b);
  const c = mqtt.connect(`mqtt://127.0.0.1:${b.port}`, { protocolVersion: 5, reconnectPeriod: 0 });
  // the refusing CONNACK itself, as MQTT.js received it
  const refused = await new Promise<IConnackPacket>((resolve) =>
    c.on("packetreceive", (p) => p.cmd === "connack" && resolve(p as IConnackPacket))
  );
  c.end(true);
  assert.equal(refused.reasonCode, 0x9d);
  assert.equal(refused.properties?.serverReference, "backup.example:1883");
  const v3 = await run("mosquitto_pub", ["-p", String(b.port), "-V", "mqttv311", "-t", "x", "-m", "1"]).done;
  assert.notEqual(v3.code, 0);
  assert.match(v3.stderr, /unavailable/i);
});

test("broker reload setting mqtt.server_reference moves connected clients: MQTT 5 told 0x9C and where", async () => {
  const b = await startTcpBroker("");
  brokers.push(b);
  const v5 = mqtt.connect(`mqtt://127.0.0.1:${b.port}`, { protocolVersion: 5, reconnectPeriod: 0 });
  const v4 = mqtt.connect(`mqtt://127.0.0.1:${b.port}`, { protocolVersion: 4, reconnectPeriod: 0 });
  for (const c of [v5, v4]) await new Promise((r, j) => (c.once("connect", r), c.once("error", j)));
  const told = new Promise<IDisconnectPacket>((r) => v5.once("disconnect", r));
  const v4Closed = new Promise<void>((r) => v4.once("close", () => r()));
  appendFileSync(b.conf, 'mqtt { server_reference = "replacement:1883" }\n');
  const reload = await run(BIN, ["reload"], 30_000, { NANOMQ_PID_FILE: b.pidFile }).done;
  assert.equal(reload.code, 0, reload.stderr);
  const d = await told;
  assert.equal(d.reasonCode, 0x9c);
  assert.equal(d.properties?.serverReference, "replacement:1883");
  await v4Closed;
  for (const c of [v5, v4]) c.end(true);
});
