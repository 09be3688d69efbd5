/**
 * Topic Aliases the bridge sets toward an MQTT 5 upstream, for one connection (aliases do not
 * outlive it): each forwarded topic gets one while the upstream's Topic Alias Maximum allows; the
 * topic goes with its alias once and the alias alone after that; topics past the maximum go
 * without one.
 */
import type { PublishOut } from "../protocol/publish_codec.ts";

/** The bytes of a Topic Alias property (identifier and two-byte value). */
const ALIAS_BYTES = 3;

export class UpstreamAliases {
  private readonly aliases = new Map<string, number>();

  constructor(private readonly max: number, private readonly counters: { aliasSaved: number }) {}

  /** Sets `out.alias` for `out.topic`; returns the bytes of the topic name to write (0 once aliased). */
  apply(out: PublishOut, topicBytes: number): number {
    const known = this.aliases.get(out.topic);
    if (known !== undefined) {
      out.alias = known;
      this.counters.aliasSaved += topicBytes - ALIAS_BYTES;
      return 0;
    }
    if (this.aliases.size < this.max) {
      out.alias = this.aliases.size + 1;
      this.aliases.set(out.topic, out.alias);
      this.counters.aliasSaved -= ALIAS_BYTES;
    } else out.alias = 0;
    return topicBytes;
  }
}
