/**
 * CONNECT, in the order the spec gives: validate, refuse what is not supported, settle the client
 * identifier and keep alive, open the session, record the will, answer CONNACK.
 */
import type { IConnectPacket, MqttPacket } from "../../protocol/codec.ts";
import { encodePropertyBytes } from "../../protocol/properties_codec.ts";
import { MqttError, RC, toV3ConnackCode } from "../../protocol/reason_code.ts";
import { isValidTopicName } from "../../protocol/topic.ts";
import { isCleanString, isValidUtf8 } from "../../protocol/utf8.ts";
import { identityOf, ipOf, sendCtrl } from "../client.ts";
import { mayPublishWill } from "../access.ts";
import type { Identity } from "../auth_port.ts";
import { homeWorker } from "../peer_port.ts";
import type { BrokerContext } from "../context.ts";
import { NEVER_EXPIRES } from "../session.ts";
import { detachClient, disconnectClient, openSession } from "../sessions.ts";
import { journalSession } from "../durable.ts";
import { publishConnected } from "../client_events.ts";
import { connectOverLimit } from "../limits.ts";
import { startEnhancedAuth } from "./auth.ts";
import { redirectCode } from "../redirect.ts";
import { type Client, ClientState, type WillSpec } from "../state.ts";

type ConnectIn = IConnectPacket & { raw?: Buffer };

/** Client identifiers of the bridges' own sessions on their broker; only trusted connections use them. */
export const BRIDGE_CLIENT_PREFIX = "$bridge/";

/** Handles the first packet of a connection. */
export function handleConnect(ctx: BrokerContext, c: Client, p: ConnectIn): void {
  const v = p.protocolVersion ?? 4;
  c.version = v;
  const h = ctx.hooks;
  if (h.connect !== undefined || h.connack !== undefined) {
    c.connectInfo = { clientId: p.clientId, username: p.username, keepalive: p.keepalive ?? 0 };
    h.connect?.(c, c.connectInfo);
  }
  const problem = _validate(p, v);
  if (problem !== null) {
    // MQTT 3 has no CONNACK code for a malformed CONNECT: close without one [MQTT-3.1.4-1].
    if (v === 5 || problem.code === RC.CLIENT_IDENTIFIER_NOT_VALID) {
      refuseConnect(ctx, c, problem.code, problem.message);
    } else disconnectClient(ctx, c, problem.code);
    return;
  }
  const over = connectOverLimit(ctx.opts, p);
  if (over !== null) {
    ctx.limits.hit(over.name, `a CONNECT from ${c.sink.remoteAddress} was refused: ${over.text}`, p.clientId);
    return refuseConnect(ctx, c, over.code, over.text);
  }
  if (ctx.opts.serverReference !== "" && c.sink.trusted !== true) {
    const ref = ctx.opts.serverReference;
    return refuseConnect(ctx, c, redirectCode(ctx), `Connect to ${ref}`, ref);
  }
  let clientId = p.clientId;
  let assigned: string | undefined;
  if (clientId === "") {
    if (v === 3 || (v === 4 && !p.clean)) {
      refuseConnect(
        ctx,
        c,
        RC.CLIENT_IDENTIFIER_NOT_VALID,
        "Empty client identifier needs a clean session [MQTT-3.1.3-8]",
      );
      return;
    }
    clientId = assigned = _assignId(ctx, c);
  }
  if (clientId.startsWith(BRIDGE_CLIENT_PREFIX) && c.sink.trusted !== true) {
    // the session of a bridge is its offline cache: no one else may take it over
    refuseConnect(
      ctx,
      c,
      RC.CLIENT_IDENTIFIER_NOT_VALID,
      `Client identifiers starting with ${BRIDGE_CLIENT_PREFIX} are reserved for the broker's bridges`,
    );
    return;
  }
  const keepalive = _keepalive(ctx, c, p.keepalive ?? 0);
  if (keepalive < 0) return;
  const certUser = c.sink.certUsername;
  if (certUser !== undefined) p.username = certUser; // the certificate, not the CONNECT, says who it is
  const auth = ctx.auth;
  const method = v === 5 ? p.properties?.authenticationMethod : undefined;
  if (auth === null || c.sink.trusted === true) {
    if (method === undefined) return _accept(ctx, c, p, clientId, assigned, keepalive);
    return refuseConnect(ctx, c, RC.BAD_AUTHENTICATION_METHOD, "No authentication method is configured");
  }
  const cert = c.sink.peerCertificate?.();
  const who: Identity = (c.identity = {
    clientId,
    username: p.username,
    ip: ipOf(c.sink.remoteAddress),
    port: c.sink.localPort ?? 0,
    protocol: c.version,
    certCn: cert?.cn,
    certSubject: cert?.subject,
  });
  if (method !== undefined) return _enhanced(ctx, c, p, method, [clientId, assigned, keepalive]);
  const verdict = auth.authenticate(who, p.password, certUser !== undefined);
  if (typeof verdict === "number") return _authenticated(ctx, c, p, verdict, [clientId, assigned, keepalive]);
  // the answer comes later: read nothing more from this connection until then
  if (c.holds++ === 0) c.sink.hold();
  void verdict.catch(() => RC.UNSPECIFIED_ERROR).then((code) => {
    if (c.state !== ClientState.New) return; // closed meanwhile
    _authenticated(ctx, c, p, code, [clientId, assigned, keepalive]);
    if (--c.holds === 0 && (c.state as ClientState) !== ClientState.Closed) c.sink.release();
  });
}

