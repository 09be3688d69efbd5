/**
 * A bridge's SUBSCRIBE and UNSUBSCRIBE packets to upstream: every subscription rule at connect,
 * and rules added or removed while connected (the HTTP API's bridges/sub and bridges/unsub).
 * Refusals in the answers are logged with the filters they concern.
 */
import { type MqttPacket, type ServerPacket, writePacket } from "../protocol/codec.ts";
import type { PacketWriter } from "../protocol/packet_writer.ts";
import type { Logger } from "../broker/deps.ts";
import type { BridgeOptions, SubscriptionRule } from "./bridge_options.ts";

/** The packets of one upstream connection (a reconnect starts a new one). */
export class UpstreamSubscriptions {
  private nextId = 1;
  /** The filters of each SUBSCRIBE and UNSUBSCRIBE not answered yet, by packet identifier. */
  private readonly waiting = new Map<number, string[]>();

  constructor(private readonly o: BridgeOptions, private readonly log: Logger) {}

  /** Writes a SUBSCRIBE for `rules` with MQTT 5 `props`; returns its packet identifier. */
  subscribe(w: PacketWriter, rules: readonly SubscriptionRule[], props: Record<string, unknown>): number {
    const id = this._id();
    const sub: Record<string, unknown> = {
      cmd: "subscribe",
      messageId: id,
      subscriptions: rules.map((s) => ({ topic: s.filter, qos: s.qos, rap: s.rap, rh: s.rh })),
    };
    if (this.o.protoVer === 5 && Object.keys(props).length > 0) sub.properties = props;
    writePacket(w, sub as unknown as MqttPacket, this.o.protoVer);
    this.waiting.set(id, rules.map((r) => r.filter));
    return id;
  }

  /** Writes an UNSUBSCRIBE for `filters`; returns its packet identifier. */
  unsubscribe(w: PacketWriter, filters: readonly string[], props: Record<string, unknown>): number {
    const id = this._id();
    const unsub: Record<string, unknown> = { cmd: "unsubscribe", messageId: id, unsubscriptions: filters };
    // an UNSUBSCRIBE carries user properties only [MQTT-3.10.2.1]
    const user = props.userProperties;
    if (this.o.protoVer === 5 && user !== undefined) unsub.properties = { userProperties: user };
    writePacket(w, unsub as unknown as MqttPacket, this.o.protoVer);
    this.waiting.set(id, [...filters]);
    return id;
  }

  /** A SUBACK or UNSUBACK from upstream: logs what it refused. */
  answered(p: ServerPacket & { cmd: "suback" | "unsuback" }): void {
    const id = p.messageId ?? 0;
    const filters = this.waiting.get(id) ?? [];
    this.waiting.delete(id);
    const what = p.cmd === "suback" ? "subscription to" : "unsubscribe from";
    (p.granted ?? []).forEach((code, i) => {
      if (code < 0x80) return;
      this.log.warn(
        `Bridge ${this.o.name}: upstream refused the ${what} "${filters[i] ?? "?"}" (0x${code.toString(16)})`,
      );
    });
  }

  private _id(): number {
    const id = this.nextId;
    this.nextId = id === 0xffff ? 1 : id + 1;
    return id;
  }
}
