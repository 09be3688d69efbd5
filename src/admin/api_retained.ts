/**
 * Our additions for the dashboard, which NanoMQ's API lacks: the retained messages, and the
 * webhook's settings with its counters.
 */
import { isValidTopicFilter } from "../protocol/topic.ts";
import { ApiError, CODE, type Endpoint, ok, pageOf } from "./api_types.ts";

const _utf8 = new TextDecoder("utf-8", { fatal: true });

/** The payload as text when it is UTF-8, else base64, and which it is. */
function _payload(p: Buffer): { payload: string; encoding: "plain" | "base64" } {
  try {
    return { payload: _utf8.decode(p), encoding: "plain" };
  } catch {
    return { payload: p.toString("base64"), encoding: "base64" };
  }
}

/** The endpoints of this file. */
export const RETAINED_ENDPOINTS: Endpoint[] = [
  {
    method: "GET",
    path: "retained",
    name: "list_retained",
    descr: "Retained messages matching ?topic= (a filter, default #), paged by _page and _limit",
    handler: (d, req) => {
      const filter = req.query.get("topic") ?? "#";
      if (!isValidTopicFilter(filter)) {
        throw new ApiError(400, CODE.BAD_PARAMETER, `"${filter}" is not a topic filter (try sensors/#)`);
      }
      const all = d.broker.retained(filter).sort((a, b) =>
        a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0
      );
      const { data, meta } = pageOf(req, all);
      return ok({
        data: data.map((m) => ({
          topic: m.topic,
          qos: m.qos,
          size: m.payload.length,
          ..._payload(m.payload),
          ...(m.expiresAt === 0 ? {} : { expires_at: new Date(m.expiresAt).toISOString() }),
        })),
        meta,
      });
    },
  },
  {
    method: "GET",
    path: "webhook",
    name: "get_webhook",
    descr: "The webhook's settings (secrets masked) and counters; data is null without a webhook",
    handler: (d) => {
      const counters = d.webhook();
      if (counters === null) return ok({ data: null });
      return ok({ data: { ...(d.config().webhook as Record<string, unknown> | undefined), ...counters } });
    },
  },
];
