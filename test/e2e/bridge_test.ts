/**
 * Bridges against a real upstream: Mosquitto on another loopback port, behind a TCP proxy that can
 * cut, blackhole and restore the link. The edge broker is a real process with sqlite { }.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, describe, test } from "node:test";
import mqtt from "mqtt";
import { freePort, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";
import { startTcpProxy, type TcpProxy } from "../helpers/tcp_proxy.ts";
import { makeTestCerts, type TestCerts } from "../helpers/certs.ts";
import { chmodSync, readdirSync } from "node:fs";

/**
 * Mosquitto from Debian on a free port (plus a TLS listener on `tls.port` with `tls.certs`); with
 * `persist`, its sessions survive stop() and start().
 */
async function mosquitto(
  opt: { tls?: { port: number; certs: TestCerts }; persist?: boolean } = {},
): Promise<{ port: number; stop(): Promise<void>; start(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "bridge-upstream-"));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const tls = opt.tls;
  const tlsConf = tls === undefined
    ? ""
    : `listener ${tls.port} 127.0.0.1\ncertfile ${tls.certs.certFile}\nkeyfile ${tls.certs.keyFile}\n`;
  const persist = opt.persist === true ? `persistence true\npersistence_location ${dir}/\n` : "";
  writeFileSync(
    join(dir, "m.conf"),
    `listener ${port} 127.0.0.1\n${tlsConf}${persist}allow_anonymous true\nlog_dest file ${dir}/m.log\nlog_type all\n`,
  );
  let p = run("mosquitto", ["-c", join(dir, "m.conf")], 600_000);
  await _listening(port);
  return {
    port,
    stop: async () => void (process.kill(p.pid, "SIGTERM"), await p.done),
    start: async () => {
      p = run("mosquitto", ["-c", join(dir, "m.conf")], 600_000);
      await _listening(port);
    },
  };
}

async function _listening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        reconnectPeriod: 0,
        connectTimeout: 500,
      });
      c.end(true);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing listens on ${port}`);
}

/**
 * The edge broker with a bridge `cloud` to `upstream` (a port or a server URL), `bridge` lines added
 * to it; its store is `sqlite { }` unless `cacheSize` asks for `bridges.mqtt.cache { }` instead.
 * start() runs it (again).
 */
async function edge(upstream: number | string, bridge = "", cacheSize = 0) {
  const dir = mkdtempSync(join(tmpdir(), "bridge-edge-"));
  const port = await freePort();
  const conf = join(dir, "nanomq.conf");
  const store = cacheSize > 0
    ? `bridges.mqtt.cache { disk_cache_size = ${cacheSize}, mounted_file_path = "${dir}" }`
    : `sqlite { mounted_file_path = "${dir}" }`;
  writeFileSync(
    conf,
    `listeners.tcp.bind = "127.0.0.1:${port}"\nlog.level = info\n${store}\n` +
      `bridges.mqtt.cloud {\n  server = "${
        typeof upstream === "number" ? `mqtt-tcp://127.0.0.1:${upstream}` : upstream
      }"\n  proto_ver = 4\n` +
      `  clientid = "edge-${port}"\n  clean_start = false\n  keepalive = 2s\n  backoff_max = 1s\n` +
      `  forwards = [ { local_topic = "data/#", remote_topic = "", prefix = "edge/" } ]\n${bridge}}\n`,
  );
  return {
    url: `mqtt://127.0.0.1:${port}`,
    /** Adds lines to the configuration (a later key overrides an earlier one). */
    amend: (lines: string) => appendFileSync(conf, lines),
    start: () =>
      run(process.execPath, ["src/main.ts", "start", "--conf", conf], 120_000, {
        NANOMQ_PID_FILE: join(dir, "pid"),
      }),
  };
}

/** An upstream subscriber on a persistent session that records every payload under edge/#. */
async function collector(
  port: number,
  filter = "edge/#",
  qos: 1 | 2 = 1,
): Promise<{ got: string[]; end(): void }> {
  const got: string[] = [];
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    clientId: `collector-${port}-${Math.random()}`,
    clean: false,
    reconnectPeriod: 200,
  });
  c.on("message", (_t, p) => got.push(p.toString()));
  await c.subscribeAsync(filter, { qos });
  return { got, end: () => c.end(true) };
}

