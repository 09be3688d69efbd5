import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ClientError } from "../../src/client/client_error.ts";
import { parseClientFlags } from "../../src/client/client_flags.ts";
import { parseUrl } from "../../src/client/client_target.ts";
import { parseBenchFlags } from "../../src/client/bench_flags.ts";

describe("client tool flags", () => {
  test("nanomq_cli's defaults: 127.0.0.1:1883, MQTT 3.1.1, keep alive 60, clean start; sub QoS 2, pub QoS 0", () => {
    const sub = parseClientFlags("sub", ["-t", "a/#"]);
    assert.deepEqual(sub.target, { transport: "tcp", host: "127.0.0.1", port: 1883, path: "/mqtt" });
    assert.deepEqual([sub.client.version, sub.client.keepalive, sub.client.clean, sub.qos], [4, 60, true, 2]);
    assert.equal(parseClientFlags("pub", ["-t", "a", "-m", "x"]).qos, 0);
    assert.equal(parseClientFlags("pub", ["-t", "a", "-m", "x", "-s"]).target.port, 8883);
  });

  test("Mosquitto's spellings where they do not clash: -V mqttv311/mqttv5, --message, --will-payload, -x, --username", () => {
    const s = parseClientFlags("pub", [
      "-t",
      "a",
      "--message",
      "hi",
      "-V",
      "mqttv5",
      "-x",
      "30",
      "--username",
      "u",
      "--will-topic",
      "w",
      "--will-payload",
      "gone",
    ]);
    assert.equal(s.client.version, 5);
    assert.deepEqual(s.message, { text: Buffer.from("hi") });
    assert.equal(s.client.properties?.sessionExpiryInterval, 30);
    assert.equal(s.client.username, "u");
    assert.deepEqual(s.client.will?.payload, Buffer.from("gone"));
    assert.equal(parseClientFlags("sub", ["-t", "a", "-V", "mqttv311"]).client.version, 4);
  });

  test("MQTT 5 property flags go to the packets that carry them", () => {
    const s = parseClientFlags("pub", [
      "-t",
      "a",
      "-m",
      "x",
      "-V",
      "5",
      "--content_type",
      "text/plain",
      "--message_expiry_interval",
      "9",
      "--receive_maximum",
      "10",
      "--will-topic",
      "w",
      "--will_delay_interval",
      "5",
      "--user_property",
      "a=1",
      "--user_property",
      "a=2",
    ]);
    assert.deepEqual(s.props.message, { contentType: "text/plain", messageExpiryInterval: 9 });
    assert.deepEqual(s.client.properties, { receiveMaximum: 10, userProperties: { a: ["1", "2"] } });
    assert.deepEqual(s.client.will?.properties, {
      contentType: "text/plain",
      messageExpiryInterval: 9,
      willDelayInterval: 5,
    });
  });

  test("URLs: mqtt, mqtts, ws and wss with their default ports, NanoMQ's schemes, credentials, IPv6", () => {
    assert.deepEqual(parseUrl("mqtts://h"), { transport: "tls", host: "h", port: 8883, path: "/mqtt" });
    assert.deepEqual(parseUrl("ws://h:9001/x"), { transport: "ws", host: "h", port: 9001, path: "/x" });
    assert.equal(parseUrl("wss://h").port, 8084);
    assert.equal(parseUrl("tls+mqtt-tcp://h:1").transport, "tls");
    assert.deepEqual(parseUrl("mqtt://ann:p%40ss@[::1]:1884"), {
      transport: "tcp",
      host: "::1",
      port: 1884,
      path: "/mqtt",
      username: "ann",
      password: "p@ss",
    });
    assert.throws(() => parseUrl("http://h"), (e: unknown) => e instanceof ClientError && e.kind === "usage");
  });

  test("bench: nanomq_cli bench's letters (-c clients, -i, -I, -C clean, -S TLS), ids from --startnumber", () => {
    const b = parseBenchFlags("pub", [
      "-c",
      "7",
      "-i",
      "3",
      "-I",
      "0",
      "-C",
      "false",
      "-S",
      "-n",
      "40",
      "-q",
      "1",
    ]);
    assert.deepEqual(
      [b.clients.clients, b.clients.intervalMs, b.messageGapMs, b.clients.client.clean, b.qos],
      [7, 3, 0, false, 1],
    );
    assert.deepEqual([b.clients.target.transport, b.clients.target.port, b.clients.idOffset], [
      "tls",
      8883,
      40,
    ]);
    assert.deepEqual([b.clients.client.version, b.size, b.topic], [5, 256, "bench/%i"]);
    assert.equal(parseBenchFlags("sub", ["--ws"]).clients.target.port, 8083);
  });
});
