/** Why a client tool stopped: the kind decides its exit code, the message says what happened. */

/** refused: the broker said no (CONNACK, SUBACK or PUBACK code); timeout: no answer in time; closed: the connection ended; protocol: the broker broke the protocol; usage: bad flags. */
export type ClientErrorKind = "refused" | "timeout" | "closed" | "protocol" | "usage";

/** A failure of a client tool, with the MQTT reason code when the broker gave one. */
export class ClientError extends Error {
  constructor(readonly kind: ClientErrorKind, message: string, readonly code = 0) {
    super(message);
    this.name = "ClientError";
  }
}

/** The exit codes scripts can rely on: 0 ok, 1 usage, 2 refused or cut off by the broker, 3 timeout. */
export function exitCodeOf(e: ClientError): number {
  return e.kind === "usage" ? 1 : e.kind === "timeout" ? 3 : 2;
}
