/**
 * The dashboard's files (src/dashboard/), built for the browser: index.html, app.js (our code and
 * uPlot, minified) and app.css. The release build (build.ts) replaces this module with the files
 * it built, so that binaries and the armv7 bundle carry them; run from source under Bun they are
 * built on first use. From source under Node.js or Deno there is no bundler to build them with.
 */

/** The built files by name, or why there are none. */
export async function dashboardFiles(): Promise<Record<string, string> | string> {
  if (_bun() === undefined) {
    return "the dashboard is built into the release (npm run build); from source it needs Bun (npm start)";
  }
  return await buildDashboard();
}

interface BunBuildApi {
  build(o: Record<string, unknown>): Promise<{
    success: boolean;
    logs: unknown[];
    outputs: { path: string; text(): Promise<string> }[];
  }>;
}
/** Bun's API when running under Bun (as bun_runtime.ts finds it). */
const _bun = () => (globalThis as { Bun?: BunBuildApi }).Bun;

/** Bundles src/dashboard/ for the browser with Bun's bundler; throws with the bundler's messages. */
export async function buildDashboard(): Promise<Record<string, string>> {
  const { readFileSync } = await import("node:fs");
  const dir = new URL("../dashboard/", import.meta.url);
  const r = await _bun()!.build({
    entrypoints: [new URL("app.ts", dir).pathname],
    target: "browser",
    minify: true,
    naming: "[name].[ext]",
  });
  if (!r.success) throw new Error(`dashboard build failed: ${r.logs.map(String).join("\n")}`);
  const files: Record<string, string> = { "index.html": readFileSync(new URL("index.html", dir), "utf8") };
  for (const o of r.outputs) files[o.path.slice(o.path.lastIndexOf("/") + 1)] = await o.text();
  if (files["app.js"] === undefined || files["app.css"] === undefined) {
    throw new Error(`dashboard build: expected app.js and app.css, got ${Object.keys(files).join(", ")}`);
  }
  return files;
}
