/**
 * The dashboard's files ready to serve: each with its content type, an ETag, and its gzip form
 * (made once here, not per request).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { dashboardFiles } from "./dashboard_files.ts";

/** One file of the dashboard. */
export interface DashboardAsset {
  type: string;
  body: Buffer;
  gzip: Buffer;
  etag: string;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/** The files by name (index.html, app.js, app.css), or why the dashboard is not there. */
export async function loadDashboard(): Promise<Map<string, DashboardAsset> | string> {
  let files: Record<string, string> | string;
  try {
    files = await dashboardFiles();
  } catch (e) {
    return (e as Error).message;
  }
  if (typeof files === "string") return files;
  const out = new Map<string, DashboardAsset>();
  for (const [name, text] of Object.entries(files)) {
    const body = Buffer.from(text);
    out.set(name, {
      type: TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream",
      body,
      gzip: gzipSync(body, { level: 9 }),
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
    });
  }
  return out;
}
