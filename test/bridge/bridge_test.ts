import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Bridge } from "../../src/bridge/bridge.ts";
import type { BridgeOptions } from "../../src/bridge/bridge_options.ts";

/** The warnings a bridge logs at start with `opts` over the defaults; it never gets a connection. */
function startWarnings(opts: Partial<BridgeOptions>): string[] {
  const warnings: string[] = [];
  const o: BridgeOptions = {
    name: "cloud",
    servers: [{ url: "mqtt-tcp://127.0.0.1:9", host: "127.0.0.1", port: 9 }],
    protoVer: 4,
    clientId: "edge",
    keepaliveMs: 60_000,
    backoffMaxMs: 1000,
    cleanStart: true,
    connProps: {},
    will: null,
    forwards: [],
    subscriptions: [],
    subProps: {},
    window: 32,
    cacheSize: 100,
    ...opts,
  };
  const b = new Bridge(o, {
    connect: () => new Promise(() => {}),
    attachLocal: () => {},
    publishState: () => {},
    session: () => undefined,
    log: { error: () => {}, warn: (m) => warnings.push(m), info: () => {}, debug: () => {} },
  });
  b.start();
  b.stop();
  return warnings;
}

describe("Bridge start", () => {
  test("MQTT 5 with clean_start = false and no session expiry warns that upstream keeps nothing", () => {
    const v5 = { protoVer: 5 as const, cleanStart: false };
    assert.match(startWarnings(v5).join("\n"), /Set conn_properties\.session_expiry_interval/);
    assert.deepEqual(startWarnings({ ...v5, connProps: { sessionExpiryInterval: 3600 } }), []);
    assert.deepEqual(
      startWarnings({ protoVer: 4, cleanStart: false }),
      [],
      "MQTT 3.1.1 sessions last anyway",
    );
  });
});
