/**
 * A multi-core broker (system.num_taskq_thread = 2) as a real process under Bun, with real MQTT.js
 * clients over TCP, TLS and WebSocket: the kernel spreads connections over the workers, and each
 * session lives on the worker its client identifier hashes to, whichever worker accepted it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import mqtt from "mqtt";
import { homeWorker } from "../../src/broker/peer_port.ts";
import { makeTestCerts, type TestCerts } from "../helpers/certs.ts";
import { freePort, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

interface Broker {
  pid: number;
  urls: string[];
  log(): string;
  stop(): Promise<string>;
}

let certs: TestCerts;
before(() => (certs = makeTestCerts()));

async function startBroker(dir: string, workers: number, extra = ""): Promise<Broker> {
  const [tcp, tls, ws] = [await freePort(), await freePort(), await freePort()];
  const conf = join(dir, "nanomq.conf");
  writeFileSync(
    conf,
    `system.num_taskq_thread = ${workers}\nlisteners.tcp.bind = "127.0.0.1:${tcp}"\n` +
      `listeners.ssl {\n  bind = "127.0.0.1:${tls}"\n  keyfile = "${certs.keyFile}"\n  certfile = "${certs.certFile}"\n}\n` +
      `listeners.ws.bind = "127.0.0.1:${ws}/mqtt"\nlog.level = info\n` +
      `sqlite {\n  mounted_file_path = "${dir}"\n}\n${extra}`,
  );
  const p = run(process.execPath, ["src/main.ts", "start", "--conf", conf], 120_000, {
    NANOMQ_PID_FILE: join(dir, "nanomq.pid"),
  });
  let ended = false;
  void p.done.then(() => (ended = true));
  await waitFor(() => ended || p.output().includes("listening on"), "the broker", 30_000);
  if (ended) throw new Error(`The broker did not start:\n${p.output()}`);
  return {
    pid: p.pid,
    urls: [`mqtt://127.0.0.1:${tcp}`, `mqtts://127.0.0.1:${tls}`, `ws://127.0.0.1:${ws}/mqtt`],
    log: p.output,
    stop: async () => {
      p.kill();
      return (await p.done).stderr;
    },
  };
}

/** `n` client identifiers starting with `prefix`, half of them at home on each of two workers. */
function idsOnBoth(prefix: string, n: number): string[] {
  const ids: string[] = [];
  const per = [0, 0];
  for (let i = 0; ids.length < n; i++) {
    const id = `${prefix}${i}`;
    const h = homeWorker(id, 2);
    if (per[h]! < n / 2) {
      per[h]!++;
      ids.push(id);
    }
  }
  return ids;
}

/** A connected client; `got` collects the payloads it receives from the first one on (queued ones come with CONNACK). */
async function connect(
  url: string,
  clientId: string,
  extra: mqtt.IClientOptions = {},
  got?: string[],
): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { clientId, reconnectPeriod: 0, rejectUnauthorized: false, ...extra });
  if (got !== undefined) c.on("message", (_t, p) => got.push(String(p)));
  await new Promise<void>((resolve, reject) => {
    c.once("connect", () => resolve());
    c.once("error", reject);
  });
  return c;
}

const persistent = { protocolVersion: 5 as const, clean: false, properties: { sessionExpiryInterval: 3600 } };

