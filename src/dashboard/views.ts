/** The pages about the broker and its clients: overview, clients, subscriptions, topic tree. */
import { api, type Json } from "./api.ts";
import { lineChart } from "./charts.ts";
import { bytes, count, h, put, stat, table } from "./dom.ts";
import type { Ctx, View } from "./view.ts";

export function overviewView(): View {
  const stats = h("div", { class: "stats" });
  const charts = { rates: h("div", { class: "chart" }), conns: h("div", { class: "chart" }) };
  let rates: ReturnType<typeof lineChart> | null = null;
  let conns: ReturnType<typeof lineChart> | null = null;
  return {
    title: "Overview",
    mount(el) {
      el.append(h("h2", {}, "Overview"), stats, charts.rates, charts.conns);
      rates = lineChart(charts.rates, "Messages per second", ["in", "out"], ["#2a7ab0", "#d9822b"]);
      conns = lineChart(charts.conns, "Connections", ["connected"], ["#3a9a5b"]);
    },
    update(ctx) {
      const m = ctx.metrics;
      const c = m.metrics;
      const last = ctx.rates[1]?.length ?? 0;
      const rate = (i: number) => last === 0 ? "-" : count(ctx.rates[i]![last - 1]!);
      put(
        stats,
        stat("Version", ctx.broker.version),
        stat("Uptime", ctx.broker.uptime),
        stat(
          "Connections",
          `${count(c["client.connected"])} (max ${count(c["client.max"])})`,
          "stat-connections",
        ),
        stat("Messages in /s", rate(1), "stat-rate-in"),
        stat("Messages out /s", rate(2), "stat-rate-out"),
        stat("Messages received", count(c["messages.received"]), "stat-received"),
        stat("Messages sent", count(c["messages.sent"])),
        stat("Dropped", count(c["messages.dropped"])),
        stat("Sessions", count(c["sessions.count"])),
        stat("Subscriptions", count(c["subscriptions.count"])),
        stat("Retained", count(c["retained.count"])),
        stat("Memory (RSS)", bytes(m.memory.rss)),
        stat("Heap used", bytes(m.memory.heap_used)),
        stat("Load 1/5/15 min", `${m.cpuinfo.load1} / ${m.cpuinfo.load5} / ${m.cpuinfo.load15}`),
      );
      rates?.update(ctx.rates);
      conns?.update(ctx.conns);
      return Promise.resolve();
    },
  };
}

/** Page controls under a list: "1-100 of 250", previous and next. */
function pager(onMove: (page: number) => void): { el: HTMLElement; show(meta: Json): void } {
  const el = h("p", { class: "pager" });
  return {
    el,
    show(meta) {
      const from = meta.count === 0 ? 0 : (meta.page - 1) * meta.limit + 1;
      const to = Math.min(meta.count, meta.page * meta.limit);
      put(
        el,
        `${from}-${to} of ${meta.count} `,
        meta.page > 1 && h("button", { type: "button", onclick: () => onMove(meta.page - 1) }, "Previous"),
        to < meta.count && h("button", { type: "button", onclick: () => onMove(meta.page + 1) }, "Next"),
      );
    },
  };
}

/** A query string of the non-empty fields. */
function query(fields: Record<string, string | number>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== "") q.set(k, String(v));
  return q.toString();
}

const LIMIT = 100;

/** proto_ver as people name the versions; "" is the filter for any. */
const VERSIONS: Record<string, string> = { "": "any version", 3: "3.1", 4: "3.1.1", 5: "5.0" };

