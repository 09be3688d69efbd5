/**
 * `broker pub`, `sub` and `conn` as a user runs them (processes, real sockets) against this broker
 * and against Mosquitto, at MQTT 3.1.1 and 5, over TCP, TLS and WebSocket; their exit codes,
 * usage errors, refusals and timeouts; wills, stdin lines, several clients.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import net from "node:net";
import process from "node:process";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { makeTestCerts, type TestCerts } from "../helpers/certs.ts";
import { waitFor } from "../helpers/live_broker.ts";
import { startMosquitto, startOurs, startTool, tool, type ToolBroker } from "../helpers/tool_brokers.ts";

let certs: TestCerts;
const brokers: ToolBroker[] = [];

before(async () => {
  certs = makeTestCerts();
  brokers.push(
    await startOurs(certs, 'auth.acl_file = "ACL"\n'.replace("ACL", _acl())),
    await startMosquitto(certs),
  );
});
after(async () => {
  for (const b of brokers) await b.stop();
});

/** Everyone may do anything but read `secret/#`. */
function _acl(): string {
  const file = join(makeTestCerts().dir, "acl.conf");
  writeFileSync(file, "deny username * 2 secret/#\nallow username * 3 #\n");
  return file;
}

function url(b: ToolBroker, scheme: "mqtt" | "mqtts" | "ws"): string[] {
  const u = `${scheme}://127.0.0.1:${b.ports[scheme]}${scheme === "ws" ? "/mqtt" : ""}`;
  return scheme === "mqtts" ? ["--url", u, "--cafile", certs.caFile] : ["--url", u];
}

type Json = Record<string, unknown>;

/** A sub started and subscribed (its -d output shows the SUBACK). */
async function subscribed(args: string[]) {
  const sub = startTool(["sub", "-d", ...args]);
  await waitFor(() => sub.output().includes("received SUBACK"), "the SUBACK");
  return sub;
}

for (const name of ["ours", "mosquitto"] as const) {
  for (const scheme of ["mqtt", "mqtts", "ws"] as const) {
    for (const v of ["4", "5"]) {
      test(`${name}, ${scheme}, MQTT ${v === "5" ? "5" : "3.1.1"}: pub QoS 1 and 2 reach sub (JSON lines), conn connects two clients`, async () => {
        const b = brokers.find((x) => x.name === name)!;
        const to = url(b, scheme);
        const topic = `m/${name}/${scheme}/${v}`;
        const sub = await subscribed([
          ...to,
          "-V",
          v,
          "-t",
          `${topic}/#`,
          "-q",
          "2",
          "-L",
          "2",
          "--format",
          "json",
          "-W",
          "30",
        ]);
        const props = v === "5" ? ["--content_type", "text/plain", "--user_property", "k=v"] : [];
        const one = await tool([
          "pub",
          ...to,
          "-V",
          v,
          "-t",
          `${topic}/a`,
          "-m",
          "hello",
          "-q",
          "1",
          ...props,
        ]);
        assert.equal(one.code, 0, one.stderr);
        const bin = join(b.dir, "bin");
        writeFileSync(bin, Buffer.from([0xff, 0x00, 0xfe]));
        const two = await tool(["pub", ...to, "-V", v, "-t", `${topic}/b`, "-f", bin, "-q", "2"]);
        assert.equal(two.code, 0, two.stderr);
        const done = await sub.done;
        assert.equal(done.code, 0, done.stderr);
        const lines = done.stdout.trim().split("\n").map((l) => JSON.parse(l) as Json);
        assert.deepEqual(lines.map((l) => [l.topic, l.qos, l.payload, l.encoding]), [
          [`${topic}/a`, 1, "hello", "utf8"],
          [`${topic}/b`, 2, "/wD+", "base64"],
        ]);
        if (v === "5") {
          assert.deepEqual(lines[0]!.properties, { content_type: "text/plain", user_properties: { k: "v" } });
        } else assert.equal(lines[0]!.properties, undefined);

        const conn = await tool(["conn", ...to, "-V", v, "-C", "2", "-i", `c-${scheme}-${v}`, "-W", "1"]);
        assert.equal(conn.code, 0, conn.stderr);
        assert.match(conn.stdout, new RegExp(`^c-${scheme}-${v}-0 connected \\(session present: 0\\)$`, "m"));
        assert.match(conn.stdout, new RegExp(`^c-${scheme}-${v}-1 connected`, "m"));
      });
    }
  }
}

