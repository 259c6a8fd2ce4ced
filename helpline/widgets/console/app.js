// The counsellor and supervisor console. Plain ES modules, no build step. Every text that
// comes from a visitor or a colleague is put in the page as text, never as HTML.
import { api, errorMessage } from "./api.js";
import { h, replace } from "./dom.js";
import { duration, locale, ordinal, setLocale, t } from "./i18n.js";
import { buildAdmin, renderAdmin } from "./admin.js";
import { ConsoleSocket } from "./socket.js";

const SEND_TIMEOUT_MS = 10000;
const TYPING_EVERY_MS = 3000;
const TYPING_SHOWN_MS = 5000;
const MAX_OPEN_PANES = 4;
const SKILLS = ["general", "psychological", "legal", "technical"];

const prefs = {
  get(name, fallback) {
    const value = localStorage.getItem(`helpline.console.${name}`);
    return value === null ? fallback : JSON.parse(value);
  },
  set(name, value) {
    localStorage.setItem(`helpline.console.${name}`, JSON.stringify(value));
  },
};

const state = {
  me: null,
  status: "offline",
  live: false,
  contacts: new Map(),
  offers: new Map(),
  queue: [],
  queueAt: Date.now(),
  overview: null,
  overviewAt: Date.now(),
  inProgress: [],
  colleagues: [],
  canned: [],
  taxonomy: null,
  attention: 0,
  view: "conversations",
  sound: prefs.get("sound", true),
  badge: prefs.get("badge", true),
  threshold: prefs.get("threshold", 5),
};

const app = document.getElementById("app");
let socket = null;
let ui = null;

// --- start --------------------------------------------------------------------------------

setLocale(prefs.get("lang", "fr"));
document.title = t("app_title");
start();

async function start() {
  const me = await api("GET", "/api/v1/auth/me");
  if (me.ok) openConsole(me.data);
  else showLogin();
}

function languageSwitch() {
  const select = h("select", { id: "lang", "aria-label": t("language"), class: "lang" },
    h("option", { value: "fr", text: "Français" }), h("option", { value: "en", text: "English" }));
  select.value = locale();
  select.addEventListener("change", () => {
    prefs.set("lang", select.value);
    location.reload();
  });
  return select;
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
  if (socket) socket.stop();
  socket = null;
  await api("POST", "/api/v1/auth/logout");
  state.contacts.clear();
  showLogin();
}

// --- the console's frame ---------------------------------------------------------------

function supervises() {
  return state.me && (state.me.role === "supervisor" || state.me.role === "admin");
}

function openConsole(me) {
  state.me = me;
  ui = buildShell();
  replace(app, ui.root);
  render();
  socket = new ConsoleSocket({ hello: helloFrame, onEvent: handleEvent, onState: connectionChanged });
  socket.connect();
  loadColleagues();
  loadCanned();
  if (supervises()) loadInProgress();
  document.addEventListener("visibilitychange", () => { if (!document.hidden) clearAttention(); });
  document.addEventListener("pointerdown", clearAttention);
  document.addEventListener("keydown", clearAttention);
}

function buildShell() {
  const statusButtons = ["available", "break", "offline"].map((status) =>
    h("button", { type: "button", class: `status-btn status-${status}`, "data-status": status,
      "aria-pressed": "false", text: t(`status_${status}`), onclick: () => setStatus(status) }));
  const sound = h("input", { type: "checkbox", id: "pref-sound", checked: state.sound });
  sound.addEventListener("change", () => { state.sound = sound.checked; prefs.set("sound", sound.checked); });
  const badge = h("input", { type: "checkbox", id: "pref-badge", checked: state.badge });
  badge.addEventListener("change", () => { state.badge = badge.checked; prefs.set("badge", badge.checked); updateTitle(); });
  const tabs = h("nav", { class: "tabs", "aria-label": t("app_title"), hidden: !supervises() },
    h("button", { type: "button", "data-view": "conversations", text: t("conversations_tab"),
      onclick: () => showView("conversations") }),
    h("button", { type: "button", "data-view": "floor", text: t("floor"), onclick: () => showView("floor") }),
    state.me.role === "admin" ? h("button", { type: "button", "data-view": "admin", text: t("admin_tab"),
      onclick: () => showView("admin") }) : null);
  const connection = h("span", { class: "connection", role: "status" });
  const root = h("div", { class: "shell" },
    h("header", { class: "topbar" },
      h("h1", { class: "brand", text: t("app_title") }),
      tabs,
      h("div", { class: "status-switch", role: "group", "aria-label": t("status_label") }, statusButtons),
      connection,
      h("div", { class: "prefs" },
        h("label", { class: "check" }, sound, t("sound")),
        h("label", { class: "check" }, badge, t("badge")),
        languageSwitch()),
      h("span", { class: "whoami", text: state.me.display_name }),
      h("button", { type: "button", class: "ghost", id: "logout", text: t("logout"), onclick: logout })),
    h("div", { class: "wait-alert", role: "alert", hidden: true }),
    h("div", { class: "notice-bar", role: "status", hidden: true }));
  const convList = h("ul", { class: "conv-list", "aria-label": t("my_conversations") });
  const offerList = h("ul", { class: "offer-list", "aria-label": t("offers") });
  const queueList = h("ul", { class: "queue-list", "aria-label": t("queue") });
  const panes = h("div", { class: "panes" });
  const conversationsView = h("section", { class: "workspace", id: "view-conversations" },
    h("aside", { class: "sidebar" },
      h("section", { class: "panel offers", hidden: true }, h("h2", { text: t("offers") }), offerList),
      h("section", { class: "panel" }, h("h2", { text: t("my_conversations") }), convList),
      h("section", { class: "panel" }, h("h2", {}, t("queue"), " ", h("span", { class: "count queue-count" })), queueList)),
    panes);
  const floorView = h("section", { class: "floor", id: "view-floor", hidden: true });
  const adminView = h("section", { class: "admin", id: "view-admin", hidden: true });
  root.append(h("main", { class: "content" }, conversationsView, floorView, adminView), buildTransferDialog(),
    buildBlockDialog());
  return { root, statusButtons, connection, convList, offerList, queueList, panes, floorView, adminView, tabs,
    alert: root.querySelector(".wait-alert"), notice: root.querySelector(".notice-bar") };
}

