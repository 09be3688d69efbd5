/**
 * Building the page: elements are made with text content only, never from HTML strings, since
 * everything shown (client identifiers, topics, payloads) comes from devices.
 */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | boolean | ((e: Event) => void)>;

/** An element with attributes (`on...` ones as listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "number" ? String(c) : c);
  }
  return el;
}

/** A table of `rows` under `head`; `empty` shown in place of no rows. */
export function table(head: string[], rows: Child[][], empty = "None"): HTMLTableElement {
  return h(
    "table",
    {},
    h("thead", {}, h("tr", {}, ...head.map((x) => h("th", {}, x)))),
    h(
      "tbody",
      {},
      ...(rows.length === 0
        ? [h("tr", {}, h("td", { colspan: String(head.length), class: "empty" }, empty))]
        : rows.map((r) => h("tr", {}, ...r.map((c) => h("td", {}, c))))),
    ),
  );
}

/** Replaces the children of `el`. */
export function put(el: Element, ...children: Child[]): void {
  el.replaceChildren(
    ...children.filter((c): c is Node | string | number => c !== null && c !== undefined && c !== false).map((
      c,
    ) => typeof c === "number" ? String(c) : c),
  );
}

/** A count as people read it: 1234567 -> "1.23M". */
export function count(n: number): string {
  if (n < 10_000) return String(Math.round(n));
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(2)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

/** Bytes as people read them. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** A labelled figure for the overview. */
export function stat(label: string, value: string, id?: string): HTMLElement {
  return h(
    "div",
    { class: "stat" },
    h("span", {}, label),
    h("strong", id === undefined ? {} : { id }, value),
  );
}