/** The client proves who it is by the CONNECT's Authentication Method (handle/auth.ts). */
function _enhanced(
  ctx: BrokerContext,
  c: Client,
  p: ConnectIn,
  method: string,
  pending: [string, string | undefined, number],
): void {
  const refuse = (code: number, reason: string) => refuseConnect(ctx, c, code, reason);
  startEnhancedAuth(ctx, c, method, p.properties?.authenticationData, (username, data) => {
    if (p.username !== undefined && p.username !== username) {
      return refuse(RC.BAD_USER_NAME_OR_PASSWORD, "The CONNECT's user name is not the one authenticated");
    }
    p.username = c.identity!.username = username;
    p.properties!.authenticationData = data; // the method's last word goes in CONNACK
    _authenticated(ctx, c, p, 0, pending);
  }, refuse);
}

function _authenticated(
  ctx: BrokerContext,
  c: Client,
  p: ConnectIn,
  code: number,
  [clientId, assigned, keepalive]: [string, string | undefined, number],
): void {
  if (code === 0) {
    const ok = p.will === undefined || mayPublishWill(ctx, c, p.will.topic);
    const go = (allowed: boolean): void => {
      if (allowed) _accept(ctx, c, p, clientId, assigned, keepalive);
      else refuseConnect(ctx, c, RC.NOT_AUTHORIZED, "Not authorized to publish to the will topic");
    };
    if (typeof ok === "boolean") return go(ok);
    if (c.holds++ === 0) c.sink.hold();
    void ok.then((allowed) => {
      if (c.state !== ClientState.New) return; // closed meanwhile
      go(allowed);
      if (--c.holds === 0 && (c.state as ClientState) !== ClientState.Closed) c.sink.release();
    });
    return;
  }
  ctx.metrics.authFailures++;
  const user = p.username === undefined ? "no user name" : `user "${p.username}"`;
  const why = code === RC.NOT_AUTHORIZED ? "not authorized" : "bad user name or password";
  ctx.deps.log.warn(`Authentication failed from ${c.sink.remoteAddress} (${user}): ${why}`, clientId);
  refuseConnect(ctx, c, code, why === "not authorized" ? "Not authorized" : "Bad user name or password");
}

/** The CONNECT is valid and authenticated: open the session and answer. */
function _accept(
  ctx: BrokerContext,
  c: Client,
  p: ConnectIn,
  clientId: string,
  assigned: string | undefined,
  keepalive: number,
): void {
  if (_tooManySessions(ctx, c, clientId)) return;
  const v = c.version;
  const props = p.properties ?? {};
  const cleanStart = p.clean ?? true;
  const expiry = v === 5 ? props.sessionExpiryInterval ?? 0 : cleanStart ? 0 : NEVER_EXPIRES;
  c.state = ClientState.Connected;
  c.username = p.username;
  _applyClientLimits(ctx, c, p);
  const present = openSession(ctx, c, clientId, cleanStart, expiry);
  c.session!.owner = c.sink.trusted === true ? null : identityOf(c);
  c.session!.will = _will(p, c.identity);
  journalSession(ctx, c.session!);
  c.keepaliveMs = keepalive * 1000;
  c.cleanStart = cleanStart;
  c.connectedAt = ctx.deps.now();
  c.deadline = c.connectedAt + c.keepaliveMs * ctx.opts.keepaliveMultiplier;
  const serverKa = keepalive !== (p.keepalive ?? 0) ? keepalive : -1;
  sendCtrl(c, _connack(ctx, c, p, present, assigned, serverKa));
  publishConnected(ctx, c);
  _connectedHooks(ctx, c, clientId);
  ctx.deps.log.info(
    `Connected from ${c.sink.remoteAddress} (MQTT level ${v}, ${
      p.username === undefined ? "no user name" : `user "${p.username}"`
    }, keep alive ${keepalive} s, session present ${present})`,
    clientId,
  );
}

