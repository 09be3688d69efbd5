import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { brokerOptions, loadSettings } from "../../src/cli/load_settings.ts";
import { storeSpec } from "../../src/cli/open_store.ts";
import { ConfigError } from "../../src/config/config_error.ts";
import { createRuntime } from "../../src/runtime/create_runtime.ts";
import { makeTestCerts } from "../helpers/certs.ts";

describe("listeners from the configuration", () => {
  test("WSS without listeners.ws takes listeners.ssl's certificates; named listeners of each kind open", async () => {
    const certs = makeTestCerts();
    const conf = join(certs.dir, "l.conf");
    writeFileSync(
      conf,
      `listeners.ssl {\n  bind = "127.0.0.1:8883"\n  keyfile = "${certs.keyFile}"\n  certfile = "${certs.certFile}"\n}\n` +
        `listeners.wss.bind = "127.0.0.1:8086/mqtt"\nlisteners.tcp.extra.bind = "127.0.0.1:1884"\n` +
        `listeners.ws.a.bind = "127.0.0.1:8090/a"\nlisteners.ws.b.bind = "127.0.0.1:8091/b"\n`,
    );
    const rt = { ...createRuntime(), env: {} };
    const st = await loadSettings(rt, { conf });
    const open = st.listeners.map((l) =>
      `${l.name} ${l.port}${l.wsPath ?? ""} ${l.tls === undefined ? "plain" : "tls"}`
    );
    assert.deepEqual(open, [
      "listeners.tcp 1883 plain",
      "listeners.tcp.extra 1884 plain",
      "listeners.ssl 8883 tls",
      "listeners.ws.a 8090/a plain",
      "listeners.ws.b 8091/b plain",
      "listeners.wss 8086/mqtt tls",
    ]);
    assert.equal(st.listeners.at(-1)!.tls!.cert, certs.pem(certs.certFile));
  });
});

describe("where the store is", () => {
  async function settingsOf(text: string) {
    const dir = mkdtempSync(join(tmpdir(), "store-spec-"));
    const conf = join(dir, "s.conf");
    writeFileSync(conf, text);
    const st = await loadSettings({ ...createRuntime(), env: {} }, { conf });
    return { spec: storeSpec(st.loaded.config), st };
  }
  const bridge =
    `bridges.mqtt.cloud { server = "mqtt-tcp://127.0.0.1:1883", forwards = [ { local_topic = "a/#", remote_topic = "" } ] }\n`;

  test("bridges.mqtt.cache { } turns the store on when a bridge is enabled, and bounds the bridge's session", async () => {
    const { spec, st } = await settingsOf(
      `${bridge}bridges.mqtt.cache { disk_cache_size = 500000, mounted_file_path = "/var/lib/edge" }\n`,
    );
    assert.deepEqual(spec, {
      path: "/var/lib/edge/broker.db",
      maxMessages: 500000,
      key: "bridges.mqtt.cache",
      ignored: "",
    });
    assert.deepEqual([...brokerOptions(st).sessionQueueLen], [["$bridge/cloud", 500000]]);
  });

  test("without an enabled bridge the cache section opens no store; without it the cache is 102400", async () => {
    assert.equal((await settingsOf(`bridges.mqtt.cache { mounted_file_path = "/x" }\n`)).spec, null);
    const { spec, st } = await settingsOf(bridge);
    assert.equal(spec, null);
    assert.deepEqual([...brokerOptions(st).sessionQueueLen], [["$bridge/cloud", 102400]]);
  });

  test("with sqlite { } too, sqlite's folder is used and a different cache folder is named as unused", async () => {
    const { spec } = await settingsOf(
      `${bridge}sqlite { mounted_file_path = "/a" }\nbridges.mqtt.cache { mounted_file_path = "/b" }\n`,
    );
    assert.equal(spec?.path, "/a/broker.db");
    assert.equal(spec?.maxMessages, 102400);
    assert.match(spec?.ignored ?? "", /bridges\.mqtt\.cache\.mounted_file_path is not used/);
  });
});