function showView(view) {
  state.view = view;
  ui.root.querySelector("#view-conversations").hidden = view !== "conversations";
  ui.floorView.hidden = view !== "floor";
  ui.adminView.hidden = view !== "admin";
  for (const button of ui.tabs.querySelectorAll("button")) {
    button.setAttribute("aria-current", button.dataset.view === view ? "page" : "false");
  }
  if (view === "floor") {
    loadInProgress();
    renderFloor();
  }
  if (view === "admin") {
    if (!ui.adminView.firstChild) ui.adminView.append(buildAdmin({ onCannedChanged: loadCanned }));
    renderAdmin();
  }
}

function notice(text, kind = "") {
  ui.notice.textContent = text;
  ui.notice.dataset.kind = kind;
  ui.notice.hidden = false;
}

// --- socket events ---------------------------------------------------------------------

function helloFrame() {
  const after = {};
  for (const [id, c] of state.contacts) {
    if (!c.monitor && !c.ended && !c.gone) after[id] = c.lastSeq;
  }
  return { type: "hello", after };
}

async function sessionStillValid() {
  const me = await api("GET", "/api/v1/auth/me");
  if (me.status === 401 && socket) {
    socket.stop();
    socket = null;
    state.contacts.clear();
    showLogin(errorMessage(me, t("error_generic")));
  }
}

function connectionChanged(live) {
  state.live = live;
  if (!live) sessionStillValid();
  if (live) {
    for (const c of state.contacts.values()) {
      if (c.monitor && !c.ended) socket.send({ type: "monitor", contact_id: c.id });
      for (const [clientId, p] of c.pending) if (p.state !== "failed") transmit(c, clientId, p);
    }
  }
  render();
}

function contactFor(id, info) {
  let c = state.contacts.get(id);
  if (!c) {
    c = { id, info: info || {}, messages: [], lastSeq: 0, unread: 0, pending: new Map(), ended: null,
      gone: null, open: false, monitor: false, typingAt: 0, since: Date.now(), wrapup: null, pane: null };
    state.contacts.set(id, c);
  } else if (info) {
    c.info = { ...c.info, ...info };
  }
  return c;
}

function handleEvent(event) {
  switch (event.type) {
    case "session":
      state.me = { ...state.me, ...event.counsellor };
      state.status = event.status;
      break;
    case "status":
      state.status = event.status;
      // Back to available: the "your phone did not answer, you are on break" notice is done.
      if (event.status === "available" && ui.notice.dataset.kind === "not_answered") ui.notice.hidden = true;
      break;
    case "offer":
      state.offers.set(event.contact.contact_id, { ...event, at: Date.now() });
      alertUser();
      break;
    case "offer_withdrawn":
      if (state.offers.delete(event.contact_id)) notice(t("offer_withdrawn"));
      break;
    case "transfer_failed": {
      const c = state.contacts.get(event.contact_id);
      if (c) { c.transferPending = false; c.error = t("transfer_failed"); }
      break;
    }
    case "assigned": {
      state.offers.delete(event.contact.contact_id);
      const known = state.contacts.has(event.contact.contact_id);
      const c = contactFor(event.contact.contact_id, event.contact);
      c.monitor = false;
      c.gone = null;
      if (!known) {
        c.since = Date.now();
        if ([...state.contacts.values()].filter((x) => x.open).length < MAX_OPEN_PANES) c.open = true;
        alertUser();
      }
      break;
    }
    case "monitoring": {
      const c = contactFor(event.contact.contact_id, event.contact);
      if (!c.info.waited_s) c.info.waited_s = 0;
      c.monitor = true;
      c.open = true;
      c.ended = event.contact.state === "queued" || event.contact.state === "assigned" ? null : "counsellor";
      showView("conversations");
      break;
    }
    case "unmonitored":
      forget(event.contact_id);
      break;
    case "message":
      onMessage(event);
      break;
    case "ack": {
      const c = state.contacts.get(event.contact_id);
      const p = c && c.pending.get(event.client_id);
      if (p) { p.state = "sent"; p.seq = event.seq; clearTimeout(p.timer); }
      if (c) renderPane(c);
      return renderSidebar();
    }
    case "typing": {
      const c = state.contacts.get(event.contact_id);
      if (c) {
        c.typingAt = Date.now();
        renderPane(c);
        setTimeout(() => renderPane(c), TYPING_SHOWN_MS + 50);
      }
      return;
    }
    case "ended": {
      const c = state.contacts.get(event.contact_id);
      if (c) { c.ended = event.reason; c.typingAt = 0; }
      break;
    }
    case "unassigned": {
      const c = state.contacts.get(event.contact_id);
      if (event.reason === "not_answered") { // the call went back to the queue; the server set us on break
        if (c) forget(c.id);
        notice(t("call_not_answered"), "not_answered");
        alertUser();
        break;
      }
      if (c) {
        c.gone = event.reason;
        for (const p of c.pending.values()) p.state = "failed";
      }
      break;
    }
    case "priority": {
      const c = state.contacts.get(event.contact_id);
      if (c) c.info.priority = event.priority;
      for (const q of state.queue) if (q.contact_id === event.contact_id) q.priority = event.priority;
      break;
    }
    case "queue":
      state.queue = event.contacts;
      state.queueAt = Date.now();
      break;
    case "overview":
      state.overview = event;
      state.overviewAt = Date.now();
      if (state.view === "floor") loadInProgress();
      break;
    case "error":
      onError(event);
      break;
    default:
      return;
  }
  render();
}

