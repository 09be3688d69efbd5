/**
 * MQTT 5 reason codes, the MQTT 3.x CONNACK return-code mapping, and the typed error that carries
 * the code that goes on the wire.
 */

/** MQTT 5 reason codes used by the broker (spec section 2.4). */
export const RC = {
  SUCCESS: 0x00,
  GRANTED_QOS_1: 0x01,
  GRANTED_QOS_2: 0x02,
  DISCONNECT_WITH_WILL: 0x04,
  NO_MATCHING_SUBSCRIBERS: 0x10,
  NO_SUBSCRIPTION_EXISTED: 0x11,
  UNSPECIFIED_ERROR: 0x80,
  MALFORMED_PACKET: 0x81,
  PROTOCOL_ERROR: 0x82,
  IMPLEMENTATION_SPECIFIC_ERROR: 0x83,
  UNSUPPORTED_PROTOCOL_VERSION: 0x84,
  CLIENT_IDENTIFIER_NOT_VALID: 0x85,
  BAD_USER_NAME_OR_PASSWORD: 0x86,
  NOT_AUTHORIZED: 0x87,
  SERVER_UNAVAILABLE: 0x88,
  SERVER_BUSY: 0x89,
  SERVER_SHUTTING_DOWN: 0x8b,
  BAD_AUTHENTICATION_METHOD: 0x8c,
  KEEP_ALIVE_TIMEOUT: 0x8d,
  SESSION_TAKEN_OVER: 0x8e,
  TOPIC_FILTER_INVALID: 0x8f,
  TOPIC_NAME_INVALID: 0x90,
  PACKET_IDENTIFIER_IN_USE: 0x91,
  PACKET_IDENTIFIER_NOT_FOUND: 0x92,
  RECEIVE_MAXIMUM_EXCEEDED: 0x93,
  TOPIC_ALIAS_INVALID: 0x94,
  PACKET_TOO_LARGE: 0x95,
  QUOTA_EXCEEDED: 0x97,
  ADMINISTRATIVE_ACTION: 0x98,
  PAYLOAD_FORMAT_INVALID: 0x99,
  QOS_NOT_SUPPORTED: 0x9b,
  USE_ANOTHER_SERVER: 0x9c,
  SERVER_MOVED: 0x9d,
  SHARED_SUBSCRIPTIONS_NOT_SUPPORTED: 0x9e,
  SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED: 0xa1,
  WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED: 0xa2,
} as const;

/** MQTT 3.1 / 3.1.1 CONNACK return codes. */
export const V3_CONNACK = {
  ACCEPTED: 0,
  UNACCEPTABLE_PROTOCOL_VERSION: 1,
  IDENTIFIER_REJECTED: 2,
  SERVER_UNAVAILABLE: 3,
  BAD_USERNAME_OR_PASSWORD: 4,
  NOT_AUTHORIZED: 5,
} as const;

/** Maps an MQTT 5 CONNACK reason code to the closest MQTT 3.x return code. */
export function toV3ConnackCode(code: number): number {
  switch (code) {
    case RC.SUCCESS:
      return V3_CONNACK.ACCEPTED;
    case RC.UNSUPPORTED_PROTOCOL_VERSION:
      return V3_CONNACK.UNACCEPTABLE_PROTOCOL_VERSION;
    case RC.CLIENT_IDENTIFIER_NOT_VALID:
      return V3_CONNACK.IDENTIFIER_REJECTED;
    case RC.BAD_USER_NAME_OR_PASSWORD:
      return V3_CONNACK.BAD_USERNAME_OR_PASSWORD;
    case RC.NOT_AUTHORIZED:
    case RC.BAD_AUTHENTICATION_METHOD:
      return V3_CONNACK.NOT_AUTHORIZED;
    default:
      return V3_CONNACK.SERVER_UNAVAILABLE;
  }
}

/**
 * A protocol violation or refusal. `code` is the MQTT 5 reason code sent to the peer (in CONNACK
 * before the session exists, in DISCONNECT after), `rule` the normative statement, when one applies.
 */
export class MqttError extends Error {
  readonly code: number;
  readonly rule: string | undefined;
  constructor(code: number, message: string, rule?: string) {
    super(rule === undefined ? message : `${message} ${rule}`);
    this.name = "MqttError";
    this.code = code;
    this.rule = rule;
  }
}

const _NAMES = new Map<number, string>(
  Object.entries(RC).map(([k, v]) => [v, k.toLowerCase().replaceAll("_", " ")]),
);
const _V3_NAMES = new Map<number, string>(
  Object.entries(V3_CONNACK).map(([k, v]) => [v, k.toLowerCase().replaceAll("_", " ")]),
);

/**
 * A reason code in words ("not authorized (0x87)"); `v3Connack` reads it as an MQTT 3.x CONNACK
 * return code ("bad username or password (4)").
 */
export function reasonText(code: number, v3Connack = false): string {
  if (v3Connack) return `${_V3_NAMES.get(code) ?? "unknown return code"} (${code})`;
  return `${_NAMES.get(code) ?? "unknown reason"} (0x${code.toString(16).padStart(2, "0")})`;
}
