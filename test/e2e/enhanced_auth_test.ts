/**
 * MQTT 5 enhanced authentication on the release binary: SCRAM-SHA-256 and SCRAM-SHA-1 by MQTT.js
 * (its AUTH exchange) against users written by `broker passwd --scram` and a plain-text NanoMQ
 * password; the server's signature checked by the client; a wrong password (0x86), an unknown
 * method (0x8C); re-authentication on a connected client with raw packets (AUTH 0x19 -> 0x18 ->
 * 0x18 -> 0x00), which keeps the session, and a failed one (DISCONNECT 0x87); and on a broker with two
 * workers, where a connection may be relayed to the worker its session lives on.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { after, before, test } from "node:test";
import mqtt, { type IConnackPacket, type MqttClient } from "mqtt";
import { run } from "../helpers/run.ts";
import { startTcpBroker, type TcpBroker } from "../helpers/tcp_broker.ts";
import { ScramClient } from "../helpers/scram_client.ts";
import { closedWith, connackCode, connectOf, nextPacket, rawConnect } from "../helpers/raw_mqtt.ts";
import type { RawClient } from "../helpers/raw_client.ts";

const BIN = resolve(process.env.BROKER_BIN ?? "dist/broker-linux-x86_64");
let b: TcpBroker;
/** The same users on a broker with two workers: a connection accepted on one is relayed to the other. */
let two: TcpBroker;
const open: (MqttClient | RawClient)[] = [];

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), "scram-"));
  const file = join(dir, "pwd.conf");
  writeFileSync(file, '"plain-user": "plain-pw"\n');
  const added = await run(BIN, ["passwd", "-b", "--scram", file, "alice", "alice-pw"]).done;
  assert.equal(added.code, 0, added.stderr);
  const auth = `auth {\n  allow_anonymous = false\n  password = {include "${file}"}\n}\n`;
  b = await startTcpBroker(auth);
  two = await startTcpBroker(`system.num_taskq_thread = 2\n${auth}`);
});
after(async () => {
  for (const c of open) c instanceof mqtt.MqttClient ? c.end(true) : c.socket.destroy();
  await b.stop();
  await two.stop();
});

/** Connects MQTT.js by SCRAM; resolves with the CONNACK, or rejects with the refusal. */
function scramConnect(
  method: string,
  user: string,
  password: string,
  port = b.port,
  clientId?: string,
): Promise<{ connack: IConnackPacket; scram: ScramClient; c: MqttClient }> {
  const scram = new ScramClient(method === "SCRAM-SHA-1" ? "sha1" : "sha256", user, password);
  const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    properties: { authenticationMethod: method, authenticationData: Buffer.from(scram.first) },
    ...(clientId === undefined ? {} : { clientId }),
  });
  open.push(c);
  c.handleAuth = (packet, done) => {
    const data = String(packet.properties?.authenticationData ?? "");
    done(undefined, {
      cmd: "auth",
      reasonCode: 0x18,
      properties: { authenticationMethod: method, authenticationData: Buffer.from(scram.final(data)) },
    });
  };
  return new Promise((resolve, reject) => {
    c.once("connect", (connack) => resolve({ connack, scram, c }));
    c.once("error", reject);
  });
}

test("SCRAM-SHA-256 for a user from broker passwd --scram; the server proves it knows the keys", async () => {
  const { connack, scram, c } = await scramConnect("SCRAM-SHA-256", "alice", "alice-pw");
  assert.equal(connack.reasonCode, 0);
  assert.equal(connack.properties?.authenticationMethod, "SCRAM-SHA-256");
  assert.ok(scram.verifies(String(connack.properties?.authenticationData)), "the server-final signature");
  // the session is alice's: it works like any other
  await c.subscribeAsync("scram/t", { qos: 1 });
  const got = new Promise<string>((r) => c.once("message", (_t, p) => r(String(p))));
  await c.publishAsync("scram/t", "hello", { qos: 1 });
  assert.equal(await got, "hello");
});

test("SCRAM-SHA-1 for a plain-text password; a password CONNECT still works for the SCRAM user", async () => {
  const { connack } = await scramConnect("SCRAM-SHA-1", "plain-user", "plain-pw");
  assert.equal(connack.reasonCode, 0);
  const byPassword = mqtt.connect(`mqtt://127.0.0.1:${b.port}`, {
    protocolVersion: 5,
    reconnectPeriod: 0,
    username: "alice",
    password: "alice-pw",
  });
  open.push(byPassword);
  await new Promise((r, j) => (byPassword.once("connect", r), byPassword.once("error", j)));
});

