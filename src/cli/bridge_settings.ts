/**
 * `bridges.mqtt.<name>` sections as the bridge layer's options: servers parsed, certificate files
 * read, forwards and subscriptions as rules, MQTT 5 properties in mqtt-packet's names.
 */
import type { BridgeOptions, UpstreamServer } from "../bridge/bridge_options.ts";
import type { Config } from "../config/config.ts";
import { ConfigError } from "../config/config_error.ts";
import { DEFAULT_DISK_CACHE_SIZE } from "../config/config_sections.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { readClientTls } from "./read_config_file.ts";
import type { ClientTlsOptions } from "../runtime/tls_options.ts";
import { isValidTopicFilter, isValidTopicName } from "../protocol/topic.ts";

type BridgeConfig = NonNullable<Config["bridges"]["mqtt"]>["named"][string];

/** The enabled bridges; a bad server address or an unreadable certificate is a ConfigError. */
export async function bridgeSettings(rt: Runtime, cfg: Config, source: string): Promise<BridgeOptions[]> {
  const out: BridgeOptions[] = [];
  for (const [name, b] of Object.entries(cfg.bridges.mqtt?.named ?? {})) {
    if (!b.enable) continue;
    out.push(
      await _bridge(rt, name, b, source, cfg.bridges.mqtt?.cache?.disk_cache_size ?? DEFAULT_DISK_CACHE_SIZE),
    );
  }
  return out;
}

async function _bridge(
  rt: Runtime,
  name: string,
  b: BridgeConfig,
  source: string,
  cacheSize: number,
): Promise<BridgeOptions> {
  const path = `bridges.mqtt.${name}`;
  const tls = b.ssl.enable || b.server.startsWith("tls+")
    ? await readClientTls(rt, b.ssl, `${path}.ssl`, source)
    : undefined;
  const servers = [_server(b.server, tls, `${path}.server`, source)];
  for (const [i, s] of (b.hybrid_bridging ? b.hybrid_servers : []).entries()) {
    if (s.startsWith("mqtt-quic://")) continue; // QUIC: warned about by the configuration
    servers.push(
      _server(s, s.startsWith("tls+") ? tls ?? {} : undefined, `${path}.hybrid_servers[${i}]`, source),
    );
  }
  _checkTopics(b, path, source);
  const o: BridgeOptions = {
    name,
    servers,
    protoVer: b.proto_ver as 3 | 4 | 5,
    clientId: b.clientid ?? `bridge-${name}-${Math.random().toString(36).slice(2, 10)}`,
    keepaliveMs: b.keepalive,
    backoffMaxMs: b.backoff_max,
    cleanStart: b.clean_start,
    connProps: _connProps(b.conn_properties),
    will: _will(b.will),
    forwards: b.forwards.map((f) => ({
      filter: f.local_topic,
      topic: f.remote_topic,
      prefix: f.prefix,
      suffix: f.suffix,
      qos: (f.qos ?? 2) as 0 | 1 | 2,
      retain: f.retain as 0 | 1 | 2,
    })),
    subscriptions: b.subscription.map((s) => ({
      filter: s.remote_topic,
      topic: s.local_topic,
      prefix: s.prefix,
      suffix: s.suffix,
      qos: s.qos as 0 | 1 | 2,
      retain: s.retain as 0 | 1 | 2,
      rap: s.retain_as_published === 1,
      rh: s.retain_handling as 0 | 1 | 2,
    })),
    subProps: _subProps(b.sub_properties),
    window: b.max_send_queue_len,
    cacheSize,
  };
  if (b.username !== null) o.username = b.username;
  if (b.password !== null) o.password = b.password;
  return o;
}

/**
 * Forwards take local messages by a filter to a topic upstream, subscriptions the other way; a
 * topic given as "" keeps the message's own; prefix and suffix are plain text around it.
 */
