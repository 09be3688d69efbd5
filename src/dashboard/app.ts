/**
 * The dashboard: sign in with the HTTP API's credentials, then every two seconds read the
 * counters (for the overview's charts, whichever page is open) and the open page's data.
 */
import "./style.css";
import { api, ApiFailure, basicAuth, type Json, saveAuth, savedAuth, SignedOut } from "./api.ts";
import { push } from "./charts.ts";
import type { Ctx, View } from "./view.ts";
import { clientsView, overviewView, subscriptionsView, topicsView } from "./views.ts";
import { bridgesView, configView, retainedView, rulesView, webhookView } from "./views_more.ts";

const POLL_MS = 2000;

const VIEWS: Record<string, () => View> = {
  overview: overviewView,
  clients: clientsView,
  subscriptions: subscriptionsView,
  topics: topicsView,
  retained: retainedView,
  bridges: bridgesView,
  rules: rulesView,
  webhook: webhookView,
  config: configView,
};

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

const ctx: Ctx = {
  metrics: null,
  broker: null,
  rates: [],
  conns: [],
  refresh: () => void tick(),
  act: (work) =>
    void work.then(() => tick(), (e: Error) => {
      if (e instanceof SignedOut) return signOut("Your credentials are no longer accepted: sign in again.");
      showError(e);
    }),
};
let view: View | null = null;
let timer: ReturnType<typeof setTimeout> | undefined;
let running = false;
let again = false;
let last: { t: number; received: number; sent: number } | null = null;

async function sample(): Promise<void> {
  const [m, b] = await Promise.all([api("metrics"), api("brokers")]);
  ctx.metrics = m.data[0];
  ctx.broker = b.data[0];
  const t = Date.now() / 1000;
  const c: Json = ctx.metrics.metrics;
  if (last !== null && t > last.t) {
    const dt = t - last.t;
    push(ctx.rates, [
      t,
      (c["messages.received"] - last.received) / dt,
      (c["messages.sent"] - last.sent) / dt,
    ]);
  }
  push(ctx.conns, [t, c["client.connected"]]);
  last = { t, received: c["messages.received"], sent: c["messages.sent"] };
}

/** One refresh: the counters, then the open page. One at a time: asked during one, it runs again after. */
async function tick(): Promise<void> {
  if (running) {
    again = true;
    return;
  }
  running = true;
  clearTimeout(timer);
  try {
    await sample();
    await view?.update(ctx);
    $("error").hidden = true;
    $("live").textContent = `Live, ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    running = false;
    if (e instanceof SignedOut) return signOut("Your credentials are no longer accepted: sign in again.");
    showError(e as Error);
  }
  running = false;
  if (again) {
    again = false;
    return tick();
  }
  if (!$("app").hidden) timer = setTimeout(tick, POLL_MS);
}

function showError(e: Error): void {
  const err = $("error");
  err.textContent = e instanceof ApiFailure ? e.message : `The broker does not answer: ${e.message}`;
  err.hidden = false;
}

function open(): void {
  const name = location.hash.slice(1) in VIEWS ? location.hash.slice(1) : "overview";
  for (const a of document.querySelectorAll("nav a")) {
    a.classList.toggle("active", a.getAttribute("href") === `#${name}`);
  }
  view = VIEWS[name]!();
  const el = $("view");
  el.replaceChildren();
  view.mount(el);
  document.title = `${view.title} - broker`;
  void tick();
}

function signOut(why = ""): void {
  clearTimeout(timer);
  saveAuth(null);
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = why;
}

async function signIn(header: string): Promise<void> {
  await api("brokers", "GET", undefined, header);
  saveAuth(header);
  $("login").hidden = true;
  $("app").hidden = false;
  open();
}

async function start(): Promise<void> {
  const { auth } = await (await fetch("/dashboard/auth.json")).json() as { auth: string };
  const form = $<HTMLFormElement>("login");
  const jwt = auth === "jwt";
  $("login-basic").hidden = jwt;
  $("login-basic-pw").hidden = jwt;
  $("login-jwt").hidden = !jwt;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(form);
    const header = jwt
      ? `Bearer ${String(f.get("token")).trim()}`
      : basicAuth(String(f.get("username")), String(f.get("password")));
    signIn(header).catch((x) => {
      $("login-error").textContent = x instanceof SignedOut ? "Wrong credentials." : (x as Error).message;
    });
  });
  $("logout").addEventListener("click", () => signOut());
  addEventListener("hashchange", open);
  const saved = auth === "none" ? "" : savedAuth();
  if (saved === null) return signOut();
  await signIn(saved).catch(() => signOut());
}

void start();
