/** Entry point: pick the runtime adapter, run the cli. The only place that exits the process. */
import process from "node:process";
import { runCli } from "./cli/cli.ts";
import { runWorker } from "./cli/run_worker.ts";
import { workerSeat } from "./cli/multi_core.ts";
import { createRuntime } from "./runtime/create_runtime.ts";

const rt = createRuntime(import.meta.url);
const seat = workerSeat(rt);
if (seat !== null) {
  // a worker thread of a multi-core broker: it ends when the first worker stops it
  await runWorker(rt, seat);
} else {
  const code = await runCli(process.argv.slice(2), rt, {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  });
  process.exit(code);
}
