// The counsellor and supervisor console. Plain ES modules, no build step. Every text that
// comes from a visitor or a colleague is put in the page as text, never as HTML.
// This module logs in, opens the console and keeps its socket; the server's events go to
// events.js, the frame is shell.js, a conversation's pane is pane.js.
import { api, errorMessage } from "./api.js";
import { clearAttention } from "./attention.js";
import { loadCanned } from "./composer.js";
import { h, replace } from "./dom.js";
import { handleEvent } from "./events.js";
import { checkWaitAlert, loadInProgress } from "./floor.js";
import { setLocale, t } from "./i18n.js";
import { tickTimes } from "./labels.js";
import { transmit } from "./messages.js";
import { buildShell, languageSwitch, render } from "./shell.js";
import { ConsoleSocket } from "./socket.js";
import { prefs, send, state, supervises } from "./state.js";
import { loadColleagues } from "./transfer.js";

const app = document.getElementById("app");

setLocale(prefs.get("lang", "fr"));
document.title = t("app_title");
start();

async function start() {
  const me = await api("GET", "/api/v1/auth/me");
  if (me.ok) openConsole(me.data);
  else showLogin();
}

function showLogin(message) {
  const error = h("p", { class: "form-error", role: "alert", hidden: !message, text: message || "" });
  const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true });
  const password = h("input", { id: "password", name: "password", type: "password",
    autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary", text: t("login") });
  const form = h("form", { class: "login-card", "aria-labelledby": "login-title" },
    h("div", { class: "login-head" }, h("h1", { id: "login-title", text: t("login_title") }), languageSwitch()),
    h("label", { for: "username", text: t("username") }), username,
    h("label", { for: "password", text: t("password") }), password,
    error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    const result = await api("POST", "/api/v1/auth/login", { username: username.value, password: password.value });
    submit.disabled = false;
    if (result.ok) {
      openConsole(result.data);
      return;
    }
    error.textContent = errorMessage(result, t("error_generic"));
    error.hidden = false;
    password.value = "";
    password.focus();
  });
  replace(app, h("main", { class: "login" }, form));
  username.focus();
}

async function logout() {
  if (state.socket) state.socket.stop();
  state.socket = null;
  await api("POST", "/api/v1/auth/logout");
  state.contacts.clear();
  showLogin();
}

function openConsole(me) {
  state.me = me;
  state.ui = buildShell(logout);
  replace(app, state.ui.root);
  render();
  state.socket = new ConsoleSocket({ hello: helloFrame, onEvent: handleEvent, onState: connectionChanged });
  state.socket.connect();
  loadColleagues();
  loadCanned();
  if (supervises()) loadInProgress();
  document.addEventListener("visibilitychange", () => { if (!document.hidden) clearAttention(); });
  document.addEventListener("pointerdown", clearAttention);
  document.addEventListener("keydown", clearAttention);
}

// Each (re)connection starts with the last message seen of each conversation still held.
function helloFrame() {
  const after = {};
  for (const [id, c] of state.contacts) {
    if (!c.monitor && !c.ended && !c.gone) after[id] = c.lastSeq;
  }
  return { type: "hello", after };
}

async function sessionStillValid() {
  const me = await api("GET", "/api/v1/auth/me");
  if (me.status === 401 && state.socket) {
    state.socket.stop();
    state.socket = null;
    state.contacts.clear();
    showLogin(errorMessage(me, t("error_generic")));
  }
}

// Back online: monitoring starts again and the messages not yet acknowledged are sent again.
function connectionChanged(live) {
  state.live = live;
  if (!live) sessionStillValid();
  if (live) {
    for (const c of state.contacts.values()) {
      if (c.monitor && !c.ended) send({ type: "monitor", contact_id: c.id });
      for (const [clientId, p] of c.pending) if (p.state !== "failed") transmit(c, clientId, p);
    }
  }
  render();
}

// Waiting times count up between server updates.
setInterval(() => {
  tickTimes();
  checkWaitAlert();
}, 1000);