function _checkTopics(b: BridgeConfig, path: string, source: string): void {
  b.forwards.forEach((f, i) =>
    _checkRule(
      f,
      [`${path}.forwards[${i}].`, "local_topic", "remote_topic"],
      f.local_topic,
      f.remote_topic,
      source,
    )
  );
  b.subscription.forEach((s, i) =>
    _checkRule(
      s,
      [`${path}.subscription[${i}].`, "remote_topic", "local_topic"],
      s.remote_topic,
      s.local_topic,
      source,
    )
  );
}

function _checkRule(
  r: { prefix: string; suffix: string },
  [key, filterKey, topicKey]: [string, string, string],
  filter: string,
  topic: string,
  source: string,
): void {
  const fail = (k: string, v: string, what: string): never => {
    throw new ConfigError(source, 0, key + k, `"${v}" is not ${what}`);
  };
  if (!isValidTopicFilter(filter)) fail(filterKey, filter, "a topic filter");
  if (topic !== "" && !isValidTopicName(topic)) {
    fail(topicKey, topic, 'a topic name (no + or #; "" keeps the message\'s topic)');
  }
  for (const k of ["prefix", "suffix"] as const) {
    if (/[+#\0]/.test(r[k])) fail(k, r[k], "plain text (no + or #)");
  }
}

function _server(
  url: string,
  tls: ClientTlsOptions | undefined,
  key: string,
  source: string,
): UpstreamServer {
  const m = /^(mqtt-tcp|tls\+mqtt-tcp):\/\/\[?([^\]/]+?)\]?:(\d+)\/?$/.exec(url.trim());
  const port = Number(m?.[3]);
  if (m === null || !(port > 0 && port < 65536)) {
    throw new ConfigError(
      source,
      0,
      key,
      `"${url}" is not an MQTT server address; write mqtt-tcp://host:port or tls+mqtt-tcp://host:port`,
    );
  }
  const s: UpstreamServer = { url, host: m[2]!, port };
  if (m[1] === "tls+mqtt-tcp") s.tls = tls ?? {};
  return s;
}

function _userProps(m: Record<string, string>): Record<string, string> | undefined {
  return Object.keys(m).length === 0 ? undefined : m;
}

function _connProps(p: BridgeConfig["conn_properties"]): Record<string, unknown> {
  return _defined({
    maximumPacketSize: p.maximum_packet_size ?? undefined,
    receiveMaximum: p.receive_maximum === 65535 ? undefined : p.receive_maximum,
    topicAliasMaximum: p.topic_alias_maximum === 0 ? undefined : p.topic_alias_maximum,
    requestProblemInformation: p.request_problem_infomation === 1 ? undefined : false,
    requestResponseInformation: p.request_response_infomation === 1 ? true : undefined,
    sessionExpiryInterval: p.session_expiry_interval === 0 ? undefined : p.session_expiry_interval,
    userProperties: _userProps(p.user_property),
  });
}

function _will(w: BridgeConfig["will"]): Record<string, unknown> | null {
  if (w.topic === null || w.payload === null) return null;
  const p = w.properties;
  return {
    topic: w.topic,
    payload: Buffer.from(w.payload),
    qos: w.qos,
    retain: w.retain,
    properties: _defined({
      payloadFormatIndicator: p.payload_format_indicator === 1 ? true : undefined,
      messageExpiryInterval: p.message_expiry_interval === 0 ? undefined : p.message_expiry_interval,
      contentType: p.content_type === "" ? undefined : p.content_type,
      responseTopic: p.response_topic === "" ? undefined : p.response_topic,
      correlationData: p.correlation_data === "" ? undefined : Buffer.from(p.correlation_data),
      willDelayInterval: p.will_delay_interval === 0 ? undefined : p.will_delay_interval,
      userProperties: _userProps(p.user_property),
    }),
  };
}

function _subProps(p: BridgeConfig["sub_properties"]): Record<string, unknown> {
  return _defined({
    subscriptionIdentifier: p.identifier ?? undefined,
    userProperties: _userProps(p.user_property),
  });
}

function _defined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