describe("a broker with two workers", () => {
  let dir: string;
  let b: Broker;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "broker-multicore-"));
    b = await startBroker(dir, 2);
  });
  after(async () => {
    await b?.stop();
  });

  test("16 publishers to 16 subscribers over TCP, TLS and WebSocket: every QoS 1 message arrives once, in each publisher's order", async () => {
    const subIds = idsOnBoth("fan-sub-", 16);
    const pubIds = idsOnBoth("fan-pub-", 16);
    const got = new Map<string, Map<string, number[]>>();
    const subs = await Promise.all(subIds.map(async (id, i) => {
      const c = await connect(b.urls[i % 3]!, id);
      const per = new Map<string, number[]>();
      got.set(id, per);
      c.on("message", (_t, p) => {
        const [from, n] = String(p).split(":");
        let l = per.get(from!);
        if (l === undefined) per.set(from!, l = []);
        l.push(Number(n));
      });
      await c.subscribeAsync("fan/#", { qos: 1 });
      return c;
    }));
    const N = 50;
    const pubs = await Promise.all(pubIds.map((id, i) => connect(b.urls[(i + 1) % 3]!, id)));
    await Promise.all(pubs.map(async (c, i) => {
      for (let n = 0; n < N; n++) await c.publishAsync(`fan/${i}`, `${pubIds[i]}:${n}`, { qos: 1 });
    }));
    const complete = () =>
      [...got.values()].every((per) => [...per.values()].reduce((s, l) => s + l.length, 0) >= 16 * N);
    await waitFor(complete, "every delivery", 30_000);
    const want = Array.from({ length: N }, (_, n) => n);
    for (const [sub, per] of got) {
      assert.equal(per.size, 16, `${sub} heard from every publisher`);
      for (const [pub, l] of per) assert.deepEqual(l, want, `${sub} from ${pub}`);
    }
    await Promise.all([...subs, ...pubs].map((c) => c.endAsync()));
    const log = b.log();
    assert.match(log, /worker 1: Connected from/, "the second worker served connections");
    assert.match(log, /\] Connected from/, "so did the first");
  });

  test("a persistent session gets what was queued while it was away, whichever worker its new connection lands on", async () => {
    const ids = idsOnBoth("away-", 8);
    for (const id of ids) {
      const c = await connect(b.urls[0]!, id, persistent);
      await c.subscribeAsync(`away/${id}`, { qos: 1 });
      await c.endAsync();
    }
    const pub = await connect(b.urls[1]!, "away-publisher");
    for (let round = 0; round < 3; round++) {
      for (const id of ids) {
        for (let n = 0; n < 5; n++) await pub.publishAsync(`away/${id}`, `${round}:${n}`, { qos: 1 });
      }
      for (const id of ids) {
        const got: string[] = [];
        const c = await connect(b.urls[round % 3]!, id, persistent, got);
        await waitFor(() => got.length >= 5, `${id}'s queued messages`, 10_000);
        assert.deepEqual(got, [0, 1, 2, 3, 4].map((n) => `${round}:${n}`), id);
        await c.endAsync();
      }
    }
    await pub.endAsync();
  });

  test("a second connection with the same client identifier takes the session over on every worker (DISCONNECT 0x8E)", async () => {
    for (const id of idsOnBoth("twice-", 4)) {
      const first = await connect(b.urls[0]!, id, { protocolVersion: 5 });
      const reason = new Promise<number | undefined>((r) => first.once("disconnect", (p) => r(p.reasonCode)));
      const second = await connect(b.urls[1]!, id, { protocolVersion: 5 });
      assert.equal(await reason, 0x8e, id);
      await second.endAsync();
      first.end(true);
    }
  });

  test("retained messages set through either worker reach new subscribers on both; a share group gets each message once", async () => {
    const setters = idsOnBoth("ret-pub-", 4);
    for (const [i, id] of setters.entries()) {
      const c = await connect(b.urls[i % 2]!, id);
      await c.publishAsync(`ret/${i}`, `r${i}`, { qos: 1, retain: true });
      await c.endAsync();
    }
    for (const id of idsOnBoth("ret-sub-", 4)) {
      const got: string[] = [];
      const c = await connect(b.urls[2]!, id);
      c.on("message", (_t, p) => got.push(String(p)));
      await c.subscribeAsync("ret/#", { qos: 1 });
      await waitFor(() => got.length >= 4, `retained messages for ${id}`, 10_000);
      assert.deepEqual(got.sort(), ["r0", "r1", "r2", "r3"], id);
      await c.endAsync();
    }
    const seen: number[] = [];
    const members = await Promise.all(
      idsOnBoth("member-", 4).map(async (id, i) => {
        const c = await connect(b.urls[i % 3]!, id, { protocolVersion: 5 });
        c.on("message", (_t, p) => seen.push(Number(p)));
        await c.subscribeAsync("$share/g/grp/+", { qos: 1 });
        return c;
      }),
    );
    // no pause: SUBACK came once both workers route to the group
    const pub = await connect(b.urls[0]!, "group-publisher");
    for (let n = 0; n < 100; n++) await pub.publishAsync(`grp/${n % 7}`, String(n), { qos: 1 });
    await waitFor(() => seen.length >= 100, "the group's messages", 10_000);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(seen.sort((x, y) => x - y), Array.from({ length: 100 }, (_, n) => n));
    await Promise.all([pub, ...members].map((c) => c.endAsync()));
  });

  test("sessions and their queued messages survive a restart; fewer workers than the stores were written with is refused", async () => {
    const ids = idsOnBoth("restart-", 6);
    for (const id of ids) {
      const c = await connect(b.urls[0]!, id, persistent);
      await c.subscribeAsync(`rs/${id}`, { qos: 1 });
      await c.endAsync();
    }
    const pub = await connect(b.urls[1]!, "restart-publisher");
    for (const id of ids) await pub.publishAsync(`rs/${id}`, `for ${id}`, { qos: 1 });
    await pub.endAsync();
    await b.stop();
    const one = run(
      process.execPath,
      ["src/main.ts", "start", "--conf", join(dir, "nanomq.conf"), "-t", "1"],
      30_000,
      {
        NANOMQ_PID_FILE: join(dir, "nanomq.pid"),
      },
    );
    const r = await one.done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /broker\.worker1\.db of worker 1 is there, but the broker runs 1 workers/);
    b = await startBroker(dir, 2);
    assert.match(b.log(), /worker 1: Persistence on: .*broker\.worker1\.db, [1-9]\d* sessions/);
    for (const id of ids) {
      const got: string[] = [];
      const c = await connect(b.urls[2]!, id, persistent, got);
      await waitFor(() => got.length >= 1, `${id}'s message after the restart`, 10_000);
      assert.deepEqual(got, [`for ${id}`]);
      await c.endAsync();
    }
  });
});

