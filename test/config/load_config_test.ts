import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { ConfigError } from "../../src/config/config_error.ts";
import { loadConfig, parseConfig } from "../../src/config/load_config.ts";
import { parseDuration, parseSize } from "../../src/config/schema.ts";
import { showConfig } from "../../src/config/config.ts";

const FIXTURES = new URL("../../../shared/fixtures/nanomq/", import.meta.url).pathname;

/** A reader over an in-memory file set; NanoMQ's /etc/nanomq_*.conf come from the fixtures. */
function files(map: Record<string, string>): (p: string) => Promise<string> {
  return (p) => {
    if (p in map) return Promise.resolve(map[p]!);
    if (p.startsWith("/etc/nanomq_") && existsSync(FIXTURES + p.slice(5))) {
      return Promise.resolve(readFileSync(FIXTURES + p.slice(5), "utf8"));
    }
    return Promise.reject(new Error("ENOENT: no such file or directory"));
  };
}

async function rejects(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ConfigError, `not a ConfigError: ${e}`);
    assert.match(e.message, message);
    return true;
  });
}

describe("NanoMQ's shipped configuration files", { skip: !existsSync(FIXTURES) }, () => {
  for (
    const name of [
      "nanomq.conf",
      "nanomq_example.conf",
      "nanomq_bridge.conf",
      "nanomq_pwd.conf",
    ]
  ) {
    test(`${name} loads; what is not implemented is warned about by name`, async () => {
      const file = FIXTURES + name;
      const r = await loadConfig({ file, read: files({ [file]: readFileSync(file, "utf8") }) });
      assert.equal(r.source, file);
      for (const w of r.warnings) assert.match(w, /^\/.*\.conf(:\d+)?: \S+ /, w);
    });
  }

  test("nanomq_acl.conf is an ACL to include, not a configuration: its rules = [ ] is refused as the rule engine's section", async () => {
    const file = FIXTURES + "nanomq_acl.conf";
    await rejects(
      loadConfig({ file, read: files({ [file]: readFileSync(file, "utf8") }) }),
      /nanomq_acl\.conf:\d+: rules: expected a \{ \} section, found a list/,
    );
  });

  test("nanomq.conf: NanoMQ's values, and a warning with the line for each key without effect", async () => {
    const file = FIXTURES + "nanomq.conf";
    const r = await loadConfig({ file, read: files({ [file]: readFileSync(file, "utf8") }) });
    const c = r.config;
    assert.equal(c.mqtt.max_packet_size, 260 * 1024 * 1024);
    assert.equal(c.mqtt.keepalive_multiplier, 1.25);
    assert.deepEqual(c.listeners.tcp.bind, { host: "0.0.0.0", port: 1883 });
    assert.deepEqual(c.log.to, ["file", "console"]);
    assert.equal(c.log.rotation.size, 10 * 1024 * 1024);
    assert.equal(c.auth.no_match, "allow");
    assert.equal(c.http_server?.limit_conn, 2);
    const text = readFileSync(file, "utf8").split("\n");
    for (const key of ["mqtt.retry_interval", "mqtt.max_awaiting_rel"]) {
      const w = r.warnings.find((x) => x.includes(`: ${key} `));
      assert.ok(w !== undefined, `no warning for ${key}`);
      const line = Number(/\.conf:(\d+):/.exec(w)![1]);
      assert.match(text[line - 1]!, new RegExp(key.split(".").pop()!), `${w} points at the wrong line`);
    }
  });

  test("nanomq_example.conf: includes, named listeners, ACL rules and bridges become typed values", async () => {
    const file = FIXTURES + "nanomq_example.conf";
    const r = await loadConfig({ file, read: files({ [file]: readFileSync(file, "utf8") }) });
    const c = r.config;
    assert.deepEqual(r.files, [file, "/etc/nanomq_pwd.conf", "/etc/nanomq_acl.conf"]);
    assert.deepEqual(c.auth.password, { admin: "public", client: "public" });
    assert.equal(c.auth.acl.rules.length, 2);
    assert.deepEqual(c.auth.acl.rules[0]!.topics, ["$SYS/#"]);
    assert.equal(c.auth.acl.rules[0]!.username, "dashboard");
    assert.deepEqual(c.listeners.tcp.named.default_2?.bind, { host: "0.0.0.0", port: 1885 });
    assert.equal(c.listeners.ssl?.named.default_1?.bind.port, 8881);
    assert.deepEqual(c.listeners.wss?.bind, { host: "0.0.0.0", port: 8086, path: "/mqtt" });
    const b = c.bridges.mqtt.named.emqx1!;
    assert.equal(b.proto_ver, 5);
    assert.equal(b.conn_properties.user_property.key1, "value1");
    assert.deepEqual(b.forwards.map((f) => f.remote_topic), ["fwd/topic1", "fwd/topic2"]);
    assert.equal(b.quic_initial_rtt_ms, 800, "800ms is 800 milliseconds, not minutes");
    assert.equal(c.bridges.mqtt.cache?.disk_cache_size, 102400);
    assert.ok(
      r.warnings.some((w) =>
        /nanomq_example\.conf:\d+: bridges\.mqtt\.emqx1\.quic_keepalive has no effect: QUIC is not supported/
          .test(w)
      ),
    );
    assert.equal(c.webhook?.url, "http://127.0.0.1:80");
    assert.deepEqual(c.webhook?.headers, { "content-type": "application/json" });
    assert.equal(c.webhook?.events[0]?.event, "on_message_publish");
    assert.deepEqual(c.rules?.sqlite?.rules.map((x) => x.table), ["broker", "broker1"]);
    assert.deepEqual(c.rules?.repub?.rules.map((x) => [x.topic, x.keepalive]), [["topic/repub1", 60_000], [
      "topic/repub2",
      60_000,
    ]]);
    assert.ok(r.warnings.some((w) => /rules\.mysql is not supported: rules can store into SQLite/.test(w)));
  });

  test("a missing include is an error that names the path and the including line", async () => {
    const file = FIXTURES + "nanomq_example.conf";
    const text = readFileSync(file, "utf8").replace("/etc/nanomq_pwd.conf", "/nowhere/pwd.conf");
    const line = text.split("\n").findIndex((l) => l.includes("/nowhere/pwd.conf")) + 1;
    await rejects(
      loadConfig({ file, read: files({ [file]: text }) }),
      new RegExp(`:${line}: include: cannot read "/nowhere/pwd.conf"`),
    );
  });
});

