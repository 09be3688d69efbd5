/**
 * The durability promise with a real broker process and SQLite on disk: what the broker
 * acknowledged reaches persistent sessions after a SIGKILL and a restart.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import mqtt from "mqtt";
import { freePort, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

/** A broker process on its own folder: conf, pid file, database. */
async function brokerDir(dir = mkdtempSync(join(tmpdir(), "broker-durable-"))): Promise<
  { dir: string; url: string; start(extra?: string[]): ReturnType<typeof run> }
> {
  const port = await freePort();
  const conf = join(dir, "nanomq.conf");
  writeFileSync(
    conf,
    `listeners.tcp.bind = "127.0.0.1:${port}"\nlog.level = info\nsqlite {\n  mounted_file_path = "${dir}"\n}\n`,
  );
  const pidFile = join(dir, "nanomq.pid");
  return {
    dir,
    url: `mqtt://127.0.0.1:${port}`,
    start(extra: string[] = []) {
      return run(process.execPath, ["src/main.ts", "start", "--conf", conf, ...extra], 60_000, {
        NANOMQ_PID_FILE: pidFile,
      });
    },
  };
}

/** An MQTT.js store that a client's end() does not close, so that the next connection gets it. */
class KeptStore extends mqtt.Store {
  override close(cb?: () => void): void {
    cb?.();
  }
}

/** An MQTT 3.1.1 publisher that does not reconnect; the errors of a killed broker are expected. */
async function publisher(url: string, clientId: string): Promise<mqtt.MqttClient> {
  const pub = await mqtt.connectAsync(url, { protocolVersion: 4, clientId, reconnectPeriod: 0 });
  pub.on("error", () => {});
  return pub;
}

/** Waits until the broker process `pid` has written its pid file (a killed one leaves its own behind). */
/** MQTT 5 options of a subscriber on a session that outlives its connections (one hour). */
function persistentSub(clientId: string) {
  return {
    protocolVersion: 5 as const,
    clean: false,
    clientId,
    properties: { sessionExpiryInterval: 3600 },
    reconnectPeriod: 0,
  };
}

async function started(b: { dir: string }, pid: number): Promise<void> {
  const file = join(b.dir, "nanomq.pid");
  const mine = () => existsSync(file) && readFileSync(file, "utf8").trim() === String(pid);
  await waitFor(mine, "the broker to start", 20_000);
}

