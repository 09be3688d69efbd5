/**
 * `broker conn`: connects -C clients, -I ms apart, prints each CONNACK (its properties with -v),
 * and holds the connections until the user interrupts or -W passes (exit 0), or the broker ends
 * one (exit 2).
 */
import type { Runtime } from "../runtime/runtime.ts";
import type { ClientError } from "./client_error.ts";
import type { ClientSettings } from "./client_flags.ts";
import { connectAll, disconnectAll, type ToolIo, untilDone } from "./client_run.ts";
import type { MqttClient } from "./mqtt_client.ts";

/** Runs conn; resolves with the ClientError that ended it, null when it ended as asked. */
export async function connCommand(rt: Runtime, s: ClientSettings, io: ToolIo): Promise<ClientError | null> {
  const clients: MqttClient[] = [];
  let lost: (e: ClientError) => void = () => {};
  const ended = new Promise<void>((_resolve, reject) => (lost = reject));
  const work = (async () => {
    clients.push(
      ...await connectAll(rt, s, io, [s.intervalMs, (c) => {
        const a = c.connack!;
        const props = s.verbose && a.properties !== undefined ? ` ${JSON.stringify(a.properties)}` : "";
        const id = a.properties?.assignedClientIdentifier ?? c.clientId;
        io.out(`${id} connected (session present: ${a.sessionPresent ? 1 : 0})${props}\n`);
        c.onClose = (e) => e !== null && lost(e);
      }]),
    );
    if (s.verbose) io.err(`${clients.length} connected; holding them until interrupted\n`);
    await ended;
  })();
  const e = await untilDone(rt, s, work, () => null);
  for (const c of clients) c.onClose = () => {};
  await disconnectAll(clients);
  return e;
}
