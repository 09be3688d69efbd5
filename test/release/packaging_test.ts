/**
 * The service files: the OpenWrt procd init script (under a stub of rc.common and procd's helpers),
 * the OpenWrt package Makefile (under a stub SDK), the systemd unit and scripts/install.sh, each on
 * the release in dist/.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { describe, test } from "node:test";
import { run } from "../helpers/run.ts";
import { DIST } from "./artifacts.ts";

const INIT = resolve("scripts/openwrt/files/broker.init");
const tmp = (what: string) => mkdtempSync(join(tmpdir(), `broker-${what}-`));
const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** Runs the init script's action under the stub and returns procd's requests, one per line. */
async function procd(action: string): Promise<string[]> {
  const dir = tmp("procd");
  const script = join(dir, "broker"); // installed as /etc/init.d/broker: the service name
  copyFileSync(INIT, script);
  const log = join(dir, "procd.log");
  const r = await run("sh", ["test/release/rc_common_stub.sh", script, action], 15_000, { PROCD_LOG: log })
    .done;
  assert.equal(r.code, 0, r.stderr);
  return readFileSync(log, "utf8").trim().split("\n");
}

/** The OpenWrt Makefile's package for ARCH, installed by the stub SDK into a fresh folder. */
async function openwrtPackage(
  arch: string,
  dist = DIST,
): Promise<{ code: number | null; out: string; root: string }> {
  const dir = tmp("openwrt");
  const root = join(dir, "pkg");
  const r = await run("make", [
    "-s",
    "-C",
    "scripts/openwrt",
    `TOPDIR=${resolve("test/release/openwrt_sdk_stub")}`,
    `BUILD_DIR=${join(dir, "build")}`,
    `ARCH=${arch}`,
    `BROKER_DIST=${dist}`,
    `IDIR=${root}`,
    "stub-package",
  ]).done;
  return { code: r.code, out: r.stdout + r.stderr, root };
}

/** A release folder whose `broken` file is a truncated download; the small files are intact. */
function brokenRelease(broken: string): string {
  const dir = tmp("dist");
  for (const f of ["SHA256SUMS", "nanomq.conf", "broker.service"]) copyFileSync(join(DIST, f), join(dir, f));
  writeFileSync(join(dir, broken), "truncated download");
  return dir;
}

async function install(args: string[]): Promise<{ code: number | null; out: string; root: string }> {
  const root = tmp("install");
  const r = await run("sh", [join(DIST, "install.sh"), "--destdir", root, ...args]).done;
  return { code: r.code, out: r.stdout + r.stderr, root };
}

