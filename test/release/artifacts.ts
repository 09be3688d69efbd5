/**
 * How each release artifact in dist/ is run on this x86_64 host: natively, with the musl loader, or
 * under qemu user mode with the sysroots that scripts/install_release_deps.sh builds.
 */
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const DIST = resolve("dist");
const SYSROOTS = resolve(".cache/sysroots");

/** One artifact and the command line that runs it here. */
export interface Artifact {
  target: string;
  /** Program and leading arguments; the broker's own arguments follow. */
  argv: string[];
  env: Record<string, string>;
  /** The runtime `--version` names. */
  runtime: RegExp;
}

function _qemuAarch64(sysroot: string, extra: string[], binary: string): string[] {
  return ["qemu-aarch64-static", "-cpu", "cortex-a53", "-L", join(SYSROOTS, sysroot), ...extra, binary];
}

/**
 * The armv7 launcher runs `$NODE broker-armv7.mjs`: NODE is a script that starts Debian's armhf
 * Node.js under qemu, so the launcher itself is what is tested.
 */
function _armNode(): string {
  const root = join(SYSROOTS, "armhf-node");
  const script = join(mkdtempSync(join(tmpdir(), "broker-armhf-")), "node");
  writeFileSync(script, `#!/bin/sh\nexec qemu-arm-static -L ${root} ${root}/usr/bin/node "$@"\n`, {
    mode: 0o755,
  });
  return script;
}

/** Every artifact; fails with what to run when dist/ or a sysroot is missing. */
export function artifacts(): Artifact[] {
  const bin = (t: string) => join(DIST, `broker-${t}`);
  for (const f of ["linux-x86_64", "linux-aarch64", "linux-x86_64-musl", "linux-aarch64-musl", "armv7"]) {
    if (!existsSync(bin(f))) throw new Error(`${bin(f)} is missing: run npm run build`);
  }
  for (const s of ["aarch64-glibc", "aarch64-musl", "x86_64-musl", "armhf-node"]) {
    if (!existsSync(join(SYSROOTS, s, ".done"))) {
      throw new Error(`sysroot ${s} is missing: run scripts/install_release_deps.sh`);
    }
  }
  const musl64 = join(SYSROOTS, "x86_64-musl");
  const bun = /\(bun \d+\.\d+\.\d+\)/;
  return [
    { target: "linux-x86_64", argv: [bin("linux-x86_64")], env: {}, runtime: bun },
    {
      target: "linux-x86_64-musl",
      argv: [bin("linux-x86_64-musl")],
      env: { LD_LIBRARY_PATH: musl64, LD_PRELOAD: join(musl64, "glibc_shim.so") },
      runtime: bun,
    },
    {
      target: "linux-aarch64",
      argv: _qemuAarch64("aarch64-glibc", [], bin("linux-aarch64")),
      env: {},
      runtime: bun,
    },
    {
      target: "linux-aarch64-musl",
      argv: _qemuAarch64(
        "aarch64-musl",
        ["-E", "LD_PRELOAD=/usr/lib/glibc_shim.so"],
        bin("linux-aarch64-musl"),
      ),
      env: {},
      runtime: bun,
    },
    { target: "armv7", argv: [bin("armv7")], env: { NODE: _armNode() }, runtime: /\(node 18\.\d+\.\d+\)/ },
  ];
}