/**
 * A new session would exceed mqtt.max_sessions: refuses `c` (Quota exceeded) and returns true. On a
 * multi-core broker each worker keeps its share: sessions are spread by client identifier hash.
 */
function _tooManySessions(ctx: BrokerContext, c: Client, clientId: string): boolean {
  const max = Math.ceil(ctx.opts.maxSessions / (ctx.peering?.port.count ?? 1));
  if (ctx.sessions.size < max || ctx.sessions.has(clientId) || c.sink.trusted === true) return false;
  ctx.limits.hit(
    "max_sessions",
    `a CONNECT from ${c.sink.remoteAddress} needed session ${max + 1}`,
    clientId,
  );
  refuseConnect(ctx, c, RC.QUOTA_EXCEEDED, `The broker keeps at most ${max} sessions (mqtt.max_sessions)`);
  return true;
}

/** Answers CONNACK with a failure code and closes [MQTT-3.2.2-6]. */
export function refuseConnect(
  ctx: BrokerContext,
  c: Client,
  code: number,
  reason: string,
  serverReference?: string,
): void {
  if (c.connectInfo !== null) ctx.hooks.connack?.(c, c.connectInfo, code);
  c.connectInfo = null;
  const p: MqttPacket = {
    cmd: "connack",
    sessionPresent: false,
    reasonCode: code,
    returnCode: toV3ConnackCode(code),
  };
  if (c.version === 5) {
    p.properties = { reasonString: reason };
    if (serverReference !== undefined) p.properties.serverReference = serverReference;
  }
  if (c.version === 0) c.version = 4;
  c.closeReason = `refused: ${reason}`;
  ctx.deps.log.info(`Refused a connection from ${c.sink.remoteAddress}: ${reason}`);
  sendCtrl(c, p);
  detachClient(ctx, c);
  c.sink.close();
}

/** The connack and connected events of an accepted client (the identifier may have been assigned). */
function _connectedHooks(ctx: BrokerContext, c: Client, clientId: string): void {
  const info = c.connectInfo;
  if (info !== null) {
    info.clientId = clientId;
    ctx.hooks.connack?.(c, info, 0);
    c.connectInfo = null;
  }
  ctx.hooks.connected?.(c);
}

function _validate(p: ConnectIn, v: number): MqttError | null {
  const raw = p.raw ?? Buffer.alloc(0);
  if (!isCleanString(p.clientId, raw)) {
    return new MqttError(
      RC.CLIENT_IDENTIFIER_NOT_VALID,
      "Client identifier is not valid UTF-8",
      "[MQTT-1.5.4-1]",
    );
  }
  if (p.username !== undefined && !isCleanString(p.username, raw)) {
    return new MqttError(RC.MALFORMED_PACKET, "User name is not valid UTF-8", "[MQTT-1.5.4-1]");
  }
  if (v < 5 && p.password !== undefined && p.username === undefined) {
    return new MqttError(RC.MALFORMED_PACKET, "Password without user name", "[MQTT-3.1.2-22]");
  }
  const props = p.properties;
  if (props?.receiveMaximum === 0) {
    return new MqttError(RC.PROTOCOL_ERROR, "Receive Maximum 0", "[MQTT-3.1.2-18]");
  }
  if (props?.maximumPacketSize === 0) {
    return new MqttError(RC.PROTOCOL_ERROR, "Maximum Packet Size 0", "[MQTT-3.1.2-24]");
  }
  if (props?.authenticationData !== undefined && props.authenticationMethod === undefined) {
    // MQTT 5 §3.1.2.11.10: it is a Protocol Error to include Authentication Data without a Method
    return new MqttError(RC.PROTOCOL_ERROR, "Authentication Data without an Authentication Method");
  }
  const w = p.will;
  if (w !== undefined) {
    if (!isValidTopicName(w.topic) || !isCleanString(w.topic, raw)) {
      return new MqttError(RC.TOPIC_NAME_INVALID, "Will topic is not a valid topic name", "[MQTT-3.1.3-11]");
    }
    const payload = typeof w.payload === "string" ? Buffer.from(w.payload) : w.payload;
    if (w.properties?.payloadFormatIndicator === true && !isValidUtf8(payload)) {
      return new MqttError(
        RC.PAYLOAD_FORMAT_INVALID,
        "Will payload is not UTF-8 as its format indicator says",
      );
    }
  }
  return null;
}

