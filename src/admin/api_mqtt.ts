/**
 * Publishing through the API (NanoMQ's `mqtt/publish` and `publish_batch`), and what NanoMQ
 * documents as unsupported: subscribing and unsubscribing a client's session.
 */
import type { HttpRequest } from "../runtime/http_server.ts";
import type { Properties } from "../protocol/packets.ts";
import { encodePropertyBytes } from "../protocol/properties_codec.ts";
import { isValidTopicName } from "../protocol/topic.ts";
import { type ApiDeps, ApiError, CODE, type Endpoint, jsonBody, ok } from "./api_types.ts";

type Body = Record<string, unknown>;

/** `topic`, or the comma-separated `topics`. */
function _topics(b: Body): string[] {
  const one = b.topic;
  const many = b.topics;
  if (typeof one === "string" && one !== "") return [one];
  if (typeof many === "string" && many !== "") return many.split(",").map((t) => t.trim());
  throw new ApiError(400, CODE.MISSING_PARAMETER, 'Give "topic" (or "topics", comma-separated)');
}

function _qos(b: Body): 0 | 1 | 2 {
  const q = b.qos ?? 0;
  if (q !== 0 && q !== 1 && q !== 2) throw new ApiError(400, CODE.BAD_PARAMETER, '"qos" must be 0, 1 or 2');
  return q;
}

function _payload(b: Body): Buffer {
  const p = b.payload ?? "";
  if (typeof p !== "string") throw new ApiError(400, CODE.BAD_PARAMETER, '"payload" must be a string');
  const enc = b.encoding ?? "plain";
  if (enc === "plain") return Buffer.from(p, "utf8");
  if (enc === "base64") return Buffer.from(p, "base64");
  throw new ApiError(400, CODE.BAD_PARAMETER, '"encoding" must be "plain" or "base64"');
}

/** NanoMQ's `properties` object onto MQTT 5 properties. */
function _properties(b: Body): { props: Properties; expiry: number } {
  const raw = (b.properties ?? {}) as Record<string, unknown>;
  if (typeof raw !== "object" || raw === null) {
    throw new ApiError(400, CODE.BAD_PARAMETER, '"properties" must be an object');
  }
  const props: Properties = {};
  const num = (k: string, max: number): number | undefined => {
    const v = raw[k];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) {
      throw new ApiError(400, CODE.BAD_PARAMETER, `properties.${k} must be a whole number from 0 to ${max}`);
    }
    return v;
  };
  const str = (k: string): string | undefined => {
    const v = raw[k];
    if (v !== undefined && typeof v !== "string") {
      throw new ApiError(400, CODE.BAD_PARAMETER, `properties.${k} must be a string`);
    }
    return v;
  };
  const pfi = num("payload_format_indicator", 1);
  const expiry = num("message_expiry_interval", 0xffffffff);
  if (pfi !== undefined) props.payloadFormatIndicator = pfi === 1;
  // not among the properties: each delivery carries the time left [MQTT-3.3.2-6]
  const ct = str("content_type");
  const rt = str("response_topic");
  const cd = str("correlation_data");
  if (ct !== undefined) props.contentType = ct;
  if (rt !== undefined) {
    if (!isValidTopicName(rt)) {
      throw new ApiError(400, CODE.BAD_TOPIC, `properties.response_topic "${rt}" is not a topic name`);
    }
    props.responseTopic = rt;
  }
  if (cd !== undefined) props.correlationData = Buffer.from(cd);
  const up = raw.user_properties;
  if (up !== undefined) {
    if (typeof up !== "object" || up === null) {
      throw new ApiError(400, CODE.BAD_PARAMETER, "properties.user_properties must be an object");
    }
    props.userProperties = Object.fromEntries(Object.entries(up).map(([k, v]) => [k, String(v)]));
  }
  return { props, expiry: expiry ?? -1 };
}

/** Publishes one request's message to each of its topics; throws before publishing anything invalid. */
function _publish(d: ApiDeps, b: Body): string[] {
  const topics = _topics(b);
  for (const t of topics) {
    if (!isValidTopicName(t)) {
      throw new ApiError(400, CODE.BAD_TOPIC, `"${t}" is not a topic name one can publish to`);
    }
  }
  const qos = _qos(b);
  const payload = _payload(b);
  const { props, expiry } = _properties(b);
  const retain = b.retain === true;
  const bytes = encodePropertyBytes(props);
  const expiresAt = expiry > 0 ? d.now() + expiry * 1000 : 0;
  for (const t of topics) d.broker.publish(t, payload, { qos, retain, props: bytes, expiresAt });
  return topics;
}

function _clientId(b: Body): string {
  const id = b.clientid;
  if (typeof id !== "string" || id === "") throw new ApiError(400, CODE.MISSING_PARAMETER, 'Give "clientid"');
  return id;
}

async function _subscribe(d: ApiDeps, b: Body): Promise<void> {
  const id = _clientId(b);
  const qos = _qos(b);
  for (const t of _topics(b)) {
    const refused = await d.broker.subscribeFor(id, t, qos);
    if (refused === "no-session") throw new ApiError(404, CODE.CLIENT_OFFLINE, `No session "${id}"`);
    if (refused === "bad-filter") throw new ApiError(400, CODE.BAD_TOPIC, `"${t}" is not a topic filter`);
  }
}

async function _unsubscribe(d: ApiDeps, b: Body): Promise<void> {
  const id = _clientId(b);
  for (const t of _topics(b)) {
    if (!(await d.broker.unsubscribeFor(id, t))) {
      throw new ApiError(404, CODE.CLIENT_OFFLINE, `The session "${id}" has no subscription "${t}"`);
    }
  }
}

/** A batch: an array of single requests, each answered with its own code. */
async function _batch(d: ApiDeps, req: HttpRequest, one: (d: ApiDeps, b: Body) => unknown) {
  const list = jsonBody(req);
  if (!Array.isArray(list)) {
    throw new ApiError(400, CODE.BAD_PARAMETER, "A batch is a JSON array of requests");
  }
  const data = [];
  for (const b of list as Body[]) {
    try {
      await one(d, b);
      data.push({ topic: b.topic ?? b.topics, code: CODE.OK });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      data.push({ topic: b?.topic ?? b?.topics, code: e.code, message: e.message });
    }
  }
  return ok({ data });
}

/** An action and its batch form: `mqtt/<action>` takes one request, `mqtt/<action>_batch` an array. */
function _pair(action: string, one: (d: ApiDeps, b: Body) => unknown, descr: string): Endpoint[] {
  return [
    {
      method: "POST",
      path: `mqtt/${action}`,
      name: `mqtt_${action}`,
      descr,
      handler: async (d, req) => {
        await one(d, jsonBody(req));
        return ok();
      },
    },
    {
      method: "POST",
      path: `mqtt/${action}_batch`,
      name: `mqtt_${action}_batch`,
      descr: `${descr}, for each request of an array`,
      handler: (d, req) => _batch(d, req, one),
    },
  ];
}

/** The endpoints of this file. */
export const MQTT_ENDPOINTS: Endpoint[] = [
  ..._pair("publish", _publish, "Publish a MQTT message"),
  ..._pair("subscribe", _subscribe, "Subscribe a client's session to topic filters"),
  ..._pair("unsubscribe", _unsubscribe, "Unsubscribe a client's session from topic filters"),
];
