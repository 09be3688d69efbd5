import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { flagEdits } from "../../src/cli/start_flags.ts";
import { parseStartFlags } from "../../src/cli/start.ts";
import { loadConfig } from "../../src/config/load_config.ts";

const noFiles = () => Promise.reject(new Error("ENOENT"));

async function withFlags(args: string[], file?: string, text = "") {
  const { edits, notices } = flagEdits(parseStartFlags(args));
  const read = (p: string) => (p === file ? Promise.resolve(text) : noFiles());
  return { cfg: (await loadConfig({ file: file ?? null, read, edits })).config, notices };
}

describe("start flags", () => {
  test("NanoMQ's flags set their keys, over the file", async () => {
    const { cfg } = await withFlags(
      [
        "-S",
        "99",
        "-s",
        "7",
        "-D",
        "3",
        "--http",
        "-p",
        "9000",
        "--log_level",
        "debug",
        "--url",
        "tls+nmq-tcp://127.0.0.1:8999",
        "-E",
        "c.pem",
        "--key",
        "k.pem",
        "--cacert",
        "ca.pem",
        "--keypass",
        "pw",
        "--verify",
        "--fail",
        "--acl",
        "a.conf",
      ],
      "f.conf",
      "mqtt.max_mqueue_len = 5\nlog.level = error\n",
    );
    assert.equal(cfg.mqtt.max_mqueue_len, 99);
    assert.equal(cfg.mqtt.property_size, 7);
    assert.equal(cfg.mqtt.retry_interval, 3000);
    assert.equal(cfg.http_server?.port, 9000);
    assert.equal(cfg.log.level, "debug");
    const ssl = cfg.listeners.ssl!;
    assert.deepEqual([ssl.bind.port, ssl.certfile, ssl.keyfile, ssl.cacertfile, ssl.key_password], [
      8999,
      "c.pem",
      "k.pem",
      "ca.pem",
      "pw",
    ]);
    assert.deepEqual([ssl.verify_peer, ssl.fail_if_no_peer_cert], [true, true]);
    assert.equal(cfg.auth.acl_file, "a.conf");
  });

  test("--log_file adds a file target, --log_stdout false removes the console", async () => {
    const { cfg } = await withFlags(["--log_file", "/var/log/b/broker.log", "--log_stdout", "false"]);
    assert.deepEqual(cfg.log.to, ["file"]);
    assert.equal(cfg.log.dir, "/var/log/b");
    assert.equal(cfg.log.file, "broker.log");
  });

  test("-t sets the number of workers; -T and -n are accepted with a one-line notice; --old_conf is refused with what to do", async () => {
    const { cfg, notices } = await withFlags(["-t", "4", "-T", "8", "-n", "2"]);
    assert.equal(cfg.system.num_taskq_thread, 4);
    assert.deepEqual(notices.map((n) => n.split(" ")[0]), ["--max_tq_thread", "--parallel"]);
    assert.throws(() => flagEdits(parseStartFlags(["--old_conf", "x"])), /use --conf with a HOCON file/);
    assert.throws(() => parseStartFlags(["--nope"]), /--nope/);
  });
});