describe("OpenWrt", () => {
  test("init script: start asks procd for the command, respawn, the config file to watch and logd", async () => {
    const requests = await procd("start");
    assert.match(requests[1]!, /^open_service \[broker\] \[\/.*\/broker\]$/);
    assert.deepEqual(requests.filter((_, i) => i !== 1), [
      "globals [START=95] [STOP=10] [USE_PROCD=1]",
      "open_instance",
      "set_param [command] [/usr/bin/broker] [start] [--conf] [/etc/nanomq.conf]",
      "set_param [env] [NANOMQ_PID_FILE=/var/run/broker.pid]",
      "set_param [respawn] [3600] [5] [5]",
      "set_param [file] [/etc/nanomq.conf]",
      "set_param [stdout] [1]",
      "set_param [stderr] [1]",
      "set_param [term_timeout] [10]",
      "close_instance",
      "close_service [start]",
    ]);
  });

  test("init script: reload sends SIGHUP to the running instance (no restart); stop kills it", async () => {
    assert.deepEqual((await procd("reload")).slice(1), ["send_signal [broker] [*] [HUP]"]);
    assert.deepEqual((await procd("stop")).slice(1), ["kill [broker]"]);
  });

  test("shellcheck passes on the init script, install.sh, the armv7 launcher and the build scripts", async () => {
    const r = await run("shellcheck", [
      INIT,
      "scripts/install.sh",
      join(DIST, "broker-armv7"),
      "scripts/install_test_deps.sh",
      "scripts/install_release_deps.sh",
      "scripts/deno.sh",
      "test/release/rc_common_stub.sh",
    ]).done;
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  for (
    const [arch, bin] of [["aarch64", "broker-linux-aarch64-musl"], ["x86_64", "broker-linux-x86_64-musl"]]
  ) {
    test(`package Makefile, ARCH=${arch}: the musl binary, unstripped, needing libstdcpp and libgcc`, async () => {
      const p = await openwrtPackage(arch!);
      assert.equal(p.code, 0, p.out);
      assert.equal(
        sha(join(p.root, "usr/bin/broker")),
        sha(join(DIST, bin!)),
        "installed as built, not stripped",
      );
      assert.equal(statSync(join(p.root, "usr/bin/broker")).mode & 0o777, 0o755);
      assert.equal(readFileSync(join(p.root, "etc/init.d/broker"), "utf8"), readFileSync(INIT, "utf8"));
      assert.equal(sha(join(p.root, "etc/nanomq.conf")), sha("conf/nanomq.conf"));
      assert.equal(readFileSync(join(p.root, "CONTROL/conffiles"), "utf8"), "/etc/nanomq.conf\n");
      assert.equal(
        readFileSync(join(p.root, "CONTROL/depends"), "utf8"),
        "@(aarch64||x86_64||arm) +libstdcpp +libgcc\n",
      );
      assert.equal(readFileSync(join(p.root, "CONTROL/strip"), "utf8"), ":\n", "RSTRIP disabled");
    });
  }

  test("package Makefile, ARCH=arm: the Node bundle and launcher, needing node", async () => {
    const p = await openwrtPackage("arm");
    assert.equal(p.code, 0, p.out);
    assert.equal(readlinkSync(join(p.root, "usr/bin/broker")), "../lib/broker/broker-armv7");
    assert.equal(sha(join(p.root, "usr/lib/broker/broker-armv7.mjs")), sha(join(DIST, "broker-armv7.mjs")));
    assert.equal(readFileSync(join(p.root, "CONTROL/depends"), "utf8"), "@(aarch64||x86_64||arm) +node\n");
  });

  test("package Makefile: a release file that does not match SHA256SUMS stops the build", async () => {
    const bad = brokenRelease("broker-linux-aarch64-musl");
    const p = await openwrtPackage("aarch64", bad);
    assert.notEqual(p.code, 0);
    assert.match(p.out, /broker-linux-aarch64-musl: FAILED/);
  });
});

describe("install.sh and the systemd unit", () => {
  test("on this host it picks the x86_64 glibc build; the unit verifies with systemd-analyze", async () => {
    const p = await install(["--prefix", "/usr"]);
    assert.equal(p.code, 0, p.out);
    assert.match(p.out, /installed broker-linux-x86_64 as \/usr\/bin\/broker/);
    assert.equal(sha(join(p.root, "usr/bin/broker")), sha(join(DIST, "broker-linux-x86_64")));
    const unit = readFileSync(join(p.root, "etc/systemd/system/broker.service"), "utf8");
    assert.match(unit, /^ExecStart=\/usr\/bin\/broker start --conf \/etc\/nanomq\.conf$/m);
    assert.match(unit, /^ExecReload=\/usr\/bin\/broker reload$/m);
    for (const line of ["Type=simple", "DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=broker"]) {
      assert.match(unit, new RegExp(`^${line}$`, "m"));
    }
    // systemd-analyze checks that ExecStart exists: point it at the installed file
    const check = join(tmp("unit"), "broker.service");
    writeFileSync(check, unit.replaceAll("/usr/bin/broker", join(p.root, "usr/bin/broker")));
    const v = await run("systemd-analyze", ["verify", check]).done;
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stderr, "", "no unknown keys or bad values");
  });

  test("--arch aarch64 --libc musl; an existing /etc/nanomq.conf is kept", async () => {
    const root = tmp("install");
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc/nanomq.conf"), "mine");
    const r = await run("sh", [
      join(DIST, "install.sh"),
      "--destdir",
      root,
      "--arch",
      "arm64",
      "--libc",
      "musl",
      "--no-service",
    ]).done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(join(root, "usr/local/bin/broker")), sha(join(DIST, "broker-linux-aarch64-musl")));
    assert.equal(readFileSync(join(root, "etc/nanomq.conf"), "utf8"), "mine");
    assert.equal(existsSync(join(root, "etc/systemd")), false, "--no-service");
  });

  test("--arch armv7l installs the bundle and its launcher behind a symlink", async () => {
    const p = await install(["--arch", "armv7l", "--no-service"]);
    assert.equal(p.code, 0, p.out);
    assert.equal(readlinkSync(join(p.root, "usr/local/bin/broker")), "/usr/local/lib/broker/broker-armv7");
    assert.equal(
      sha(join(p.root, "usr/local/lib/broker/broker-armv7.mjs")),
      sha(join(DIST, "broker-armv7.mjs")),
    );
  });

  test("--from URL downloads the release files (curl) and checks them", async () => {
    const server = createServer((req, res) => {
      const file = join(DIST, basename(req.url ?? ""));
      if (!existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200);
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      const p = await install([
        "--from",
        `http://127.0.0.1:${port}/release`,
        "--arch",
        "aarch64",
        "--libc",
        "glibc",
      ]);
      assert.equal(p.code, 0, p.out);
      assert.equal(sha(join(p.root, "usr/local/bin/broker")), sha(join(DIST, "broker-linux-aarch64")));
      assert.match(
        readFileSync(join(p.root, "etc/systemd/system/broker.service"), "utf8"),
        /^ExecStart=\/usr\/local\/bin/m,
      );
    } finally {
      server.close();
    }
  });

  test("a file that does not match SHA256SUMS installs nothing; an unknown architecture is refused", async () => {
    const bad = brokenRelease("broker-linux-x86_64");
    const p = await install(["--from", bad]);
    assert.equal(p.code, 1);
    assert.match(p.out, /broker-linux-x86_64 does not match SHA256SUMS; download it again/);
    assert.equal(existsSync(join(p.root, "usr")), false);
    const mips = await install(["--arch", "mips"]);
    assert.equal(mips.code, 1);
    assert.match(mips.out, /there is no build for mips/);
  });
});
