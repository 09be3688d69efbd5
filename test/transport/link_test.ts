import assert from "node:assert/strict";
import { describe, test } from "node:test";
import mqttPacket from "mqtt-packet";
import { LocalPipe } from "../../src/bridge/local_pipe.ts";
import { createBroker } from "../../src/broker/broker.ts";
import { ServerDecoder } from "../../src/protocol/codec.ts";
import { FlushScheduler, Link } from "../../src/transport/link.ts";
import { MemClient, quietLog } from "../helpers/mem_client.ts";

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