/** Returns the keep alive granted, or -1 after refusing the connection. */
function _keepalive(ctx: BrokerContext, c: Client, asked: number): number {
  const max = ctx.opts.maxKeepalive;
  if (asked <= max && (asked > 0 || max >= 65535)) return asked;
  if (c.version === 5) return max; // told to the client as Server Keep Alive [MQTT-3.2.2-21]
  if (asked === 0) return 0;
  // MQTT 3 cannot be told a smaller keep alive; Mosquitto refuses the same way.
  refuseConnect(
    ctx,
    c,
    RC.CLIENT_IDENTIFIER_NOT_VALID,
    `Keep alive ${asked} s exceeds the maximum of ${max} s`,
  );
  return -1;
}

function _applyClientLimits(ctx: BrokerContext, c: Client, p: ConnectIn): void {
  const props = p.properties ?? {};
  c.sendWindow = Math.min(props.receiveMaximum ?? 65535, ctx.opts.maxInflight);
  c.maxPacketSize = props.maximumPacketSize ?? 268435460;
  c.aliasMaxOut = props.topicAliasMaximum ?? 0;
  c.aliasOut = c.aliasMaxOut > 0 ? new Map() : null;
  c.problemInfo = props.requestProblemInformation !== false;
}

function _will(p: ConnectIn, by: Identity | null): WillSpec | null {
  const w = p.will;
  if (w === undefined) return null;
  const payload = Buffer.from(w.payload); // a copy: the will outlives the read buffer
  const { willDelayInterval, messageExpiryInterval, ...forwarded } = w.properties ?? {};
  return {
    topic: w.topic,
    payload,
    qos: w.qos ?? 0,
    retain: w.retain ?? false,
    props: p.protocolVersion === 5 ? encodePropertyBytes(forwarded) : null,
    expiry: messageExpiryInterval ?? -1,
    delay: willDelayInterval ?? 0,
    by,
  };
}

function _connack(
  ctx: BrokerContext,
  c: Client,
  connect: ConnectIn,
  present: boolean,
  assigned: string | undefined,
  serverKa: number,
): MqttPacket {
  const p: MqttPacket = { cmd: "connack", sessionPresent: present, reasonCode: 0, returnCode: 0 };
  if (c.version !== 5) return p;
  const o = ctx.opts;
  const props: NonNullable<typeof p.properties> = { topicAliasMaximum: o.topicAliasMaximum };
  if (o.maxInflight < 65535) props.receiveMaximum = o.maxInflight;
  const max = c.sink.maxPacketSize ?? o.maxPacketSize;
  if (max < 268435455) props.maximumPacketSize = max;
  if (assigned !== undefined) props.assignedClientIdentifier = assigned;
  if (serverKa >= 0) props.serverKeepAlive = serverKa;
  const asked = connect.properties;
  if (c.authMethod !== null) {
    props.authenticationMethod = c.authMethod;
    if (asked?.authenticationData !== undefined) props.authenticationData = asked.authenticationData;
  }
  if (asked?.requestResponseInformation === true && o.responseInformation !== "") {
    // [MQTT-3.1.2-28]: sent only when asked for
    props.responseInformation = o.responseInformation.replaceAll("%c", c.session!.clientId)
      .replaceAll("%u", c.username ?? "");
  }
  p.properties = props;
  return p;
}

/** A new client identifier; on a multi-core broker, one whose home is this worker (relay.ts). */
function _assignId(ctx: BrokerContext, c: Client): string {
  const base = `auto-${ctx.deps.now().toString(36)}-${c.id}`;
  const port = ctx.peering?.port;
  if (port === undefined) return base;
  let id = base;
  for (let k = 1; homeWorker(id, port.count) !== port.self; k++) id = `${base}-${k}`;
  return id;
}