describe("ACL rules from the configuration", () => {
  test("a bad line in auth.acl_file is a ConfigError naming that file and line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "acl-"));
    const acl = join(dir, "acl.conf");
    writeFileSync(acl, "allow username joy 3 a/b\ndeny username * 4 #\n");
    const conf = join(dir, "n.conf");
    writeFileSync(conf, `auth.acl_file = "${acl}"\n`);
    await assert.rejects(loadSettings({ ...createRuntime(), env: {} }, { conf }), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(`${e.file}:${e.line}`, `${acl}:2`);
      assert.match(e.message, /: acl: "4" is not 1 \(publish\)/);
      return true;
    });
  });
});

describe("HTTP authentication from the configuration", () => {
  async function settingsOf(text: string) {
    const dir = mkdtempSync(join(tmpdir(), "http-auth-"));
    const conf = join(dir, "n.conf");
    writeFileSync(conf, text);
    return await loadSettings({ ...createRuntime(), env: {} }, { conf });
  }

  test("auth_req, super_req and acl_req with NanoMQ's keys; https reads ssl.cacertfile; cache is auth.cache", async () => {
    const certs = makeTestCerts();
    const st = await settingsOf(
      'auth {\n  cache { max_size = 8, ttl = 30s }\n  http_auth {\n    auth_req { url = "https://a.example/auth", method = get, ' +
        `ssl { cacertfile = "${certs.caFile}" } }\n` +
        '    acl_req { url = "http://127.0.0.1:8991/acl", headers.Content-Type = "application/json", params = {t = "%t"} }\n' +
        "    timeout = 3s\n    pool_size = 4\n  }\n}\n",
    );
    const h = st.auth.http!;
    assert.equal(h.auth?.method, "get");
    assert.equal(h.auth?.tls?.ca, certs.pem(certs.caFile));
    assert.equal(h.auth?.tls?.rejectUnauthorized, true);
    assert.equal(h.superuser, null);
    assert.deepEqual(h.acl?.headers, { "content-type": "application/json" });
    assert.deepEqual(h.acl?.params, { t: "%t" });
    assert.deepEqual([h.timeoutMs, h.poolSize, h.cacheTtlMs, h.cacheSize], [3000, 4, 30_000, 8]);
  });

  test("a section that asks nobody, or a URL that is not http(s), refuses to start naming the key", async () => {
    await assert.rejects(
      settingsOf("auth.http_auth { timeout = 3s }\n"),
      /auth\.http_auth: set auth_req\.url/,
    );
    await assert.rejects(
      settingsOf('auth.http_auth.auth_req.url = "ftp://x/auth"\n'),
      /auth\.http_auth\.auth_req\.url: "ftp:\/\/x\/auth" is not an http:\/\/ or https:\/\/ URL/,
    );
  });
});

describe("bridge topics", () => {
  async function load(rules: string): Promise<unknown> {
    const dir = mkdtempSync(join(tmpdir(), "bridge-topics-"));
    const conf = join(dir, "b.conf");
    writeFileSync(conf, `bridges.mqtt.cloud { server = "mqtt-tcp://127.0.0.1:1883"\n${rules}\n}\n`);
    return await loadSettings({ ...createRuntime(), env: {} }, { conf });
  }

  test("filters, topics, prefixes and suffixes are checked, and the error names the key", async () => {
    await load(
      'forwards = [ { local_topic = "a/+/#", remote_topic = "", prefix = "edge/" } ]\n' +
        'subscription = [ { remote_topic = "cmd/#", local_topic = "down", qos = 1 } ]',
    );
    const cases: [string, RegExp][] = [
      [
        'forwards = [ { local_topic = "a/#/b", remote_topic = "" } ]',
        /forwards\[0\]\.local_topic: "a\/#\/b"/,
      ],
      ['forwards = [ { local_topic = "a", remote_topic = "up/#" } ]', /forwards\[0\]\.remote_topic: "up\/#"/],
      ['forwards = [ { local_topic = "a", remote_topic = "", suffix = "/+" } ]', /forwards\[0\]\.suffix/],
      [
        'subscription = [ { remote_topic = "c", local_topic = "", qos = 1 }, { remote_topic = "", local_topic = "", qos = 1 } ]',
        /subscription\[1\]\.remote_topic: ""/,
      ],
      [
        'subscription = [ { remote_topic = "c", local_topic = "d/+", qos = 1 } ]',
        /subscription\[0\]\.local_topic/,
      ],
    ];
    for (const [rules, error] of cases) {
      await assert.rejects(
        load(rules),
        (e: unknown) => e instanceof ConfigError && error.test(e.message),
        rules,
      );
    }
  });
});
