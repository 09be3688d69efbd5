/** The read side of the API: brokers, nodes, metrics, clients, subscriptions, the topic tree; kicking a client. */
import { droppedTotal } from "../broker/metrics.ts";
import type { HttpRequest } from "../runtime/http_server.ts";
import type { ClientInfo, SubscriptionInfo } from "../broker/admin.ts";
import { type TopicNode, topicTreeOf } from "./broker_view.ts";
import { dateTimeText, uptimeText } from "./gauges.ts";
import { ApiError, CODE, type Endpoint, ok, pageOf } from "./api_types.ts";

const SYSDESCR = "edge-mqtt-broker, NanoMQ compatible";

/** NanoMQ's client record (plus ip_address, port and connected_at as EMQX names them). */
function _client(c: ClientInfo): Record<string, unknown> {
  return {
    client_id: c.clientId,
    username: c.username ?? "",
    keepalive: c.keepalive,
    conn_state: "connected",
    clean_start: c.cleanStart,
    proto_name: c.protoName,
    proto_ver: c.protoVer,
    ip_address: c.ip,
    port: c.port,
    listener_port: c.listenerPort,
    connected_at: dateTimeText(c.connectedAt),
    subscriptions_cnt: c.subscriptions,
    mqueue_len: c.queued,
    inflight: c.inflight,
    is_bridge: c.internal,
  };
}

const CLIENT_FILTERS: [string, (c: ClientInfo, v: string) => boolean][] = [
  ["clientid", (c, v) => c.clientId === v],
  ["username", (c, v) => c.username === v],
  ["conn_state", (_c, v) => v === "connected"],
  ["clean_start", (c, v) => String(c.cleanStart) === v || String(Number(c.cleanStart)) === v],
  ["proto_name", (c, v) => c.protoName === v],
  ["proto_ver", (c, v) => String(c.protoVer) === v],
  ["ip_address", (c, v) => c.ip === v],
  ["_like_clientid", (c, v) => c.clientId.includes(v)],
  ["_like_username", (c, v) => (c.username ?? "").includes(v)],
];

function _clients(req: HttpRequest, all: ClientInfo[]) {
  let list = all;
  for (const [name, test] of CLIENT_FILTERS) {
    const v = req.query.get(name);
    if (v !== null) list = list.filter((c) => test(c, v));
  }
  const { data, meta } = pageOf(req, list);
  return ok({ data: data.map(_client), meta });
}

function _subscription(s: SubscriptionInfo): Record<string, unknown> {
  return {
    clientid: s.clientId,
    topic: s.topic,
    qos: s.qos,
    ...(s.group === null ? {} : { share: s.group }),
  };
}

function _subscriptions(req: HttpRequest, all: SubscriptionInfo[]) {
  let list = all;
  const q = req.query;
  const clientid = q.get("clientid");
  const topic = q.get("topic");
  const qos = q.get("qos");
  const share = q.get("share");
  if (clientid !== null) list = list.filter((s) => s.clientId === clientid);
  if (topic !== null) list = list.filter((s) => s.topic === topic);
  if (qos !== null) list = list.filter((s) => String(s.qos) === qos);
  if (share !== null) list = list.filter((s) => s.group === share);
  const { data, meta } = pageOf(req, list);
  return ok({ data: data.map(_subscription), meta });
}

/** NanoMQ's topic tree: one array per level, each node with its child count and subscribers. */
function _levels(root: TopicNode): Record<string, unknown>[][] {
  const levels: Record<string, unknown>[][] = [];
  let row: TopicNode[] = [root];
  while (row.length > 0) {
    levels.push(row.map((n) => ({
      topic: n.topic,
      cld_cnt: n.children.size,
      ...(n.clientIds.length === 0 ? {} : { clientid: n.clientIds }),
    })));
    row = row.flatMap((n) => [...n.children.values()]);
  }
  return levels;
}

