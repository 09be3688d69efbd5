/**
 * Release build: `npm run build [-- --target NAME ...]` writes dist/ with one Bun-compiled binary per
 * Linux target, the armv7 Node bundle with its launcher, the default nanomq.conf, the systemd unit,
 * install.sh, and SHA256SUMS over everything in dist/.
 * Pitfalls it avoids are in ../shared/docs/runtime.md: the HOCON library needs a plugin, identifiers
 * must keep their names, and a compiled binary must never be stripped.
 */
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { buildDashboard } from "./src/runtime/dashboard_files.ts";

interface Plugin {
  name: string;
  setup(build: {
    onLoad(
      opts: { filter: RegExp },
      cb: (args: { path: string }) => { contents: string; loader: "js" },
    ): void;
  }): void;
}
interface BuildOutput {
  success: boolean;
  logs: unknown[];
}
interface BunBuild {
  build(opts: Record<string, unknown>): Promise<BuildOutput>;
}

/** Bun compile target per artifact; null is the Node bundle. */
const TARGETS: Record<string, string | null> = {
  "linux-x86_64": "bun-linux-x64",
  "linux-aarch64": "bun-linux-arm64",
  "linux-x86_64-musl": "bun-linux-x64-musl",
  "linux-aarch64-musl": "bun-linux-arm64-musl",
  "armv7": null,
};

const ENTRY = "src/main.ts";
const OUT = "dist";
/** Shipped beside the binaries: what scripts/install.sh and the OpenWrt Makefile take from a release. */
const EXTRAS: [string, string][] = [
  ["conf/nanomq.conf", "nanomq.conf"],
  ["scripts/systemd/broker.service", "broker.service"],
  ["scripts/install.sh", "install.sh"],
];

/**
 * Context.js registers its parts with `require(\`../${d}/${f}\`)`, which no bundler can follow: turn
 * it into a switch of static requires over the files that are really there.
 */
const hoconPlugin: Plugin = {
  name: "hocon-static-requires",
  setup(build) {
    build.onLoad({ filter: /hocon-parser[\\/]lib[\\/]core[\\/]Context\.js$/ }, ({ path }) => {
      const lib = dirname(dirname(path));
      const cases: string[] = [];
      for (const dir of ["sources", "builders", "transforms"]) {
        for (const file of readdirSync(join(lib, dir)).filter((f) => f.endsWith(".js"))) {
          const name = file.slice(0, -3);
          cases.push(`case "${dir}/${name}": return require("../${dir}/${name}");`);
        }
      }
      const source = readFileSync(path, "utf8");
      const dynamic = "require (`../${d}/${f}`)";
      if (!source.includes(dynamic)) throw new Error(`${path}: the dynamic require to replace is gone`);
      const contents = source.replace(dynamic, "__hoconPart(d, f)") +
        `\nfunction __hoconPart(d, f) { switch (d + "/" + f) { ${cases.join(" ")} }` +
        ` throw new Error("hocon-parser: no part " + d + "/" + f); }\n`;
      return { contents, loader: "js" };
    });
  },
};

/**
 * The dashboard built for the browser (src/runtime/dashboard_files.ts builds it), carried in the
 * artifact: its module is replaced by one that holds the files.
 */
function dashboardPlugin(files: Record<string, string>): Plugin {
  return {
    name: "dashboard-files",
    setup(build) {
      build.onLoad({ filter: /src[\\/]runtime[\\/]dashboard_files\.ts$/ }, () => ({
        contents: `const FILES = ${
          JSON.stringify(files)
        };\nexport async function dashboardFiles() { return FILES; }\n`,
        loader: "js",
      }));
    },
  };
}

/** The armv7 launcher: finds the bundle next to itself (through symlinks) and runs it on Node. */
const LAUNCHER = `#!/bin/sh
# broker for armv7 and any Node.js >= 18 host: runs broker-armv7.mjs, found next to this script.
# NODE chooses the Node.js binary (default: node on PATH).
here=$(dirname "$(readlink -f "$0")")
exec "\${NODE:-node}" "$here/broker-armv7.mjs" "$@"
`;

async function buildOne(
  bun: BunBuild,
  name: string,
  compileTarget: string | null,
  plugins: Plugin[],
): Promise<void> {
  const common = {
    entrypoints: [ENTRY],
    plugins,
    define: { BROKER_BUILD_TARGET: JSON.stringify(name) },
    minify: { whitespace: true, syntax: true, identifiers: false },
  };
  const out = compileTarget === null
    ? await bun.build({ ...common, target: "node", format: "esm", outdir: OUT, naming: "broker-armv7.mjs" })
    : await bun.build({
      ...common,
      target: "bun",
      format: "esm",
      bytecode: true,
      compile: { target: compileTarget, outfile: join(OUT, `broker-${name}`) },
    });
  if (!out.success) {
    for (const log of out.logs) console.error(log);
    throw new Error(`build of ${name} failed`);
  }
  if (compileTarget === null) {
    writeFileSync(join(OUT, "broker-armv7"), LAUNCHER);
    chmodSync(join(OUT, "broker-armv7"), 0o755);
  }
}

/** SHA256SUMS in `sha256sum -c` format, over every artifact in dist/. */
function writeSums(): void {
  const lines = readdirSync(OUT).filter((f) => f !== "SHA256SUMS" && statSync(join(OUT, f)).isFile()).sort()
    .map((f) => `${createHash("sha256").update(readFileSync(join(OUT, f))).digest("hex")}  ${f}`);
  writeFileSync(join(OUT, "SHA256SUMS"), lines.join("\n") + "\n");
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { target: { type: "string", multiple: true } } });
  const names = values.target ?? Object.keys(TARGETS);
  const unknown = names.filter((n) => !(n in TARGETS));
  if (unknown.length > 0) {
    console.error(`unknown target ${unknown.join(", ")}; the targets are ${Object.keys(TARGETS).join(", ")}`);
    return 2;
  }
  const bun = (globalThis as { Bun?: BunBuild }).Bun;
  if (bun === undefined) {
    console.error("build.ts runs under Bun: npm run build");
    return 2;
  }
  if (values.target === undefined) rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const plugins = [hoconPlugin, dashboardPlugin(await buildDashboard())];
  for (const name of names) {
    const started = performance.now();
    await buildOne(bun, name, TARGETS[name] ?? null, plugins);
    console.log(`${name}: ${Math.round(performance.now() - started)} ms`);
  }
  for (const [from, to] of EXTRAS) copyFileSync(from, join(OUT, to));
  writeSums();
  return 0;
}

process.exit(await main());
