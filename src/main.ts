/** Entry point: pick the runtime adapter, run the cli. The only place that exits the process. */
import process from "node:process";
import { runCli } from "./cli/cli.ts";
import { createRuntime } from "./runtime/create_runtime.ts";

const code = await runCli(process.argv.slice(2), createRuntime(), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
});
process.exit(code);
