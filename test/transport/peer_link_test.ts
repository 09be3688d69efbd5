/**
 * Broker cores linked as the workers of a multi-core broker are, over real MessageChannels in
 * this thread: subscriptions, forwarding, share groups, retained messages and flow control
 * between them.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { channelOf, meshPorts, type WorkerSeat } from "../../src/runtime/workers.ts";
import { Frame } from "../../src/transport/peer_frames.ts";
import { PEER_SOFT, PeerLink } from "../../src/transport/peer_link.ts";
import { quietLog, TestBroker } from "../helpers/mem_client.ts";

interface Node {
  tb: TestBroker;
  link: PeerLink;
}

/** `n` broker cores in a full mesh. */
function mesh(n: number, opts: ConstructorParameters<typeof TestBroker>[0] = {}): Node[] {
  return meshPorts(n).map((row, index) => {
    const seat: WorkerSeat = { index, count: n, data: null, channels: row.map((p) => p && channelOf(p)) };
    const link = new PeerLink(seat, quietLog);
    const tb = new TestBroker(opts, { peers: link });
    link.broker = tb.broker;
    return { tb, link };
  });
}

function close(nodes: Node[]): void {
  for (const n of nodes) n.link.close();
}

/** Lets the links post and take what is pending (a few event-loop turns). */
async function settle(): Promise<void> {
  for (let i = 0; i < 6; i++) await new Promise((r) => setImmediate(r));
}