describe("what the tools print and how they end", () => {
  test("bad flags: exit 1 and a message that names the flag", async () => {
    const cases: [string[], RegExp][] = [
      [["pub", "-t", "a", "-m", "x", "--bogus"], /Unknown option '--bogus'/],
      [["pub", "-t", "a", "-m", "x", "-q", "3"], /-q, --qos must be a whole number from 0 to 2, not "3"/],
      [["pub", "-m", "x"], /-t, --topic is required/],
      [["pub", "-t", "a"], /pub needs a message: -m/],
      [["sub", "-t", "a", "--content_type", "x"], /MQTT 5 property flags need -V 5/],
      [["sub", "-t", "a", "-V", "6"], /-V, --version must be 3, 4 or 5/],
      [["conn", "--url", "http://h"], /--url "http:\/\/h" is not a broker URL/],
      [["conn", "-c", "maybe"], /-c, --clean_session must be true or false/],
      [
        ["sub", "-t", "a", "-V", "5", "--server_keep_alive", "9"],
        /--server_keep_alive is a property only a server sends/,
      ],
      [["conn", "-t", "a"], /Unknown option '-t'/],
    ];
    for (const [args, message] of cases) {
      const r = await tool(args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(" "));
      assert.match(r.stderr, new RegExp(`Try "broker ${args[0]} --help"`));
    }
    const help = await tool(["sub", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: broker sub -t <filter>/);
  });

  test("refused: a bad password (exit 2, the reason at 3.1.1 and 5), a subscription the ACL denies", async () => {
    const file = join(brokers[0]!.dir, "pwd.conf");
    writeFileSync(file, '"ann": "right"\n');
    const b = await startOurs(certs, `auth.password = {include "${file}"}\nauth.allow_anonymous = false\n`);
    try {
      const v5 = await tool([
        "pub",
        "-p",
        String(b.ports.mqtt),
        "-V",
        "5",
        "-u",
        "ann",
        "-P",
        "wrong",
        "-t",
        "a",
        "-m",
        "x",
      ]);
      assert.equal(v5.code, 2);
      assert.match(v5.stderr, /refused the connection: bad user name or password \(0x86\)/);
      const v4 = await tool(["conn", "-p", String(b.ports.mqtt), "-u", "ann", "-P", "wrong"]);
      assert.equal(v4.code, 2);
      assert.match(v4.stderr, /refused the connection: bad username or password \(4\)/);
      const ok = await tool([
        "pub",
        "-p",
        String(b.ports.mqtt),
        "-u",
        "ann",
        "-P",
        "right",
        "-t",
        "a",
        "-m",
        "x",
      ]);
      assert.equal(ok.code, 0, ok.stderr);
    } finally {
      await b.stop();
    }
    const denied = await tool(["sub", "-p", String(brokers[0]!.ports.mqtt), "-V", "5", "-t", "secret/#"]);
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /refused the subscription to "secret\/#": not authorized \(0x87\)/);
    const closed = await tool(["pub", "-p", String(await _closedPort()), "-t", "a", "-m", "x"]);
    assert.equal(closed.code, 2);
    assert.match(closed.stderr, /cannot connect to mqtt:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
  });

  test("timeouts exit 3: no CONNACK from a server that never answers, sub -W with nothing received", async () => {
    const silent = net.createServer(() => {}).listen(0, "127.0.0.1");
    await new Promise((r) => silent.once("listening", r));
    try {
      const port = String((silent.address() as net.AddressInfo).port);
      const r = await tool(["pub", "-p", port, "-t", "a", "-m", "x", "-W", "1"]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, /not connected within 1 s \(-W\)/);
    } finally {
      silent.close();
    }
    const sub = await tool(["sub", "-p", String(brokers[0]!.ports.mqtt), "-t", "nothing/here", "-W", "1"]);
    assert.equal(sub.code, 3);
    assert.match(sub.stderr, /-W 1: 0 messages received/);
  });

  test("stdin lines, -L and -C: every message reaches every subscriber client; -v prints the topic", async () => {
    const port = String(brokers[0]!.ports.mqtt);
    const sub = await subscribed([
      "-p",
      port,
      "-t",
      "lines/#",
      "-q",
      "1",
      "-C",
      "2",
      "-i",
      "two",
      "-v",
      "-L",
      "10",
    ]);
    const lines = await tool(["pub", "-p", port, "-t", "lines/in", "-l", "-q", "1"], "one\ntwo\n");
    assert.equal(lines.code, 0, lines.stderr);
    const many = await tool([
      "pub",
      "-p",
      port,
      "-t",
      "lines/many",
      "-m",
      "m",
      "-q",
      "1",
      "-C",
      "3",
      "-I",
      "0",
    ]);
    assert.equal(many.code, 0, many.stderr);
    const done = await sub.done;
    assert.equal(done.code, 0, done.stderr);
    const got = done.stdout.trim().split("\n").sort();
    assert.deepEqual(
      got,
      [...Array(6).fill("lines/many m"), "lines/in one", "lines/in one", "lines/in two", "lines/in two"]
        .sort(),
    );
  });

  test("a conn killed without DISCONNECT has its --will-* published; SIGINT ends conn with DISCONNECT, no will", async () => {
    const port = String(brokers[1]!.ports.mqtt); // Mosquitto
    const sub = await subscribed(["-p", port, "-t", "wills/#", "-v", "-L", "1", "-W", "30"]);
    const quiet = startTool(["conn", "-p", port, "--will-topic", "wills/quiet", "--will-msg", "q"]);
    const dying = startTool([
      "conn",
      "-p",
      port,
      "--will-topic",
      "wills/dying",
      "--will-msg",
      "gone",
      "--will-qos",
      "1",
    ]);
    await waitFor(
      () => quiet.output().includes("connected") && dying.output().includes("connected"),
      "both connected",
    );
    process.kill(quiet.pid, "SIGINT");
    assert.equal((await quiet.done).code, 0);
    process.kill(dying.pid, "SIGKILL");
    const done = await sub.done;
    assert.equal(done.stdout, "wills/dying gone\n");
  });
});

/** A port nothing listens on. */
async function _closedPort(): Promise<number> {
  const s = net.createServer().listen(0, "127.0.0.1");
  await new Promise((r) => s.once("listening", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const BENCH_RUNS: ["ours" | "mosquitto", "mqtt" | "mqtts" | "ws", "4" | "5"][] = [
  ["ours", "mqtt", "5"],
  ["ours", "mqtts", "4"],
  ["ours", "ws", "5"],
  ["mosquitto", "mqtt", "4"],
  ["mosquitto", "mqtts", "5"],
  ["mosquitto", "ws", "4"],
];

describe("broker bench", () => {
  for (const [name, scheme, v] of BENCH_RUNS) {
    test(`${name}, ${scheme}, MQTT ${v}: bench sub counts what bench pub sends (QoS 1), both summarise with latency`, async () => {
      const b = brokers.find((x) => x.name === name)!;
      const to = url(b, scheme);
      const topic = `bench/${name}/${scheme}/${v}`;
      const sub = startTool([
        "bench",
        "sub",
        ...to,
        "-V",
        v,
        "-c",
        "2",
        "-t",
        `${topic}/#`,
        "-q",
        "1",
        "-L",
        "60",
        "--json",
      ]);
      await waitFor(() => sub.output().includes("clients subscribed"), "bench sub subscribed");
      const pub = await tool([
        "bench",
        "pub",
        ...to,
        "-V",
        v,
        "-c",
        "3",
        "-t",
        `${topic}/%i`,
        "-q",
        "1",
        "-L",
        "10",
        "-I",
        "0",
        "-s",
        "64",
        "--json",
      ]);
      assert.equal(pub.code, 0, pub.stderr);
      const p = JSON.parse(pub.stdout) as Json & { latency: Json };
      assert.deepEqual([p.mode, p.clients, p.connected, p.messages, p.errors], ["pub", 3, 3, 30, 0]);
      assert.equal(p.latency.of, "publish to PUBACK");
      assert.equal(p.latency.count, 30);
      assert.ok((p.latency.p50 as number) > 0 && (p.latency.p50 as number) <= (p.latency.max as number));
      const done = await sub.done;
      assert.equal(done.code, 0, done.stderr);
      const s = JSON.parse(done.stdout) as Json & { latency: Json };
      assert.deepEqual([s.mode, s.messages, s.latency.count, s.latency.of], [
        "sub",
        60,
        60,
        "publish to arrival",
      ]);
      assert.match(done.stderr, /^2 clients connected in [\d.]+ s$/m);
    });
  }

  test("bench conn holds its clients until interrupted and summarises CONNECT to CONNACK; bad flags exit 1", async () => {
    const port = String(brokers[0]!.ports.mqtt);
    const conn = startTool(["bench", "conn", "-p", port, "-c", "20", "-i", "0", "-n", "100"]);
    await waitFor(() => conn.output().includes("clients connected in"), "bench conn connected");
    process.kill(conn.pid, "SIGINT");
    const done = await conn.done;
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /^bench conn: 20 clients, 20 connections in [\d.]+ s: [\d,]+\/s, 0 errors$/m);
    assert.match(
      done.stdout,
      /^latency \(CONNECT to CONNACK\), ms: p50 [\d.]+ +p90 [\d.]+ +p99 [\d.]+ +p99\.9 [\d.]+ +max [\d.]+ +\(20 samples\)$/m,
    );
    for (
      const [args, message] of [
        [["bench", "flood"], /broker bench takes pub, sub or conn, not "flood"/],
        [["bench", "pub", "-s", "4"], /-s, --size must be a whole number from 12/],
        [["bench", "sub", "--nope"], /Unknown option '--nope'/],
      ] as [string[], RegExp][]
    ) {
      const r = await tool(args);
      assert.equal(r.code, 1, args.join(" "));
      assert.match(r.stderr, message);
    }
  });
});