export function clientsView(): View {
  const like = h("input", { type: "search", placeholder: "client id contains", id: "client-search" });
  const user = h("input", { type: "search", placeholder: "username" });
  const proto = h(
    "select",
    {},
    ...["", "3", "4", "5"].map((v) => h("option", { value: v }, VERSIONS[v])),
  );
  const list = h("div");
  let page = 1;
  let ctxRef: Ctx | null = null;
  const pages = pager((p) => {
    page = p;
    ctxRef?.refresh();
  });
  const changed = () => {
    page = 1;
    ctxRef?.refresh();
  };
  for (const c of [like, user, proto]) c.addEventListener("input", changed);
  return {
    title: "Clients",
    mount(el) {
      el.append(h("h2", {}, "Clients"), h("div", { class: "filters" }, like, user, proto), list, pages.el);
    },
    async update(ctx) {
      ctxRef = ctx;
      const q = query({
        _like_clientid: like.value,
        username: user.value,
        proto_ver: proto.value,
        _page: page,
        _limit: LIMIT,
      });
      const r = await api(`clients?${q}`);
      pages.show(r.meta);
      put(
        list,
        table(
          [
            "Client id",
            "Username",
            "Address",
            "Protocol",
            "Keep alive",
            "Connected at",
            "Subs",
            "Queued",
            "In flight",
            "",
          ],
          r.data.map((c: Json) => [
            c.client_id,
            c.username,
            c.is_bridge ? "(in the broker)" : `${c.ip_address}:${c.port}`,
            `MQTT ${VERSIONS[c.proto_ver] ?? c.proto_ver}`,
            `${c.keepalive} s`,
            c.connected_at,
            c.subscriptions_cnt,
            c.mqueue_len,
            c.inflight,
            c.is_bridge ? "bridge" : h("button", {
              type: "button",
              class: "danger",
              "data-kick": c.client_id,
              onclick: () => kick(ctx, c.client_id),
            }, "Kick"),
          ]),
          "No client is connected",
        ),
      );
    },
  };
}

function kick(ctx: Ctx, id: string): void {
  if (!confirm(`Disconnect ${id}? (DISCONNECT 0x98; its session stays if it is persistent)`)) return;
  ctx.act(api(`clients/${encodeURIComponent(id)}`, "DELETE"));
}

export function subscriptionsView(): View {
  const client = h("input", { type: "search", placeholder: "client id" });
  const list = h("div");
  let ctxRef: Ctx | null = null;
  client.addEventListener("input", () => ctxRef?.refresh());
  return {
    title: "Subscriptions",
    mount(el) {
      el.append(h("h2", {}, "Subscriptions"), h("div", { class: "filters" }, client), list);
    },
    async update(ctx) {
      ctxRef = ctx;
      const r = await api(`subscriptions?${query({ clientid: client.value, _limit: 1000 })}`);
      put(
        list,
        table(
          ["Client id", "Topic filter", "QoS", "Share group"],
          r.data.map((s: Json) => [s.clientid, s.topic, s.qos, s.share ?? ""]),
          "No subscription",
        ),
        r.meta.count > r.data.length && h("p", {}, `The first ${r.data.length} of ${r.meta.count}.`),
      );
    },
  };
}

/** NanoMQ's topic tree (one array per level, children counted) back into nested lists. */
function treeOf(levels: Json[][]): HTMLElement {
  const items = levels.map((row) => row.map((n: Json) => ({ n, li: h("li") })));
  items.forEach((row, d) => {
    let next = 0;
    for (const { n, li } of row) {
      const subscribers = (n.clientid ?? []) as string[];
      const label = h(
        "span",
        {},
        d === 0 ? "(root)" : n.topic,
        subscribers.length > 0 && h("small", {}, ` ${subscribers.join(", ")}`),
      );
      const kids = (items[d + 1] ?? []).slice(next, next + n.cld_cnt);
      next += n.cld_cnt;
      if (kids.length === 0) li.append(label);
      else {li.append(h(
          "details",
          { open: d < 3 },
          h("summary", {}, label),
          h("ul", {}, ...kids.map((k) => k.li)),
        ));}
    }
  });
  return h("ul", { class: "tree" }, items[0]?.[0]?.li);
}

export function topicsView(): View {
  const tree = h("div");
  return {
    title: "Topic tree",
    mount(el) {
      el.append(
        h("h2", {}, "Topic tree"),
        h("p", {}, "The subscribed filters by level, with their subscribers."),
        tree,
      );
    },
    async update() {
      const r = await api("topic-tree");
      // keep what the user opened or closed: redraw only when the tree changed
      const text = JSON.stringify(r.data);
      if (tree.dataset.text === text) return;
      tree.dataset.text = text;
      put(tree, treeOf(r.data));
    },
  };
}