function onMessage(m) {
  const c = state.contacts.get(m.contact_id);
  if (!c || m.seq <= c.lastSeq) return;
  c.lastSeq = m.seq;
  c.messages.push(m);
  if (m.client_id && c.pending.has(m.client_id)) {
    clearTimeout(c.pending.get(m.client_id).timer);
    c.pending.delete(m.client_id);
  }
  if (m.sender === "visitor") {
    c.typingAt = 0;
    if (!c.open || document.hidden) c.unread += 1;
    if (!c.monitor) alertUser();
  }
  renderPane(c);
  renderSidebar();
}

function onError(event) {
  const c = event.contact_id && state.contacts.get(event.contact_id);
  if (c && event.client_id && c.pending.has(event.client_id)) {
    const p = c.pending.get(event.client_id);
    p.state = "failed";
    clearTimeout(p.timer);
  }
  if (c) { c.error = event.message; c.transferPending = false; }
  else notice(event.message);
}

function forget(id) {
  const c = state.contacts.get(id);
  if (c && c.pane) c.pane.remove();
  state.contacts.delete(id);
  render();
}

// --- attention: title badge and sound ----------------------------------------------------

let audio = null;

function alertUser() {
  state.attention += 1;
  updateTitle();
  if (!state.sound) return;
  try {
    audio = audio || new AudioContext();
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.0001, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.2, audio.currentTime + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.3);
  } catch {
    // No audio output: the badge is enough.
  }
}

function clearAttention() {
  if (!state.attention) return;
  state.attention = 0;
  updateTitle();
}

function updateTitle() {
  const base = t("app_title");
  document.title = state.badge && state.attention ? `(${state.attention}) ${base}` : base;
}

// --- actions ---------------------------------------------------------------------------

function setStatus(status) {
  socket && socket.send({ type: "status", status });
}

function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return "c" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function sendMessage(c, text) {
  if (!text.trim()) return;
  c.error = null;
  const clientId = newClientId();
  const p = { text, state: "sending", timer: null };
  c.pending.set(clientId, p);
  transmit(c, clientId, p);
  renderPane(c);
}

function transmit(c, clientId, p) {
  p.state = "sending";
  clearTimeout(p.timer);
  p.timer = setTimeout(() => {
    if (p.state === "sending") { p.state = "failed"; renderPane(c); }
  }, SEND_TIMEOUT_MS);
  socket.send({ type: "message", contact_id: c.id, client_id: clientId, text: p.text });
}

// --- rendering -------------------------------------------------------------------------

function render() {
  if (!ui) return;
  for (const button of ui.statusButtons) {
    button.setAttribute("aria-pressed", String(button.dataset.status === state.status));
  }
  ui.connection.textContent = state.live ? t("connection_live") : t("connection_lost");
  ui.connection.classList.toggle("down", !state.live);
  renderSidebar();
  for (const c of state.contacts.values()) renderPane(c);
  renderFloor();
  checkWaitAlert();
}

function label(prefix, value) {
  return value ? t(`${prefix}_${value}`) : "";
}

function topicOf(info) {
  const topic = (info.profile && info.profile.topic) || info.topic;
  return topic ? t(`topic_${topic}`) : t("topic_none");
}

// --- calls: what a counsellor is told about a phone contact -------------------------------

function isCall(info) {
  return Boolean(info) && info.channel === "voice";
}

// A caller key exists (so the caller can be blocked): the label is given, or the repeat
// count (counted only for a known number) is.
function hasCaller(info) {
  return isCall(info) && (Boolean(info.caller) || (info.profile || {}).repeat_calls !== undefined);
}

function callMark() {
  return h("span", { class: "channel-mark channel-voice" },
    h("span", { class: "channel-icon", "aria-hidden": "true", text: t("call_marker") }), t("channel_voice"));
}

function callerText(info) {
  if (info.caller) return t("caller_label", { id: info.caller });
  if (info.profile && !hasCaller(info)) return t("caller_hidden");
  return ""; // a queue entry (nothing known yet) or a monitored call whose label is not sent
}

// Role from the keypad, language, and how often this caller called lately.
function callFacts(info) {
  const profile = info.profile || {};
  const repeat = Number(profile.repeat_calls || 0);
  return [
    label("role", profile.role), profile.language ? t(`lang_${profile.language}`) : "",
    repeat > 0 ? t("repeat_calls", { nth: ordinal(repeat + 1) }) : "",
  ].filter(Boolean);
}

// The title of a contact in a list: the call marker and the caller, or the chat's topic.
function contactTitle(info, cls) {
  if (!isCall(info)) return h("span", { class: cls, text: topicOf(info) });
  const caller = callerText(info);
  return h("span", { class: `${cls} call-title` }, callMark(), caller ? h("span", { class: "caller", text: caller }) : null);
}

function timeSpan(startMs, baseS, template) {
  return h("span", { class: "ticking", "data-start": String(startMs), "data-base": String(baseS || 0),
    "data-template": template, text: t(template, { t: duration(baseS || 0) }) });
}

