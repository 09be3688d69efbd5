/**
 * The layout gate of `npm test`: no import cycle between files of src/ (type-only imports count),
 * no folder importing one its layer may not, no socket/file/SQLite module outside src/runtime/,
 * no source file over MAX_LINES. `bun scripts/check_layout.ts` prints what is wrong and exits 1.
 *
 * Our own script rather than madge or dependency-cruiser: the rules are a table of ten lines, the
 * imports of deno-formatted TypeScript are read reliably by one regular expression, and
 * dependency-cruiser reads TypeScript through the compiler API, which TypeScript 7 (ours) has not.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import process from "node:process";

/**
 * What each part of src/ may import besides itself (../shared/docs/architecture.md):
 * protocol <- broker <- {auth, store, transport, bridge, admin} <- cli <- main.ts; runtime/ and config/
 * stand apart, config/ pure, runtime/ the only code that touches the operating system.
 */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  protocol: [],
  broker: ["protocol"],
  config: [],
  runtime: [],
  types: [],
  "build_target.ts": [],
  // the browser's side of the dashboard: built by runtime/dashboard_files.ts, imports nothing of the broker
  dashboard: [],
  auth: ["protocol", "broker"],
  store: ["protocol", "broker", "runtime"],
  transport: ["protocol", "broker", "runtime"],
  bridge: ["protocol", "broker", "runtime"],
  admin: ["protocol", "broker", "runtime"],
  // the client tools reuse the codec and the runtime, never the broker core
  client: ["protocol", "runtime"],
  webhook: ["protocol", "broker", "runtime"],
  rules: ["protocol", "broker", "runtime", "client", "webhook"],
  cli: [
    "protocol",
    "broker",
    "config",
    "runtime",
    "auth",
    "store",
    "transport",
    "bridge",
    "admin",
    "client",
    "webhook",
    "rules",
    "build_target.ts",
  ],
  "main.ts": ["cli", "runtime"],
};

/** Modules that reach the operating system: only src/runtime/ imports them. */
export const RUNTIME_ONLY: readonly string[] = [
  "node:net",
  "node:tls",
  "node:http",
  "node:https",
  "node:fs",
  "node:fs/promises",
  "node:child_process",
  "node:sqlite",
  "bun:sqlite",
  "ws",
];

export const MAX_LINES = 400;

const IMPORT = /^(?:import|export)\s+(?:type\s+)?(?:[^;]*?\sfrom\s+)?"([^"]+)";/gms;

/** The module specifiers a file imports or re-exports, type-only ones included. */
export function importsOf(text: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) => m[1]!);
}

/** The part of src/ a file belongs to: its folder, or its own name at the top. */
function _layer(file: string): string {
  return file.split("/")[1]!;
}

/** Every problem with the files (`src/...` path -> text). */
export function checkLayout(files: ReadonlyMap<string, string>): string[] {
  const problems: string[] = [];
  const graph = new Map<string, string[]>();
  for (const [file, text] of files) {
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    if (lines > MAX_LINES) problems.push(`${file} has ${lines} lines (at most ${MAX_LINES}): split it`);
    const from = _layer(file);
    const edges: string[] = [];
    for (const spec of importsOf(text)) {
      if (!spec.startsWith(".")) {
        if (RUNTIME_ONLY.includes(spec) && from !== "runtime") {
          problems.push(`${file} imports ${spec}: only src/runtime/ may (pass what it needs in a Runtime)`);
        }
        continue;
      }
      const target = normalize(join(dirname(file), spec));
      if (!target.startsWith("src/")) continue; // package.json
      edges.push(target);
      const to = _layer(target);
      if (to !== from && !(LAYERS[from] ?? []).includes(to)) {
        problems.push(
          `${file} imports ${target}: ${from}/ may not import ${to}/ (scripts/check_layout.ts LAYERS)`,
        );
      }
    }
    graph.set(file, edges);
  }
  for (const cycle of cycles(graph)) problems.push(`import cycle: ${cycle.join(" -> ")} -> ${cycle[0]}`);
  return problems;
}

/** The strongly connected components of more than one file (or a file importing itself), Tarjan's way. */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc: string[] = [];
    for (let w = stack.pop()!;; w = stack.pop()!) {
      scc.push(w);
      if (w === v) break;
    }
    if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(scc.reverse());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

function _sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? _sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []
  );
}

if (import.meta.main) {
  const root = join(dirname(new URL(import.meta.url).pathname), "..");
  const files = new Map(_sources(join(root, "src")).map((f) => [relative(root, f), readFileSync(f, "utf8")]));
  const problems = checkLayout(files);
  for (const p of problems) console.error(p);
  if (problems.length > 0) process.exit(1);
  console.error(`layout: ${files.size} files, no cycles, layers respected, none over ${MAX_LINES} lines`);
}
