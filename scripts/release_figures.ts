/**
 * The release figures in docs/install.md: `bun scripts/release_figures.ts [--runs 5] [--no-xz]` after
 * `npm run build` and scripts/install_release_deps.sh. For each artifact: its size raw and with
 * `xz -9`, the time from exec to the first CONNACK (median of --runs starts), and the resident
 * memory of the idle broker one second after that. Foreign builds run under qemu user mode: their
 * start-up is emulated time and their memory includes qemu's, so only native rows give memory.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { artifacts } from "../test/release/artifacts.ts";

/** MQTT 3.1.1 CONNECT, client id "s", keep alive 60. */
const CONNECT = Buffer.from([0x10, 13, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 2, 0, 60, 0, 1, 0x73]);

/** Resolves true when the port answers CONNECT with a CONNACK, false when it refuses or closes. */
function connack(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => s.write(CONNECT));
    s.once("data", (d) => {
      s.destroy();
      resolve(d[0] === 0x20);
    });
    s.once("error", () => resolve(false));
    s.once("close", () => resolve(false));
  });
}

function rssMb(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kb) / 1024;
}

/** One start: ms from exec to the first CONNACK, and the RSS 1 s later. */
async function startOnce(argv: string[], env: Record<string, string>, port: number) {
  const dir = mkdtempSync(join(tmpdir(), "broker-figures-"));
  const conf = join(dir, "nanomq.conf");
  writeFileSync(conf, `listeners.tcp.bind = "127.0.0.1:${port}"\n`);
  const started = performance.now();
  const p = spawn(argv[0]!, [...argv.slice(1), "start", "--conf", conf], {
    stdio: "ignore",
    env: { ...process.env, ...env, NANOMQ_PID_FILE: join(dir, "pid") },
  });
  while (!(await connack(port))) await new Promise((r) => setTimeout(r, 2));
  const ms = performance.now() - started;
  await new Promise((r) => setTimeout(r, 1000));
  const mb = rssMb(p.pid!);
  const exited = new Promise((r) => p.once("exit", r));
  p.kill("SIGTERM");
  await exited;
  return { ms, mb };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: "string", default: "5" }, "no-xz": { type: "boolean" } },
  });
  const runs = Number(values.runs);
  const rows = [...artifacts(), {
    target: "bundle on this host's Node.js",
    argv: ["node", "dist/broker-armv7.mjs"],
    env: {},
    runtime: /node/,
  }];
  console.log("| artifact | size | xz -9 | start-up to first CONNACK | idle RSS |");
  console.log("|---|---:|---:|---:|---:|");
  let port = 21_883;
  for (const a of rows) {
    const file = a.target.startsWith("bundle")
      ? null
      : `dist/broker-${a.target}${a.target === "armv7" ? ".mjs" : ""}`;
    const size = file === null ? "" : `${mb(statSync(file).size)} MB`;
    const xz = file === null || values["no-xz"] === true
      ? ""
      : `${mb(Number(execFileSync("sh", ["-c", `xz -9 -T1 -c ${file} | wc -c`], { encoding: "utf8" })))} MB`;
    const starts = [];
    for (let i = 0; i < runs; i++) starts.push(await startOnce(a.argv, a.env, port++));
    const emulated = a.argv[0]!.startsWith("qemu") || a.target === "armv7";
    const ms = `${Math.round(median(starts.map((s) => s.ms)))} ms${emulated ? " (qemu)" : ""}`;
    const rss = emulated ? "-" : `${median(starts.map((s) => s.mb)).toFixed(1)} MB`;
    console.log(`| ${a.target} | ${size} | ${xz} | ${ms} | ${rss} |`);
  }
}

await main();
