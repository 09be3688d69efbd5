import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import mqtt from "mqtt";
import { makeTestCerts } from "../helpers/certs.ts";
import { type LiveBroker, RUNTIMES, startLiveBroker, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";

const certs = makeTestCerts();
const serverTls = (verify: boolean) => ({
  key: certs.pem(certs.keyFile),
  cert: certs.pem(certs.certFile),
  ca: certs.pem(certs.caFile),
  requestCert: verify,
  rejectUnauthorized: verify,
});

for (const [name, runtime] of RUNTIMES) {
  describe(`TLS over ${name}`, () => {
    let lb: LiveBroker;
    before(async () => (lb = await startLiveBroker({}, runtime(), serverTls(false))));
    after(async () => await lb.stop());

    test("mosquitto_sub and mosquitto_pub exchange QoS 1 messages over TLS", async () => {
      const tls = certs.mosquittoTls(lb.tlsPort);
      const sub = run("mosquitto_sub", [...tls, "-t", "tls/#", "-q", "1", "-C", "2", "-v", "-W", "10"]);
      await waitFor(() => lb.broker.stats().subscriptions > 0, "the subscription");
      for (const m of ["one", "two"]) {
        const r = await run("mosquitto_pub", [...tls, "-t", "tls/t", "-q", "1", "-m", m]).done;
        assert.equal(r.code, 0, r.stderr);
      }
      const r = await sub.done;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "tls/t one\ntls/t two\n");
    });

    test("MQTT.js at MQTT 5 over mqtts:// and a plain TCP client see each other's messages", async () => {
      const secure = await mqtt.connectAsync(`mqtts://127.0.0.1:${lb.tlsPort}`, {
        protocolVersion: 5,
        ca: certs.pem(certs.caFile),
        reconnectPeriod: 0,
      });
      const plain = await mqtt.connectAsync(lb.url, { reconnectPeriod: 0 });
      const got: string[] = [];
      secure.on("message", (_t, p) => got.push(p.toString()));
      await secure.subscribeAsync("mixed", { qos: 1 });
      await plain.publishAsync("mixed", Buffer.alloc(200_000, 0x61), { qos: 1 }); // several TLS records
      await waitFor(() => got.length === 1, "the message over TLS");
      assert.equal(got[0]!.length, 200_000);
      secure.end(true);
      plain.end(true);
    });
  });

  test(`an encrypted key with its passphrase (key_password), over ${name}`, async () => {
    const lb = await startLiveBroker({}, runtime(), {
      ...serverTls(false),
      key: certs.pem(certs.encryptedKeyFile),
      passphrase: "secret",
    });
    const r = await run("mosquitto_pub", [...certs.mosquittoTls(lb.tlsPort), "-t", "k", "-m", "x"]).done;
    await lb.stop();
    assert.equal(r.code, 0, r.stderr);
  });

  describe(`TLS with client certificates required, over ${name}`, () => {
    let lb: LiveBroker;
    before(async () => (lb = await startLiveBroker({}, runtime(), serverTls(true))));
    after(async () => await lb.stop());

    test("a client with a certificate from the CA is served; one without is refused", async () => {
      const base = [...certs.mosquittoTls(lb.tlsPort), "-t", "c", "-m", "x"];
      const denied = await run("mosquitto_pub", base).done;
      assert.notEqual(denied.code, 0, "no client certificate must fail the handshake");
      const ok = await run("mosquitto_pub", [
        ...base,
        "--cert",
        certs.clientCertFile,
        "--key",
        certs.clientKeyFile,
      ])
        .done;
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(lb.broker.metrics.messagesReceived, 1);
    });
  });
}