/** The endpoints of this file. */
export const BROKER_ENDPOINTS: Endpoint[] = [
  {
    method: "GET",
    path: "brokers",
    name: "list_brokers",
    descr: "A list of brokers in the cluster",
    handler: (d) =>
      ok({
        data: [{
          datetime: dateTimeText(d.now()),
          sysdescr: SYSDESCR,
          uptime: uptimeText(d.now() - d.startedAt),
          version: d.version,
          node_status: "Running",
        }],
      }),
  },
  {
    method: "GET",
    path: "nodes",
    name: "list_nodes",
    descr: "A list of nodes in the cluster",
    handler: (d) =>
      ok({
        data: [{
          connections: d.broker.metrics().clientsConnected,
          node_status: "Running",
          uptime: uptimeText(d.now() - d.startedAt),
          version: d.version,
        }],
      }),
  },
  {
    method: "GET",
    path: "metrics",
    name: "list_all_metrics",
    descr: "A list of all metrics of the broker",
    handler: (d) => {
      const p = d.processStats();
      const m = d.broker.metrics();
      const now = d.gauges.refresh();
      const dropped = droppedTotal(m);
      return ok({
        data: [{
          cpuinfo: { cpus: p.cpus, load1: p.load[0], load5: p.load[1], load15: p.load[2] },
          memory: {
            rss: p.rss,
            heap_used: p.heapUsed,
            heap_total: p.heapTotal,
            total: p.memTotal,
            free: p.memFree,
          },
          metrics: {
            "client.connected": m.clientsConnected,
            "client.max": m.clientsMax,
            "client.accepted": m.connectionsAccepted,
            "client.auth.failure": m.authFailures,
            "messages.received": m.messagesReceived,
            "messages.sent": m.messagesSent,
            "messages.dropped": dropped,
            "bytes.received": m.bytesReceived,
            "bytes.sent": m.bytesSent,
            "sessions.count": now.sessions,
            "subscriptions.count": now.subscriptions,
            "retained.count": now.retained,
          },
        }],
      });
    },
  },
  {
    method: "GET",
    path: "clients",
    name: "list_clients",
    descr: "A list of clients on the node",
    handler: async (d, req) => _clients(req, await d.broker.clients()),
  },
  {
    method: "GET",
    path: "clients/username/:username",
    name: "lookup_client_via_username",
    descr: "Lookup a client via username on the node",
    handler: async (d, req, [u]) => _clients(req, (await d.broker.clients()).filter((c) => c.username === u)),
  },
  {
    method: "GET",
    path: "clients/:clientid",
    name: "lookup_client",
    descr: "Lookup a client on the node",
    handler: async (d, req, [id]) =>
      _clients(req, (await d.broker.clients()).filter((c) => c.clientId === id)),
  },
  {
    method: "DELETE",
    path: "clients/:clientid",
    name: "kickout_client",
    descr: "Kick out a client (MQTT 5: DISCONNECT 0x98)",
    handler: async (d, _req, [id]) => {
      if (!(await d.broker.kick(id!))) {
        throw new ApiError(404, CODE.CLIENT_OFFLINE, `No client "${id}" is connected`);
      }
      return ok();
    },
  },
  {
    method: "GET",
    path: "subscriptions",
    name: "list_subscriptions",
    descr: "A list of subscriptions on the node",
    handler: async (d, req) => _subscriptions(req, await d.broker.subscriptions()),
  },
  {
    method: "GET",
    path: "subscriptions/:clientid",
    name: "lookup_client_subscriptions",
    descr: "A list of subscriptions of a client on the node",
    handler: async (d, req, [id]) =>
      _subscriptions(req, (await d.broker.subscriptions()).filter((s) => s.clientId === id)),
  },
  {
    method: "GET",
    path: "topic-tree",
    name: "list_topic-tree",
    descr: "A list of topic-tree on the node",
    handler: async (d) => ok({ data: _levels(topicTreeOf(await d.broker.subscriptions())) }),
  },
];