describe("workers linked as peers", () => {
  test("a message published on one worker reaches a subscriber on another, in order, with its properties", async () => {
    const [a, b] = mesh(2);
    const sub = b!.tb.client(5);
    sub.connect("s");
    sub.requestSubscribe("t/#", 1);
    await settle();
    const pub = a!.tb.client(5);
    pub.connect("p");
    for (let i = 0; i < 100; i++) {
      pub.publish(`t/${i % 3}`, `m${i}`, 1, { properties: { userProperties: { k: `v${i}` } } });
    }
    assert.equal(pub.takeAll("puback").length, 100, "the publisher's messages are acknowledged");
    await settle();
    const got = sub.takeAll("publish");
    assert.deepEqual(got.map((p) => String(p.payload)), Array.from({ length: 100 }, (_, i) => `m${i}`));
    assert.deepEqual({ ...(got[99]!.properties as { userProperties: object }).userProperties }, { k: "v99" });
    assert.equal(got[0]!.qos, 1);
    close([a!, b!]);
  });

  test("SUBACK waits until the other workers route to the new subscription: what is published anywhere after it arrives", async () => {
    const [a, b] = mesh(2);
    const sub = b!.tb.client(5);
    sub.connect("s");
    sub.requestSubscribe("w/#", 1);
    assert.equal(sub.takeAll("suback").length, 0, "not before worker a has heard of w/#");
    await settle();
    assert.equal(sub.takeAll("suback").length, 1);
    const pub = a!.tb.client(5);
    pub.connect("p");
    pub.publish("w/1", "right after", 1);
    await settle();
    assert.deepEqual(sub.payloads(), ["right after"]);
    sub.requestSubscribe("w/#", 1);
    assert.equal(sub.takeAll("suback").length, 1, "a filter the other workers know already: SUBACK at once");
    close([a!, b!]);
  });

  test("overlapping subscriptions on the other worker cost one forward; each of its subscribers gets one copy", async () => {
    const [a, b] = mesh(2);
    const s1 = b!.tb.client(4);
    s1.connect("s1");
    s1.requestSubscribe("o/#", 0);
    const s2 = b!.tb.client(4);
    s2.connect("s2");
    s2.requestSubscribe("o/+", 0);
    s2.requestSubscribe("o/x", 0);
    await settle();
    const pub = a!.tb.client(4);
    pub.connect("p");
    pub.publish("o/x", "once");
    await settle();
    assert.equal(a!.tb.broker.metrics.peerForwarded, 1);
    assert.deepEqual(s1.payloads(), ["once"]);
    assert.deepEqual(s2.payloads(), ["once"]);
    close([a!, b!]);
  });

  test("after the last unsubscribe on a worker, nothing more is forwarded to it", async () => {
    const [a, b] = mesh(2);
    const s = b!.tb.client(4);
    s.connect("s");
    s.requestSubscribe("u/1", 0);
    s.requestSubscribe("u/+", 0);
    await settle();
    s.send({ cmd: "unsubscribe", messageId: 2, unsubscriptions: ["u/1"] });
    await settle();
    const pub = a!.tb.client(4);
    pub.connect("p");
    pub.publish("u/1", "still");
    await settle();
    assert.deepEqual(s.payloads(), ["still"], "u/+ still matches");
    s.send({ cmd: "unsubscribe", messageId: 3, unsubscriptions: ["u/+"] });
    await settle();
    const before = a!.tb.broker.metrics.peerForwarded;
    pub.publish("u/1", "gone");
    await settle();
    assert.equal(a!.tb.broker.metrics.peerForwarded, before);
    assert.deepEqual(s.payloads(), []);
    close([a!, b!]);
  });

  test("a share group spread over three workers gets each message exactly once, on every worker in turn", async () => {
    const nodes = mesh(3);
    const members = nodes.flatMap((n, i) =>
      [0, 1].map((k) => {
        const c = n.tb.client(5);
        c.connect(`m${i}-${k}`);
        c.requestSubscribe("$share/g/s/#", 1);
        return c;
      })
    );
    await settle();
    const pub = nodes[1]!.tb.client(5);
    pub.connect("p");
    for (let i = 0; i < 60; i++) pub.publish("s/x", `${i}`, 1);
    await settle();
    const per = members.map((m) => m.payloads());
    const all = per.flat().map(Number).sort((x, y) => x - y);
    assert.deepEqual(all, Array.from({ length: 60 }, (_, i) => i), "each message once");
    for (const [i, got] of per.entries()) assert.ok(got.length > 0, `member ${i} got some`);
    close(nodes);
  });

  test("a retained message set on one worker is sent to new subscribers on the others, and cleared everywhere", async () => {
    const [a, b, c] = mesh(3);
    const pub = a!.tb.client(4);
    pub.connect("p");
    pub.publish("r/1", "kept", 1, { retain: true });
    await settle();
    const s = c!.tb.client(4);
    s.connect("s");
    s.requestSubscribe("r/#", 1);
    await settle();
    assert.equal(s.takeAll("suback").length, 1);
    const first = s.takeAll("publish");
    assert.deepEqual(first.map((p) => [String(p.payload), p.retain]), [["kept", true]]);
    assert.equal(b!.tb.broker.stats().retained, 1);
    pub.publish("r/1", "", 1, { retain: true });
    await settle();
    assert.equal(b!.tb.broker.stats().retained, 0);
    assert.equal(c!.tb.broker.stats().retained, 0);
    close([a!, b!, c!]);
  });

  test("a subscriber that does not read holds the publisher on the other worker instead of losing messages", async () => {
    const [a, b] = mesh(2, { maxQueueLen: 100 });
    const sub = b!.tb.client(4);
    sub.connect("s");
    sub.requestSubscribe("f", 0);
    await settle();
    const pub = a!.tb.client(4);
    pub.connect("p");
    const big = "x".repeat(16 * 1024);
    const n = Math.ceil((PEER_SOFT * 2) / big.length);
    let wasHeld = false;
    for (let i = 0; i < n; i++) {
      pub.publish("f", `${i}:${big}`);
      if (i % 10 === 0) await settle();
      wasHeld ||= pub.held;
    }
    await settle();
    assert.ok(wasHeld, "the publisher was held while the subscriber's worker did not take more");
    const got: number[] = [];
    for (let k = 0; k < 50 && got.length < n; k++) {
      got.push(...sub.payloads().map((p) => Number(p.split(":")[0])));
      await settle();
    }
    assert.deepEqual(got, Array.from({ length: n }, (_, i) => i), "nothing dropped, in order");
    assert.equal(b!.tb.broker.metrics.droppedQueueFull, 0);
    assert.equal(pub.held, false, "released once the subscriber read everything");
    close([a!, b!]);
  });

  test("relayed bytes a worker has not taken yet pass PEER_SOFT: the relayed sockets pause until it takes them", async () => {
    const [row0, row1] = meshPorts(2);
    const seat: WorkerSeat = {
      index: 0,
      count: 2,
      data: null,
      channels: row0!.map((p) => p && channelOf(p)),
    };
    const link = new PeerLink(seat, quietLog);
    const seen: boolean[] = [];
    link.onRelayCongested = (peer, on) => {
      assert.equal(peer, 1);
      seen.push(on);
    };
    // the other end takes nothing until told to: it collects what it is sent
    const other = channelOf(row1![0]!);
    let received = 0;
    other.onMessage((m) => (received += (m as { x?: ArrayBuffer }).x?.byteLength ?? 0));
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 20; i++) {
      link.relayTo(1).frame(Frame.Data, 7, chunk);
      link.arm();
      await settle();
    }
    assert.ok(received > PEER_SOFT, "the relayed bytes were posted");
    assert.deepEqual(seen, [true], "past PEER_SOFT the relay is told to pause");
    assert.ok(link.relayCongestedTo(1));
    other.post({ y: received }, []);
    await settle();
    assert.deepEqual(seen, [true, false], "once they are taken it goes on");
    link.close();
    other.close();
  });
});
