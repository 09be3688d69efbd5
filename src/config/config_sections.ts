/** The larger nested sections of nanomq.conf: ACL rules, HTTP auth, bridges. */
import {
  bool,
  duration,
  int,
  list,
  notice,
  obj,
  objWithNamed,
  oneOf,
  optInt,
  optStr,
  required,
  section,
  type Spec,
  str,
  strMap,
} from "./schema.ts";

const subjectFields = {
  username: optStr(),
  clientid: optStr(),
  ipaddr: optStr(),
  ipaddrs: list(str("")),
};

/** One rule of NanoMQ's `nanomq_acl.conf` (`auth.acl.rules`). */
export const aclRuleSpec = obj({
  permit: required(oneOf("allow", ["allow", "deny"])),
  action: oneOf("pubsub", ["publish", "subscribe", "pubsub"]),
  topics: list(str("")),
  ...subjectFields,
  and: list(obj(subjectFields)),
  or: list(obj(subjectFields)),
});

/** The certificate keys every TLS section shares (`listeners.ssl`, `listeners.wss`, bridges' `ssl`). */
export const tlsFileFields = {
  keyfile: optStr(),
  certfile: optStr(),
  cacertfile: optStr(),
  key_password: optStr(),
};

export const tlsClientSpec = obj({
  enable: bool(false),
  ...tlsFileFields,
  verify_peer: bool(false),
  fail_if_no_peer_cert: bool(false),
});

const httpReqSpec = obj({
  url: str(""),
  method: oneOf("post", ["post", "get"]),
  headers: strMap(),
  params: strMap(),
  ssl: tlsClientSpec,
});

/** `auth.http_auth`. */
export const httpAuthSpec = obj({
  auth_req: section(httpReqSpec),
  super_req: section(httpReqSpec),
  acl_req: section(httpReqSpec),
  timeout: duration(5000, 0, 3_600_000),
  connect_timeout: duration(5000, 0, 3_600_000),
  pool_size: int(32, 1, 10_000),
});

const userProps = strMap();

const connPropsSpec = obj({
  maximum_packet_size: optInt(1, 268_435_455),
  receive_maximum: int(65535, 1, 65535),
  topic_alias_maximum: int(0, 0, 65535),
  request_problem_infomation: int(1, 0, 1),
  request_response_infomation: int(0, 0, 1),
  session_expiry_interval: int(0, 0, 4_294_967_295),
  user_property: userProps,
});

const willSpec = obj({
  topic: optStr(),
  qos: int(0, 0, 2),
  retain: bool(false),
  payload: optStr(),
  properties: obj({
    payload_format_indicator: int(0, 0, 1),
    message_expiry_interval: int(0, 0, 4_294_967_295),
    content_type: str(""),
    response_topic: str(""),
    correlation_data: str(""),
    will_delay_interval: int(0, 0, 4_294_967_295),
    user_property: userProps,
  }),
});

const forwardSpec = obj({
  local_topic: required(str("")),
  remote_topic: required(str("")),
  qos: optInt(0, 2),
  retain: int(2, 0, 2),
  prefix: str(""),
  suffix: str(""),
});

const subscriptionSpec = obj({
  remote_topic: required(str("")),
  local_topic: required(str("")),
  qos: required(int(1, 0, 2)),
  retain: int(2, 0, 2),
  retain_as_published: int(0, 0, 1),
  retain_handling: int(0, 0, 2),
  prefix: str(""),
  suffix: str(""),
  stream_id: optInt(0, 65535),
});

const QUIC = "has no effect: QUIC is not supported";
const quic = <T>(s: Spec<T>): Spec<T> => notice(s, QUIC);

const NO_RESEND =
  "has no effect: what upstream has not acknowledged is sent again as soon as the bridge reconnects";

