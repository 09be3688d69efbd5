/**
 * `broker pub`: connects, publishes the message (-m, -f, or each line of stdin with -l) to every
 * topic -L times, -I ms apart, from each of -C clients, waits for the acknowledgements, and
 * disconnects.
 */
import { encodePropertyBytes } from "../protocol/properties_codec.ts";
import { reasonText } from "../protocol/reason_code.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { ClientError } from "./client_error.ts";
import type { ClientSettings } from "./client_flags.ts";
import { connectAll, disconnectAll, type ToolIo, untilDone } from "./client_run.ts";
import type { MqttClient, PublishOptions } from "./mqtt_client.ts";

/** Runs pub; resolves with the ClientError that ended it, null when every message was acknowledged. */
export async function pubCommand(rt: Runtime, s: ClientSettings, io: ToolIo): Promise<ClientError | null> {
  const src = s.message!;
  if ("lines" in src && s.clients > 1) {
    throw new ClientError("usage", "-l, --stdin-line publishes from one client (-C 1)");
  }
  let payload: Buffer | null = null;
  if ("text" in src) payload = src.text;
  else if ("file" in src) {
    try {
      payload = await rt.readFile(src.file);
    } catch (e) {
      throw new ClientError("usage", `-f, --file ${src.file}: ${(e as Error).message}`);
    }
  }
  const userProps = s.props.user === undefined ? {} : { userProperties: s.props.user };
  const o: PublishOptions = {
    qos: s.qos,
    retain: s.retain,
    props: encodePropertyBytes({ ...s.props.message, ...userProps }),
  };
  const clients: MqttClient[] = [];
  const work = (async () => {
    clients.push(...await connectAll(rt, s, io, [0, () => {}]));
    const n = payload === null
      ? await _lines(rt, clients[0]!, s, o)
      : (await Promise.all(clients.map((c) => _repeat(rt, c, s, [payload, o])))).reduce((a, b) => a + b, 0);
    if (s.verbose) io.err(`Published ${n} messages\n`);
    await disconnectAll(clients);
  })();
  const e = await untilDone(
    rt,
    s,
    work,
    () => {
      const what = clients.length < s.clients ? "not connected" : "the messages were not all acknowledged";
      return new ClientError("timeout", `${what} within ${s.timeoutMs! / 1000} s (-W)`);
    },
  );
  if (e !== null) { for (const c of clients) c.destroy(); }
  return e;
}

/** Publishes the payload -L times to each topic; resolves with the count once all are acknowledged. */
async function _repeat(
  rt: Runtime,
  c: MqttClient,
  s: ClientSettings,
  [payload, o]: [Buffer, PublishOptions],
): Promise<number> {
  const acks: Promise<void>[] = [];
  const times = s.limit ?? 1;
  for (let i = 0; i < times; i++) {
    for (const t of s.topics) acks.push(_checked(c.publish(t, payload, o), t));
    if (s.intervalMs > 0 && i + 1 < times) await rt.sleep(s.intervalMs);
  }
  await Promise.all(acks);
  return acks.length;
}

/** Publishes each line of stdin as it comes. */
async function _lines(rt: Runtime, c: MqttClient, s: ClientSettings, o: PublishOptions): Promise<number> {
  const acks: Promise<void>[] = [];
  for await (const line of rt.stdinLines()) {
    for (const t of s.topics) acks.push(_checked(c.publish(t, Buffer.from(line), o), t));
  }
  await Promise.all(acks);
  return acks.length;
}

/** A refusal in the acknowledgement (MQTT 5 reason code 0x80 or more) is a ClientError. */
async function _checked(ack: Promise<number>, topic: string): Promise<void> {
  const code = await ack;
  // 0x10: no matching subscribers, which is no failure
  if (code >= 0x80) {
    throw new ClientError(
      "refused",
      `the server refused the message to "${topic}": ${reasonText(code)}`,
      code,
    );
  }
}
