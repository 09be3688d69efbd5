/**
 * nanomq_cli's MQTT 5 property flags (`--content_type text/plain`, `--user_property k=v`, ...)
 * sorted into the packets that carry them: CONNECT, the will, PUBLISH, SUBSCRIBE.
 */
import type { Properties, UserProperties } from "../protocol/packets.ts";
import { ClientError } from "./client_error.ts";

type Kind = "u8bool" | "u16" | "u32" | "str" | "bin";
type Where = "connect" | "will" | "message";

/** The flags a client may send, the property each sets, and where it goes. */
const CLIENT_PROPERTIES: Record<string, [keyof Properties, Kind, Where, number]> = {
  payload_format_indicator: ["payloadFormatIndicator", "u8bool", "message", 1],
  message_expiry_interval: ["messageExpiryInterval", "u32", "message", 0],
  content_type: ["contentType", "str", "message", 0],
  response_topic: ["responseTopic", "str", "message", 0],
  correlation_data: ["correlationData", "bin", "message", 0],
  topic_alias: ["topicAlias", "u16", "message", 1],
  session_expiry_interval: ["sessionExpiryInterval", "u32", "connect", 0],
  request_problem_information: ["requestProblemInformation", "u8bool", "connect", 0],
  request_response_information: ["requestResponseInformation", "u8bool", "connect", 0],
  receive_maximum: ["receiveMaximum", "u16", "connect", 1],
  topic_alias_maximum: ["topicAliasMaximum", "u16", "connect", 0],
  maximum_packet_size: ["maximumPacketSize", "u32", "connect", 1],
  will_delay_interval: ["willDelayInterval", "u32", "will", 0],
};

/** Flags nanomq_cli lists for properties only a server sends: refused with that said. */
const SERVER_PROPERTIES = [
  "assigned_client_identifier",
  "server_keep_alive",
  "response_information",
  "server_reference",
  "reason_string",
  "publish_maximum_qos",
  "retain_available",
  "wildcard_subscription_available",
  "subscription_identifier_available",
  "shared_subscription_available",
];

/** The parseArgs options of every property flag. */
export const PROPERTY_OPTIONS: Record<string, { type: "string"; multiple?: boolean }> = {
  ...Object.fromEntries(
    [...Object.keys(CLIENT_PROPERTIES), ...SERVER_PROPERTIES].map((k) => [k, { type: "string" as const }]),
  ),
  user_property: { type: "string", multiple: true },
};

/** The properties of each packet the flags set. */
export interface PropertySets {
  connect: Properties;
  will: Properties;
  /** PUBLISH (and the will's message properties). */
  message: Properties;
  /** User properties, which go on CONNECT, PUBLISH and SUBSCRIBE alike (as nanomq_cli sends them). */
  user: UserProperties | undefined;
  /** True when any flag was given: they need MQTT 5. */
  any: boolean;
}

const MAX: Record<Kind, number> = { u8bool: 1, u16: 0xffff, u32: 0xffffffff, str: 0, bin: 0 };

/** Sorts the property flags of `values`; a bad value is a usage error naming the flag. */
export function propertyFlags(values: Record<string, unknown>): PropertySets {
  const sets: PropertySets = { connect: {}, will: {}, message: {}, user: undefined, any: false };
  for (const k of SERVER_PROPERTIES) {
    if (values[k] !== undefined) {
      throw new ClientError("usage", `--${k} is a property only a server sends; a client cannot set it`);
    }
  }
  for (const [flag, [name, kind, where, min]] of Object.entries(CLIENT_PROPERTIES)) {
    const v = values[flag];
    if (typeof v !== "string") continue;
    (sets[where] as Record<string, unknown>)[name] = _value(flag, v, kind, min);
    sets.any = true;
  }
  const pairs = values.user_property as string[] | undefined;
  if (pairs !== undefined && pairs.length > 0) {
    const user: UserProperties = {};
    for (const p of pairs) {
      const eq = p.indexOf("=");
      if (eq <= 0) throw new ClientError("usage", `--user_property "${p}" is not key=value`);
      const [k, v] = [p.slice(0, eq), p.slice(eq + 1)];
      const had = user[k];
      user[k] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    }
    sets.user = user;
    sets.any = true;
  }
  return sets;
}

function _value(flag: string, v: string, kind: Kind, min: number): unknown {
  if (kind === "str") return v;
  if (kind === "bin") return Buffer.from(v, "utf8");
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > MAX[kind]) {
    throw new ClientError(
      "usage",
      `--${flag} must be a whole number from ${min} to ${MAX[kind]}, not "${v}"`,
    );
  }
  return kind === "u8bool" ? n === 1 : n;
}