const bridgeSpec = obj({
  enable: bool(true),
  server: required(str("")),
  proto_ver: int(4, 3, 5),
  clientid: optStr(),
  keepalive: duration(60_000, 0, 65_535_000),
  backoff_max: duration(60_000, 0, 86_400_000),
  clean_start: bool(true),
  transparent: notice(
    bool(false),
    "is not supported: local subscriptions are not passed upstream; list what to bring down in subscription = [ ]",
  ),
  username: optStr(),
  password: optStr(),
  ssl: tlsClientSpec,
  tcp: obj({
    nodelay: bool(true),
    keepalive: bool(false),
    quickack: bool(false),
    keepidle: int(60, 0, 86_400),
    keepintvl: int(30, 0, 86_400),
    keepcnt: int(10, 0, 1000),
    sendtimeo: int(3000, 0, 3_600_000),
    recvtimeo: int(3000, 0, 3_600_000),
  }),
  conn_properties: connPropsSpec,
  will: willSpec,
  forwards: list(forwardSpec),
  subscription: list(subscriptionSpec),
  sub_properties: obj({ identifier: optInt(1, 268_435_455), user_property: userProps }),
  max_parallel_processes: notice(
    int(2, 1, 1024),
    "has no effect: the bridge relays every message as it comes, on the broker's one event loop",
  ),
  max_send_queue_len: int(32, 1, 10_000_000),
  max_recv_queue_len: notice(
    int(128, 1, 10_000_000),
    "has no effect: messages from upstream go into the broker as they arrive, with TCP backpressure",
  ),
  resend_interval: notice(int(5000, 0, 86_400_000), NO_RESEND),
  resend_wait: notice(int(3000, 0, 86_400_000), NO_RESEND),
  cancel_timeout: notice(int(10_000, 0, 86_400_000), NO_RESEND),
  hybrid_bridging: bool(false),
  hybrid_servers: list(str("")),
  quic_keepalive: quic(duration(120_000, 0, 86_400_000)),
  quic_idle_timeout: quic(duration(120_000, 0, 86_400_000)),
  quic_discon_timeout: quic(duration(20_000, 0, 86_400_000)),
  quic_handshake_timeout: quic(duration(60_000, 0, 86_400_000)),
  quic_send_idle_timeout: quic(duration(2_000, 0, 86_400_000)),
  quic_initial_rtt_ms: quic(duration(800, 0, 86_400_000)),
  quic_max_ack_delay_ms: quic(duration(100, 0, 86_400_000)),
  quic_multi_stream: quic(bool(false)),
  quic_qos_priority: quic(bool(true)),
  quic_0rtt: quic(bool(true)),
});

/** NanoMQ's `disk_cache_size` default, in messages (`sqlite` and `bridges.mqtt.cache`). */
export const DEFAULT_DISK_CACHE_SIZE = 102_400;

/** Why `flush_mem_threshold` (of `sqlite` and of `bridges.mqtt.cache`) does nothing. */
export const NO_FLUSH_THRESHOLD =
  "has no effect: each event-loop turn's writes are committed together before anything is acknowledged";

const cacheSpec = obj({
  disk_cache_size: int(DEFAULT_DISK_CACHE_SIZE, 1, 1_000_000_000),
  mounted_file_path: str(""),
  flush_mem_threshold: notice(int(100, 1, 1_000_000), NO_FLUSH_THRESHOLD),
  resend_interval: notice(int(5000, 0, 86_400_000), NO_RESEND),
});

const awsSpec = obj({
  server: str(""),
  proto_ver: int(4, 3, 5),
  clientid: optStr(),
  keepalive: duration(60_000, 0, 65_535_000),
  clean_start: bool(true),
  username: optStr(),
  password: optStr(),
  ssl: tlsClientSpec,
  forwards: list(obj({ remote_topic: str(""), local_topic: str("") })),
  subscription: list(obj({ remote_topic: str(""), local_topic: str(""), qos: int(1, 0, 2) })),
  max_parallel_processes: int(2, 1, 1024),
});

/** `bridges { mqtt.<name>, mqtt.cache, aws.<name> }`. */
export const bridgesSpec = obj({
  mqtt: objWithNamed(
    {
      cache: section(cacheSpec),
    },
    bridgeSpec,
  ),
  aws: objWithNamed({}, notice(awsSpec, "is not supported: AWS IoT bridges are not built into this broker")),
});
