/** The --help of broker pub, sub and conn. */
import type { Tool } from "./client_flags.ts";

const CONNECTION = `Connection:
  --url <url>                  mqtt://, mqtts://, ws://host:port/mqtt, wss:// (also NanoMQ's
                               mqtt-tcp:// and tls+mqtt-tcp://; user:password@host is taken)
  -h, --host <host>            broker host [127.0.0.1]
  -p, --port <port>            broker port [1883, 8883 with -s]
  -s, --secure                 TLS (nanomq_cli's; Mosquitto's -s, stdin, is -l here)
  --cafile <file>              CA certificates to verify the broker with [the system's]
  -E, --cert <file>            client certificate;  --key <file>  its key;  --keypass <pass>
  --insecure                   do not verify the broker's certificate
  -V, --version <3|4|5>        MQTT version [4]; mqttv31, mqttv311, mqttv5 are taken too
  -i, --id <id>                client identifier [generated]; with -C, each gets -<n>
  -u, --user <name>            user name;  -P, --password <password>
  -k, --keepalive <s>          keep alive [60]
  -c, --clean_session <bool>   clean start [true] (nanomq_cli's: it takes true or false)
  -x <s>                       MQTT 5 session expiry interval
  --will-topic <t>  --will-msg <m>  --will-qos <q>  --will-retain
  -C, --count <n>              clients [1] (mosquitto_sub's -C is -L here)
  -n, --parallel <n>           connections being made at once [1]
  -W, --timeout <s>            give up after this (exit 3); conn: hold this long (exit 0)
  -d, --debug                  print every packet sent and received (stderr)
  -v, --verbose                more output
  --help                       this text
MQTT 5 properties (-V 5):
  --session_expiry_interval --receive_maximum --topic_alias_maximum --maximum_packet_size
  --request_problem_information --request_response_information --will_delay_interval
  --payload_format_indicator --message_expiry_interval --content_type --response_topic
  --correlation_data --topic_alias --user_property key=value (repeatable)
Exit codes: 0 done, 1 usage, 2 refused or disconnected by the broker (the reason printed),
3 timeout.
`;

const USAGES: Record<Tool, string> = {
  pub: `Usage: broker pub -t <topic> (-m <message> | -f <file> | -l) [options]

Publishes a message, from one or more clients, and waits for the acknowledgements.
  -t, --topic <topic>          topic (repeatable)
  -m, --msg <text>             the message (--message too)
  -f, --file <file>            the message is the file's bytes
  -l, --stdin-line             each line of stdin is a message
  -q, --qos <0|1|2>            QoS [0]
  -r, --retain                 retain
  -L, --limit <n>              publish the message n times [1]
  -I, --interval <ms>          between those messages [10]

${CONNECTION}`,
  sub: `Usage: broker sub -t <filter> [options]

Subscribes and prints each message as it arrives, until interrupted.
  -t, --topic <filter>         topic filter (repeatable)
  -q, --qos <0|1|2>            QoS [2]
  -L, --limit <n>              exit after n messages
  -I, --interval <ms>          between connecting the clients of -C [10]
  -v, --verbose                print the topic before the payload
  --format json                one JSON object a line: topic, qos, retain, properties,
                               payload (text, or base64 when not UTF-8), encoding
  --no-local  --retain-as-published  --retain-handling <0|1|2>   MQTT 5 subscription options

${CONNECTION}`,
  conn: `Usage: broker conn [options]

Connects, prints each CONNACK, and holds the connections until interrupted (or -W).
  -I, --interval <ms>          between connecting the clients of -C [10]
  -v, --verbose                print the CONNACK's MQTT 5 properties

${CONNECTION}`,
};

/** The usage of `tool`. */
export function clientUsage(tool: Tool): string {
  return USAGES[tool];
}

/** The usage of `broker bench`. */
export const BENCH_USAGE = `Usage: broker bench pub|sub|conn [options]

Many clients against a broker: a line of rates each second, a summary with latency percentiles
at the end (pub: publish to PUBACK/PUBCOMP at QoS 1 and 2; sub: publish to arrival, from the time
bench pub writes into each payload; conn: CONNECT to CONNACK). nanomq_cli bench's flags:
  -h, --host <host>            [127.0.0.1]       -p, --port <port>   [1883, 8883 with -S]
  --url <url>                  mqtt://, mqtts://, ws://host:port/mqtt, wss://
  --ws                         WebSocket (port 8083, 8084 with -S)
  -S, --ssl                    TLS;  --cafile --certfile --keyfile --keypass  --insecure
  -V, --version <3|4|5>        [5]
  -c, --count <n>              clients [200]
  -n, --startnumber <n>        the first client's number (ids bench_<mode>_<n>) [0]
  -i, --interval <ms>          between connections [10]
  -I, --interval_of_msg <ms>   between one client's messages [1000]; 0: as fast as acknowledged
  -u, --username  -P, --password  -k, --keepalive <s> [300]  -C, --clean <true|false> [true]
  -t, --topic <topic>          %i is the client's number [bench/%i]; sub takes a filter
  -q, --qos <0|1|2>            [0]      -r, --retain      -s, --size <bytes> [256, at least 12]
  -L, --limit <n>              pub: messages per client; sub: messages in all; then exit
  --duration <s>               stop after this long (else at -L, or when interrupted)
  --json                       the summary as JSON on stdout, the other lines on stderr
Exit codes: 0 done, 1 usage, 2 refused by the broker, 3 timeout.
`;