describe("loadConfig", () => {
  test("no file: NanoMQ's defaults", async () => {
    const r = await loadConfig({ file: null, read: files({}) });
    assert.equal(r.source, "(defaults)");
    assert.deepEqual(r.config.listeners.tcp.bind, { host: "0.0.0.0", port: 1883 });
    assert.equal(r.config.listeners.ssl, null);
    assert.equal(r.config.mqtt.max_mqueue_len, 2048);
    assert.equal(r.config.auth.allow_anonymous, true);
    assert.equal(r.config.log.level, "warn");
    assert.equal(r.config.sqlite, null);
    assert.deepEqual(r.warnings, []);
  });

  test("an error inside an included file names that file and its line", async () => {
    const read = files({
      "/c/main.conf": 'mqtt.max_mqueue_len = 10\nauth {\n  acl = {include "acl.conf"}\n}\n',
      "/c/acl.conf": "rules = [\n  {permit = allow}\n  {permit = maybe}\n]\n",
    });
    await rejects(
      loadConfig({ file: "/c/main.conf", read }),
      /^\/c\/acl\.conf:3: auth\.acl\.rules\.1\.permit: "maybe" is not one of allow, deny/,
    );
  });

  test("an include loop is refused", async () => {
    const read = files({ "/c/a.conf": 'include "b.conf"\n', "/c/b.conf": 'include "a.conf"\n' });
    await rejects(
      loadConfig({ file: "/c/a.conf", read }),
      /b\.conf:1: include: "\/c\/a\.conf" is included in a loop/,
    );
  });

  const errors: [string, RegExp][] = [
    [
      "mqtt {\n  max_inflight_window = 1.5\n}",
      /^x\.conf:2: mqtt\.max_inflight_window: 1\.5 is not a whole number$/,
    ],
    [
      "mqtt.keepalive_multiplier = 0.5",
      /^x\.conf:1: mqtt\.keepalive_multiplier: 0\.5 is out of range 1\.\.100$/,
    ],
    ["mqtt.max_packet_size = 10B", /^x\.conf:1: mqtt\.max_packet_size: "10B" is not a size such as 10MB/],
    ["mqtt.retry_interval = soon", /^x\.conf:1: mqtt\.retry_interval: "soon" is not a duration such as 10s/],
    ['listeners.tcp.bind = "localhost"', /^x\.conf:1: listeners\.tcp\.bind: "localhost" is not host:port/],
    ['listeners.ws.bind = "0.0.0.0"', /listeners\.ws\.bind: "0\.0\.0\.0" is not host:port\/path/],
    [
      'listeners.ssl {\n  keyfile = "k.pem"\n}',
      /^x\.conf:1: listeners\.ssl\.certfile: is required for a TLS listener/,
    ],
    ["auth.allow_anonymous = perhaps", /auth\.allow_anonymous: "perhaps" is not true or false/],
    ["auth.deny_action = shout", /auth\.deny_action: "shout" is not one of ignore, disconnect/],
    ["log.level = loud", /log\.level: "loud" is not one of trace, debug, info, warn, error, fatal/],
    ["log.rotation.count = 0", /log\.rotation\.count: 0 is out of range 1\.\.1000/],
    ["mqtt = 5", /^x\.conf:1: mqtt: expected a \{ \} section, found number/],
    ["auth.acl.rules = [{action = publish}]", /auth\.acl\.rules\.0\.permit: is required/],
    ["bridges.mqtt.b1 { proto_ver = 4 }", /bridges\.mqtt\.b1\.server: is required/],
    [
      'bridges.mqtt.b1 { server = "mqtt-tcp://h:1883", forwards = [{local_topic = a}] }',
      /b1\.forwards\.0\.remote_topic: is required/,
    ],
    ["mqtt { max_packet_size = ", /^x\.conf: \(syntax\): .*fix the HOCON syntax$/],
    // a mistyped key where access control or TLS is decided stops the start instead of being ignored
    [
      'auth.acl_fle = "acl.conf"',
      /^x\.conf:1: auth\.acl_fle: is not a known key \(did you mean acl\?\); access control/,
    ],
    ["auht.allow_anonymous = false", /^x\.conf:1: auht: is not a known key \(did you mean auth\?\)/],
    [
      'listeners.ssl { bind = "0.0.0.0:8883", verify_per = true }',
      /listeners\.ssl\.verify_per: is not a known key/,
    ],
    [
      'bridges.mqtt.b1 { server = "mqtt-tcp://h:1883", ssl { verify = true } }',
      /b1\.ssl\.verify: is not a known key/,
    ],
  ];
  for (const [text, message] of errors) {
    test(`error: ${text.split("\n")[0]}`, async () => {
      await rejects(parseConfig(text, "x.conf"), message);
    });
  }

  test("an unknown key is a warning that suggests the closest known key", async () => {
    const r = await parseConfig("mqtt {\n  max_mqueue = 5\n}\nlgo.level = info\n", "w.conf");
    assert.ok(
      r.warnings.includes(
        "w.conf:2: mqtt.max_mqueue is not a known key (did you mean max_mqueue_len?); ignored",
      ),
      r.warnings.join("\n"),
    );
    assert.ok(r.warnings.some((w) => w.startsWith("w.conf:4: lgo is not a known key (did you mean log?)")));
    const logTo = await parseConfig("log.to = [console, syslog]\n", "l.conf");
    assert.deepEqual(logTo.warnings, [
      'l.conf:1: log.to "syslog" is not supported; logging to console and file only',
    ]);
  });

  test("the same schema loads from .json and .yaml, with lines in errors", async () => {
    const json = '{\n  "mqtt": { "max_mqueue_len": 7 },\n  "auth": { "password": { "u": "p" } }\n}\n';
    const yaml = "mqtt:\n  max_mqueue_len: 8\nlisteners:\n  tcp:\n    bind: 127.0.0.1:1999\n";
    const read = files({
      "/c/x.json": json,
      "/c/x.yaml": yaml,
      "/c/bad.yml": "mqtt:\n  keepalive_multiplier: lots\n",
    });
    const j = await loadConfig({ file: "/c/x.json", read });
    assert.equal(j.config.mqtt.max_mqueue_len, 7);
    assert.deepEqual(j.config.auth.password, { u: "p" });
    const y = await loadConfig({ file: "/c/x.yaml", read });
    assert.equal(y.config.mqtt.max_mqueue_len, 8);
    assert.deepEqual(y.config.listeners.tcp.bind, { host: "127.0.0.1", port: 1999 });
    await rejects(
      loadConfig({ file: "/c/bad.yml", read }),
      /^\/c\/bad\.yml:2: mqtt\.keepalive_multiplier: "lots" is not a number/,
    );
  });

  test("priority: flags over NANOMQ_* variables over the file over defaults", async () => {
    const read = files({
      "/c/p.conf": "mqtt {\n  max_mqueue_len = 10\n  property_size = 20\n  max_inflight_window = 30\n}\n",
    });
    const r = await loadConfig({
      file: "/c/p.conf",
      read,
      env: { NANOMQ_MSQ_LEN: "11", NANOMQ_PROPERTY_SIZE: "21", NANOMQ_ALLOW_ANONYMOUS: "no" },
      edits: [{ path: "mqtt.max_mqueue_len", value: "12", origin: "flag --msq_len" }],
    });
    const m = r.config.mqtt;
    assert.equal(m.max_mqueue_len, 12, "flag wins");
    assert.equal(m.property_size, 21, "environment beats the file");
    assert.equal(m.max_inflight_window, 30, "file beats the default");
    assert.equal(m.max_packet_size, 10 * 1024 * 1024, "default");
    assert.equal(r.config.auth.allow_anonymous, false);
  });

  test("NANOMQ_* variables: URLs, TLS, log; bad values name the variable; unknown ones get a suggestion", async () => {
    const r = await loadConfig({
      file: null,
      read: files({}),
      env: {
        NANOMQ_BROKER_URL: "nmq-tcp://127.0.0.1:1999",
        NANOMQ_TLS_URL: "tls+nmq-tcp://0.0.0.0:8999",
        NANOMQ_TLS_KEY_PATH: "/k.pem",
        NANOMQ_TLS_CERT_PATH: "/c.pem",
        NANOMQ_TLS_VERIFY_PEER: "true",
        NANOMQ_LOG_TO: "file,console",
        NANOMQ_LOG_ROTATION_SIZE: "1MB",
        NANOMQ_QOS_DURATION: "30",
        NANOMQ_NUM_TASKQ_THREAD: "4",
        NANOMQ_MSQ_LNE: "5",
      },
    });
    const c = r.config;
    assert.deepEqual(c.listeners.tcp.bind, { host: "127.0.0.1", port: 1999 });
    assert.equal(c.listeners.ssl?.bind.port, 8999);
    assert.equal(c.listeners.ssl?.verify_peer, true);
    assert.deepEqual(c.log.to, ["file", "console"]);
    assert.equal(c.log.rotation.size, 1024 * 1024);
    assert.equal(c.mqtt.retry_interval, 30_000);
    assert.equal(c.system.num_taskq_thread, 4, "NanoMQ documents it but never reads it; we do");
    assert.ok(
      r.warnings.includes(
        "environment variable NANOMQ_MSQ_LNE is not a known variable (did you mean NANOMQ_MSQ_LEN?)",
      ),
    );
    await rejects(
      loadConfig({ file: null, read: files({}), env: { NANOMQ_MSQ_LEN: "many" } }),
      /^environment variable NANOMQ_MSQ_LEN: mqtt\.max_mqueue_len: "many" is not a whole number$/,
    );
    await rejects(
      loadConfig({ file: null, read: files({}), env: { NANOMQ_BROKER_URL: "http://x:1" } }),
      /is not a nmq-tcp:\/\/ URL/,
    );
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

describe("the shipped conf/ files", () => {
  test("conf/nanomq.conf with its password and both ACL files enabled loads without a warning", async () => {
    const { readFile } = await import("node:fs/promises");
    const { parseHmqAcl } = await import("../../src/auth/acl_rules.ts");
    const text = readFileSync("conf/nanomq.conf", "utf8")
      .replace('# password = {include "conf/nanomq_pwd.conf"}', 'password = {include "nanomq_pwd.conf"}')
      .replace('# acl = {include "conf/nanomq_acl.conf"}', 'acl = {include "nanomq_acl.conf"}')
      .replace('# acl_file = "conf/acl.conf"', 'acl_file = "conf/acl.conf"');
    const file = "conf/all.conf";
    const r = await loadConfig({
      file,
      read: (p) => (p === file ? Promise.resolve(text) : readFile(p, "utf8")),
    });
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.config.auth.password, { admin: "public" });
    assert.equal(r.config.auth.acl.rules.length, 4);
    assert.equal(r.config.auth.acl_file, "conf/acl.conf");
    assert.equal(parseHmqAcl(readFileSync("conf/acl.conf", "utf8"), "conf/acl.conf").length, 5);
  });
});

describe("showConfig", () => {
  test("durations keep their unit, addresses are host:port, named sections stand beside the keys; it loads back the same", async () => {
    const text = `mqtt { retry_interval = 15s, max_awaiting_rel = 500ms }\n` +
      `listeners.tcp.bind = "127.0.0.1:1883"\nlisteners.tcp.extra.bind = "[::1]:1884"\n` +
      `listeners.ws.bind = "0.0.0.0:8083/mqtt"\nsqlite { disk_cache_size = 10 }\n` +
      `http_server { port = 8081, username = admin, password = "p w" }\n` +
      `bridges.mqtt.cloud { server = "mqtt-tcp://h:1883", keepalive = 30, clientid = null,\n` +
      `  forwards = [ { local_topic = "a/#", remote_topic = "" } ] }\n`;
    const first = await parseConfig(text, "/x.conf");
    const shown = showConfig(first.config) as Record<string, Record<string, Record<string, unknown>>>;
    assert.equal(shown.mqtt!.retry_interval, "15s");
    assert.equal(shown.mqtt!.max_awaiting_rel, "500ms");
    assert.equal(shown.listeners!.tcp!.bind, "127.0.0.1:1883");
    assert.equal((shown.listeners!.tcp!.extra as Record<string, unknown>).bind, "[::1]:1884");
    assert.equal(shown.listeners!.ws!.bind, "0.0.0.0:8083/mqtt");
    assert.equal((shown.bridges!.mqtt!.cloud as Record<string, unknown>).keepalive, "30s");
    const again = await loadConfig({ file: "/x.json", read: () => Promise.resolve(JSON.stringify(shown)) });
    assert.deepEqual(again.config, first.config);
  });
});
