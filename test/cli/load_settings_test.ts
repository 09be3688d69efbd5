import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadSettings } from "../../src/cli/load_settings.ts";
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
