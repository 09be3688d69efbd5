import assert from "node:assert/strict";
import { describe, test } from "node:test";
import mqttPacket from "mqtt-packet";
import { LocalPipe } from "../../src/bridge/local_pipe.ts";
import { type Broker, createBroker } from "../../src/broker/broker.ts";
import type { PacketWriter } from "../../src/protocol/packet_writer.ts";
import { ServerDecoder } from "../../src/protocol/codec.ts";
import { FlushScheduler, Link } from "../../src/transport/link.ts";
import { MemClient, quietLog } from "../helpers/mem_client.ts";
import type { Client } from "../../src/broker/state.ts";

const turn = () => new Promise((r) => setImmediate(r));
const gen = (p: object) => mqttPacket.generate(p as mqttPacket.Packet, { protocolVersion: 4 }) as Buffer;

describe("Link flushes", () => {
  test("a session draining a long backlog commits once per turn, not once per acknowledgement", async () => {
    let commits = 0;
    const flusher = new FlushScheduler(() => commits++);
    const broker = createBroker({ maxInflight: 100 }, { now: Date.now, log: quietLog });
    const dec = new ServerDecoder(4);
    const ids: number[] = [];
    const connectAs = (): LocalPipe => {
      const pipe = new LocalPipe("subscriber", {
        bytes(buf) {
          dec.push(buf);
          for (let p = dec.next(); p !== null; p = dec.next()) if (p.cmd === "publish") ids.push(p.messageId);
          return true;
        },
        paused: () => {},
        closed: () => {},
      });
      new Link(pipe, broker, flusher, quietLog);
      pipe.push(gen({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "s", clean: false }));
      return pipe;
    };
    const first = connectAs();
    first.push(gen({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "t", qos: 1 }] }));
    await turn();
    first.destroy();
    const pub = new MemClient(broker, 4);
    pub.connect("p");
    for (let i = 0; i < 1000; i++) pub.publish("t", String(i), 1);
    assert.equal(broker.session("s")?.queued, 1000);

    const second = connectAs();
    await turn();
    assert.equal(ids.length, 100, "the first window went out");
    commits = 0;
    // the acknowledgements of the whole window arrive in one read, with 900 messages still queued
    second.push(Buffer.concat(ids.splice(0).map((id) => gen({ cmd: "puback", messageId: id }))));
    assert.equal(commits, 0, "nothing is committed in the middle of the turn");
    await turn();
    assert.equal(commits, 1);
    assert.equal(ids.length, 100, "the next window went out after the one commit");
  });
});

describe("Link and internal errors", () => {
  test("a bug met while writing one connection's output closes only that connection, logged with its stack", async () => {
    const real = createBroker({}, { now: Date.now, log: quietLog });
    const errors: string[] = [];
    const log = { ...quietLog, error: (m: string) => void errors.push(m) };
    let faulty: Client | null = null;
    // the same broker, except that encoding for one client throws as a bug would
    const broker: Broker = Object.create(real, {
      fill: {
        value: (c: Client, w: PacketWriter, budget: number) => {
          if (c === faulty) throw new TypeError("a bug in the encoder");
          return real.fill(c, w, budget);
        },
      },
    });
    const flusher = new FlushScheduler();
    const open = (id: string) => {
      const dec = new ServerDecoder(4);
      const got: string[] = [];
      let closed = false;
      const pipe = new LocalPipe(id, {
        bytes(buf) {
          dec.push(buf);
          for (let p = dec.next(); p !== null; p = dec.next()) {
            if (p.cmd === "publish") got.push(String(p.payload));
          }
          return true;
        },
        paused: () => {},
        closed: () => (closed = true),
      });
      const link = new Link(pipe, broker, flusher, log);
      pipe.push(gen({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: id, clean: true }));
      pipe.push(gen({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "t", qos: 1 }] }));
      return { link, got, closed: () => closed };
    };
    const a = open("a");
    const b = open("b");
    await turn();
    faulty = a.link.client;
    const pub = new MemClient(real, 4);
    pub.connect("p");
    pub.publish("t", "m", 1);
    await turn();
    assert.equal(a.closed(), true, "the connection whose output failed is closed");
    assert.equal(b.closed(), false);
    assert.deepEqual(b.got, ["m"], "the other subscriber still gets its message");
    assert.equal(errors.length, 1);
    assert.match(
      errors[0]!,
      /Internal error while writing to a connection from a; only it is closed: TypeError: a bug in the encoder\n\s+at /,
    );
  });
});