function renderSidebar() {
  ui.offerList.parentElement.hidden = !state.offers.size;
  replace(ui.offerList, [...state.offers.values()].map((o) =>
    h("li", { class: "offer-item", "data-contact": o.contact.contact_id },
      contactTitle(o.contact, "conv-topic"),
      h("span", { class: "conv-meta", text: [o.warm_transfer ? t("offer_warm") : t("offer_new"),
        ...(isCall(o.contact) ? callFacts(o.contact) : []), label("skill", o.contact.skill)].join(" · ") }),
      o.contact.note ? h("span", { class: "offer-note", text: t("handover_note", { note: o.contact.note }) }) : null,
      h("button", { type: "button", class: "primary small", text: t("accept"),
        onclick: () => socket.send({ type: "accept", contact_id: o.contact.contact_id }) }))));
  const own = [...state.contacts.values()].filter((c) => !c.monitor);
  replace(ui.convList, own.length ? own.map((c) => {
    const item = h("li", { class: `conv-item${c.open ? " open" : ""}${c.ended || c.gone ? " closed" : ""}`,
      "data-contact": c.id },
      h("button", { type: "button", class: "conv-open", onclick: () => { c.open = !c.open; c.unread = 0; render(); } },
        h("span", { class: `prio prio-${c.info.priority || "normal"}`, text: label("priority", c.info.priority || "normal") }),
        contactTitle(c.info, "conv-topic"),
        h("span", { class: "conv-meta" }, isCall(c.info) ? callFacts(c.info).map((x) => `${x} · `) : null,
          label("skill", c.info.skill), " · ",
          t("waited", { t: duration(c.info.waited_s || 0) }), " · ", timeSpan(c.since, 0, "since")),
        c.unread ? h("span", { class: "unread", "aria-label": t("unread", { n: c.unread }), text: String(c.unread) }) : null));
    return item;
  }) : h("li", { class: "empty", text: t("no_conversations") }));
  ui.root.querySelector(".queue-count").textContent = String(state.queue.length);
  replace(ui.queueList, state.queue.length ? state.queue.map((q) =>
    h("li", { class: "queue-item", "data-contact": q.contact_id },
      h("span", { class: `prio prio-${q.priority}`, text: label("priority", q.priority) }),
      contactTitle(q, "queue-topic"),
      h("span", { class: "queue-meta" }, isCall(q) ? callFacts(q).map((x) => `${x} · `) : `${label("channel", q.channel)} · `,
        label("skill", q.skill), " · ",
        timeSpan(state.queueAt, q.waited_s, "waited")),
      supervises() ? h("button", { type: "button", class: "small", text: t("monitor"),
        onclick: () => socket.send({ type: "monitor", contact_id: q.contact_id }) }) : null))
    : h("li", { class: "empty", text: t("queue_empty") }));
}

function buildPane(c) {
  const call = isCall(c.info); // a phone call: no messages, no typing, no canned responses
  const log = h("ol", { class: "log", "aria-live": "polite", "aria-label": t("conversation", { id: c.id.slice(0, 6) }) });
  const text = h("textarea", { class: "composer-text", rows: "2", "aria-label": t("message_label"),
    placeholder: t("message_label") });
  let typingSent = 0;
  const picker = h("ul", { class: "canned-picker", role: "listbox", "aria-label": t("canned_title"), hidden: true });
  let choices = [];
  let chosen = 0;
  const showPicker = () => {
    if (!text.value.startsWith("/")) { picker.hidden = true; return; }
    const words = text.value.slice(1).toLocaleLowerCase().split(/\s+/).filter(Boolean);
    choices = state.canned.filter((c) => words.every((w) => `${c.title} ${c.text}`.toLocaleLowerCase().includes(w))).slice(0, 8);
    chosen = Math.min(chosen, Math.max(0, choices.length - 1));
    replace(picker, choices.length ? choices.map((c, i) => h("li", { role: "option", class: "canned-option",
      "aria-selected": String(i === chosen), onmousedown: (e) => { e.preventDefault(); pick(c); } },
      h("strong", { text: c.title }), h("span", { text: c.text })))
      : h("li", { class: "empty", text: t("canned_none") }));
    picker.hidden = false;
  };
  const pick = (c) => {
    text.value = c.text;
    picker.hidden = true;
    text.focus();
  };
  text.addEventListener("input", showPicker);
  text.addEventListener("blur", () => { picker.hidden = true; });
  text.addEventListener("keydown", (event) => {
    if (!picker.hidden) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        chosen = (chosen + (event.key === "ArrowDown" ? 1 : -1) + choices.length) % Math.max(1, choices.length);
        showPicker();
        return;
      }
      if (event.key === "Escape") { picker.hidden = true; return; }
      if (event.key === "Enter" && choices.length) { event.preventDefault(); pick(choices[chosen]); return; }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      const value = text.value;
      text.value = "";
      sendMessage(c, value);
    }
  });
  text.addEventListener("input", () => {
    if (Date.now() - typingSent > TYPING_EVERY_MS && text.value) {
      typingSent = Date.now();
      socket.send({ type: "typing", contact_id: c.id });
    }
  });
  const send = h("button", { type: "button", class: "primary", text: t("send"),
    onclick: () => { const value = text.value; text.value = ""; sendMessage(c, value); text.focus(); } });
  const priority = h("select", { class: "priority-select", "aria-label": t("priority") },
    ["urgent", "high", "normal"].map((p) => h("option", { value: p, text: t(`priority_${p}`) })));
  priority.addEventListener("change", () => socket.send({ type: "priority", contact_id: c.id, priority: priority.value }));
  const endButton = h("button", { type: "button", class: "danger end", text: t("end") });
  const confirmEnd = h("span", { class: "confirm", hidden: true },
    h("span", { text: call ? t("hang_up_confirm") : t("end_confirm") }),
    h("button", { type: "button", class: "danger confirm-end", text: call ? t("hang_up") : t("end"),
      onclick: () => { socket.send({ type: "end", contact_id: c.id }); confirmEnd.hidden = true; } }),
    h("button", { type: "button", class: "ghost", text: t("cancel"), onclick: () => { confirmEnd.hidden = true; } }));
  endButton.addEventListener("click", () => { confirmEnd.hidden = false; });
  const transfer = h("button", { type: "button", class: "secondary transfer", text: t("transfer"),
    onclick: () => openTransfer(c) });
  const block = h("button", { type: "button", class: "danger block-caller", text: t("block_caller"), hidden: true,
    onclick: () => openBlock(c) });
  const blockStatus = h("p", { class: "block-status", role: "status", hidden: true },
    h("span", { class: "block-text" }),
    h("button", { type: "button", class: "secondary small unblock", text: t("unblock_caller"), onclick: () => unblockCaller(c) }));
  const hangUp = h("button", { type: "button", class: "danger hang-up", text: t("hang_up"),
    onclick: () => { confirmEnd.hidden = false; } });
  const callPanel = call ? h("section", { class: "call-panel", "aria-label": t("channel_voice") },
    h("p", { class: "call-state", role: "status" },
      h("span", { class: "channel-icon", "aria-hidden": "true", text: t("call_marker") }), h("span", { class: "call-state-text" })),
    h("p", { class: "call-hint" }), confirmEnd, hangUp) : null;
  const unmonitor = h("button", { type: "button", class: "secondary", text: t("unmonitor"),
    onclick: () => socket.send({ type: "unmonitor", contact_id: c.id }) });
  const close = h("button", { type: "button", class: "ghost close", text: t("close_pane"),
    onclick: () => { if (c.monitor) { socket.send({ type: "unmonitor", contact_id: c.id }); } else if (c.ended || c.gone) { forget(c.id); } else { c.open = false; render(); } } });
  const pane = h("article", { class: "pane", "data-contact": c.id },
    h("header", { class: "pane-head" },
      h("div", { class: "pane-title" },
        h("h2", { class: "pane-topic" }), h("p", { class: "pane-meta" })),
      h("div", { class: "pane-actions" }, priority, transfer, endButton, block, unmonitor, close)),
    call ? null : confirmEnd,
    h("p", { class: "handover", hidden: true }),
    h("p", { class: "monitor-flag", hidden: true, text: t("monitoring") }),
    blockStatus,
    call ? callPanel : log,
    call ? null : h("p", { class: "typing", hidden: true, text: t("typing") }),
    h("p", { class: "pending-transfer", role: "status", hidden: true, text: t("transfer_pending") }),
    h("p", { class: "pane-error", role: "alert", hidden: true }),
    h("div", { class: "pane-end", hidden: true }),
    call ? null : h("div", { class: "composer" }, picker, text, send),
    call ? null : h("p", { class: "hint", text: t("composer_hint") }));
  return { pane, log, text, priority, endButton, transfer, unmonitor, confirmEnd, block, blockStatus, callPanel, hangUp };
}

