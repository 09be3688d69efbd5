/** The pages about where data goes and how the broker is set up: retained, bridges, rules, webhook, configuration. */
import { api, type Json } from "./api.ts";
import { bytes, count, h, put, stat, table } from "./dom.ts";
import type { Ctx, View } from "./view.ts";

/** How often the retained list is read again (a gateway may keep 100,000 of them). */
const RETAINED_EVERY_MS = 10_000;

/** Longest payload shown in a table cell. */
const PREVIEW = 200;

export function retainedView(): View {
  const filter = h("input", { type: "search", placeholder: "topic filter, e.g. sensors/#", value: "#" });
  const list = h("div");
  let ctxRef: Ctx | null = null;
  let fetched = 0;
  filter.addEventListener("change", () => {
    fetched = 0;
    ctxRef?.refresh();
  });
  return {
    title: "Retained",
    mount(el) {
      el.append(h("h2", {}, "Retained messages"), h("div", { class: "filters" }, filter), list);
    },
    async update(ctx) {
      ctxRef = ctx;
      // the broker matches and sorts every retained message for this list: not on every tick
      if (Date.now() - fetched < RETAINED_EVERY_MS) return;
      fetched = Date.now();
      const r = await api(`retained?topic=${encodeURIComponent(filter.value || "#")}&_limit=500`);
      put(
        list,
        table(
          ["Topic", "QoS", "Size", "Payload"],
          r.data.map((m: Json) => [
            m.topic,
            m.qos,
            `${m.size} B`,
            h(
              "code",
              {},
              (m.encoding === "base64" ? "base64: " : "") + m.payload.slice(0, PREVIEW) +
                (m.payload.length > PREVIEW ? "…" : ""),
            ),
          ]),
          "No retained message matches",
        ),
        r.meta.count > r.data.length && h("p", {}, `The first ${r.data.length} of ${r.meta.count}.`),
      );
    },
  };
}

/** Topics of a bridge's forwards or subscriptions, as NanoMQ's keys name them. */
function topics(list: Json[] | undefined, key: string): string {
  return (list ?? []).map((x) =>
    typeof x === "string" ? x : `${x[key]}${x.qos === undefined ? "" : ` (QoS ${x.qos})`}`
  ).join(", ");
}

export function bridgesView(): View {
  const list = h("div", { class: "cards" });
  let prev = new Map<string, { t: number; forwarded: number }>();
  return {
    title: "Bridges",
    mount(el) {
      el.append(h("h2", {}, "Bridges"), list);
    },
    async update(ctx) {
      const r = await api("bridges");
      const t = Date.now() / 1000;
      const next = new Map<string, { t: number; forwarded: number }>();
      const cards = r.bridges.map((b: Json) => {
        const p = prev.get(b.name);
        next.set(b.name, { t, forwarded: b.forwarded });
        const rate = p === undefined || t <= p.t ? "-" : count((b.forwarded - p.forwarded) / (t - p.t));
        return bridgeCard(ctx, b, rate);
      });
      prev = next;
      if (cards.length === 0) put(list, h("p", {}, "No bridge is configured (bridges.mqtt in nanomq.conf)."));
      else put(list, ...cards);
    },
  };
}

function bridgeCard(ctx: Ctx, b: Json, rate: string): HTMLElement {
  const on = b.state !== "stopped";
  return h(
    "section",
    { class: "card" },
    h(
      "header",
      {},
      h("h3", {}, b.name),
      h("span", { class: `state state-${b.state}`, "data-bridge-state": b.name }, b.state),
      h("button", {
        type: "button",
        class: on ? "danger" : "",
        "data-bridge-switch": b.name,
        onclick: () =>
          ctx.act(
            api(`bridges/switch/${encodeURIComponent(b.name)}`, "POST", { data: { bridge_switch: !on } }),
          ),
      }, on ? "Switch off" : "Switch on"),
    ),
    h(
      "div",
      { class: "stats" },
      stat("Cached", count(b.cached), `bridge-cached-${b.name}`),
      stat("Forwarded /s", rate),
      stat("Forwarded", count(b.forwarded)),
      stat("Received", count(b.received)),
      stat("Dropped", count(b.dropped)),
      stat("Saved by topic aliases", bytes(Math.max(0, b.aliasBytesSaved ?? 0))),
    ),
    table(["Server", "Forwards", "Subscriptions"], [[
      b.server,
      topics(b.forwards, "local_topic"),
      topics(b.subscription, "remote_topic"),
    ]]),
  );
}

export function rulesView(): View {
  const list = h("div");
  return {
    title: "Rules",
    mount(el) {
      el.append(h("h2", {}, "Rules"), list);
    },
    async update(ctx) {
      const r = await api("rules");
      put(
        list,
        table(
          ["Id", "SQL", "Actions", "Matched", "Passed", "Description", "Enabled", ""],
          r.data.map((x: Json) => [
            x.id,
            h("code", {}, x.rawsql),
            x.metrics.actions.map((a: Json) =>
              `${a.name}: ${count(a.ok)} ok, ${a.failed} failed, ${a.dropped} dropped`
            )
              .join("; "),
            count(x.metrics.matched),
            count(x.metrics.passed),
            x.description,
            x.enabled ? "yes" : "no",
            // the configuration's rules are changed in the file
            x.source === "api" &&
            h("button", {
              type: "button",
              onclick: () =>
                ctx.act(api(`rules/${encodeURIComponent(x.id)}`, "PUT", { enabled: !x.enabled })),
            }, x.enabled ? "Disable" : "Enable"),
          ]),
          "No rule (rules in nanomq.conf, or POST /api/v4/rules)",
        ),
      );
    },
  };
}

export function webhookView(): View {
  const body = h("div");
  return {
    title: "Webhook",
    mount(el) {
      el.append(h("h2", {}, "Webhook"), body);
    },
    async update() {
      const w = (await api("webhook")).data;
      if (w === null) return put(body, h("p", {}, "No webhook is configured (webhook in nanomq.conf)."));
      const events = (w.events ?? []) as Json[];
      put(
        body,
        table(["URL", "Queued", "Sent", "Failed", "Retries", "Dropped"], [[
          w.url,
          w.queued,
          count(w.sent),
          count(w.failed),
          count(w.retries),
          count(w.dropped),
        ]]),
        h("h3", {}, "Events"),
        table(["Event", "Topic"], events.map((e) => [e.event, e.topic ?? ""]), "No event is sent"),
      );
    },
  };
}

export function configView(): View {
  const pre = h("pre", { id: "config" });
  return {
    title: "Configuration",
    mount(el) {
      el.append(
        h("h2", {}, "Configuration"),
        h("p", {}, "As the broker runs it (read only, secrets masked)."),
        pre,
      );
    },
    async update() {
      const text = JSON.stringify((await api("configuration")).data, null, 2);
      if (pre.textContent !== text) pre.textContent = text;
    },
  };
}