describe("durability with sqlite { }", () => {
  test("QoS 1 and 2 messages acknowledged for an offline session, subscriptions and retained messages survive SIGKILL", async () => {
    const b = await brokerDir();
    let broker = b.start();
    await started(b, broker.pid);
    const opts = { protocolVersion: 5 as const, clean: false, reconnectPeriod: 0 };
    const sub = await mqtt.connectAsync(b.url, {
      ...opts,
      clientId: "durable-sub",
      properties: { sessionExpiryInterval: 3600 },
    });
    await sub.subscribeAsync("d/#", { qos: 2 });
    await sub.endAsync();
    const pub = await publisher(b.url, "durable-pub");
    for (let i = 0; i < 50; i++) await pub.publishAsync(`d/${i % 3}`, `m${i}`, { qos: i % 2 === 0 ? 1 : 2 });
    await pub.publishAsync("d/r", "kept", { qos: 1, retain: true });
    process.kill(broker.pid, "SIGKILL"); // right after the last acknowledgement
    await broker.done;
    pub.end(true);

    broker = b.start();
    await started(b, broker.pid);
    const got: string[] = [];
    // listening from the start: the stored messages follow CONNACK at once
    const back = mqtt.connect(b.url, {
      ...opts,
      clientId: "durable-sub",
      properties: { sessionExpiryInterval: 3600 },
    });
    back.on("message", (_t, p) => got.push(p.toString()));
    await waitFor(() => got.length >= 51, "the stored messages", 20_000);
    // MQTT.js hands QoS 2 messages over at PUBREL, later than QoS 1 ones: compare the order per QoS
    const n = (m: string) => Number(m.slice(1));
    const sent = Array.from({ length: 50 }, (_, i) => `m${i}`);
    assert.deepEqual(got.filter((m) => m !== "kept").sort((a, b) => n(a) - n(b)), sent, "all of them, once");
    for (const q of [0, 1]) {
      assert.deepEqual(
        got.filter((m) => m !== "kept" && n(m) % 2 === q),
        sent.filter((_, i) => i % 2 === q),
        "in order",
      );
    }
    assert.ok(got.includes("kept"));
    back.end(true);

    const late = await mqtt.connectAsync(b.url, { protocolVersion: 5, clientId: "late", reconnectPeriod: 0 });
    const retained = new Promise<string>((r) => late.once("message", (_t, p) => r(p.toString())));
    await late.subscribeAsync("d/r", { qos: 1 });
    assert.equal(await retained, "kept");
    late.end(true);
    process.kill(broker.pid, "SIGTERM");
    const r = await broker.done;
    assert.match(r.stderr, /Persistence on: .*broker\.db, 1 sessions and 1 retained messages restored/);
  });

  test("kill -9 at random points during QoS 1 traffic, three times: every acknowledged message arrives, in order", async () => {
    const b = await brokerDir();
    let broker = b.start();
    await started(b, broker.pid);
    const subOpts = persistentSub("crash-sub");
    const first = await mqtt.connectAsync(b.url, subOpts);
    await first.subscribeAsync("c/#", { qos: 1 });
    await first.endAsync(); // offline from here on: everything is queued for it
    const acked: number[] = [];
    let next = 0;
    for (let round = 0; round < 3; round++) {
      const pub = await publisher(b.url, `crash-pub-${round}`);
      const killAt = acked.length + 100 + Math.floor(Math.random() * 400);
      // ten in flight at a time; the kill lands in the middle of them
      await new Promise<void>((resolve) => {
        let inFlight = 0;
        let killed = false;
        const pump = (): void => {
          while (!killed && inFlight < 10) {
            const n = next++;
            inFlight++;
            pub.publish(`c/${n % 4}`, String(n), { qos: 1 }, (err) => {
              inFlight--;
              if (err === undefined || err === null) acked.push(n);
              if (!killed && acked.length >= killAt) {
                killed = true;
                process.kill(broker.pid, "SIGKILL");
                resolve();
              } else pump();
            });
          }
        };
        pump();
      });
      await broker.done;
      pub.end(true);
      next = Math.max(...acked) + 1 - 5; // resend the last few: duplicates are allowed at QoS 1
      broker = b.start();
      await started(b, broker.pid);
    }
    const got: number[] = [];
    const sub = mqtt.connect(b.url, subOpts);
    sub.on("message", (_t, p) => got.push(Number(p.toString())));
    await waitFor(() => acked.every((n) => got.includes(n)), "every acknowledged message", 30_000);
    sub.end(true);
    process.kill(broker.pid, "SIGTERM");
    await broker.done;
    const firsts = got.filter((n, i) => got.indexOf(n) === i);
    assert.deepEqual(firsts, [...firsts].sort((x, y) => x - y), "first deliveries in publishing order");
  });

  test("an unreadable store stops the start and stays; --discard_store moves it aside and starts empty", async () => {
    const b = await brokerDir();
    const db = join(b.dir, "broker.db");
    const garbage = "not a database, but long enough to have a header. ".repeat(40);
    writeFileSync(db, garbage);
    const refused = await b.start().done;
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /cannot open the store .*broker\.db: .*not a database.*--discard_store/);
    assert.equal(readFileSync(db, "utf8"), garbage, "left as it was");

    const broker = b.start(["--discard_store"]);
    await started(b, broker.pid);
    const aside = readdirSync(b.dir).find((f) => f.startsWith("broker.db.unreadable-"));
    assert.ok(aside !== undefined, "moved aside");
    assert.equal(readFileSync(join(b.dir, aside), "utf8"), garbage);
    process.kill(broker.pid, "SIGTERM");
    const r = await broker.done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /moved to .*broker\.db\.unreadable-.* \(--discard_store\), starting with an empty store/,
    );
  });

  test("a full disk stops the broker before it acknowledges what it could not store; with room again, every acknowledged message arrives", async () => {
    const dir = mkdtempSync(join(tmpdir(), "broker-full-"));
    const mount = (opts: string) => execFileSync("mount", ["-t", "tmpfs", "-o", opts, "tmpfs", dir]);
    try {
      mount("size=1m");
    } catch (e) {
      throw new Error(`this test mounts a small tmpfs as the disk that fills up, which needs root: ${e}`);
    }
    try {
      const b = await brokerDir(dir);
      let broker = b.start();
      await started(b, broker.pid);
      const subOpts = { clientId: "full-sub", clean: false, reconnectPeriod: 0 };
      const sub = await mqtt.connectAsync(b.url, subOpts);
      await sub.subscribeAsync("full/#", { qos: 1 });
      await sub.endAsync();
      const pub = await publisher(b.url, "full-pub");
      const acked: string[] = [];
      const stopped = broker.done.then(() => "stopped" as const);
      for (let i = 0; i < 10_000; i++) {
        const m = `m${i}-${"x".repeat(2000)}`;
        if (await Promise.race([pub.publishAsync(`full/${i % 3}`, m, { qos: 1 }), stopped]) === "stopped") {
          break;
        }
        acked.push(m);
      }
      pub.end(true);
      const r = await broker.done;
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /store .*broker\.db could not be written \(.*full.*\): stopping at once/);
      assert.ok(acked.length > 10, `some were stored first (${acked.length})`);

      execFileSync("mount", ["-o", "remount,size=16m", dir]);
      broker = b.start();
      await started(b, broker.pid);
      const got: string[] = [];
      const back = mqtt.connect(b.url, subOpts);
      back.on("message", (_t, p) => got.push(p.toString()));
      await waitFor(() => acked.every((m) => got.includes(m)), "every acknowledged message", 20_000);
      back.end(true);
      process.kill(broker.pid, "SIGTERM");
      assert.equal((await broker.done).code, 0);
    } finally {
      execFileSync("umount", [dir]);
    }
  });

  test("QoS 2 to an online subscriber, broker killed three times mid-flow: each message arrives exactly once", async () => {
    const b = await brokerDir();
    let broker = b.start();
    await started(b, broker.pid);
    const subOpts = persistentSub("qos2-sub");
    const got: number[] = [];
    // the client's QoS 2 state must outlive its connection too: one incoming store for every connection
    const incomingStore = new KeptStore();
    const listen = (): mqtt.MqttClient => {
      const c = mqtt.connect(b.url, { ...subOpts, incomingStore });
      c.on("message", (_t, p) => got.push(Number(p.toString())));
      c.on("error", () => {});
      return c;
    };
    let sub = listen();
    await new Promise((r) => sub.once("connect", r));
    await sub.subscribeAsync("x/#", { qos: 2 });
    const acked: number[] = [];
    let next = 0;
    for (let round = 0; round < 3; round++) {
      const pub = await publisher(b.url, `x-pub-${round}`);
      const killAt = acked.length + 50 + Math.floor(Math.random() * 200);
      await new Promise<void>((resolve) => {
        let killed = false;
        const one = (): void => {
          const n = next++;
          pub.publish("x/1", String(n), { qos: 2 }, (err) => {
            if (err === undefined || err === null) acked.push(n);
            if (killed) return;
            if (acked.length >= killAt) {
              killed = true;
              process.kill(broker.pid, "SIGKILL");
              resolve();
            } else one();
          });
        };
        for (let k = 0; k < 5; k++) one();
      });
      await broker.done;
      pub.end(true);
      sub.end(true);
      // numbers in flight at the kill are never sent again: any repeat would be the broker's
      broker = b.start();
      await started(b, broker.pid);
      sub = listen();
    }
    await waitFor(() => acked.every((n) => got.includes(n)), "every acknowledged message", 30_000);
    sub.end(true);
    process.kill(broker.pid, "SIGTERM");
    await broker.done;
    const dups = got.filter((n, i) => got.indexOf(n) !== i);
    assert.deepEqual(dups, [], `no duplicates at QoS 2 (acked ${acked.length}, got ${got.length})`);
  });
});