function renderPane(c) {
  if (!ui) return;
  if (!c.open) {
    if (c.pane) c.pane.hidden = true;
    return;
  }
  if (!c.pane) {
    c.parts = buildPane(c);
    c.pane = c.parts.pane;
    ui.panes.append(c.pane);
  }
  c.pane.hidden = false;
  c.unread = 0;
  const { pane, log, priority, endButton, transfer, unmonitor, block, blockStatus, callPanel, hangUp } = c.parts;
  const closed = Boolean(c.ended || c.gone);
  const call = isCall(c.info);
  pane.classList.toggle("monitor", c.monitor);
  pane.classList.toggle("closed", closed);
  pane.classList.toggle("call", call);
  const title = pane.querySelector(".pane-topic");
  if (call) replace(title, callMark(), callerText(c.info) ? h("span", { class: "caller", text: callerText(c.info) }) : null);
  else title.textContent = topicOf(c.info);
  const profile = c.info.profile || {};
  pane.querySelector(".pane-meta").textContent = [
    ...(call ? callFacts(c.info) : []),
    label("skill", c.info.skill), call ? "" : label("role", profile.role), profile.age_band ? profile.age_band.replace("_", "-") : "",
    call && c.info.waited_s ? t("waited", { t: duration(c.info.waited_s) }) : "",
    c.monitor && c.info.counsellor_id ? t("held_by", { name: holderName(c.info.counsellor_id) }) : "",
    `#${c.id.slice(0, 6)}`,
  ].filter(Boolean).join(" · ");
  priority.value = c.info.priority || "normal";
  priority.disabled = closed || (c.monitor && !supervises());
  endButton.hidden = call || c.monitor || closed; // a call ends with the call panel's hang-up
  transfer.hidden = c.monitor || closed;
  unmonitor.hidden = !c.monitor;
  block.hidden = !supervises() || !hasCaller(c.info) || Boolean(c.blockedUntil);
  blockStatus.hidden = !c.blockedUntil && !c.blockNote;
  blockStatus.querySelector(".block-text").textContent = c.blockedUntil
    ? t("block_done", { until: new Date(c.blockedUntil).toLocaleString(locale(), { dateStyle: "long", timeStyle: "short" }) })
    : c.blockNote || "";
  blockStatus.querySelector(".unblock").hidden = !c.blockedUntil;
  if (callPanel) {
    callPanel.hidden = closed;
    callPanel.querySelector(".call-state-text").textContent = c.monitor ? t("channel_voice") : t("call_in_progress");
    callPanel.querySelector(".call-hint").textContent = c.monitor ? t("call_monitor") : t("call_hint");
    hangUp.hidden = c.monitor || closed;
    if (closed) c.parts.confirmEnd.hidden = true;
  }
  const handover = pane.querySelector(".handover");
  handover.hidden = !c.info.note;
  handover.textContent = c.info.note ? t("handover_note", { note: c.info.note }) : "";
  pane.querySelector(".monitor-flag").hidden = !c.monitor;
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const items = c.messages.map((m) => messageItem(c, m.sender, m.text, m.sent_at, m.sender === "counsellor" ? "sent" : null));
  for (const [clientId, p] of c.pending) items.push(messageItem(c, "counsellor", p.text, null, p.state, clientId, p));
  replace(log, items);
  if (nearBottom) log.scrollTop = log.scrollHeight;
  const typing = pane.querySelector(".typing");
  if (typing) typing.hidden = closed || Date.now() - c.typingAt > TYPING_SHOWN_MS;
  pane.querySelector(".pending-transfer").hidden = !c.transferPending || closed;
  const error = pane.querySelector(".pane-error");
  error.hidden = !c.error;
  error.textContent = c.error || "";
  for (const el of pane.querySelectorAll(".composer, .hint")) el.hidden = c.monitor || closed;
  const end = pane.querySelector(".pane-end");
  end.hidden = !closed;
  if (!closed) delete end.dataset.done;
  if (closed && !end.dataset.done) {
    end.dataset.done = "1";
    const prefix = call ? "call_" : "";
    const reason = c.gone ? (c.gone === "transferred" ? t(`${prefix}transferred`) : t(`${prefix}requeued`))
      : t(`${prefix}ended_${c.ended}`);
    replace(end, h("p", { class: "end-notice", text: reason }));
    if (c.ended && !c.gone && !c.monitor) end.append(wrapupForm(c));
  }
}

