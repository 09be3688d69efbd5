/**
 * NanoMQ's HTTP API v4 (`/api/v4/...`) on the `http_server` port: every request authenticated
 * first (401 and nothing else otherwise), then routed by method and path; answers are NanoMQ's
 * JSON with its result codes, errors included (`{"code": N, "message": "..."}`).
 */
import type { HttpReply, HttpRequest } from "../runtime/http_server.ts";
import { ADMIN_ENDPOINTS } from "./api_admin.ts";
import { BRIDGE_ENDPOINTS } from "./api_bridges.ts";
import { RULE_ENDPOINTS } from "./api_rules.ts";
import { RETAINED_ENDPOINTS } from "./api_retained.ts";
import { checkAuth } from "./api_auth.ts";
import { BROKER_ENDPOINTS } from "./api_broker.ts";
import { MQTT_ENDPOINTS } from "./api_mqtt.ts";
import { type ApiDeps, ApiError, CODE, type Endpoint, ok } from "./api_types.ts";
import { prometheusText } from "./prometheus.ts";
import { isDashboardPath, serveDashboard } from "./dashboard.ts";
import type { DashboardAsset } from "../runtime/dashboard_assets.ts";

const PREFIX = "/api/v4";

const ENDPOINTS: Endpoint[] = [
  ...BROKER_ENDPOINTS,
  {
    method: "GET",
    path: "prometheus",
    name: "prometheus",
    descr: "Metrics in the Prometheus text format",
    handler: async (d) => ({
      status: 200,
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      body: await prometheusText(d),
    }),
  },
  ...MQTT_ENDPOINTS,
  ...ADMIN_ENDPOINTS,
  ...BRIDGE_ENDPOINTS,
  ...RULE_ENDPOINTS,
  ...RETAINED_ENDPOINTS,
];

const LIST: Endpoint = {
  method: "GET",
  path: "",
  name: "list_endpoints",
  descr: "The endpoints of this API",
  handler: () =>
    ok({
      data: ENDPOINTS.map((e) => ({
        path: `/${e.path.replace(/:(\w+)/g, "{$1}")}`,
        name: e.name,
        method: e.method,
        descr: e.descr,
      })),
    }),
};

/** Each endpoint's path split into segments, once. */
const ROUTES: [Endpoint, string[]][] = [LIST, ...ENDPOINTS].map((
  e,
) => [e, e.path === "" ? [] : e.path.split("/")]);

/**
 * The request handler for the HTTP server: the API, and the dashboard's files (`dashboard`, or
 * why it is not built in).
 */
export function createHttpApi(
  d: ApiDeps,
  dashboard: ReadonlyMap<string, DashboardAsset> | string,
): (req: HttpRequest) => Promise<HttpReply> {
  return async (req) => {
    if (isDashboardPath(req.path)) return serveDashboard(dashboard, d.auth.kind, req);
    const refused = checkAuth(d.auth, req.headers.authorization, d.now());
    if (refused !== 0) {
      // a browser asks for credentials in a dialog of its own on a challenge: not on the dashboard's requests
      const challenge = req.headers["x-requested-with"] !== undefined
        ? {}
        : { "www-authenticate": d.auth.kind === "jwt" ? "Bearer" : 'Basic realm="broker"' };
      return { status: 401, headers: challenge, body: JSON.stringify({ code: refused }) };
    }
    try {
      return await _route(d, req);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      return { status: e.status, body: JSON.stringify({ code: e.code, message: e.message }) };
    }
  };
}

async function _route(d: ApiDeps, req: HttpRequest): Promise<HttpReply> {
  if (req.path !== PREFIX && !req.path.startsWith(`${PREFIX}/`)) {
    throw new ApiError(404, CODE.BAD_PARAMETER, `Not found: the API is under ${PREFIX}/`);
  }
  const rest = req.path.slice(PREFIX.length).replace(/^\/+|\/+$/g, "");
  let segments: string[];
  try {
    segments = rest === "" ? [] : rest.split("/").map(decodeURIComponent);
  } catch {
    throw new ApiError(400, CODE.BAD_PARAMETER, "The path is not validly percent-encoded");
  }
  let pathMatched = false;
  for (const [e, pattern] of ROUTES) {
    const params = _match(pattern, segments);
    if (params === null) continue;
    pathMatched = true;
    if (e.method !== req.method) continue;
    return await e.handler(d, req, params);
  }
  if (pathMatched) throw new ApiError(405, CODE.BAD_PARAMETER, `${req.method} is not allowed on ${req.path}`);
  throw new ApiError(404, CODE.BAD_PARAMETER, `No endpoint ${req.path}; GET ${PREFIX} lists them`);
}

/** The segments a pattern's ":x" parts matched, or null when the path is not the pattern's. */
function _match(pattern: string[], segments: string[]): string[] | null {
  if (pattern.length !== segments.length) return null;
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(":")) params.push(segments[i]!);
    else if (p !== segments[i]) return null;
  }
  return params;
}
