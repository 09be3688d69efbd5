/**
 * Every limit at its edge, on the release binary with the limit set in nanomq.conf: what is within
 * it works, the first thing over it is refused the documented way (docs/limits.md), and
 * broker_limit_hits_total counts it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt, { type MqttClient } from "mqtt";
import { waitFor } from "../helpers/live_broker.ts";
import { closedWith, connackCode, connectOf, nextPacket, rawConnect } from "../helpers/raw_mqtt.ts";
import { metricOf, startTcpBroker, type TcpBroker } from "../helpers/tcp_broker.ts";

const hits = (b: TcpBroker, limit: string) => metricOf(b, `broker_limit_hits_total{limit="${limit}"}`);

interface Fixture {
  b: TcpBroker;
  clients: MqttClient[];
  client(o?: mqtt.IClientOptions, port?: number): Promise<MqttClient>;
}

/** A broker with `conf` for the tests of one describe block; MQTT.js clients opened through it end after. */
function brokerWith(conf: string): Fixture {
  const fx: Fixture = {
    b: null as unknown as TcpBroker,
    clients: [] as MqttClient[],
    async client(o = {}, port = fx.b.port) {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...o });
      fx.clients.push(c);
      return c;
    },
  };
  before(async () => (fx.b = await startTcpBroker(conf)));
  after(async () => {
    for (const c of fx.clients) c.end(true);
    await fx.b.stop();
  });
  return fx;
}

/** The SUBACK codes for `filters`: MQTT.js rejects a SUBACK with a failure code, carrying the packet. */
async function grants(c: MqttClient, filters: string | string[], qos: 0 | 1): Promise<number[]> {
  try {
    return (await c.subscribeAsync(filters, { qos })).map((g) => g.qos);
  } catch (e) {
    const granted = (e as { packet?: { granted?: number[] } }).packet?.granted;
    if (granted === undefined) throw e;
    return granted;
  }
}

/** Opens a socket; resolves true if the broker answers CONNECT, false if it closed the socket first. */
async function answered(port: number): Promise<boolean> {
  const c = await rawConnect(port, connectOf(4)).catch(() => null); // a reset can beat the connect
  if (c === null) return false;
  const ok = connackCode(c) === 0;
  c.socket.destroy();
  return ok;
}

describe("mqtt.max_connections and a listener's max_connections", () => {
  let other = 0;
  const fx = brokerWith(
    "mqtt.max_connections = 4\nlisteners.tcp.max_connections = 2\n" +
      `listeners.tcp.second { bind = "127.0.0.1:${other = 20000 + Math.floor(Math.random() * 10000)}" }\n`,
  );

  test("the listener takes 2, the broker 4; the next is closed unread and counted", async () => {
    const held = [await fx.client(), await fx.client()];
    assert.equal(await answered(fx.b.port), false, "a third connection on the limited listener");
    assert.equal(await hits(fx.b, "listener_max_connections"), 1);
    held.push(await fx.client({}, other), await fx.client({}, other));
    assert.equal(await answered(other), false, "a fifth connection");
    assert.equal(await hits(fx.b, "max_connections"), 1);
    held[0]!.end(true);
    await waitFor(async () => await answered(fx.b.port), "a place freed by a close");
    assert.match(fx.b.log(), /Limit max_connections reached/);
  });
});

describe("mqtt.max_conn_rate_per_ip", () => {
  const fx = brokerWith("mqtt.max_conn_rate_per_ip = 5\n");

  test("20 connections at once from one address: 5 (and what refilled meanwhile) get in", async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => answered(fx.b.port)));
    const ok = results.filter((r) => r).length;
    assert.ok(ok >= 5 && ok < 20, `${ok} of 20 let in`);
    assert.equal(await hits(fx.b, "max_conn_rate"), 20 - ok);
    await new Promise((r) => setTimeout(r, 1100)); // the bucket refills at 5 per second
    assert.equal(await answered(fx.b.port), true);
  });
});

describe("mqtt.max_sessions", () => {
  const fx = brokerWith("mqtt.max_sessions = 3\n");

  test("3 sessions, online or not; a fourth client id is refused with 0x97, a known one is not", async () => {
    for (const id of ["s1", "s2"]) {
      (await fx.client({ clientId: id, clean: false })).end(true); // offline sessions stay
    }
    const third = await fx.client({ clientId: "s3", protocolVersion: 5 });
    const v5 = await rawConnect(fx.b.port, connectOf(5));
    assert.equal(connackCode(v5), 0x97);
    const v4 = await rawConnect(fx.b.port, connectOf(4));
    assert.equal(connackCode(v4), 3, "MQTT 3.1.1: Server unavailable");
    const back = await fx.client({ clientId: "s1", clean: false });
    assert.equal(back.connected, true);
    third.end(true); // a clean session ends with its connection: room for one more
    await waitFor(async () => connackCode(await rawConnect(fx.b.port, connectOf(5))) === 0, "a free session");
    assert.equal(await hits(fx.b, "max_sessions"), 2);
  });
});