function holderName(id) {
  const staff = (state.overview && state.overview.counsellors) || state.colleagues;
  const found = staff.find((x) => x.id === id);
  return found ? found.display_name : `#${id}`;
}

function messageItem(c, sender, text, sentAt, status, clientId, pending) {
  const who = sender === "counsellor" ? (c.monitor ? t("counsellor") : t("you")) : t(sender);
  const time = sentAt ? new Date(sentAt).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" }) : "";
  const item = h("li", { class: `msg from-${sender}${status ? ` state-${status}` : ""}` },
    h("div", { class: "msg-meta" }, h("span", { class: "who", text: who }), time ? h("time", { text: time }) : null),
    h("div", { class: "bubble", text }));
  if (status && !c.monitor) {
    item.append(h("div", { class: "msg-state" }, h("span", { text: t(status) }),
      status === "failed" && !c.gone && !c.ended ? h("button", { type: "button", class: "small retry", text: t("retry"),
        onclick: () => { transmit(c, clientId, pending); renderPane(c); } }) : null));
  }
  return item;
}

// --- wrap-up ---------------------------------------------------------------------------

function wrapupForm(c) {
  const form = h("form", { class: "wrapup", "aria-label": t("wrapup_title") }, h("h3", { text: t("wrapup_title") }));
  const status = h("p", { class: "wrapup-status", role: "status" });
  (async () => {
    if (!state.taxonomy) {
      const result = await api("GET", "/api/v1/taxonomy");
      if (!result.ok) { status.textContent = errorMessage(result, t("error_generic")); form.append(status); return; }
      state.taxonomy = result.data;
    }
    const tx = state.taxonomy;
    const name = (item) => item.label[locale()] || item.label.fr;
    const checks = (field, items) => h("fieldset", { class: `checks field-${field}` },
      h("legend", { text: t(`wrapup_${field}`) }),
      items.map((item) => h("label", { class: "check" },
        h("input", { type: "checkbox", name: field, value: item.id }), name(item))));
    const select = (field, items, optional) => {
      const el = h("select", { name: field, id: `${field}-${c.id}` },
        h("option", { value: "", text: optional ? t("wrapup_gender_none") : t("choose") }),
        items.map((item) => h("option", { value: item.id, text: name(item) })));
      return h("div", { class: "field" }, h("label", { for: `${field}-${c.id}`, text: t(`wrapup_${field}`) }), el);
    };
    const profile = c.info.profile || {};
    const note = h("textarea", { name: "note", id: `note-${c.id}`, rows: "3", maxlength: "4000" });
    const save = h("button", { type: "submit", class: "primary", text: t("wrapup_save") });
    form.append(
      checks("categories", tx.categories),
      h("div", { class: "row" }, select("contacted_by", tx.contacted_by), select("age_band", tx.age_bands),
        select("gender", tx.genders, true)),
      checks("platforms", tx.platforms),
      checks("outcomes", tx.outcomes),
      h("div", { class: "field" }, h("label", { for: `note-${c.id}`, text: t("wrapup_note") }), note),
      status, save);
    if (profile.role) form.elements.contacted_by.value = profile.role;
    if (profile.age_band) form.elements.age_band.value = profile.age_band;
  })();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = (field) => [...form.querySelectorAll(`input[name=${field}]:checked`)].map((i) => i.value);
    const body = {
      categories: values("categories"), contacted_by: form.elements.contacted_by.value,
      age_band: form.elements.age_band.value, gender: form.elements.gender.value || null,
      platforms: values("platforms"), outcomes: values("outcomes"), note: form.elements.note.value || null,
    };
    if (!body.categories.length || !body.contacted_by || !body.age_band || !body.outcomes.length) {
      status.textContent = t("wrapup_missing");
      status.className = "wrapup-status bad";
      return;
    }
    const result = await api("PUT", `/api/v1/contacts/${encodeURIComponent(c.id)}/wrapup`, body);
    status.textContent = result.ok ? t("wrapup_saved") : errorMessage(result, t("error_generic"));
    status.className = `wrapup-status ${result.ok ? "good" : "bad"}`;
    if (result.ok) c.wrapup = result.data;
  });
  return form;
}

// --- transfer --------------------------------------------------------------------------

let transferring = null;

