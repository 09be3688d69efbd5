/**
 * `broker sub`: connects -C clients, subscribes each to every -t filter, and prints each message
 * as it arrives (payload; topic and payload with -v; JSON lines with --format json) until -L
 * messages came, the user interrupts (exit 0), -W passes (exit 3) or the broker ends it (exit 2).
 */
import type { Properties } from "../protocol/packets.ts";
import { reasonText } from "../protocol/reason_code.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { ClientError } from "./client_error.ts";
import type { ClientSettings } from "./client_flags.ts";
import { connectAll, disconnectAll, type ToolIo, untilDone } from "./client_run.ts";
import { formatMessage } from "./message_format.ts";
import type { MqttClient } from "./mqtt_client.ts";

/** Runs sub; resolves with the ClientError that ended it, null when it ended as asked. */
export async function subCommand(rt: Runtime, s: ClientSettings, io: ToolIo): Promise<ClientError | null> {
  const clients: MqttClient[] = [];
  let received = 0;
  let reachedLimit: () => void = () => {};
  let lost: (e: ClientError) => void = () => {};
  const ended = new Promise<void>((resolve, reject) => [reachedLimit, lost] = [resolve, reject]);
  const props: Properties | undefined = s.props.user === undefined
    ? undefined
    : { userProperties: s.props.user };
  const subs = s.topics.map((topic) => ({ topic, qos: s.qos, ...s.subscription }));
  const work = (async () => {
    const subscribed: Promise<void>[] = [];
    clients.push(
      ...await connectAll(rt, s, io, [s.intervalMs, (c) => {
        c.onMessage = (m) => {
          if (s.limit !== null && received >= s.limit) return;
          io.out(formatMessage(m, s.format, s.verbose));
          if (++received === s.limit) reachedLimit();
        };
        c.onClose = (e) => e !== null && lost(e);
        subscribed.push(_subscribe(c, subs, props));
      }]),
    );
    await Promise.all(subscribed);
    await ended;
  })();
  const e = await untilDone(
    rt,
    s,
    work,
    () =>
      new ClientError(
        "timeout",
        `-W ${s.timeoutMs! / 1000}: ${received} messages received, then the time was up`,
      ),
  );
  for (const c of clients) c.onClose = () => {};
  await disconnectAll(clients);
  return e;
}

/** Subscribes; a filter the broker refused is a ClientError naming it. */
async function _subscribe(
  c: MqttClient,
  subs: { topic: string; qos: 0 | 1 | 2 }[],
  props: Properties | undefined,
): Promise<void> {
  const granted = await c.subscribe(subs, props);
  granted.forEach((code, i) => {
    if (code >= 0x80) {
      const why = c.connack?.reasonCode === undefined ? `return code ${code}` : reasonText(code);
      throw new ClientError(
        "refused",
        `the server refused the subscription to "${subs[i]!.topic}": ${why}`,
        code,
      );
    }
  });
}
