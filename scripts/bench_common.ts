/** What the benchmark scripts share: starting a pinned broker, and medians. */
import { spawn } from "node:child_process";
import net from "node:net";

/** True when something accepts connections on 127.0.0.1:`port`. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1", () => {
      s.destroy();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

/** Starts `cmd` on `core` (a taskset list: "0", "0-1") and waits until it accepts connections on `port`. */
export async function startBroker(
  cmd: string,
  port: number,
  core: number | string = 0,
): Promise<{ pid: number; stop(): Promise<void> }> {
  if (await canConnect(port)) throw new Error(`Port ${port} is in use: stop whatever listens there`);
  const p = spawn("bash", ["-c", `ulimit -n 65536; exec taskset -c ${core} ${cmd}`], { stdio: "ignore" });
  for (let i = 0; !(await canConnect(port)); i++) {
    if (i > 300 || p.exitCode !== null) throw new Error(`Broker did not start: ${cmd}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 500));
  return {
    pid: p.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (p.exitCode !== null) return resolve();
        const kill = setTimeout(() => p.kill("SIGKILL"), 5000);
        p.once("exit", () => {
          clearTimeout(kill);
          resolve();
        });
        p.kill("SIGTERM");
      }),
  };
}

export const median = (xs: number[]): number => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
};
/** A rate as 615k or 2.80M. */
export const k = (
  x: number,
) => (!Number.isFinite(x)
  ? "–"
  : x >= 1e6
  ? `${(x / 1e6).toFixed(2)}M`
  : x >= 1e3
  ? `${(x / 1e3).toFixed(0)}k`
  : x.toFixed(0));
