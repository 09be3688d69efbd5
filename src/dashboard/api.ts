/** The HTTP API as the dashboard uses it: every request with the signed-in user's credentials. */

/** The answer was 401: the credentials are wrong or have expired. */
export class SignedOut extends Error {}

/** An answer other than 2xx, with NanoMQ's code and message. */
export class ApiFailure extends Error {}

// deno-lint-ignore no-explicit-any
export type Json = any;

const KEY = "broker-dashboard-auth";

/** The Authorization header kept for this tab, null when signed out. */
export function savedAuth(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveAuth(header: string | null): void {
  if (header === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, header);
}

/** The header for Basic credentials (UTF-8, as RFC 7617 allows). */
export function basicAuth(user: string, password: string): string {
  const raw = new TextEncoder().encode(`${user}:${password}`);
  return `Basic ${btoa(String.fromCharCode(...raw))}`;
}

/** A request to /api/v4/`path`; the JSON answer, or throws SignedOut / ApiFailure. */
export async function api(path: string, method = "GET", body?: unknown, auth = savedAuth()): Promise<Json> {
  const headers: Record<string, string> = { "x-requested-with": "dashboard" };
  if (auth !== null && auth !== "") headers.authorization = auth;
  if (body !== undefined) headers["content-type"] = "application/json";
  const init: RequestInit = { method, headers, cache: "no-store" };
  if (body !== undefined) init.body = JSON.stringify(body);
  const r = await fetch(`/api/v4/${path}`, init);
  if (r.status === 401) throw new SignedOut("Wrong or expired credentials");
  const text = await r.text();
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiFailure(`${method} /api/v4/${path}: HTTP ${r.status}`);
  }
  if (!r.ok || (typeof json.code === "number" && json.code !== 0)) {
    throw new ApiFailure(
      `${method} /api/v4/${path}: ${json.message ?? `code ${json.code}`} (HTTP ${r.status})`,
    );
  }
  return json;
}
