/**
 * The rule engine through the API (`/api/v4/rules`, NanoMQ's): list, show, create from
 * `{rawsql, actions: [{name, params}], description}`, change (`{"enabled": false}` too), delete.
 * A statement that does not parse is refused with the position of the fault. And (ours, for the
 * dashboard) the webhook's settings with its counters.
 */
import { ApiError, CODE, type Endpoint, type Handler, jsonBody, ok, RuleRefusal } from "./api_types.ts";

/** "3" and "rule:3" name the same rule. */
function _id(id: string | undefined): string {
  return /^\d+$/.test(id ?? "") ? `rule:${id}` : id ?? "";
}

async function _refusals<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (!(e instanceof RuleRefusal)) throw e;
    throw new ApiError(e.notFound ? 404 : 400, CODE.BAD_PARAMETER, e.message);
  }
}

const _show: Handler = (d, _req, [id]) => {
  const r = d.rules.list().find((x) => x.id === _id(id));
  if (r === undefined) {
    throw new ApiError(404, CODE.BAD_PARAMETER, `No rule ${_id(id)}; GET /api/v4/rules lists them`);
  }
  return ok({ data: r });
};

/** The endpoints of this file. */
export const RULE_ENDPOINTS: Endpoint[] = [
  {
    method: "GET",
    path: "rules",
    name: "list_rules",
    descr: "The rules, with what each matched and did",
    handler: (d) => ok({ data: d.rules.list() }),
  },
  { method: "GET", path: "rules/:id", name: "show_rule", descr: "One rule", handler: _show },
  {
    method: "POST",
    path: "rules",
    name: "create_rule",
    descr:
      'Create a rule: {"rawsql": "SELECT ...", "actions": [{"name": "repub|sqlite|webhook", "params": {...}}]}',
    handler: async (d, req) => ok({ data: await _refusals(d.rules.create(jsonBody(req))) }),
  },
  {
    method: "PUT",
    path: "rules/:id",
    name: "update_rule",
    descr: 'Change a rule: rawsql, actions, description, or {"enabled": false}',
    handler: async (d, req, [id]) => ok({ data: await _refusals(d.rules.update(_id(id), jsonBody(req))) }),
  },
  {
    method: "DELETE",
    path: "rules/:id",
    name: "delete_rule",
    descr: "Delete a rule",
    handler: async (d, _req, [id]) => {
      await _refusals(d.rules.remove(_id(id)));
      return ok();
    },
  },
  {
    method: "GET",
    path: "webhook",
    name: "get_webhook",
    descr: "Ours: the webhook's settings (secrets masked) and counters; data is null without a webhook",
    handler: (d) => {
      const counters = d.webhook();
      if (counters === null) return ok({ data: null });
      return ok({ data: { ...(d.config().webhook as Record<string, unknown> | undefined), ...counters } });
    },
  },
];