function buildTransferDialog() {
  const dialog = h("dialog", { class: "transfer-dialog", id: "transfer-dialog", "aria-labelledby": "transfer-title" });
  const form = h("form", { method: "dialog" },
    h("h2", { id: "transfer-title", text: t("transfer_title") }),
    h("fieldset", { class: "target" },
      h("legend", { class: "sr-only", text: t("transfer_title") }),
      h("label", { class: "check" }, h("input", { type: "radio", name: "target", value: "counsellor", checked: true }), t("transfer_to_counsellor")),
      h("label", { class: "check" }, h("input", { type: "radio", name: "target", value: "skill" }), t("transfer_to_skill"))),
    h("div", { class: "field to-counsellor" },
      h("label", { for: "transfer-counsellor", text: t("transfer_counsellor") }),
      h("select", { id: "transfer-counsellor", name: "counsellor" })),
    h("div", { class: "field to-skill", hidden: true },
      h("label", { for: "transfer-skill", text: t("transfer_skill") }),
      h("select", { id: "transfer-skill", name: "skill" }, SKILLS.map((s) => h("option", { value: s, text: t(`skill_${s}`) })))),
    h("fieldset", { class: "modes" },
      h("legend", { text: t("transfer_mode") }),
      h("label", { class: "check" }, h("input", { type: "radio", name: "mode", value: "cold", checked: true }), t("transfer_cold")),
      h("label", { class: "check warm-choice" }, h("input", { type: "radio", name: "mode", value: "warm" }), t("transfer_warm"))),
    h("p", { class: "mode mode-cold", text: t("transfer_mode_cold") }),
    h("p", { class: "mode mode-call", hidden: true, text: t("call_transfer_cold_only") }),
    h("p", { class: "mode mode-warm", hidden: true, text: t("transfer_mode_warm") }),
    h("div", { class: "field" },
      h("label", { for: "transfer-note", text: t("transfer_note") }),
      h("textarea", { id: "transfer-note", name: "note", rows: "3", maxlength: "2000" })),
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "ghost", value: "cancel", text: t("cancel"), onclick: () => dialog.close() }),
      h("button", { type: "submit", class: "primary", text: t("transfer_submit") })));
  form.addEventListener("change", () => {
    const toSkill = form.elements.target.value === "skill";
    form.querySelector(".to-skill").hidden = !toSkill;
    form.querySelector(".to-counsellor").hidden = toSkill;
    const call = Boolean(transferring) && isCall(transferring.info);
    const warm = !call && form.elements.mode.value === "warm";
    form.querySelector(".mode-warm").hidden = !warm;
    form.querySelector(".mode-cold").hidden = warm || call;
    form.querySelector(".mode-call").hidden = !call;
  });
  form.addEventListener("submit", () => {
    if (!transferring) return;
    const to = form.elements.target.value === "skill"
      ? { skill: form.elements.skill.value } : { counsellor: Number(form.elements.counsellor.value) };
    const note = form.elements.note.value.trim();
    const mode = isCall(transferring.info) ? "cold" : form.elements.mode.value; // calls: cold only
    transferring.error = null;
    transferring.transferPending = mode === "warm";
    socket.send({ type: "transfer", contact_id: transferring.id, to, mode, ...(note ? { note } : {}) });
    renderPane(transferring);
    transferring = null;
  });
  dialog.append(form);
  return dialog;
}

async function loadCanned() {
  const result = await api("GET", "/api/v1/canned");
  if (result.ok) state.canned = result.data.responses;
}

async function loadColleagues() {
  const result = await api("GET", "/api/v1/console/colleagues");
  if (result.ok) state.colleagues = result.data.counsellors;
}

async function openTransfer(c) {
  transferring = c;
  await loadColleagues();
  const dialog = ui.root.querySelector("#transfer-dialog");
  const select = dialog.querySelector("#transfer-counsellor");
  replace(select, state.colleagues.filter((x) => x.id !== state.me.id).map((x) =>
    h("option", { value: String(x.id), text: `${x.display_name} (#${x.id}, ${t(`status_${x.status}`)})` })));
  dialog.querySelector("#transfer-note").value = "";
  // A call can only go back on hold (cold): the warm choice is not offered for it.
  const call = isCall(c.info);
  const form = dialog.querySelector("form");
  dialog.querySelector("#transfer-title").textContent = call ? t("call_transfer_title") : t("transfer_title");
  dialog.querySelector(".warm-choice").hidden = call;
  form.querySelector("input[name=mode][value=warm]").disabled = call;
  if (call) form.querySelector("input[name=mode][value=cold]").checked = true;
  form.dispatchEvent(new Event("change"));
  dialog.showModal();
}

// --- supervisors: blocking a caller ------------------------------------------------------

let blocking = null;
const BLOCK_HOURS = [[24, "block_24h"], [24 * 7, "block_7d"], [24 * 30, "block_30d"]];

function buildBlockDialog() {
  const dialog = h("dialog", { class: "transfer-dialog block-dialog", id: "block-dialog", "aria-labelledby": "block-title" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "danger", text: t("block_submit") });
  const form = h("form", { class: "block-form" },
    h("h2", { id: "block-title", text: t("block_title") }),
    h("p", { class: "block-who" }),
    h("p", { class: "mode", text: t("block_explain") }),
    h("fieldset", { class: "modes durations" },
      h("legend", { text: t("block_duration") }),
      BLOCK_HOURS.map(([hours, key], i) => h("label", { class: "check" },
        h("input", { type: "radio", name: "hours", value: String(hours), checked: i === 0 }), t(key)))),
    h("div", { class: "field" },
      h("label", { for: "block-reason", text: t("block_reason") }),
      h("input", { id: "block-reason", name: "reason", required: true, maxlength: "200", autocomplete: "off" })),
    error,
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "ghost", text: t("cancel"), onclick: () => dialog.close() }), submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const c = blocking;
    if (!c) return;
    const reason = form.elements.reason.value.trim();
    if (!reason) {
      error.textContent = t("block_reason_missing");
      error.hidden = false;
      form.elements.reason.focus();
      return;
    }
    submit.disabled = true;
    const result = await api("POST", `/api/v1/contacts/${encodeURIComponent(c.id)}/caller-block`,
      { hours: Number(form.elements.hours.value), reason });
    submit.disabled = false;
    if (!result.ok) {
      error.textContent = errorMessage(result, t("error_generic"));
      error.hidden = false;
      return;
    }
    c.blockedUntil = result.data.blocked_until;
    c.blockNote = null;
    blocking = null;
    dialog.close();
    renderPane(c);
  });
  form.elements.reason.addEventListener("input", () => { error.hidden = true; });
  dialog.append(form);
  return dialog;
}

function openBlock(c) {
  blocking = c;
  const dialog = ui.root.querySelector("#block-dialog");
  dialog.querySelector("form").reset();
  dialog.querySelector(".form-error").hidden = true;
  const who = dialog.querySelector(".block-who");
  who.textContent = callerText(c.info);
  who.hidden = !who.textContent;
  dialog.showModal();
}

