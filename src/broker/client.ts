/** A network connection as the broker sees it: creating its state, queuing control packets, its identity. */
import type { Identity } from "./auth_port.ts";
import { type Client, type ClientSink, ClientState, type CtrlItem } from "./state.ts";

/** Creates the state for a new connection. */
export function createClient(id: number, sink: ClientSink): Client {
  return {
    id,
    sink,
    state: ClientState.New,
    version: 0,
    session: null,
    ctrl: [],
    keepaliveMs: 0,
    deadline: 0,
    active: true,
    sendWindow: 65535,
    maxPacketSize: 268435460,
    aliasMaxOut: 0,
    aliasOut: null,
    aliasIn: null,
    authMethod: null,
    authx: null,
    problemInfo: true,
    graceful: false,
    username: undefined,
    holds: 0,
    identity: null,
    aclTopic: null,
    aclAllowed: false,
    aclGen: 0,
    topicOk: null,
    readAcl: null,
    readGen: 0,
    readClass: -1,
    readClassGen: -1,
    subAcl: null,
    subGen: 0,
    closeReason: null,
    closeCode: -1,
    cleanStart: true,
    connectedAt: 0,
    connectInfo: null,
  };
}

/** Queues a control packet and wakes the transport. */
export function sendCtrl(c: Client, item: CtrlItem): void {
  c.ctrl.push(item);
  c.sink.wake();
}

/** Packs an acknowledgement for {@link sendCtrl}: `type` 4..7, 13 for PINGRESP. */
export function ackItem(type: number, messageId: number, reasonCode = 0): number {
  return (type << 24) | (reasonCode << 16) | messageId;
}

/**
 * A PUBACK or PUBREC refusing a message: with `reason` as Reason String for an MQTT 5 client that
 * did not turn problem information off [MQTT-3.1.2-29], else packed like any acknowledgement.
 */
export function refusalAck(
  c: Client,
  qos: number,
  messageId: number,
  code: number,
  reason: string,
): CtrlItem {
  if (c.version !== 5) return ackItem(qos === 1 ? 4 : 5, messageId, 0);
  if (!c.problemInfo) return ackItem(qos === 1 ? 4 : 5, messageId, code);
  return {
    cmd: qos === 1 ? "puback" : "pubrec",
    messageId,
    reasonCode: code,
    properties: { reasonString: reason },
  };
}

/** The IP address of "ip:port" / "[v6]:port" / "::ffff:v4:port", without the port. */
export function ipOf(remote: string): string {
  const ip = remote.startsWith("[")
    ? remote.slice(1, remote.indexOf("]"))
    : remote.slice(0, remote.lastIndexOf(":"));
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

/** The identity access control sees for a connected client. */
export function identityOf(c: Client): Identity {
  return (c.identity ??= {
    clientId: c.session?.clientId ?? "",
    username: c.username,
    ip: ipOf(c.sink.remoteAddress),
  });
}
