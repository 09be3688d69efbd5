import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import mqtt from "mqtt";
import { makeTestCerts } from "../helpers/certs.ts";
import { freePort, mqttListening, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

const dir = mkdtempSync(join(tmpdir(), "broker-cli-"));
let brokers = 0;
/** Each broker started here gets its own pid file, so that they do not refuse each other. */
const broker = (args: string[], pidFile = join(dir, `b${brokers++}.pid`)) =>
  run(process.execPath, ["src/main.ts", ...args], 15_000, { NANOMQ_PID_FILE: pidFile });

function conf(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe("broker command line", () => {
  test("--version prints the version, the build target (source, when not built) and the runtime", async () => {
    const r = await broker(["--version"]).done;
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^broker \d+\.\d+\.\d+ source \((bun|node|deno) \d+\.\d+\.\d+\)\n$/);
  });

  test("a bad value names the file, line and key, and the broker does not start", async () => {
    const f = conf("bad.conf", 'mqtt {\n  max_mqueue_len = "lots"\n}\n');
    const r = await broker(["start", "--conf", f]).done;
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`${f}:2: mqtt.max_mqueue_len`), r.stderr);
  });

  test("a TLS certificate that cannot be read is named, and the broker does not start", async () => {
    const f = conf(
      "tls.conf",
      `listeners.tcp.bind = "127.0.0.1:${await freePort()}"\nlisteners.ssl {\n  bind = "127.0.0.1:0"\n` +
        `  keyfile = "${dir}/nope.key"\n  certfile = "${dir}/nope.pem"\n}\n`,
    );
    const r = await broker(["start", "--conf", f]).done;
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes("listeners.ssl.keyfile") && r.stderr.includes(`${dir}/nope.key`), r.stderr);
  });

  test("a certificate file that is not PEM stops start with an error naming the listener and the file", async () => {
    writeFileSync(join(dir, "junk.pem"), "not a certificate\n");
    const named = `listeners.ssl.edge {\n  bind = "127.0.0.1:${await freePort()}"\n` +
      `  keyfile = "${dir}/junk.pem"\n  certfile = "${dir}/junk.pem"\n}\n`;
    const f = conf("junk.conf", `listeners.tcp.bind = "127.0.0.1:${await freePort()}"\n${named}`);
    const r = await broker(["start", "--conf", f]).done;
    assert.equal(r.code, 1);
    assert.ok(
      r.stderr.includes("listeners.ssl.edge: TLS listener") && r.stderr.includes(`${dir}/junk.pem`),
      r.stderr,
    );
  });

  test("verify_peer asks for a client certificate; fail_if_no_peer_cert decides whether none is refused", async () => {
    const certs = makeTestCerts();
    for (const fail of [true, false]) {
      const [port, tlsPort] = [await freePort(), await freePort()];
      const f = conf(
        `verify-${fail}.conf`,
        `listeners.tcp.bind = "127.0.0.1:${port}"\nlisteners.ssl {\n  bind = "127.0.0.1:${tlsPort}"\n` +
          `  keyfile = "${certs.keyFile}"\n  certfile = "${certs.certFile}"\n  cacertfile = "${certs.caFile}"\n` +
          `  verify_peer = true\n  fail_if_no_peer_cert = ${fail}\n}\n`,
      );
      const b = broker(["start", "--conf", f]);
      await mqttListening(port);
      const pub = [...certs.mosquittoTls(tlsPort), "-t", "t", "-m", "x"];
      const anonymous = await run("mosquitto_pub", pub).done;
      const withCert = await run("mosquitto_pub", [
        ...pub,
        "--cert",
        certs.clientCertFile,
        "--key",
        certs.clientKeyFile,
      ])
        .done;
      b.kill();
      await b.done;
      assert.equal(withCert.code, 0, withCert.stderr);
      if (fail) {
        assert.notEqual(anonymous.code, 0, "fail_if_no_peer_cert = true must refuse a client without one");
      } else assert.equal(anonymous.code, 0, anonymous.stderr);
    }
  });

  test("fail_if_no_peer_cert refuses an expired client certificate and one from another CA", async () => {
    const [certs, other] = [makeTestCerts(), makeTestCerts()];
    const [port, tlsPort] = [await freePort(), await freePort()];
    const f = conf(
      "strict.conf",
      `listeners.tcp.bind = "127.0.0.1:${port}"\nlisteners.ssl {\n  bind = "127.0.0.1:${tlsPort}"\n` +
        `  keyfile = "${certs.keyFile}"\n  certfile = "${certs.certFile}"\n  cacertfile = "${certs.caFile}"\n` +
        `  verify_peer = true\n  fail_if_no_peer_cert = true\n}\n`,
    );
    const b = broker(["start", "--conf", f]);
    try {
      await mqttListening(port);
      const pub = (cert: string, key: string) =>
        run("mosquitto_pub", [
          ...certs.mosquittoTls(tlsPort),
          ...["-t", "t", "-m", "x"],
          ...["--cert", cert, "--key", key],
        ]).done;
      assert.equal((await pub(certs.clientCertFile, certs.clientKeyFile)).code, 0);
      assert.notEqual(
        (await pub(certs.expiredClientCertFile, certs.expiredClientKeyFile)).code,
        0,
        "expired",
      );
      assert.notEqual((await pub(other.clientCertFile, other.clientKeyFile)).code, 0, "another CA");
      assert.equal((await pub(certs.clientCertFile, certs.clientKeyFile)).code, 0, "still serving");
    } finally {
      b.kill();
      await b.done;
    }
  });

  test("an unknown flag is an error that names it", async () => {
    const r = await broker(["start", "--bogus"]).done;
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--bogus/);
    assert.match(r.stderr, /Usage: broker start/);
  });

  test("a port in use stops start with an error naming the listener", async () => {
    const port = await freePort();
    const first = broker(["start", "--url", `nmq-tcp://127.0.0.1:${port}`]);
    await mqttListening(port);
    const r = await broker(["start", "--url", `nmq-tcp://127.0.0.1:${port}`]).done;
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`TCP listener 127.0.0.1:${port}`));
    first.kill();
    await first.done;
  });

  test("serves the shipped conf/nanomq.conf; SIGTERM sends MQTT 5 clients DISCONNECT 0x8B and exits 0", async () => {
    const port = await freePort();
    const b = broker(["start", "--conf", "conf/nanomq.conf", "--url", `nmq-tcp://127.0.0.1:${port}`]);
    await mqttListening(port);
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { protocolVersion: 5, reconnectPeriod: 0 });
    let code = -1;
    c.on("disconnect", (p) => (code = p.reasonCode ?? 0));
    b.kill();
    const r = await b.done;
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => code !== -1, "the DISCONNECT");
    assert.equal(code, 0x8b);
    c.end(true);
  });
});

