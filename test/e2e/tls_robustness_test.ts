import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import { makeTestCerts } from "../helpers/certs.ts";
import { type LiveBroker, RUNTIMES, startLiveBroker, waitFor } from "../helpers/live_broker.ts";
import { run } from "../helpers/run.ts";
import { createRuntime } from "../../src/runtime/create_runtime.ts";
import { PACKETS } from "../fixtures/packets.ts";

const certs = makeTestCerts();

function rawTo(port: number): Promise<{ s: Socket; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const s = connect(port, "127.0.0.1", () => resolve({ s, closed: () => closed }));
    s.on("close", () => (closed = true));
    s.on("error", () => {});
    s.once("error", reject);
  });
}

for (const [name, runtime] of RUNTIMES) {
  describe(`TLS handshakes that fail or stall, over ${name}`, () => {
    let lb: LiveBroker;
    before(async () => {
      const tls = {
        key: certs.pem(certs.keyFile),
        cert: certs.pem(certs.certFile),
        ca: certs.pem(certs.caFile),
        requestCert: false,
        rejectUnauthorized: false,
        handshakeTimeoutMs: 1000,
      };
      lb = await startLiveBroker({}, runtime(), tls);
    });
    after(async () => await lb.stop());
    const goodClient = () =>
      run("mosquitto_pub", [...certs.mosquittoTls(lb.tlsPort), "-t", "t", "-m", "x"]).done;

    test("a stalled handshake does not delay a good client and is closed after the timeout", async () => {
      const stalled = await rawTo(lb.tlsPort); // says nothing: a slowloris
      const good = await goodClient();
      assert.equal(good.code, 0, good.stderr);
      assert.equal(
        stalled.closed(),
        false,
        "the good client got through while the stalled one was still open",
      );
      await waitFor(stalled.closed, "the stalled handshake to be closed", 15_000);
    });

    // Bun's node:tls emulation leaves such a socket open (Bun.listen, what runs under Bun, closes it);
    // real Node.js closes it: test/release/release_test.ts checks that on the bundle
    const emulated = name === "node:net" && createRuntime().name === "bun";
    test(
      "plain MQTT sent to the TLS port is closed; the listener keeps serving",
      { skip: emulated },
      async () => {
        const plain = await rawTo(lb.tlsPort);
        plain.s.write(PACKETS.connectV4);
        await waitFor(plain.closed, "the plain-TCP client to be closed", 15_000);
        const good = await goodClient();
        assert.equal(good.code, 0, good.stderr);
      },
    );
  });
}