describe("mqtt.max_subscriptions", () => {
  const fx = brokerWith("mqtt.max_subscriptions = 3\n");

  test("a session holds 3 subscriptions: the fourth filter is refused (0x97; MQTT 3: 0x80), renewing one is not", async () => {
    for (const [version, refused] of [[5, 0x97], [4, 0x80]] as const) {
      const c = await fx.client({ protocolVersion: version });
      assert.deepEqual(await grants(c, ["a/1", "a/2", "a/3", "a/4"], 1), [1, 1, 1, refused]);
      assert.deepEqual(await grants(c, "a/2", 0), [0], "a subscription replaced is not one more");
    }
    assert.equal(await hits(fx.b, "max_subscriptions"), 2);
  });
});

describe("mqtt.max_topic_levels and mqtt.max_topic_length", () => {
  const fx = brokerWith("mqtt.max_topic_levels = 4\nmqtt.max_topic_length = 32\n");
  const deep = "a/b/c/d/e";
  const long = "t".repeat(33);

  test("at the limits a topic is delivered; over them a SUBSCRIBE gets 0x8F and a QoS 1 PUBLISH 0x90", async () => {
    const sub = await fx.client({ protocolVersion: 5 });
    const got: string[] = [];
    sub.on("message", (t) => got.push(t));
    const edge = ["a/b/c/d", "t".repeat(32)];
    assert.deepEqual(await grants(sub, [...edge, deep, long], 1), [1, 1, 0x8f, 0x8f]);
    const pub = await fx.client({ protocolVersion: 5 });
    for (const t of edge) await pub.publishAsync(t, "x", { qos: 1 });
    await waitFor(() => got.length === 2, "the messages at the limits");
    for (const t of [deep, long]) {
      const p = await rawConnect(fx.b.port, connectOf(5));
      p.send({
        cmd: "publish",
        topic: t,
        payload: Buffer.from("x"),
        qos: 1,
        messageId: 7,
        retain: false,
        dup: false,
      });
      const ack = await nextPacket<{ reasonCode: number }>(p, "puback");
      assert.equal(ack.reasonCode, 0x90);
      p.socket.destroy();
    }
  });

  test("over them, a QoS 0 or MQTT 3.1.1 PUBLISH closes the connection, and a will topic refuses the CONNECT", async () => {
    const v5 = await rawConnect(fx.b.port, connectOf(5));
    v5.send({ cmd: "publish", topic: deep, payload: Buffer.from("x"), qos: 0, retain: false, dup: false });
    assert.equal(await closedWith(v5), 0x90);
    const v4 = await rawConnect(fx.b.port, connectOf(4));
    v4.send({
      cmd: "publish",
      topic: long,
      payload: Buffer.from("x"),
      qos: 1,
      messageId: 1,
      retain: false,
      dup: false,
    }, 4);
    assert.equal(await closedWith(v4), -1);
    assert.equal(v4.packets.some((p) => p.cmd === "puback"), false);
    const will = await rawConnect(
      fx.b.port,
      connectOf(5, { will: { topic: deep, payload: Buffer.from("w"), qos: 0, retain: false } }),
    );
    assert.equal(connackCode(will), 0x90);
    assert.equal(await hits(fx.b, "max_topic_levels") + await hits(fx.b, "max_topic_length"), 7);
  });
});

describe("mqtt.max_retained_messages and mqtt.max_retained_bytes", () => {
  const fx = brokerWith("mqtt.max_retained_messages = 3\nmqtt.max_retained_bytes = 1000\n");

  test("over either limit a message is delivered but not retained; replacing and clearing make room", async () => {
    const pub = await fx.client({ protocolVersion: 5 });
    const live = await fx.client();
    const got: string[] = [];
    live.on("message", (t) => got.push(t));
    await live.subscribeAsync("r/#", { qos: 1 });
    await pub.publishAsync("r/1", "a", { qos: 1, retain: true });
    await pub.publishAsync("r/2", "b", { qos: 1, retain: true });
    await pub.publishAsync("r/big", Buffer.alloc(990), { qos: 1, retain: true }); // 1000 bytes with the others' 10
    assert.equal(await hits(fx.b, "max_retained_bytes"), 1);
    await pub.publishAsync("r/3", "c", { qos: 1, retain: true });
    await pub.publishAsync("r/4", "d", { qos: 1, retain: true });
    assert.equal(await hits(fx.b, "max_retained_messages"), 1);
    await waitFor(() => got.length === 5, "every message delivered live");
    await pub.publishAsync("r/1", "A", { qos: 1, retain: true }); // a replacement
    await pub.publishAsync("r/2", "", { qos: 1, retain: true }); // a clear
    await pub.publishAsync("r/5", "e", { qos: 1, retain: true });
    const late = await fx.client();
    const kept: string[] = [];
    late.on("message", (t, m) => kept.push(`${t}=${m}`));
    await late.subscribeAsync("r/#", { qos: 1 });
    await waitFor(() => kept.length === 3, "the retained messages");
    assert.deepEqual(kept.sort(), ["r/1=A", "r/3=c", "r/5=e"]);
    assert.equal(await metricOf(fx.b, "broker_retained_messages"), 3);
  });
});

