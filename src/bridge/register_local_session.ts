/**
 * Creates the bridge's persistent session and its forward subscriptions on the local broker before
 * the first upstream connection, so that what is published before the uplink ever comes up is kept
 * for it too.
 */
import { type MqttPacket, ServerDecoder, writePacket } from "../protocol/codec.ts";
import { PacketWriter } from "../protocol/packet_writer.ts";
import { writeLocalConnect, writeLocalSubscribes } from "./local_session_packets.ts";
import type { BridgeOptions } from "./bridge_options.ts";
import { LocalPipe } from "./local_pipe.ts";
import type { Connection } from "../runtime/connection.ts";
import { MqttError } from "../protocol/reason_code.ts";

/**
 * Connects, unsubscribes `stale` filters (of rules since removed), subscribes every forward rule,
 * disconnects; resolves once the broker has answered.
 */
export function registerLocalSession(
  o: BridgeOptions,
  attachLocal: (c: Connection) => void,
  stale: readonly string[],
): Promise<void> {
  return new Promise((resolve, reject) => {
    const dec = new ServerDecoder(5);
    let pending = o.forwards.length + (stale.length > 0 ? 1 : 0);
    const pipe: LocalPipe = new LocalPipe(`bridge ${o.name}`, {
      bytes(buf) {
        dec.push(buf);
        for (let p = dec.next(); p !== null; p = dec.next()) {
          if (p.cmd === "connack" && (p.reasonCode ?? 0) !== 0) {
            reject(
              new MqttError(
                p.reasonCode!,
                `the local broker refused the bridge's session (0x${p.reasonCode!.toString(16)})`,
              ),
            );
          }
          if (p.cmd === "suback" || p.cmd === "unsuback") pending--;
        }
        if (pending === 0) queueMicrotask(() => finish());
        return true;
      },
      paused: () => {},
      closed: () => resolve(),
    });
    const w = new PacketWriter();
    let finished = false;
    // a cached message may come too (Receive Maximum 1): it stays in flight for the real connection
    const finish = (): void => {
      if (finished) return;
      finished = true;
      writePacket(w, { cmd: "disconnect" }, 5);
      pipe.push(w.take()!);
      pipe.destroy();
    };
    attachLocal(pipe);
    writeLocalConnect(w, o, 1);
    if (stale.length > 0) {
      writePacket(w, { cmd: "unsubscribe", messageId: 0xffff, unsubscriptions: [...stale] } as MqttPacket, 5);
    }
    writeLocalSubscribes(w, o);
    pipe.push(w.take()!);
    if (pending === 0) queueMicrotask(finish);
  });
}