/** Publishes `n` messages (QoS 1 unless `qos`) numbered from `from`, ten in flight; returns those acknowledged. */
async function publish(
  url: string,
  from: number,
  n: number,
  during?: (acked: number) => void,
  qos: 1 | 2 = 1,
): Promise<number[]> {
  const pub = await mqtt.connectAsync(url, { clientId: `pub-${from}`, reconnectPeriod: 0 });
  const acked: number[] = [];
  let next = from;
  await new Promise<void>((resolve) => {
    let inFlight = 0;
    const pump = (): void => {
      while (inFlight < 10 && next < from + n) {
        const k = next++;
        inFlight++;
        pub.publish(`data/${k % 3}`, String(k), { qos }, (err) => {
          inFlight--;
          if (!err) acked.push(k);
          during?.(acked.length);
          if (acked.length === n) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  await pub.endAsync();
  return acked;
}

/** The bridge's state as its retained `$SYS/brokers/cloud/state` message says, once `ok` holds for it. */
async function bridgeState(
  url: string,
  ok: (s: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  const sys = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the bridge state never became as expected: ${last}`)),
        15_000,
      );
      let last = "";
      sys.on("message", (_t, p) => {
        last = p.toString();
        const s = JSON.parse(last);
        if (ok(s)) resolve(s), clearTimeout(timer);
      });
      void sys.subscribeAsync("$SYS/brokers/cloud/state");
    });
  } finally {
    sys.end(true);
  }
}

/** Exactly the acknowledged numbers arrived upstream (QoS 1: some maybe twice); first arrivals in publishing order. */
function assertDelivered(acked: number[], got: string[]): void {
  const nums = got.map(Number);
  for (const k of acked) {
    assert.ok(nums.includes(k), `message ${k} was acknowledged but never arrived upstream`);
  }
  assert.deepEqual(
    [...new Set(nums)].sort((a, b) => a - b),
    [...acked].sort((a, b) => a - b),
    "nothing else",
  );
  const firsts = nums.filter((k, i) => nums.indexOf(k) === i);
  assert.deepEqual(firsts, [...firsts].sort((a, b) => a - b), "first arrivals in publishing order");
}

describe("MQTT bridge to Mosquitto", () => {
  const cleanups: (() => unknown)[] = [];
  after(async () => {
    // each one runs even when another fails (a process that already exited)
    for (const c of cleanups.reverse()) await Promise.resolve().then(c).catch(() => {});
  });

  /** Starts the edge, killed after the tests, and waits until it listens. */
  async function runEdge(e: Awaited<ReturnType<typeof edge>>): Promise<ReturnType<typeof run>> {
    const broker = e.start();
    cleanups.push(() => process.kill(broker.pid, "SIGKILL"));
    await _listening(Number(new URL(e.url).port));
    return broker;
  }

  /** Upstream, proxy, collector and the edge bridged to it; `persist` and `cacheSize` as for mosquitto() and edge(). */
  async function setup(bridge = "", opt: { persist?: boolean; cacheSize?: number } = {}) {
    const up = await mosquitto({ persist: opt.persist ?? false });
    cleanups.push(() => up.stop());
    const proxy: TcpProxy = await startTcpProxy(up.port);
    cleanups.push(() => proxy.close());
    const e = await edge(proxy.port, bridge, opt.cacheSize ?? 0);
    const c = await collector(up.port);
    cleanups.push(c.end);
    let broker = e.start();
    cleanups.push(() => process.kill(broker.pid, "SIGKILL"));
    await _listening(Number(new URL(e.url).port));
    return {
      up,
      proxy,
      e,
      c,
      broker: () => broker,
      restart: async () => {
        broker = e.start();
        await _listening(Number(new URL(e.url).port));
      },
    };
  }

  test("steady forwarding at QoS 1: exactly the messages, once each, in order, with the prefix; state on $SYS", async () => {
    const { e, c } = await setup();
    const acked = await publish(e.url, 0, 300);
    await waitFor(() => c.got.length >= 300, "300 messages upstream", 30_000);
    assert.deepEqual(c.got.map(Number), acked.sort((a, b) => a - b));
    const s = await bridgeState(e.url, (s) => s.forwarded === 300);
    assert.equal(s.state, "connected");
    assert.equal(s.cached, 0);
    assert.equal(s.dropped, 0);
  });

  test("link cut during QoS 1 traffic: the messages acknowledged meanwhile arrive after it is restored", async () => {
    const { e, c, proxy } = await setup();
    let cut = false;
    const acked = await publish(e.url, 0, 600, (n) => {
      if (n === 150 && !cut) {
        cut = true;
        proxy.cut();
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    proxy.restore();
    await waitFor(() => acked.every((k) => c.got.includes(String(k))), "every acknowledged message", 30_000);
    assertDelivered(acked, c.got);
  });

  test("QoS 2 over MQTT 5 with a lasting upstream session: a cut mid-traffic, each message arrives exactly once, in order", async () => {
    // clean_start = false is in edge(); MQTT 5 also needs a Session Expiry Interval to keep the session
    const { e, up, proxy } = await setup(
      "  proto_ver = 5\n  conn_properties { session_expiry_interval = 3600 }\n",
    );
    const c2 = await collector(up.port, "edge/#", 2);
    cleanups.push(c2.end);
    let cut = false;
    const acked = await publish(e.url, 0, 400, (n) => {
      if (n === 100 && !cut) {
        cut = true;
        proxy.cut();
        setTimeout(() => proxy.restore(), 500);
      }
    }, 2);
    await waitFor(() => acked.every((k) => c2.got.includes(String(k))), "every acknowledged message", 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(c2.got.map(Number), [...acked].sort((a, b) => a - b), "once each, in publishing order");
  });

  test("messages published before the uplink was ever up are forwarded when it comes up", async () => {
    const up = await mosquitto();
    cleanups.push(up.stop);
    const proxy = await startTcpProxy(up.port);
    cleanups.push(() => proxy.close());
    proxy.cut();
    const e = await edge(proxy.port);
    const c = await collector(up.port);
    cleanups.push(c.end);
    await runEdge(e);
    const acked = await publish(e.url, 0, 100);
    proxy.restore();
    await waitFor(() => acked.every((k) => c.got.includes(String(k))), "every acknowledged message", 30_000);
    assertDelivered(acked, c.got);
  });

  test("blackholed link: keepalive notices, the bridge reconnects, nothing is lost", async () => {
    const { e, c, proxy } = await setup();
    proxy.blackhole();
    const acked = await publish(e.url, 0, 200);
    await new Promise((r) => setTimeout(r, 3500)); // 1.5 x keepalive 2 s
    proxy.restore();
    await waitFor(() => acked.every((k) => c.got.includes(String(k))), "every acknowledged message", 30_000);
    assertDelivered(acked, c.got);
  });

  test("edge killed with SIGKILL while the link is down: the cache survives and drains in order", async () => {
    const s = await setup();
    s.proxy.cut();
    const acked = await publish(s.e.url, 0, 500);
    process.kill(s.broker().pid, "SIGKILL");
    await s.broker().done;
    s.proxy.restore();
    await s.restart();
    await waitFor(
      () => acked.every((k) => s.c.got.includes(String(k))),
      "every acknowledged message",
      30_000,
    );
    assertDelivered(acked, s.c.got);
  });

  test("upstream restart during QoS 1 traffic: nothing acknowledged is lost", async () => {
    const { e, c, up } = await setup("", { persist: true });
    let restarted: Promise<void> | null = null;
    const acked = await publish(e.url, 0, 600, (n) => {
      if (n === 150 && restarted === null) restarted = up.stop().then(() => up.start());
    });
    await restarted;
    await waitFor(() => acked.every((k) => c.got.includes(String(k))), "every acknowledged message", 30_000);
    assertDelivered(acked, c.got);
  });

  test("full cache, then SIGKILL: the oldest messages are kept and forwarded in order, the drops are counted and logged", async () => {
    const s = await setup("", { cacheSize: 50 });
    s.proxy.cut();
    await bridgeState(s.e.url, (st) => st.state === "disconnected");
    const acked = await publish(s.e.url, 0, 80);
    assert.equal(acked.length, 80, "the edge acknowledges every message it takes");
    const st = await bridgeState(s.e.url, (st) => st.dropped === 30);
    assert.equal(st.cached, 50);
    process.kill(s.broker().pid, "SIGKILL");
    const out = await s.broker().done;
    assert.match(
      out.stdout + out.stderr,
      /Bridge cloud: the cache is full \(50 messages waiting for upstream\); 30 new messages were dropped/,
    );
    await s.restart();
    s.proxy.restore();
    await waitFor(() => s.c.got.length >= 50, "50 messages upstream", 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(s.c.got.map(Number), [...Array(50).keys()]);
  });

  test("forward rules changed while messages wait: each goes by the rule that now matches it, or not at all", async () => {
    const s = await setup();
    s.proxy.cut();
    await bridgeState(s.e.url, (st) => st.state === "disconnected");
    const before = await publish(s.e.url, 0, 30); // on data/0, data/1, data/2 in turn
    process.kill(s.broker().pid, "SIGTERM");
    await s.broker().done;
    // the old rule data/# becomes stale; its number (1) now names other/#
    s.e.amend(
      `bridges.mqtt.cloud.forwards = [ { local_topic = "other/#", remote_topic = "", prefix = "edge/" },\n` +
        `  { local_topic = "data/0", remote_topic = "", prefix = "edge/" } ]\n`,
    );
    await s.restart();
    const after = await publish(s.e.url, 30, 30);
    // the 30 queued before, and of the new ones only data/0: data/# is no longer subscribed
    await bridgeState(s.e.url, (st) => st.cached === 40);
    s.proxy.restore();
    const expected = [...before, ...after].filter((k) => k % 3 === 0).sort((a, b) => a - b);
    await waitFor(() => s.c.got.length >= expected.length, "the data/0 messages upstream", 30_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(s.c.got.map(Number), expected);
    // the 20 queued on data/1 and data/2 before the change are counted as they are dropped
    await bridgeState(s.e.url, (st) => st.unmatched === 20);
  });

  test("a message the upstream refuses (MQTT 5, ACL: PUBACK 0x87) is counted and logged; the others go on", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bridge-strict-"));
    const port = await freePort();
    writeFileSync(join(dir, "acl.conf"), "deny clientid * 1 edge/data/2\nallow clientid * 3 #\n");
    writeFileSync(
      join(dir, "up.conf"),
      `listeners.tcp.bind = "127.0.0.1:${port}"\nauth { acl_file = "${dir}/acl.conf" }\n`,
    );
    const up = run(process.execPath, ["src/main.ts", "start", "--conf", join(dir, "up.conf")], 120_000, {
      NANOMQ_PID_FILE: join(dir, "pid"),
    });
    cleanups.push(() => process.kill(up.pid, "SIGKILL"));
    await _listening(port);
    const e = await edge(port, "  proto_ver = 5\n");
    const c = await collector(port);
    cleanups.push(c.end);
    const broker = await runEdge(e);
    const acked = await publish(e.url, 0, 30); // on data/0, data/1, data/2 in turn
    const st = await bridgeState(e.url, (st) => st.refused === 10);
    assert.equal(st.cached, 0);
    await waitFor(() => c.got.length >= 20, "the 20 allowed upstream", 10_000);
    assert.deepEqual(c.got.map(Number), acked.filter((k) => k % 3 !== 2).sort((a, b) => a - b));
    process.kill(broker.pid, "SIGTERM");
    const out = await broker.done;
    assert.match(
      out.stderr + out.stdout,
      /Bridge cloud: upstream refused \d+ forwarded messages \(last reason code 0x87\)/,
    );
  });

  test("hybrid_servers: when the server is lost the bridge fails over to the next one, losing nothing", async () => {
    const a = await mosquitto();
    cleanups.push(() => a.stop());
    const b = await mosquitto();
    cleanups.push(() => b.stop());
    const proxy = await startTcpProxy(a.port);
    cleanups.push(() => proxy.close());
    const e = await edge(
      proxy.port,
      `  hybrid_bridging = true\n  hybrid_servers = [ "mqtt-tcp://127.0.0.1:${b.port}" ]\n`,
    );
    const ca = await collector(a.port);
    cleanups.push(ca.end);
    const cb = await collector(b.port);
    cleanups.push(cb.end);
    await runEdge(e);
    const first = await publish(e.url, 0, 100);
    await waitFor(() => ca.got.length >= 100, "100 messages on the first server", 30_000);
    proxy.cut();
    const then = await publish(e.url, 100, 100);
    await waitFor(
      () => then.every((k) => cb.got.includes(String(k))),
      "the rest on the second server",
      30_000,
    );
    // QoS 1 across servers: what the first one had not acknowledged when the link went is sent to the second too
    assert.deepEqual(ca.got.map(Number), first.sort((x, y) => x - y));
    assertDelivered([...first, ...then], [...ca.got, ...cb.got]);
    assert.ok(
      cb.got.map(Number).every((k) => k >= 100 - 64),
      "the second server got no more than a window again",
    );
    const st = await bridgeState(e.url, (st) => st.state === "connected");
    assert.equal(st.server, `mqtt-tcp://127.0.0.1:${b.port}`);
  });

  test("subscription direction: cloud messages come down; a message that came down is not forwarded back up", async () => {
    const { e, up } = await setup(
      `  subscription = [ { remote_topic = "cmd/#", local_topic = "", qos = 1 } ]\n` +
        `  forwards = [ { local_topic = "cmd/#", remote_topic = "", qos = 1 } ]\n`,
    );
    const local = await collector(Number(new URL(e.url).port), "cmd/#");
    cleanups.push(local.end);
    const cloud = await collector(up.port, "cmd/#");
    cleanups.push(cloud.end);
    await new Promise((r) => setTimeout(r, 300));
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${up.port}`, { reconnectPeriod: 0 });
    await pub.publishAsync("cmd/reboot", "now", { qos: 1 });
    pub.end(true);
    await waitFor(() => local.got.length === 1, "the command at the edge", 10_000);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(local.got, ["now"]);
    assert.deepEqual(cloud.got, ["now"], "the cloud saw it once: the bridge did not send it back");
  });

  test("MQTT 5 upstream: the message's properties go through", async () => {
    const { e, up } = await setup("  proto_ver = 5\n");
    const cloud = await mqtt.connectAsync(`mqtt://127.0.0.1:${up.port}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    cleanups.push(() => cloud.end(true));
    const got = new Promise<mqtt.IPublishPacket>((r) => cloud.once("message", (_t, _p, packet) => r(packet)));
    await cloud.subscribeAsync("edge/#", { qos: 1 });
    const pub = await mqtt.connectAsync(e.url, { protocolVersion: 5, reconnectPeriod: 0 });
    await pub.publishAsync("data/props", "with properties", {
      qos: 1,
      properties: {
        contentType: "text/plain",
        userProperties: { site: "north", line: "3" },
        messageExpiryInterval: 600,
      },
    });
    pub.end(true);
    const p = await got;
    assert.equal(p.topic, "edge/data/props");
    assert.equal(p.properties?.contentType, "text/plain");
    assert.deepEqual({ ...p.properties?.userProperties }, { site: "north", line: "3" });
    assert.ok((p.properties?.messageExpiryInterval ?? 0) > 590);
  });

  test("TLS upstream (tls+mqtt-tcp, the server verified against ssl.cacertfile)", async () => {
    const certs = makeTestCerts();
    chmodSync(certs.dir, 0o755); // Mosquitto reads them as its own user
    for (const f of readdirSync(certs.dir)) chmodSync(join(certs.dir, f), 0o644);
    const tlsPort = await freePort();
    const up = await mosquitto({ tls: { port: tlsPort, certs } });
    cleanups.push(up.stop);
    const e = await edge(`tls+mqtt-tcp://127.0.0.1:${tlsPort}`, `  ssl { cacertfile = "${certs.caFile}" }\n`);
    const c = await collector(up.port);
    cleanups.push(c.end);
    const broker = await runEdge(e);
    const acked = await publish(e.url, 0, 100);
    await waitFor(() => c.got.length >= 100, "100 messages over TLS", 10_000).catch(async (err) => {
      process.kill(broker.pid, "SIGTERM");
      throw new Error(`${err.message}; the edge said: ${(await broker.done).stderr}`);
    });
    assertDelivered(acked, c.got);
  });
});
