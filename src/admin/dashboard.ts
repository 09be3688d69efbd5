/**
 * The dashboard's static files on the HTTP API's port: `/` and `/dashboard/*`. They hold no data
 * and are served without credentials, so that a browser can show the login form; everything the
 * dashboard shows comes from the API with the user's credentials. `/dashboard/auth.json` tells the
 * form which credentials to ask for (what a 401's WWW-Authenticate tells anyway).
 */
import type { DashboardAsset } from "../runtime/dashboard_assets.ts";
import type { HttpReply, HttpRequest } from "../runtime/http_server.ts";

/** No script, style or connection but our own; never framed. */
const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy":
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
};

const FILES: Record<string, string> = {
  "/": "index.html",
  "/index.html": "index.html",
  "/dashboard/app.js": "app.js",
  "/dashboard/app.css": "app.css",
};

/** Whether the path is the dashboard's. */
export function isDashboardPath(path: string): boolean {
  return path === "/" || path === "/index.html" || path.startsWith("/dashboard/");
}

/** Serves a dashboard path; `assets` is the reason when the dashboard is not built in. */
export function serveDashboard(
  assets: ReadonlyMap<string, DashboardAsset> | string,
  authKind: string,
  req: HttpRequest,
): HttpReply {
  if (req.method !== "GET" && req.method !== "HEAD") {
    return { status: 405, headers: { allow: "GET, HEAD" }, body: '{"code":102}' };
  }
  if (typeof assets === "string") {
    return { status: 404, headers: { "content-type": "text/plain" }, body: `No dashboard: ${assets}\n` };
  }
  if (req.path === "/dashboard/auth.json") {
    return {
      status: 200,
      headers: { "cache-control": "no-store" },
      body: JSON.stringify({ auth: authKind }),
    };
  }
  const a = assets.get(FILES[req.path] ?? "");
  if (a === undefined) return { status: 404, body: '{"code":102,"message":"No such dashboard file"}' };
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    "content-type": a.type,
    "cache-control": "no-cache",
    etag: a.etag,
    vary: "accept-encoding",
  };
  if (req.headers["if-none-match"] === a.etag) return { status: 304, headers, body: "" };
  if (/\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
    return { status: 200, headers: { ...headers, "content-encoding": "gzip" }, body: a.gzip };
  }
  return { status: 200, headers, body: a.body };
}
