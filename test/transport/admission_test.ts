import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { LimitLog } from "../../src/broker/limits.ts";
import { createMetrics } from "../../src/broker/metrics.ts";
import { Admission, type ListenerCount } from "../../src/transport/admission.ts";
import type { Connection, ConnectionHandlers } from "../../src/runtime/connection.ts";
import { quietLog } from "../helpers/mem_client.ts";

/** A connection from `ip` that records whether it was destroyed and can be closed by the test. */
function conn(ip: string): Connection & { destroyed: boolean; close(): void } {
  let h: ConnectionHandlers | null = null;
  return {
    remoteAddress: `${ip}:5000`,
    localPort: 1883,
    copiesWrites: true,
    destroyed: false,
    start: (x) => void (h = x),
    write: () => true,
    pause() {},
    resume() {},
    end() {},
    destroy() {
      this.destroyed = true;
    },
    peerCertificate: () => undefined,
    close: () => h?.onClose(),
  };
}

function setup(maxConnections: number, rate: number, share = 1) {
  let now = 0;
  const metrics = createMetrics();
  const a = new Admission(
    { maxConnections, maxConnRatePerIp: rate },
    share,
    () => now,
    new LimitLog(metrics, quietLog, () => now),
  );
  return { a, metrics, tick: (ms: number) => (now += ms) };
}

describe("Admission", () => {
  test("open connections: the broker's limit, a listener's, and a place given back on close", () => {
    const { a, metrics } = setup(3, 0);
    const l: ListenerCount = { open: 0, max: 2, name: "listeners.tcp" };
    const other: ListenerCount = { open: 0, max: 0, name: "listeners.tcp.b" };
    const c1 = a.admit(conn("10.0.0.1"), l)!;
    c1.start({ onData() {}, onDrain() {}, onClose() {} });
    assert.ok(a.admit(conn("10.0.0.1"), l));
    const third = conn("10.0.0.1");
    assert.equal(a.admit(third, l), null);
    assert.equal(third.destroyed, true);
    assert.ok(a.admit(conn("10.0.0.2"), other));
    assert.equal(a.admit(conn("10.0.0.2"), other), null, "3 open in all");
    assert.deepEqual([metrics.limitHits.listener_max_connections, metrics.limitHits.max_connections], [1, 1]);
    (c1 as unknown as { conn: { close(): void } }).conn.close();
    assert.equal(l.open, 1);
    assert.ok(a.admit(conn("10.0.0.1"), l), "a place freed");
  });

  test("new connections per IP address: a burst of the rate, then the rate per second, each address apart", () => {
    const { a, metrics, tick } = setup(0, 4);
    const l: ListenerCount = { open: 0, max: 0, name: "l" };
    const admitted = (ip: string, n: number) =>
      Array.from({ length: n }, () => a.admit(conn(ip), l)).filter((c) => c !== null).length;
    assert.equal(admitted("10.0.0.1", 6), 4);
    assert.equal(admitted("10.0.0.2", 6), 4, "another address has its own bucket");
    tick(500);
    assert.equal(admitted("10.0.0.1", 6), 2, "half a second: 2 more");
    tick(10_000);
    assert.equal(admitted("10.0.0.1", 6), 4, "refilled to the rate, not beyond");
    assert.equal(metrics.limitHits.max_conn_rate, 2 + 2 + 4 + 2);
  });

  test("a worker of N takes 1/N of a limit, rounded up", () => {
    const { a } = setup(10, 0, 4);
    assert.equal(a.shareOf(10), 3);
    assert.equal(a.shareOf(0), 0);
  });
});
