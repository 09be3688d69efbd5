/** Ours, for the dashboard (NanoMQ's API has none): the retained messages. */
import { isValidTopicFilter } from "../protocol/topic.ts";
import { isValidUtf8 } from "../protocol/utf8.ts";
import { ApiError, CODE, type Endpoint, ok, pageOf } from "./api_types.ts";

/** The payload as text when it is UTF-8, else base64, and which it is. */
function _payload(p: Buffer): { payload: string; encoding: "plain" | "base64" } {
  return isValidUtf8(p)
    ? { payload: p.toString("utf8"), encoding: "plain" }
    : { payload: p.toString("base64"), encoding: "base64" };
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
];
