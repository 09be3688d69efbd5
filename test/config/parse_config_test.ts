import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { ConfigError } from "../../src/config/config_error.ts";
import { parseConfig, parseDuration, parseSize } from "../../src/config/parse_config.ts";

const FIXTURES = new URL("../../../shared/fixtures/nanomq/", import.meta.url);

describe("parseConfig", () => {
  test("reads NanoMQ's shipped nanomq.conf: mqtt keys and the TCP bind, warnings for the rest", async () => {
    const file = new URL("nanomq.conf", FIXTURES).pathname;
    const cfg = await parseConfig(readFileSync(file, "utf8"), file);
    assert.equal(cfg.mqtt.maxPacketSize, 260 * 1024 * 1024);
    assert.equal(cfg.mqtt.maxMqueueLen, 2048);
    assert.equal(cfg.mqtt.keepaliveMultiplier, 1.25);
    assert.equal(cfg.mqtt.retryInterval, 10_000);
    assert.deepEqual(cfg.listeners.tcp, { host: "0.0.0.0", port: 1883 });
    for (const name of ["http_server", "log", "auth", "listeners.ws", "mqtt.max_awaiting_rel"]) {
      assert.ok(
        cfg.warnings.some((w) => w.includes(name)),
        `no warning for ${name}: ${cfg.warnings.join("; ")}`,
      );
    }
  });

  test("listeners.ssl as NanoMQ documents it (the block commented out in its nanomq.conf)", async () => {
    const text = readFileSync(new URL("nanomq.conf", FIXTURES), "utf8");
    const block = /# listeners\.ssl \{[\s\S]*?# \}/.exec(text)![0].replace(/^# ?/gm, "");
    const cfg = await parseConfig(block.replace("verify_peer = false", "verify_peer = true"), "ssl.conf");
    assert.deepEqual(cfg.listeners.ssl, {
      bind: { host: "0.0.0.0", port: 8883 },
      keyfile: "/etc/certs/key.pem",
      certfile: "/etc/certs/cert.pem",
      cacertfile: "/etc/certs/cacert.pem",
      keyPassword: null,
      verifyPeer: true,
      failIfNoPeerCert: false,
    });
    assert.equal((await parseConfig("", "empty.conf")).listeners.ssl, null);
    const off = await parseConfig(block.replace("{", "{\n  enable = false"), "off.conf");
    assert.equal(off.listeners.ssl, null, "enable = false turns the listener off");
  });

  test("a TLS listener without certfile names the missing key; a bad flag names its line", async () => {
    await assert.rejects(parseConfig('listeners.ssl {\n  keyfile = "k.pem"\n}\n', "x.conf"), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /listeners\.ssl\.certfile/);
      return true;
    });
    const bad = 'listeners.ssl {\n  keyfile = "k"\n  certfile = "c"\n  verify_peer = maybe\n}\n';
    await assert.rejects(parseConfig(bad, "x.conf"), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /x\.conf:4: listeners\.ssl\.verify_peer/);
      return true;
    });
  });

  test("a wrong type names the file, line and key", async () => {
    await assert.rejects(
      parseConfig("# c\nmqtt {\n  max_inflight_window = 1.5\n}\n", "x.conf"),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.equal(e.line, 3);
        assert.equal(e.key, "mqtt.max_inflight_window");
        assert.match(e.message, /^x\.conf:3: mqtt\.max_inflight_window: 1\.5 is not a whole number/);
        return true;
      },
    );
  });

  test("a value out of range is an error", async () => {
    await assert.rejects(parseConfig("mqtt.keepalive_multiplier = 0.5", "y.conf"), /out of range/);
  });

  test("a bind that is not host:port is an error", async () => {
    await assert.rejects(
      parseConfig('listeners.tcp.bind = "localhost"', "z.conf"),
      /listeners\.tcp\.bind.*host:port/,
    );
  });

  test("an unknown mqtt key is a warning, not an error", async () => {
    const cfg = await parseConfig("mqtt { max_mqueue = 5 }", "w.conf");
    assert.ok(cfg.warnings.some((w) => w.includes("mqtt.max_mqueue is not a known key")));
  });
});

describe("sizes and durations", () => {
  test("sizes take KB, MB, GB or plain bytes", () => {
    assert.equal(parseSize("10MB"), 10 * 1024 * 1024);
    assert.equal(parseSize("512kb"), 512 * 1024);
    assert.equal(parseSize(100), 100);
    assert.ok(Number.isNaN(parseSize("10B")));
  });

  test("durations take ms, s, m, h; 800ms is 800 milliseconds, not minutes", () => {
    assert.equal(parseDuration("800ms"), 800);
    assert.equal(parseDuration("10s"), 10_000);
    assert.equal(parseDuration("2m"), 120_000);
    assert.equal(parseDuration("1h"), 3_600_000);
    assert.ok(Number.isNaN(parseDuration("soon")));
  });
});
