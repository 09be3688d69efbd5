/**
 * A client the broker closes while its own bytes are still arriving still reads why: the broker
 * writes the DISCONNECT (or the failed CONNACK), half-closes, and discards input until the client
 * closes or a grace period ends. Closing a socket with unread input would send a reset instead,
 * and the client's TCP stack would throw away the packet that says why.
 */
import assert from "node:assert/strict";
import net from "node:net";
import tls from "node:tls";
import { after, before, describe, test } from "node:test";
import mqttPacket, { type Packet } from "mqtt-packet";
import { createAuth } from "../../src/auth/create_auth.ts";
import { RC } from "../../src/protocol/reason_code.ts";
import { makeTestCerts } from "../helpers/certs.ts";
import { type LiveBroker, RUNTIMES, startLiveBroker, waitFor } from "../helpers/live_broker.ts";

const certs = makeTestCerts();
const serverTls = {
  key: certs.pem(certs.keyFile),
  cert: certs.pem(certs.certFile),
  requestCert: false,
  rejectUnauthorized: false,
};

/** A raw client (over TLS when `secure`) that writes `first`, then keeps sending `more` until the broker's side ends. */
function flood(lb: LiveBroker, secure: boolean, first: Buffer, more: Buffer) {
  const packets: Packet[] = [];
  const parser = mqttPacket.parser({ protocolVersion: 5 });
  parser.on("packet", (p: Packet) => packets.push(p));
  const s = secure
    ? tls.connect({
      port: lb.tlsPort,
      host: "127.0.0.1",
      ca: certs.pem(certs.caFile),
      servername: "localhost",
    })
    : net.connect(lb.port, "127.0.0.1");
  const r = { packets, ended: false, reset: false, closed: false };
  s.on("data", (d: Buffer) => parser.parse(d));
  s.on("end", () => (r.ended = true)); // the broker's FIN
  s.on("error", (e: NodeJS.ErrnoException) => (r.reset ||= e.code === "ECONNRESET" || e.code === "EPIPE"));
  s.on("close", () => (r.closed = true));
  s.on(secure ? "secureConnect" : "connect", () => {
    s.write(first);
    let n = 0;
    const pump = () => {
      while (!r.ended && !r.closed && n++ < 200) if (!s.write(more)) return void s.once("drain", pump);
      if (!r.ended && !r.closed) return void setTimeout(pump, 5);
      s.end(); // as a client does once it has read the DISCONNECT
    };
    pump();
  });
  return r;
}

const gen = (p: mqttPacket.Packet) => mqttPacket.generate(p, { protocolVersion: 5 });
const connect = (o: Partial<mqttPacket.IConnectPacket> = {}) =>
  gen({
    cmd: "connect",
    protocolId: "MQTT",
    protocolVersion: 5,
    clean: true,
    clientId: "",
    keepalive: 60,
    ...o,
  });
const qos2 = (id: number, payload: Buffer) =>
  gen({ cmd: "publish", topic: "t", payload, qos: 2, messageId: id, dup: false, retain: false });

for (const [name, runtime] of RUNTIMES) {
  for (const secure of [false, true]) {
    describe(`lingering close over ${name}${secure ? ", TLS" : ""}`, () => {
      let lb: LiveBroker;
      let auth: LiveBroker;
      before(async () => {
        lb = await startLiveBroker({ maxInflight: 10, maxPacketSize: 1000 }, runtime(), serverTls);
        auth = await startLiveBroker({}, runtime(), serverTls);
        auth.broker.setAuth(createAuth({
          allowAnonymous: false,
          passwords: { joy: "right" },
          rules: [],
          noMatch: "allow",
          denyAction: "ignore",
        }));
      });
      after(async () => {
        await lb.stop();
        await auth.stop();
      });

      test("more QoS 2 messages than Receive Maximum: the client reads DISCONNECT 0x93, then the broker's FIN", async () => {
        const burst = Buffer.concat(Array.from({ length: 50 }, (_, i) => qos2(i + 1, Buffer.alloc(500))));
        const r = flood(lb, secure, Buffer.concat([connect(), burst]), qos2(1000, Buffer.alloc(900)));
        await waitFor(() => r.closed, "the connection to close");
        assert.deepEqual(r.packets.map((p) => p.cmd).slice(-1), ["disconnect"]);
        assert.equal(
          (r.packets.at(-1) as mqttPacket.IDisconnectPacket).reasonCode,
          RC.RECEIVE_MAXIMUM_EXCEEDED,
        );
        assert.equal(r.ended, true, "the broker half-closed (FIN)");
        assert.equal(r.reset, false, "no reset");
      });

      test("a packet larger than Maximum Packet Size: the client reads DISCONNECT 0x95 while the rest is in flight", async () => {
        const big = gen({
          cmd: "publish",
          topic: "t",
          payload: Buffer.alloc(4_000_000),
          qos: 0,
          dup: false,
          retain: false,
        });
        const r = flood(lb, secure, Buffer.concat([connect(), big]), Buffer.alloc(64 * 1024));
        await waitFor(() => r.closed, "the connection to close");
        const d = r.packets.find((p) => p.cmd === "disconnect") as mqttPacket.IDisconnectPacket | undefined;
        assert.equal(d?.reasonCode, RC.PACKET_TOO_LARGE);
        assert.equal(r.reset, false, "no reset");
      });

      test("a refused CONNECT with more packets behind it: the client reads CONNACK 0x86", async () => {
        const pubs = Buffer.concat(Array.from({ length: 200 }, () => qos2(1, Buffer.alloc(900))));
        const r = flood(
          auth,
          secure,
          Buffer.concat([connect({ username: "joy", password: Buffer.from("wrong") }), pubs]),
          pubs,
        );
        await waitFor(() => r.closed, "the connection to close");
        const ack = r.packets.find((p) => p.cmd === "connack") as mqttPacket.IConnackPacket | undefined;
        assert.equal(ack?.reasonCode, RC.BAD_USER_NAME_OR_PASSWORD);
        assert.equal(r.reset, false, "no reset");
      });
    });
  }
}
