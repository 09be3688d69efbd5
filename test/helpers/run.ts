/** Runs an external program and collects its output. */
import { spawn } from "node:child_process";
import process from "node:process";

/** What a finished program left behind. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `cmd`; `done` resolves when it exits (it is killed after `ms`, a hang guard). */
export function run(
  cmd: string,
  args: string[],
  ms = 15_000,
  env: Record<string, string> = {},
  input?: string,
): { done: Promise<RunResult>; kill(): void; pid: number; output(): string } {
  const p = spawn(cmd, args, {
    stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  if (input !== undefined) p.stdin!.end(input);
  let stdout = "";
  let stderr = "";
  p.stdout!.on("data", (d) => (stdout += d));
  p.stderr!.on("data", (d) => (stderr += d));
  const timer = setTimeout(() => p.kill("SIGKILL"), ms);
  const done = new Promise<RunResult>((resolve, reject) => {
    p.on(
      "error",
      (e) => reject(new Error(`${cmd} could not start (${e.message}); run scripts/install_test_deps.sh`)),
    );
    p.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { done, kill: () => p.kill("SIGTERM"), pid: p.pid ?? 0, output: () => stdout + stderr };
}