describe("broker passwd", () => {
  test("-c creates, -b takes the password, -D deletes; other lines stay", async () => {
    const f = join(dir, "pwd.conf");
    assert.equal((await broker(["passwd", "-c", "-b", f, "ann", "pw1"]).done).code, 0);
    writeFileSync(f, `# keep me\n${readFileSync(f, "utf8")}`);
    assert.equal((await broker(["passwd", "-b", "--scrypt", f, "bo b", "pw2"]).done).code, 0);
    assert.equal((await broker(["passwd", "-b", f, "ann", "pw3"]).done).code, 0);
    const text = readFileSync(f, "utf8");
    assert.match(text, /^# keep me\n"ann": "\$7\$10000\$[^"]+"\n"bo b": "\$scrypt\$ln=14,r=8,p=1\$[^"]+"\n$/);
    assert.equal((await broker(["passwd", "-D", f, "ann"]).done).code, 0);
    assert.doesNotMatch(readFileSync(f, "utf8"), /"ann"/);
    const missing = await broker(["passwd", "-D", f, "zed"]).done;
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /"zed" is not in/);
  });
});

describe("use_cn_as_username", () => {
  test("the verified client certificate's CN is the user name: no password needed, the ACL applies to it", async () => {
    const certs = makeTestCerts();
    const [port, tlsPort] = [await freePort(), await freePort()];
    writeFileSync(
      join(dir, "cn.acl"),
      "allow username device-1 pubsub devices/device-1/#\ndeny username * pubsub #\n",
    );
    const f = conf(
      "cn.conf",
      `listeners.tcp.bind = "127.0.0.1:${port}"\nlisteners.ssl {\n  bind = "127.0.0.1:${tlsPort}"\n` +
        `  keyfile = "${certs.keyFile}"\n  certfile = "${certs.certFile}"\n  cacertfile = "${certs.caFile}"\n` +
        `  verify_peer = true\n  fail_if_no_peer_cert = false\n  use_cn_as_username = true\n}\n` +
        `auth {\n  allow_anonymous = false\n  acl_file = "${dir}/cn.acl"\n}\n`,
    );
    const b = broker(["start", "--conf", f]);
    try {
      const tls = certs.mosquittoTls(tlsPort);
      const withCert = [...tls, "--cert", certs.clientCertFile, "--key", certs.clientKeyFile];
      for (let i = 0; i < 300; i++) {
        if (
          (await run("mosquitto_pub", [...withCert, "-t", "devices/device-1/up", "-m", "x"]).done).code === 0
        ) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const sub = run("mosquitto_sub", [
        ...withCert,
        "-t",
        "devices/device-1/#",
        "-C",
        "1",
        "-W",
        "10",
        "-q",
        "1",
      ]);
      await new Promise((r) => setTimeout(r, 300));
      const ok = await run("mosquitto_pub", [
        ...withCert,
        "-t",
        "devices/device-1/up",
        "-m",
        "hello",
        "-q",
        "1",
      ]).done;
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal((await sub.done).stdout, "hello\n");
      const denied = await run("mosquitto_sub", [...withCert, "-t", "devices/other/#", "-C", "1", "-W", "2"])
        .done;
      assert.match(denied.stderr + denied.stdout, /denied/i, "the ACL for device-1 applies");
      const anonymous = await run("mosquitto_pub", [...tls, "-t", "devices/device-1/up", "-m", "x"]).done;
      assert.notEqual(anonymous.code, 0, "no certificate: anonymous, refused");
    } finally {
      b.kill();
      await b.done;
    }
  });
});

describe("renewed certificates", () => {
  test("broker reload serves new connections with the renewed certificate; TLS clients stay connected", async () => {
    const [a, b] = [makeTestCerts(), makeTestCerts()];
    const [port, tlsPort] = [await freePort(), await freePort()];
    const [key, cert] = [join(dir, "renew.key"), join(dir, "renew.pem")];
    writeFileSync(key, readFileSync(a.keyFile));
    writeFileSync(cert, readFileSync(a.certFile));
    const f = conf(
      "renew.conf",
      `listeners.tcp.bind = "127.0.0.1:${port}"\nlisteners.ssl {\n  bind = "127.0.0.1:${tlsPort}"\n` +
        `  keyfile = "${key}"\n  certfile = "${cert}"\n}\n`,
    );
    const pidFile = join(dir, "renew.pid");
    const proc = broker(["start", "--conf", f], pidFile);
    try {
      await mqttListening(port);
      const tlsUrl = `mqtts://localhost:${tlsPort}`;
      const old = await mqtt.connectAsync(tlsUrl, {
        ca: readFileSync(a.caFile),
        reconnectPeriod: 0,
        protocolVersion: 5,
      });
      let closed = false;
      old.on("close", () => (closed = true));
      writeFileSync(key, readFileSync(b.keyFile));
      writeFileSync(cert, readFileSync(b.certFile));
      const r = await broker(["reload"], pidFile).done;
      assert.equal(r.code, 0, r.stderr);
      const renewed = await mqtt.connectAsync(tlsUrl, { ca: readFileSync(b.caFile), reconnectPeriod: 0 });
      renewed.end(true);
      await assert.rejects(
        mqtt.connectAsync(tlsUrl, { ca: readFileSync(a.caFile), reconnectPeriod: 0, connectTimeout: 3000 }),
        "the old certificate is no longer served",
      );
      await old.publishAsync("still/here", "yes", { qos: 1 });
      assert.equal(closed, false, "the connection made before the reload stays");
      old.end(true);
    } finally {
      proc.kill();
      await proc.done;
    }
  });
});