test("a wrong password gets CONNACK 0x86, an unknown method 0x8C", async () => {
  await assert.rejects(
    scramConnect("SCRAM-SHA-256", "alice", "nope"),
    (e: { code?: number }) => e.code === 0x86,
  );
  await assert.rejects(
    scramConnect("SCRAM-SHA-256", "nobody", "x"),
    (e: { code?: number }) => e.code === 0x86,
  );
  const c = await rawConnect(b.port, connectOf(5, { properties: { authenticationMethod: "KERBEROS" } }));
  open.push(c);
  assert.equal(connackCode(c), 0x8c);
  const reason = (c.packets[0] as { properties?: { reasonString?: string } }).properties?.reasonString ?? "";
  assert.match(reason, /SCRAM-SHA-1, SCRAM-SHA-256/);
});

/** A raw client signed in by SCRAM-SHA-256 as alice. */
async function rawScram(): Promise<RawClient> {
  const scram = new ScramClient("sha256", "alice", "alice-pw");
  const method = "SCRAM-SHA-256";
  const c = await rawConnect(
    b.port,
    connectOf(5, {
      properties: { authenticationMethod: method, authenticationData: Buffer.from(scram.first) },
    }),
  );
  open.push(c);
  const first = await nextPacket<{ properties: { authenticationData: Buffer } }>(c, "auth");
  c.send({
    cmd: "auth",
    reasonCode: 0x18,
    properties: {
      authenticationMethod: method,
      authenticationData: Buffer.from(scram.final(String(first.properties.authenticationData))),
    },
  }, 5);
  const ack = await nextPacket<{ reasonCode: number }>(c, "connack");
  assert.equal(ack.reasonCode, 0);
  return c;
}

/** Re-authenticates `c` with `password`; the packets it got from the broker in reply. */
async function reauth(c: RawClient, password: string): Promise<{ scram: ScramClient; from: number }> {
  const scram = new ScramClient("sha256", "alice", password);
  const method = "SCRAM-SHA-256";
  const from = c.packets.length;
  c.send({
    cmd: "auth",
    reasonCode: 0x19,
    properties: { authenticationMethod: method, authenticationData: Buffer.from(scram.first) },
  }, 5);
  const serverFirst = await nextPacket<{ reasonCode: number; properties: { authenticationData: Buffer } }>(
    c,
    "auth",
    from,
  );
  assert.equal(serverFirst.reasonCode, 0x18);
  c.send({
    cmd: "auth",
    reasonCode: 0x18,
    properties: {
      authenticationMethod: method,
      authenticationData: Buffer.from(scram.final(String(serverFirst.properties.authenticationData))),
    },
  }, 5);
  return { scram, from: from + 1 };
}

test("re-authentication during a session: AUTH 0x19, 0x18, then AUTH 0x00 with the server's signature", async () => {
  const c = await rawScram();
  c.send({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "re/t", qos: 0 }] }, 5);
  await nextPacket(c, "suback");
  const { scram, from } = await reauth(c, "alice-pw");
  const done = await nextPacket<{ reasonCode: number; properties: { authenticationData: Buffer } }>(
    c,
    "auth",
    from,
  );
  assert.equal(done.reasonCode, 0);
  assert.ok(scram.verifies(String(done.properties.authenticationData)));
  // still connected, still subscribed
  c.send(
    { cmd: "publish", topic: "re/t", payload: Buffer.from("after"), qos: 0, retain: false, dup: false },
    5,
  );
  const msg = await nextPacket<{ payload: Buffer }>(c, "publish");
  assert.equal(String(msg.payload), "after");
});

test("a failed re-authentication ends the connection with DISCONNECT 0x87", async () => {
  const c = await rawScram();
  await reauth(c, "wrong");
  assert.equal(await closedWith(c), 0x87);
});

test("with two workers, clients whose sessions live on either worker authenticate by SCRAM", async () => {
  // client ids hash to both workers; each connection may be accepted by either and relayed
  for (const id of ["scram-a", "scram-b", "scram-c", "scram-d", "scram-e", "scram-f"]) {
    const { connack, scram } = await scramConnect("SCRAM-SHA-256", "alice", "alice-pw", two.port, id);
    assert.equal(connack.reasonCode, 0, id);
    assert.ok(scram.verifies(String(connack.properties?.authenticationData)), id);
  }
  await assert.rejects(
    scramConnect("SCRAM-SHA-256", "alice", "nope", two.port, "scram-g"),
    (e: { code?: number }) => e.code === 0x86,
  );
});