describe("mqtt.property_size (User Properties per packet)", () => {
  const fx = brokerWith("mqtt.property_size = 4\n");
  const props = (n: number) => ({
    userProperties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"])),
  });

  test("4 are forwarded; 5 in a PUBLISH or SUBSCRIBE close with 0x97, in a CONNECT refuse it with 0x97", async () => {
    const sub = await fx.client({ protocolVersion: 5 });
    let seen = -1;
    sub.on("message", (_t, _m, p) => (seen = Object.keys(p.properties?.userProperties ?? {}).length));
    await sub.subscribeAsync("p/t", { qos: 1 });
    const pub = await fx.client({ protocolVersion: 5 });
    await pub.publishAsync("p/t", "x", { qos: 1, properties: props(4) });
    await waitFor(() => seen === 4, "the message with 4 User Properties");
    const p = await rawConnect(fx.b.port, connectOf(5));
    p.send({
      cmd: "publish",
      topic: "p/t",
      payload: Buffer.from("x"),
      qos: 0,
      retain: false,
      dup: false,
      properties: props(5),
    });
    assert.equal(await closedWith(p), 0x97);
    const s = await rawConnect(fx.b.port, connectOf(5));
    s.send({
      cmd: "subscribe",
      messageId: 1,
      subscriptions: [{ topic: "p/#", qos: 0 }],
      properties: props(5),
    });
    assert.equal(await closedWith(s), 0x97);
    const c = await rawConnect(
      fx.b.port,
      connectOf(5, {
        properties: props(3),
        will: { topic: "w", payload: Buffer.from("x"), qos: 0, retain: false, properties: props(2) },
      }),
    );
    assert.equal(connackCode(c), 0x97, "3 on the CONNECT and 2 on its will");
    assert.equal(await hits(fx.b, "property_size"), 3);
  });
});

describe("mqtt.max_inflight_window and a listener's max_packet_size", () => {
  let other = 0;
  const fx = brokerWith(
    "mqtt.max_inflight_window = 3\nlisteners.tcp.max_packet_size = 1KB\n" +
      `listeners.tcp.big { bind = "127.0.0.1:${other = 20000 + Math.floor(Math.random() * 10000)}" }\n`,
  );

  test("CONNACK says Receive Maximum 3: a fourth QoS 2 message without PUBREL closes with 0x93", async () => {
    const c = await rawConnect(fx.b.port, connectOf(5));
    const props = (c.packets[0] as { properties?: { receiveMaximum?: number } }).properties;
    assert.equal(props?.receiveMaximum, 3);
    for (let id = 1; id <= 3; id++) {
      c.send({
        cmd: "publish",
        topic: "q2",
        payload: Buffer.from("x"),
        qos: 2,
        messageId: id,
        retain: false,
        dup: false,
      });
    }
    await waitFor(() => c.packets.filter((p) => p.cmd === "pubrec").length === 3, "3 PUBRECs");
    c.send({
      cmd: "publish",
      topic: "q2",
      payload: Buffer.from("x"),
      qos: 2,
      messageId: 4,
      retain: false,
      dup: false,
    });
    assert.equal(await closedWith(c), 0x93);
    assert.equal(await hits(fx.b, "max_inflight_window"), 1);
  });

  test("the 1 KB listener tells and enforces its size; the other one takes 2 KB", async () => {
    const small = await rawConnect(fx.b.port, connectOf(5));
    assert.equal(
      (small.packets[0] as { properties?: { maximumPacketSize?: number } }).properties?.maximumPacketSize,
      1024,
    );
    small.send({
      cmd: "publish",
      topic: "big",
      payload: Buffer.alloc(2048),
      qos: 0,
      retain: false,
      dup: false,
    });
    assert.equal(await closedWith(small), 0x95);
    const big = await fx.client({ protocolVersion: 5 }, other);
    await big.publishAsync("big", Buffer.alloc(2048), { qos: 1 });
    assert.equal(await hits(fx.b, "max_packet_size"), 1);
  });
});

describe("mqtt.max_mqueue_len", () => {
  const fx = brokerWith("mqtt.max_mqueue_len = 5\n");

  test("an offline session keeps 5 messages; the others are dropped and counted", async () => {
    const sub = await fx.client({ clientId: "q", clean: false });
    await sub.subscribeAsync("q/t", { qos: 1 });
    sub.end(true);
    await waitFor(async () => await metricOf(fx.b, "nanomq_connections_count") === 0, "the subscriber gone");
    const pub = await fx.client();
    for (let i = 0; i < 8; i++) await pub.publishAsync("q/t", String(i), { qos: 1 });
    const got: string[] = [];
    // handler first: the queue follows CONNACK at once
    const back = mqtt.connect(`mqtt://127.0.0.1:${fx.b.port}`, {
      clientId: "q",
      clean: false,
      reconnectPeriod: 0,
    });
    fx.clients.push(back);
    back.on("message", (_t, m) => got.push(String(m)));
    await waitFor(() => got.length === 5, "the queued messages");
    assert.equal(await metricOf(fx.b, 'broker_messages_dropped_total{reason="queue_full"}'), 3);
    assert.deepEqual(got, ["0", "1", "2", "3", "4"]);
  });
});
