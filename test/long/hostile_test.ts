/**
 * Slow and hostile clients against the release binary, each beside a probe (an MQTT.js publisher
 * and subscriber making a round trip every 50 ms): the broker's RSS stays under the bound each
 * test states, the probe is served while the attack goes on, and what the attack left is cleaned
 * up by the broker's own timers (each test spans them). The probe's latencies are printed; their
 * figures are in docs/limits.md.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import mp from "mqtt-packet";
import mqtt from "mqtt";
import { makeTestCerts } from "../helpers/certs.ts";
import { freePort, waitFor } from "../helpers/live_broker.ts";
import { Probe, probeText } from "../helpers/probe.ts";
import { connectionsOf, metricOf, rssOf, startTcpBroker, type TcpBroker } from "../helpers/tcp_broker.ts";

const MB = 2 ** 20;

/** The highest RSS of `b` while `work` runs (sampled every 20 ms). */
async function peakRss<T>(b: TcpBroker, work: Promise<T>): Promise<[T, number]> {
  let peak = rssOf(b.pid);
  let done = false;
  const sampler = (async () => {
    while (!done) {
      peak = Math.max(peak, rssOf(b.pid));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    return [await work, peak];
  } finally {
    done = true;
    await sampler;
  }
}

/** A socket to `port` that reports when the broker closed it. */
function socketTo(port: number): Promise<net.Socket & { gone: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, "127.0.0.1") as net.Socket & { gone: boolean };
    s.gone = false;
    s.on("close", () => (s.gone = true));
    s.on("error", () => {});
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

const connect = (id: string, extra: object = {}) =>
  mp.generate(
    {
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: 4,
      clientId: id,
      clean: true,
      keepalive: 60,
      ...extra,
    } as mp.Packet,
  );

/** Runs `attack` with a broker and a probe; checks the bound and prints the probe's latency. */
async function withProbe(
  name: string,
  conf: string,
  boundMb: number,
  attack: (b: TcpBroker, probe: Probe) => Promise<void>,
): Promise<void> {
  const b = await startTcpBroker(conf);
  try {
    const probe = await Probe.start(b.port);
    await probe.served(5);
    const base = rssOf(b.pid);
    const [, peak] = await peakRss(b, attack(b, probe));
    const r = await probe.stop();
    console.log(
      `${name}: RSS ${(base / MB).toFixed(0)} -> peak ${(peak / MB).toFixed(0)} MB; probe ${probeText(r)}`,
    );
    assert.equal(r.closes, 0, "the probe kept its connections");
    assert.ok(
      peak < base + boundMb * MB,
      `peak RSS ${(peak / MB).toFixed(0)} MB within ${boundMb} MB of ${(base / MB).toFixed(0)} MB`,
    );
    assert.doesNotMatch(b.log(), /Internal error|uncaught/i);
  } finally {
    await b.stop();
  }
}

test("subscribers that never read, under a 80 MB flood: bounded queues, the flood goes on, the probe is served (RSS + 96 MB)", async () => {
  await withProbe("non-reading subscribers", "", 96, async (b, probe) => {
    const stuck = await Promise.all([0, 1, 2, 3].map(async (i) => {
      const s = await socketTo(b.port);
      s.write(connect(`stuck-${i}`));
      s.write(
        mp.generate(
          { cmd: "subscribe", messageId: 1, subscriptions: [{ topic: "h/#", qos: i % 2 }] } as mp.Packet,
        ),
      );
      await new Promise((r) => setTimeout(r, 100));
      s.pause(); // and never read again
      return s;
    }));
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 });
    const payload = Buffer.alloc(4096, 1);
    const flood = (async () => {
      for (let i = 0; i < 20_000; i++) await pub.publishAsync("h/x", payload, { qos: 0 });
    })();
    await waitFor(
      async () => await metricOf(b, 'broker_messages_dropped_total{reason="queue_full"}') > 0,
      "drops",
      30_000,
    );
    await probe.served(10); // during the flood
    await flood;
    pub.end(true);
    for (const s of stuck) s.destroy();
  });
});

test("2,000 connections that never finish CONNECT (some trickling a byte a second) and 100 clients trickling a PUBLISH: all closed by the timers (RSS + 64 MB)", async () => {
  await withProbe("slowloris", "", 64, async (b, probe) => {
    const silent = await Promise.all(Array.from({ length: 1800 }, () => socketTo(b.port)));
    const trickling = await Promise.all(Array.from({ length: 200 }, () => socketTo(b.port)));
    const half = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const s = await socketTo(b.port);
      s.write(connect(`slow-${i}`, { keepalive: 4 })); // 6 s with keep alive's 1.5
      return s;
    }));
    const hello = connect("loris");
    const publish = mp.generate(
      { cmd: "publish", topic: "t", payload: Buffer.alloc(1024), qos: 0 } as mp.Packet,
    );
    let k = 0;
    const timer = setInterval(() => {
      for (const s of trickling) if (!s.gone) s.write(hello.subarray(k % hello.length, k % hello.length + 1));
      for (const s of half) if (!s.gone) s.write(publish.subarray(k, k + 1));
      k++;
    }, 1000);
    try {
      await probe.served(10); // all 2,100 open
      assert.ok(silent.every((s) => !s.gone) && trickling.every((s) => !s.gone));
      await waitFor(() => half.every((s) => s.gone), "keep alive to close the trickling publishers", 30_000);
      await waitFor(() => [...silent, ...trickling].every((s) => s.gone), "the CONNECT deadline", 40_000);
      await probe.served(3);
      assert.equal(await connectionsOf(b), 2, "only the probe is left");
    } finally {
      clearInterval(timer);
    }
  });
});

