// What every page shares: the poller that keeps it live, the live badge, toasts, crumbs.

import { hasToken, setToken } from "./api.js";
import { fill, h } from "./dom.js";

// Live pages ask the server at most once a second (each tick is one request), and less
// often once nothing moves.
export const FAST_MS = 1000;
export const SLOW_MS = 5000;

export class Poller {
  constructor(tick) {
    this.tick = tick;  // async () => whether something is still moving
    this.running = false;
    this.lastStart = 0;
    this.wake = null;
    this.onVisibility = () => { if (!document.hidden) this.poke(); };
  }

  start() {
    this.running = true;
    document.addEventListener("visibilitychange", this.onVisibility);
    this.loop();
    return this;
  }

  stop() {
    this.running = false;
    document.removeEventListener("visibilitychange", this.onVisibility);
    if (this.wake) this.wake();
  }

  // Ask again soon (after a user's action), still never twice within FAST_MS.
  poke() {
    this.soon = true;
    if (this.wake) this.wake();
  }

  async sleep(ms) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => { clearTimeout(timer); resolve(); };
    });
    this.wake = null;
  }

  async loop() {
    let moving = true;
    while (this.running) {
      const interval = moving || this.soon ? FAST_MS : SLOW_MS;
      const wait = this.lastStart + interval - Date.now();
      if (wait > 0) {
        await this.sleep(wait);
        if (!this.running) return;
        if (Date.now() < this.lastStart + FAST_MS) continue;  // woken early: keep the pace
      }
      if (document.hidden) {  // nobody looks: wait for the page to show again
        setLive("paused");
        await this.sleep(60_000);
        continue;
      }
      this.soon = false;
      this.lastStart = Date.now();
      try {
        moving = await this.tick();
        setLive(moving ? "live" : "idle");
      } catch (error) {
        moving = false;
        setLive(error.status === 401 ? "locked" : "error", error.message);
      }
    }
  }
}

export function setLive(state, detail = "") {
  const badge = document.getElementById("live");
  if (!badge) return;
  const text = { live: "Live", idle: "Up to date", paused: "Paused", error: "Reconnecting…",
                 locked: "Needs a token" };
  badge.className = `live live-${state}`;
  badge.title = detail || text[state];
  fill(badge, h("span", { class: "live-dot" }), text[state] || state);
}

export function toast(message, kind = "info") {
  const area = document.getElementById("toasts");
  const note = h("div", { class: `toast toast-${kind}`, role: "status" }, message);
  area.append(note);
  setTimeout(() => note.classList.add("toast-out"), 4000);
  setTimeout(() => note.remove(), 4600);
}

export function crumbs(...parts) {
  const nav = document.getElementById("crumbs");
  fill(nav, parts.map((part, index) => [
    index ? h("span", { class: "crumb-sep", "aria-hidden": "true" }, "/") : null,
    part.href ? h("a", { href: part.href }, part.text) : h("span", {}, part.text),
  ]));
  document.title = parts.length ? `${parts[parts.length - 1].text} · Jobmon` : "Jobmon";
}

export function notFound(root, message) {
  fill(root, h("section", { class: "card empty" }, h("h2", {}, "Not found"),
               h("p", {}, message), h("a", { href: "#/" }, "All workflows")));
}

// A shared server answers 401 without a token: ask for one, once, above the page.
export function askForToken(message) {
  if (document.getElementById("token-form")) return;
  const input = h("input", { type: "password", id: "token", name: "token", required: true,
                             autocomplete: "off", placeholder: "jm_…",
                             "aria-label": "API token" });
  const form = h("form", { id: "token-form", class: "card token-card", onsubmit: (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    window.location.reload();
  } },
    h("h2", {}, hasToken() ? "This token was not accepted" : "This server needs an API token"),
    h("p", { class: "muted" }, message ? `${message.replace(/[.\s]*$/, "")}. ` : "",
      "Ask an admin for one (`jobmon token create --user NAME`); this browser keeps it."),
    h("div", { class: "inline" }, input, h("button", { type: "submit", class: "button" },
                                          "Use token"),
      hasToken() ? h("button", { type: "button", class: "button ghost",
                                 onclick: () => { setToken(""); window.location.reload(); } },
                     "Forget token") : null));
  document.getElementById("main").prepend(form);
  input.focus();
}
