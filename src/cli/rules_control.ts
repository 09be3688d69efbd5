/**
 * The rules made through the HTTP API: checked by building them, kept in a JSON file (written
 * whole, then renamed over the old one) so that they survive a restart, and handed to every
 * worker. The configuration's rules are shown but changed in the configuration.
 */
import { RuleRefusal, type RulesControl, type RuleView } from "../admin/api_types.ts";
import type { ActionSpec, LiveRule, RuleDef } from "../rules/rule_engine.ts";
import type { Runtime } from "../runtime/runtime.ts";
import type { Integrations } from "./integrations.ts";
import type { Settings } from "./load_settings.ts";

/** Where the API's rules are kept: `rules.api_rules_file`, else beside the configuration file. */
export function apiRulesPath(st: Settings): string {
  const set = st.loaded.config.rules?.api_rules_file ?? "";
  if (set !== "") return set;
  const dir = st.conf === null ? "." : st.conf.replace(/\/[^/]*$/, "") || "/";
  return `${dir === st.conf ? "." : dir}/nanomq_rules.json`;
}

/** The rules in the file; none when there is no file yet. A file that cannot be read is an error. */
export async function loadApiRules(rt: Runtime, path: string): Promise<RuleDef[]> {
  if (!rt.fileExists(path)) return [];
  const text = await rt.readTextFile(path);
  const list = JSON.parse(text) as unknown;
  if (!Array.isArray(list)) throw new Error(`${path} does not hold a list of rules`);
  return list.map((r: RuleDef) => ({ ...r, source: "api" as const }));
}

/** The API's control of the rules of `it`; `share` hands the new API rules to the other workers. */
export function rulesControl(
  rt: Runtime,
  it: Integrations,
  path: string,
  share: (defs: RuleDef[]) => void,
): RulesControl {
  const views = (): RuleView[] => {
    const live = new Map(it.engine.live.map((r) => [r.def.id, r]));
    const defs = [...it.engine.live.map((r) => r.def).filter((d) => d.source === "config"), ...it.apiRules];
    return defs.map((d) => _view(d, live.get(d.id)));
  };
  const commit = async (defs: RuleDef[]): Promise<void> => {
    const tmp = `${path}.new`;
    await rt.writeTextFile(tmp, JSON.stringify(defs.map(({ source: _s, ...d }) => d), null, 2));
    rt.renameFile(tmp, path);
    it.setApiRules(defs);
    share(defs);
  };
  const find = (id: string): RuleDef => {
    const def = it.apiRules.find((d) => d.id === id);
    if (def !== undefined) return def;
    if (views().some((v) => v.id === id)) {
      throw new RuleRefusal(false, `${id} comes from the configuration file: change it there and reload`);
    }
    throw new RuleRefusal(true, `No rule ${id}; GET /api/v4/rules lists them`);
  };
  const checked = (def: RuleDef): RuleDef => {
    try {
      it.check(def);
    } catch (e) {
      throw new RuleRefusal(false, (e as Error).message);
    }
    return def;
  };
  return {
    list: views,
    async create(body) {
      const used = views().map((v) => Number(v.id.replace("rule:", "")) || 0);
      const def = checked({
        id: `rule:${Math.max(0, ...used) + 1}`,
        ..._fields(body, { rawsql: undefined, actions: undefined, description: "", enabled: true }),
        source: "api",
      });
      await commit([...it.apiRules, def]);
      return _view(def, it.engine.live.find((r) => r.def.id === def.id));
    },
    async update(id, patch) {
      const old = find(id);
      const def = checked({ ...old, ..._fields(patch, old) });
      await commit(it.apiRules.map((d) => (d.id === id ? def : d)));
      return _view(def, it.engine.live.find((r) => r.def.id === id));
    },
    async remove(id) {
      find(id);
      await commit(it.apiRules.filter((d) => d.id !== id));
    },
  };
}

type Fields = Pick<RuleDef, "description" | "enabled"> & {
  rawsql: string | undefined;
  actions: ActionSpec[] | undefined;
};

/** The fields of a request body over `dflt`; a missing or mistyped one is a refusal naming it. */
function _fields(b: Record<string, unknown>, dflt: Fields): Omit<RuleDef, "id" | "source"> {
  const rawsql = b.rawsql ?? dflt.rawsql;
  if (typeof rawsql !== "string" || rawsql.trim() === "") {
    throw new RuleRefusal(
      false,
      'Give "rawsql": "SELECT <fields> FROM \\"<topic filter>\\" [WHERE <condition>]"',
    );
  }
  const actions = b.actions ?? dflt.actions;
  if (!Array.isArray(actions) || actions.length === 0 || !actions.every((a) => typeof a?.name === "string")) {
    throw new RuleRefusal(
      false,
      'Give "actions": [{"name": "repub" | "sqlite" | "webhook", "params": {...}}]',
    );
  }
  const enabled = b.enabled ?? dflt.enabled;
  if (typeof enabled !== "boolean") throw new RuleRefusal(false, '"enabled" must be true or false');
  return {
    rawsql,
    actions: actions.map((a: ActionSpec) => ({ name: a.name, params: a.params ?? {} })),
    description: String(b.description ?? dflt.description),
    enabled,
  };
}

function _view(d: RuleDef, live: LiveRule | undefined): RuleView {
  return {
    id: d.id,
    rawsql: d.rawsql,
    actions: d.actions.map((a) => ({ name: a.name, params: _masked(a.params) })),
    description: d.description,
    enabled: d.enabled,
    source: d.source,
    metrics: {
      matched: live?.matched ?? 0,
      passed: live?.passed ?? 0,
      actions: live?.actions.map((a) => ({ name: a.name, ...a.counters })) ?? [],
    },
  };
}

function _masked(p: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(p).map(([k, v]) => [k, /password/i.test(k) && v != null ? "******" : v]),
  );
}