async function unblockCaller(c) {
  const result = await api("DELETE", `/api/v1/contacts/${encodeURIComponent(c.id)}/caller-block`);
  if (result.ok || result.status === 404) { // 404: the block had already ended or been lifted
    c.blockedUntil = null;
    c.blockNote = result.ok ? t("unblock_done") : errorMessage(result, t("error_generic"));
  } else {
    c.error = errorMessage(result, t("error_generic"));
  }
  renderPane(c);
}

// --- supervisor: the floor -----------------------------------------------------------

let loadingInProgress = false;

async function loadInProgress() {
  if (!supervises() || loadingInProgress) return;
  loadingInProgress = true;
  const result = await api("GET", "/api/v1/supervisor/conversations");
  loadingInProgress = false;
  if (result.ok) {
    state.inProgress = result.data.conversations;
    renderFloor();
  }
}

function card(title, value, extra) {
  return h("div", { class: `card${extra ? ` ${extra}` : ""}` }, h("span", { class: "card-title", text: title }),
    h("strong", { class: "card-value", text: String(value) }));
}

function renderFloor() {
  if (!ui || !supervises()) return;
  const o = state.overview;
  const threshold = h("input", { type: "number", id: "alert-threshold", min: "0", max: "240", step: "any",
    value: String(state.threshold) });
  threshold.addEventListener("change", () => {
    const value = Number(threshold.value);
    if (threshold.value === "" || value < 0) return;
    state.threshold = value;
    prefs.set("threshold", value);
    for (const row of ui.floorView.querySelectorAll(".skills-table tbody tr")) {
      row.classList.toggle("late", Number(row.dataset.wait) >= value * 60);
    }
    checkWaitAlert();
  });
  const focused = document.activeElement && document.activeElement.id === "alert-threshold";
  if (focused) return; // do not redraw under the supervisor's typing
  const today = o ? o.today : { contacts: 0, answered: 0, abandoned: 0, service_level: null, service_level_threshold_s: 60 };
  const level = today.service_level === null || today.service_level === undefined ? "—" : `${Math.round(today.service_level * 100)} %`;
  replace(ui.floorView,
    h("div", { class: "floor-head" }, h("h2", { text: t("floor") }),
      h("label", { class: "threshold", for: "alert-threshold" }, t("alert_threshold")), threshold),
    h("section", { class: "cards", "aria-label": t("today") },
      card(t("contacts_today"), today.contacts), card(t("answered"), today.answered),
      card(t("abandoned"), today.abandoned), card(t("service_level", { s: today.service_level_threshold_s }), level)),
    h("div", { class: "floor-grid" },
      h("section", { class: "panel" }, h("h3", { text: t("waiting_per_skill") }),
        h("table", { class: "skills-table" },
          h("thead", {}, h("tr", {}, h("th", { text: t("skill") }), h("th", { text: t("waiting") }), h("th", { text: t("longest_wait") }))),
          h("tbody", {}, o && o.skills.length ? null : h("tr", {}, h("td", { colspan: "3", class: "empty", text: t("queue_empty") })),
            (o ? o.skills : []).map((s) => h("tr", { class: s.longest_wait_s >= state.threshold * 60 ? "late" : "", "data-wait": String(s.longest_wait_s) },
            h("td", { text: label("skill", s.skill) }), h("td", { text: String(s.waiting) }),
            h("td", {}, timeSpan(state.overviewAt, s.longest_wait_s, "since"))))))),
      h("section", { class: "panel" }, h("h3", { text: t("counsellors") }),
        h("table", { class: "staff-table" },
          h("thead", {}, h("tr", {}, [t("name"), t("status"), t("chats"), t("in_status"), t("connected")].map((x) => h("th", { text: x })))),
          h("tbody", {}, (o ? o.counsellors : []).map((x) => h("tr", { "data-counsellor": String(x.id) },
            h("td", { text: x.display_name }),
            h("td", {}, h("span", { class: `dot status-${x.status}` }), label("status", x.status)),
            h("td", { text: String(x.active_chats) }),
            h("td", {}, timeSpan(state.overviewAt, x.in_status_s, "since")),
            h("td", { text: x.connected ? t("yes") : t("no") }))))))),
    h("section", { class: "panel in-progress" }, h("h3", { text: t("in_progress") }),
      state.inProgress.length ? h("ul", { class: "progress-list" }, state.inProgress.map((x) =>
        h("li", { "data-contact": x.contact_id },
          h("span", { class: `prio prio-${x.priority}`, text: label("priority", x.priority) }),
          h("span", {}, isCall(x) ? [callMark(), " · "] : `${topicOf(x)} · `,
            `${label("skill", x.skill)} · ${t("held_by", { name: x.counsellor })}`),
          x.counsellor_id === state.me.id ? null : h("button", { type: "button", class: "small", text: t("monitor"),
            onclick: () => socket.send({ type: "monitor", contact_id: x.contact_id }) }))))
        : h("p", { class: "empty", text: t("none_in_progress") })));
}

function checkWaitAlert() {
  if (!ui || !supervises() || !state.overview) return;
  const elapsed = (Date.now() - state.overviewAt) / 1000;
  const late = state.overview.skills.filter((s) => s.waiting && s.longest_wait_s + elapsed >= state.threshold * 60);
  const was = !ui.alert.hidden;
  ui.alert.hidden = !late.length;
  if (late.length) {
    const worst = late.reduce((a, b) => (a.longest_wait_s > b.longest_wait_s ? a : b));
    ui.alert.textContent = t("alert_wait", { t: duration(worst.longest_wait_s + elapsed), skill: label("skill", worst.skill) });
    if (!was) alertUser();
  }
}

// Waiting times count up between server updates.
setInterval(() => {
  for (const el of document.querySelectorAll(".ticking")) {
    const seconds = Number(el.dataset.base) + (Date.now() - Number(el.dataset.start)) / 1000;
    el.textContent = t(el.dataset.template, { t: duration(seconds) });
  }
  checkWaitAlert();
}, 1000);
