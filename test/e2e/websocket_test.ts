import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import process from "node:process";
import { after, before, describe, test } from "node:test";
import mqtt from "mqtt";
import { makeTestCerts } from "../helpers/certs.ts";
import { freePort, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

describe("WebSocket and WSS listeners (broker process, MQTT.js)", () => {
  const certs = makeTestCerts();
  let ports: { tcp: number; ws: number; wss: number };
  let broker: ReturnType<typeof run>;
  const clients: mqtt.MqttClient[] = [];

  before(async () => {
    ports = { tcp: await freePort(), ws: await freePort(), wss: await freePort() };
    const conf = join(certs.dir, "ws.conf");
    writeFileSync(
      conf,
      `listeners.tcp.bind = "127.0.0.1:${ports.tcp}"\nlisteners.ws.bind = "127.0.0.1:${ports.ws}/mqtt"\n` +
        `listeners.wss {\n  bind = "127.0.0.1:${ports.wss}/mqtt"\n  keyfile = "${certs.keyFile}"\n  certfile = "${certs.certFile}"\n}\n`,
    );
    broker = run(process.execPath, ["src/main.ts", "start", "--conf", conf], 60_000, {
      NANOMQ_PID_FILE: join(certs.dir, "ws.pid"),
    });
    await waitForConnect(`mqtt://127.0.0.1:${ports.tcp}`);
  });

  after(async () => {
    for (const c of clients) c.end(true);
    broker.kill();
    await broker.done;
  });

  async function connect(url: string, protocolVersion: 4 | 5): Promise<mqtt.MqttClient> {
    const c = await mqtt.connectAsync(url, {
      protocolVersion,
      reconnectPeriod: 0,
      ca: readFileSync(certs.caFile),
    });
    clients.push(c);
    return c;
  }

  for (const v of [4, 5] as const) {
    test(`MQTT ${v === 4 ? "3.1.1" : "5"}: TCP -> WSS and WS -> TCP, QoS 1`, async () => {
      const overWss = await connect(`wss://localhost:${ports.wss}/mqtt`, v);
      const overWs = await connect(`ws://127.0.0.1:${ports.ws}/mqtt`, v);
      const overTcp = await connect(`mqtt://127.0.0.1:${ports.tcp}`, v);
      const got: string[] = [];
      overWss.on("message", (t, p) => got.push(`wss ${t} ${p.length}`));
      overTcp.on("message", (t, p) => got.push(`tcp ${t} ${p.length}`));
      await overWss.subscribeAsync(`to-wss/${v}`, { qos: 1 });
      await overTcp.subscribeAsync(`to-tcp/${v}`, { qos: 1 });
      await overTcp.publishAsync(`to-wss/${v}`, "a", { qos: 1 });
      await overWs.publishAsync(`to-tcp/${v}`, "b".repeat(100_000), { qos: 1 });
      await waitFor(() => got.length === 2, "both messages");
      assert.deepEqual(got.sort(), [`tcp to-tcp/${v} 100000`, `wss to-wss/${v} 1`]);
    });
  }

  test("an upgrade on another path gets 404; a plain request is told where to upgrade", async () => {
    const status = (path: string, upgrade: boolean) =>
      new Promise<number>((resolve, reject) => {
        const headers: Record<string, string> = upgrade
          ? {
            connection: "Upgrade",
            upgrade: "websocket",
            "sec-websocket-version": "13",
            "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
          }
          : {};
        const r = request({ host: "127.0.0.1", port: ports.ws, path, headers }, (res) =>
          resolve(res.statusCode ?? 0));
        r.on("upgrade", (res) =>
          resolve(res.statusCode ?? 0));
        r.on("error", reject);
        r.end();
      });
    assert.equal(await status("/other", true), 404);
    assert.equal(await status("/mqtt", false), 426);
    assert.equal(await status("/mqtt", true), 101);
  });
});

async function waitForConnect(url: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      (await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 1000 })).end(true);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`Broker did not listen: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
