/** Operating the broker through the API: hot reload, the configuration, stop/restart. */
import { type ApiDeps, ApiError, CODE, type Endpoint, jsonBody, ok } from "./api_types.ts";

type ReloadKey = { path: string; get(c: Cfg): unknown; set(v: number): unknown };

const PACKET_SIZE_KB: ReloadKey = {
  path: "mqtt.max_packet_size",
  get: (c) => Math.floor(c.mqtt.max_packet_size / 1024),
  set: (v) => `${v}KB`,
};

/**
 * NanoMQ's hot-updatable values (`GET/POST /api/v4/reload`) and the configuration keys they set;
 * sizes in KB and the keep-alive multiplier times 1000, as NanoMQ reports them.
 */
const RELOAD_KEYS: Record<string, ReloadKey> = {
  property_size: { path: "mqtt.property_size", get: (c) => c.mqtt.property_size, set: (v) => v },
  max_packet_size: PACKET_SIZE_KB,
  // NanoMQ's second limit; one key sets both here, as its max_packet_size does there
  client_max_packet_size: PACKET_SIZE_KB,
  msq_len: { path: "mqtt.max_mqueue_len", get: (c) => c.mqtt.max_mqueue_len, set: (v) => v },
  qos_duration: {
    path: "mqtt.retry_interval",
    get: (c) => Math.round(c.mqtt.retry_interval / 1000),
    set: (v) => `${v}s`,
  },
  keepalive_backoff: {
    path: "mqtt.keepalive_multiplier",
    get: (c) => Math.round(c.mqtt.keepalive_multiplier * 1000),
    set: (v) => v / 1000,
  },
  allow_anonymous: {
    path: "auth.allow_anonymous",
    get: (c) => c.auth.allow_anonymous,
    set: (v) => v,
  },
};

/** The parts of the configuration the reload values are read from. */
type Cfg = {
  mqtt: {
    property_size: number;
    max_packet_size: number;
    max_mqueue_len: number;
    retry_interval: number;
    keepalive_multiplier: number;
  };
  auth: { allow_anonymous: boolean };
};

function _reloadValues(d: ApiDeps): Record<string, unknown> {
  const c = d.runningConfig() as unknown as Cfg;
  return Object.fromEntries(Object.entries(RELOAD_KEYS).map(([k, r]) => [k, r.get(c)]));
}

async function _reload(d: ApiDeps, body: Record<string, unknown>) {
  const data = body.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ApiError(
      400,
      CODE.MISSING_PARAMETER,
      'Give the values to change in "data": {"msq_len": 4096, ...}',
    );
  }
  const edits: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(data)) {
    const r = RELOAD_KEYS[k];
    if (r === undefined) {
      throw new ApiError(
        400,
        CODE.BAD_PARAMETER,
        `"${k}" is not hot-updatable; these are: ${Object.keys(RELOAD_KEYS).join(", ")}`,
      );
    }
    const isBool = k === "allow_anonymous";
    if (isBool ? typeof v !== "boolean" : typeof v !== "number" || !Number.isFinite(v)) {
      throw new ApiError(400, CODE.BAD_PARAMETER, `"${k}" must be ${isBool ? "true or false" : "a number"}`);
    }
    edits[r.path] = r.set(v as number);
  }
  const refused = await d.reload(edits);
  if (refused !== null) throw new ApiError(400, CODE.BAD_PARAMETER, refused);
  return ok({ data: _reloadValues(d) });
}

/** The endpoints of this file. */
export const ADMIN_ENDPOINTS: Endpoint[] = [
  {
    method: "GET",
    path: "reload",
    name: "get_reload_config",
    descr: "The hot-updatable configuration values",
    handler: (d) => ok({ data: _reloadValues(d) }),
  },
  {
    method: "POST",
    path: "reload",
    name: "set_reload_config",
    descr: "Change hot-updatable values, as broker reload applies them",
    handler: (d, req) => _reload(d, jsonBody(req)),
  },
  {
    method: "GET",
    path: "configuration",
    name: "get_broker_configuration",
    descr: "The running configuration, secrets masked",
    handler: (d) => ok({ data: d.config() }),
  },
  {
    method: "GET",
    path: "configuration/:section",
    name: "get_broker_configuration_section",
    descr: "One section of the running configuration",
    handler: (d, _req, [section]) => {
      const data = d.config()[section!];
      if (data === undefined) {
        throw new ApiError(404, CODE.BAD_PARAMETER, `No configuration section "${section}"`);
      }
      return ok({ data });
    },
  },
  {
    method: "POST",
    path: "config_update",
    name: "config_update",
    descr: "Replace the configuration file (the body is its whole text); a reload or restart applies it",
    handler: async (d, req) => {
      const text = req.body.toString("utf8");
      if (text.trim() === "") {
        throw new ApiError(400, CODE.MISSING_PARAMETER, "Send the whole configuration file as the body");
      }
      const r = await d.updateConfig(text);
      if ("refused" in r) throw new ApiError(400, CODE.BAD_PARAMETER, r.refused);
      if ("failed" in r) throw new ApiError(500, CODE.UNKNOWN, r.failed);
      return ok({
        message:
          `Written to ${r.written} (the previous file is ${r.backup}); broker reload (or POST /api/v4/reload ` +
          'with {"data": {}}) applies what can change while running, POST /api/v4/ctrl/restart everything',
      });
    },
  },
  {
    method: "POST",
    path: "ctrl/:action",
    name: "ctrl_broker",
    descr: "Stop or restart the broker (stop, restart)",
    handler: (d, _req, [action]) => {
      if (action !== "stop" && action !== "restart") {
        throw new ApiError(404, CODE.BAD_PARAMETER, `Unknown action "${action}": stop or restart`);
      }
      // after the answer has gone out
      setTimeout(() => (action === "stop" ? d.stop() : d.restart()), 50);
      return ok();
    },
  },
];
