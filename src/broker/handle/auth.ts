/**
 * MQTT 5 enhanced authentication [MQTT-4.12]: the exchange of AUTH packets a CONNECT with an
 * Authentication Method starts, and re-authentication on a connected client (AUTH 0x19). The
 * methods themselves come from AuthHooks.enhanced (src/auth: SCRAM).
 */
import type { IAuthPacket } from "../../protocol/codec.ts";
import { MqttError, RC } from "../../protocol/reason_code.ts";
import type { AuthStep } from "../auth_port.ts";
import { sendCtrl } from "../client.ts";
import type { BrokerContext } from "../context.ts";
import { disconnectClient } from "../sessions.ts";
import { type Client, ClientState } from "../state.ts";

const CONTINUE = 0x18;
const REAUTHENTICATE = 0x19;

/**
 * Starts the exchange a CONNECT asked for; `connected` goes on with the CONNECT once the client
 * has proved who it is, `refuse` answers CONNACK with a failure.
 */
export function startEnhancedAuth(
  ctx: BrokerContext,
  c: Client,
  method: string,
  data: Buffer | undefined,
  connected: (username: string, data: Buffer) => void,
  refuse: (code: number, reason: string) => void,
): void {
  const ex = ctx.auth?.enhanced?.(method) ?? null;
  if (ex === null) {
    const offered = ctx.auth?.offered ?? [];
    return refuse(
      RC.BAD_AUTHENTICATION_METHOD,
      `Authentication method "${method}" is not supported` +
        (offered.length === 0 ? "" : `; the broker offers ${offered.join(", ")}`),
    );
  }
  c.authx = { method, ex, connected, refuse };
  _step(ctx, c, ex.first(data));
}

/** An AUTH packet from the client. */
export function handleAuth(ctx: BrokerContext, c: Client, p: IAuthPacket): void {
  const method = p.properties?.authenticationMethod;
  const data = p.properties?.authenticationData;
  const x = c.authx;
  if (c.state === ClientState.New) {
    if (x === null) throw new MqttError(RC.PROTOCOL_ERROR, "AUTH before CONNECT", "[MQTT-3.1.0-1]");
    if (p.reasonCode !== CONTINUE || method !== x.method) {
      return x.refuse!(RC.PROTOCOL_ERROR, "AUTH must continue the CONNECT's method [MQTT-4.12.0-4]");
    }
    return _step(ctx, c, x.ex.next(data));
  }
  if (c.authMethod === null) {
    return disconnectClient(ctx, c, RC.PROTOCOL_ERROR, "AUTH, but CONNECT chose no authentication method");
  }
  if (method !== c.authMethod) {
    return disconnectClient(ctx, c, RC.PROTOCOL_ERROR, "Re-authentication must use the CONNECT's method");
  }
  if (p.reasonCode === REAUTHENTICATE && x === null) {
    const ex = ctx.auth?.enhanced?.(method) ?? null;
    if (ex === null) return disconnectClient(ctx, c, RC.NOT_AUTHORIZED, `"${method}" is no longer offered`);
    c.authx = { method, ex, connected: null, refuse: null };
    return _step(ctx, c, ex.first(data));
  }
  if (p.reasonCode === CONTINUE && x !== null) return _step(ctx, c, x.ex.next(data));
  disconnectClient(ctx, c, RC.PROTOCOL_ERROR, `AUTH 0x${p.reasonCode.toString(16)} out of turn`);
}

function _step(ctx: BrokerContext, c: Client, step: AuthStep): void {
  const x = c.authx!;
  if (step.kind === "continue") {
    return sendCtrl(c, {
      cmd: "auth",
      reasonCode: CONTINUE,
      properties: { authenticationMethod: x.method, authenticationData: step.data },
    });
  }
  c.authx = null;
  if (step.kind === "fail") {
    ctx.metrics.authFailures++;
    ctx.deps.log.warn(
      `Enhanced authentication (${x.method}) failed from ${c.sink.remoteAddress}: ${step.reason}`,
      c.session?.clientId,
    );
    if (x.refuse !== null) return x.refuse(RC.BAD_USER_NAME_OR_PASSWORD, step.reason);
    return disconnectClient(ctx, c, RC.NOT_AUTHORIZED, `Re-authentication failed: ${step.reason}`);
  }
  if (x.connected !== null) {
    c.authMethod = x.method;
    return x.connected(step.username, step.data);
  }
  if (step.username !== c.username) {
    return disconnectClient(ctx, c, RC.NOT_AUTHORIZED, "Re-authentication must be as the same user");
  }
  ctx.deps.log.info(`Re-authenticated (${x.method})`, c.session?.clientId);
  sendCtrl(c, {
    cmd: "auth",
    reasonCode: 0,
    properties: { authenticationMethod: x.method, authenticationData: step.data },
  });
}
