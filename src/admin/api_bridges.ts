/**
 * The bridges through the API: list and show them, switch one off and on, replace its settings
 * (PUT, reconnecting), and add or remove its upstream subscriptions while it runs. NanoMQ's docs
 * say PUT for bridges/sub and bridges/unsub and its code routes POST: both are taken.
 */
import { isValidTopicFilter } from "../protocol/topic.ts";
import {
  type ApiDeps,
  ApiError,
  type BridgeControl,
  CODE,
  type Endpoint,
  type Handler,
  jsonBody,
  ok,
} from "./api_types.ts";

type Body = Record<string, unknown>;

function _bridge(d: ApiDeps, name: string | undefined): BridgeControl {
  const b = d.bridges.find((x) => x.name === name);
  if (b === undefined) throw new ApiError(404, CODE.BAD_PARAMETER, `No bridge named "${name}"`);
  return b;
}

function _view(b: BridgeControl): Body {
  return { name: b.name, state: b.state, ...b.config(), ...b.status() };
}

function _object(v: unknown): Body | null {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? v as Body : null;
}

/** `{"data": {...}}` of the request. */
function _data(req: Parameters<Handler>[1], example: string): Body {
  const data = _object(jsonBody(req).data);
  if (data === null) throw new ApiError(400, CODE.MISSING_PARAMETER, `Give {"data": ${example}}`);
  return data;
}

/**
 * NanoMQ's `sub_properties` / `unsub_properties` (`user_properties` as [{key, value}] or {key:
 * value}, `identifier`) in mqtt-packet's names.
 */
function _props(v: unknown, key: string): Body {
  if (v === undefined) return {};
  const p = _object(v);
  if (p === null) throw new ApiError(400, CODE.BAD_PARAMETER, `"${key}" must be an object`);
  const out: Body = {};
  const up = p.user_properties;
  if (up !== undefined) {
    const pairs = Array.isArray(up)
      ? up.map((e) => [String(_object(e)?.key ?? ""), String(_object(e)?.value ?? "")])
      : Object.entries(_object(up) ?? {}).map(([k, x]) => [k, String(x)]);
    if (pairs.length > 0) out.userProperties = Object.fromEntries(pairs);
  }
  const id = p.identifier;
  if (id !== undefined) {
    if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id > 268_435_455) {
      throw new ApiError(
        400,
        CODE.BAD_PARAMETER,
        `${key}.identifier must be a whole number from 1 to 268435455`,
      );
    }
    out.subscriptionIdentifier = id;
  }
  return out;
}

/** A refusal of the configuration: what the configuration check said. */
function _applied(refused: string | null) {
  if (refused !== null) throw new ApiError(400, CODE.BAD_PARAMETER, refused);
  return ok();
}

const _sub: Handler = async (d, req, [name]) => {
  const b = _bridge(d, name);
  const data = _data(req, '{"subscription": [{"remote_topic": "cmd/#", "local_topic": "", "qos": 1}]}');
  const list = data.subscription;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ApiError(400, CODE.MISSING_PARAMETER, '"subscription" must be a list of {remote_topic, ...}');
  }
  const rules = list.map((r, i) => {
    const rule = _object(r);
    const topic = rule?.remote_topic;
    if (rule === null || typeof topic !== "string") {
      throw new ApiError(400, CODE.MISSING_PARAMETER, `subscription[${i}] needs a "remote_topic"`);
    }
    if (!isValidTopicFilter(topic)) {
      throw new ApiError(
        400,
        CODE.BAD_TOPIC,
        `subscription[${i}].remote_topic "${topic}" is not a topic filter`,
      );
    }
    return { local_topic: "", ...rule };
  });
  return _applied(await b.subscribe(rules, _props(data.sub_properties, "sub_properties")));
};

const _unsub: Handler = async (d, req, [name]) => {
  const b = _bridge(d, name);
  const data = _data(req, '{"unsubscription": [{"topic": "cmd/#"}]}');
  const list = data.unsubscription;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ApiError(400, CODE.MISSING_PARAMETER, '"unsubscription" must be a list of {"topic": ...}');
  }
  const topics = list.map((u, i) => {
    const t = _object(u)?.topic ?? _object(u)?.remote_topic;
    if (typeof t !== "string") {
      throw new ApiError(400, CODE.MISSING_PARAMETER, `unsubscription[${i}] needs a "topic"`);
    }
    return t;
  });
  const subscribed = (b.config().subscription as Body[] | undefined ?? []).map((s) => s.remote_topic);
  const unknown = topics.filter((t) => !subscribed.includes(t));
  if (unknown.length > 0) {
    const list = unknown.map((t) => `"${t}"`).join(", ");
    throw new ApiError(404, CODE.BAD_PARAMETER, `Bridge ${b.name} has no subscription to ${list}`);
  }
  return _applied(await b.unsubscribe(topics, _props(data.unsub_properties, "unsub_properties")));
};

/** The endpoints of this file. */
export const BRIDGE_ENDPOINTS: Endpoint[] = [
  {
    method: "GET",
    path: "bridges",
    name: "get_bridges",
    descr: "All bridges, their settings and state",
    handler: (d) => ok({ bridges: d.bridges.map(_view) }),
  },
  {
    method: "GET",
    path: "bridges/:name",
    name: "get_bridge",
    descr: "One bridge, its settings and state",
    handler: (d, _req, [name]) => ok({ bridge: _view(_bridge(d, name)) }),
  },
  {
    method: "PUT",
    path: "bridges/:name",
    name: "put_bridge",
    descr: 'Replace a bridge\'s settings and reconnect: {"<name>": {"server": ..., "forwards": [...], ...}}',
    handler: async (d, req, [name]) => {
      const b = _bridge(d, name);
      const section = _object(jsonBody(req)[b.name]);
      if (section === null) {
        throw new ApiError(
          400,
          CODE.MISSING_PARAMETER,
          `Give the bridge's keys under its name: {"${b.name}": {"server": "mqtt-tcp://host:1883", ...}}`,
        );
      }
      return _applied(await b.update(section));
    },
  },
  {
    method: "POST",
    path: "bridges/switch/:name",
    name: "switch_bridge",
    descr: 'Switch a bridge on or off: {"data": {"bridge_switch": true}}',
    handler: (d, req, [name]) => {
      const b = _bridge(d, name);
      const on = (jsonBody(req).data as { bridge_switch?: unknown } | undefined)?.bridge_switch;
      if (typeof on !== "boolean") {
        throw new ApiError(400, CODE.MISSING_PARAMETER, 'Give {"data": {"bridge_switch": true | false}}');
      }
      b.setEnabled(on);
      return ok();
    },
  },
  ...(["POST", "PUT"] as const).flatMap((method): Endpoint[] => [
    {
      method,
      path: "bridges/sub/:name",
      name: "bridge_subscribe",
      descr:
        'Add upstream subscriptions: {"data": {"subscription": [{"remote_topic", "local_topic", "qos"}]}}',
      handler: _sub,
    },
    {
      method,
      path: "bridges/unsub/:name",
      name: "bridge_unsubscribe",
      descr: 'Remove upstream subscriptions: {"data": {"unsubscription": [{"topic"}]}}',
      handler: _unsub,
    },
  ]),
];