test("40 connections taking the same client id from each other, 2,000 times: one session is left (RSS + 64 MB)", async () => {
  await withProbe("takeover storm", "", 64, async (b, probe) => {
    let connects = 0;
    const storm = async () => {
      while (connects < 2000) {
        connects++;
        const s = await socketTo(b.port);
        s.resume(); // reads what it gets, so it sees the broker's close at once
        s.write(connect("same", { clean: false }));
        await new Promise((r) => setTimeout(r, 5));
        if (!s.gone) await waitFor(() => s.gone || connects >= 2000, "a takeover", 30_000);
        s.destroy();
      }
    };
    await Promise.all([...Array.from({ length: 40 }, storm), probe.served(20)]);
    await waitFor(async () => await connectionsOf(b) === 2, "the storm's last connection gone");
    assert.equal(await metricOf(b, "nanomq_sessions_count"), 3, "the probe's two and one for the id");
  });
});

test("a publisher to 100,000 distinct retained topics, with access control on: exactly max_retained_messages kept (RSS + 192 MB)", async () => {
  const conf =
    'auth.acl.rules = [{permit = allow, action = pubsub, topics = ["#"]}]\nauth.no_match = deny\n' +
    "mqtt.sys_interval = 0\n"; // no $SYS retained messages beside the test's
  await withProbe("100,000 topics", conf, 192, async (b, probe) => {
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 });
    let got = 0;
    sub.on("message", () => got++);
    await sub.subscribeAsync("t/#", { qos: 1 });
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.port}`, { reconnectPeriod: 0 });
    for (let i = 0; i < 100_001; i++) {
      const sent = pub.publishAsync(`t/${i}/${"x".repeat(i % 50)}`, `m${i}`, { qos: 1, retain: true });
      if (i % 100 === 99) await sent;
      if (i === 50_000) await probe.served(3);
    }
    await waitFor(() => got === 100_001, "every message delivered", 60_000);
    assert.equal(await metricOf(b, "broker_retained_messages"), 100_000);
    assert.equal(await metricOf(b, 'broker_limit_hits_total{limit="max_retained_messages"}'), 1);
    pub.end(true);
    sub.end(true);
  });
});

test("1,000 TLS handshakes that stall (half of them after a partial ClientHello): closed at handshake_timeout (RSS + 64 MB)", async () => {
  const certs = makeTestCerts();
  const tlsPort = await freePort();
  const conf =
    `listeners.ssl {\n  bind = "127.0.0.1:${tlsPort}"\n  keyfile = "${certs.keyFile}"\n  certfile = "${certs.certFile}"\n  handshake_timeout = 3s\n}\n`;
  await withProbe("stalled TLS handshakes", conf, 64, async (_b, probe) => {
    const socks = await Promise.all(Array.from({ length: 1000 }, () => socketTo(tlsPort)));
    for (const s of socks.slice(0, 500)) {
      s.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03]));
    }
    await probe.served(10);
    await waitFor(() => socks.every((s) => s.gone), "handshake_timeout", 30_000);
    await probe.served(3);
  });
});

test("400 WebSocket upgrades that never finish (200 trickling their request a byte a second): closed by the HTTP server's timeout (RSS + 64 MB)", async () => {
  const wsPort = await freePort();
  await withProbe(
    "stalled WebSocket upgrades",
    `listeners.ws.bind = "127.0.0.1:${wsPort}/mqtt"\n`,
    64,
    async (_b, probe) => {
      const request = Buffer.from(
        "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nX-Pad: " +
          "a".repeat(200),
      );
      const socks = await Promise.all(Array.from({ length: 400 }, () => socketTo(wsPort)));
      let k = 0;
      const timer = setInterval(() => {
        for (const s of socks.slice(0, 200)) if (!s.gone) s.write(request.subarray(k, k + 1));
        k++;
      }, 1000);
      try {
        await probe.served(10);
        assert.ok(socks.every((s) => !s.gone), "all open while the probe was served");
        await waitFor(() => socks.every((s) => s.gone), "the HTTP server's timeout", 90_000);
      } finally {
        clearInterval(timer);
      }
    },
  );
});