describe("a broker with two workers and sqlite { }", () => {
  test("killed with SIGKILL in the middle of QoS 1 traffic across workers: every acknowledged message reaches every offline session", async () => {
    const dir = mkdtempSync(join(tmpdir(), "broker-multicore-kill-"));
    let b = await startBroker(dir, 2);
    const subs = idsOnBoth("kill-sub-", 4);
    for (const id of subs) {
      const c = await connect(b.urls[0]!, id, persistent);
      await c.subscribeAsync("kill/#", { qos: 1 });
      await c.endAsync();
    }
    const acked: string[] = [];
    const pubs = await Promise.all(idsOnBoth("kill-pub-", 2).map((id) => connect(b.urls[0]!, id)));
    // a publish in flight when the broker dies is neither acknowledged nor refused: its client's close ends it
    const closed = pubs.map((p) => {
      p.on("error", () => {});
      return new Promise<"closed">((resolve) => p.once("close", () => resolve("closed")));
    });
    const killAt = 200 + Math.floor(Math.random() * 200);
    let killed = false;
    await Promise.all(pubs.map(async (p, k) => {
      for (let n = 0; !killed; n++) {
        const m = `${k}:${n}`;
        const r = await Promise.race([
          p.publishAsync(`kill/${k}`, m, { qos: 1 }).catch(() => "closed"),
          closed[k]!,
        ]);
        if (r === "closed" || killed) return;
        acked.push(m);
        if (acked.length >= killAt) {
          killed = true;
          process.kill(b.pid, "SIGKILL");
        }
      }
    }));
    for (const p of pubs) p.end(true);
    await b.stop();
    b = await startBroker(dir, 2);
    try {
      for (const id of subs) {
        const got: string[] = [];
        const c = await connect(b.urls[1]!, id, persistent, got);
        await waitFor(
          () => acked.every((m) => got.includes(m)),
          `every acknowledged message for ${id}`,
          20_000,
        );
        await c.endAsync();
      }
    } finally {
      await b.stop();
    }
  });
});

describe("a broker with two workers and a password file", () => {
  test("broker reload applies new passwords on every worker, also where a relayed connection's session lives", async () => {
    const dir = mkdtempSync(join(tmpdir(), "broker-multicore-reload-"));
    const pwd = join(dir, "pwd.conf");
    writeFileSync(pwd, '"u": "old"\n');
    const b = await startBroker(
      dir,
      2,
      `auth {\n  allow_anonymous = false\n  password = {include "${pwd}"}\n}\n`,
    );
    try {
      const ids = idsOnBoth("reload-", 4);
      for (const id of ids) (await connect(b.urls[0]!, id, { username: "u", password: "old" })).end(true);
      writeFileSync(pwd, '"u": "new"\n');
      const r = await run(process.execPath, ["src/main.ts", "reload"], 30_000, {
        NANOMQ_PID_FILE: join(dir, "nanomq.pid"),
      }).done;
      assert.equal(r.code, 0, r.stderr);
      for (const id of ids) {
        await assert.rejects(
          connect(b.urls[1]!, id, { username: "u", password: "old" }),
          /Bad user|Not authorized/i,
          id,
        );
        (await connect(b.urls[1]!, id, { username: "u", password: "new" })).end(true);
      }
    } finally {
      await b.stop();
    }
  });
});