describe("Link and keep alive", () => {
  test("a client whose socket the broker cannot write to is kept while it takes bytes, closed at 1.5 x keep alive once it stops", async () => {
    let now = 0;
    const broker = createBroker({}, { now: () => now, log: quietLog });
    let closed = false;
    const pipe = new LocalPipe("slow reader", {
      bytes: () => false,
      paused: () => {},
      closed: () => (closed = true),
    });
    new Link(pipe, broker, new FlushScheduler(), quietLog);
    pipe.push(Buffer.concat([
      gen({
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clientId: "r",
        clean: true,
        keepalive: 10,
      }),
      gen({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "t", qos: 0 }] }),
    ]));
    await turn(); // no write is ever taken whole: the link stops reading, the client's pings wait unread
    const pub = new MemClient(broker, 4);
    pub.connect("p", { keepalive: 0 });
    const tick = (ms: number) => {
      for (let t = 0; t < ms; t += 1000) broker.tick(now += 1000);
    };
    for (let i = 0; i < 6; i++) {
      pub.publish("t", "more output for it");
      tick(10_000);
      pipe.drain(); // it took some bytes: it is alive
      await turn();
    }
    assert.equal(closed, false, "60 s past a 10 s keep alive while the client kept reading");
    tick(14_000);
    await turn();
    assert.equal(closed, false);
    tick(2_000);
    await turn();
    assert.equal(closed, true, "closed once it took nothing for 1.5 x 10 s");
  });
});

describe("Link and a publisher's window", () => {
  /** A publisher on a LocalPipe that records, per write, how many PUBACKs it carried. */
  const publisher = (flusher: FlushScheduler, broker: Broker) => {
    const dec = new ServerDecoder(4);
    const writes: number[] = [];
    const pipe = new LocalPipe("pub", {
      bytes(buf) {
        dec.push(buf);
        let acks = 0;
        for (let p = dec.next(); p !== null; p = dec.next()) if (p.cmd === "puback") acks++;
        writes.push(acks);
        return true;
      },
      paused: () => {},
      closed: () => {},
    });
    new Link(pipe, broker, flusher, quietLog);
    pipe.push(gen({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: "p", clean: true }));
    return { pipe, writes };
  };
  const window = (n: number) =>
    Buffer.concat(
      Array.from(
        { length: n },
        (_, i) =>
          gen({
            cmd: "publish",
            topic: "t",
            payload: "m",
            qos: 1,
            messageId: i + 1,
            retain: false,
            dup: false,
          }),
      ),
    );

  test("16 PUBACKs go out while the rest of a 64-message read is still being handled, the rest at the end of the turn", async () => {
    const flusher = new FlushScheduler();
    const broker = createBroker({}, { now: Date.now, log: quietLog });
    const { pipe, writes } = publisher(flusher, broker);
    await turn();
    writes.length = 0;
    pipe.push(window(64));
    assert.deepEqual(writes, [16], "written in the middle of the read, before the end of the turn");
    await turn();
    assert.deepEqual(writes, [16, 48]);
  });

  test("with persistence (a commit per write) the acknowledgements wait for the one commit of the turn", async () => {
    let commits = 0;
    const flusher = new FlushScheduler(() => commits++);
    const broker = createBroker({}, { now: Date.now, log: quietLog });
    const { pipe, writes } = publisher(flusher, broker);
    await turn();
    writes.length = 0;
    commits = 0;
    pipe.push(window(64));
    assert.deepEqual(writes, []);
    await turn();
    assert.deepEqual(writes, [64]);
    assert.equal(commits, 1);
  });

  test("while more than 4 connections wait for the turn's flush, the acknowledgements wait with them", async () => {
    const flusher = new FlushScheduler();
    const broker = createBroker({}, { now: Date.now, log: quietLog });
    const { pipe, writes } = publisher(flusher, broker);
    let delivered = 0;
    for (let i = 0; i < 5; i++) {
      const dec = new ServerDecoder(4);
      const sub = new LocalPipe(`s${i}`, {
        bytes(buf) {
          dec.push(buf);
          for (let p = dec.next(); p !== null; p = dec.next()) if (p.cmd === "publish") delivered++;
          return true;
        },
        paused: () => {},
        closed: () => {},
      });
      new Link(sub, broker, flusher, quietLog);
      sub.push(
        gen({ cmd: "connect", protocolId: "MQTT", protocolVersion: 4, clientId: `s${i}`, clean: true }),
      );
      sub.push(gen({ cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "t", qos: 0 }] }));
    }
    await turn();
    writes.length = 0;
    pipe.push(window(64));
    assert.deepEqual(writes, [], "five subscribers' deliveries wait for this turn's flush");
    await turn();
    assert.deepEqual(writes, [64]);
    assert.equal(delivered, 5 * 64);
  });
});
