// The console's frame once logged in: the top bar (status, connection, preferences), the
// conversations / floor / hand-offs / statistics / planning / admin views and the dialogs; render() draws them
// all again.
import { buildAdmin, renderAdmin } from "./admin.js";
import { updateTitle } from "./attention.js";
import { buildBlockDialog } from "./block.js";
import { loadCanned } from "./composer.js";
import { h } from "./dom.js";
import { buildRedirectDialog, checkWaitAlert, loadInProgress, renderFloor } from "./floor.js";
import { buildHandoffDialog, buildHandoffsView, buildPrintSheet, loadHandoffs, renderHandoffBadge } from "./handoffs.js";
import { locale, t } from "./i18n.js";
import { renderPane } from "./pane.js";
import { buildPlanningView, loadPlanning } from "./planning.js";
import { renderSidebar } from "./sidebar.js";
import { buildStatisticsView } from "./statistics.js";
import { prefs, send, state, supervises } from "./state.js";
import { buildTransferDialog } from "./transfer.js";

export function languageSwitch() {
  const select = h("select", { id: "lang", "aria-label": t("language"), class: "lang" },
    h("option", { value: "fr", text: "Français" }), h("option", { value: "en", text: "English" }));
  select.value = locale();
  select.addEventListener("change", () => {
    prefs.set("lang", select.value);
    location.reload();
  });
  return select;
}

// The frame's parts that render() and the views fill in (state.ui).
export function buildShell(logout) {
  const top = topBar(logout);
  const root = h("div", { class: "shell" }, top.bar,
    h("div", { class: "wait-alert", role: "alert", hidden: true }),
    h("div", { class: "notice-bar", role: "status", hidden: true }));
  const lists = {
    convList: h("ul", { class: "conv-list", "aria-label": t("my_conversations") }),
    offerList: h("ul", { class: "offer-list", "aria-label": t("offers") }),
    queueList: h("ul", { class: "queue-list", "aria-label": t("queue") }),
    panes: h("div", { class: "panes" }),
  };
  const floorView = h("section", { class: "floor", id: "view-floor", hidden: true });
  const adminView = h("section", { class: "admin", id: "view-admin", hidden: true });
  const handoffsView = h("section", { class: "handoffs", id: "view-handoffs", hidden: true });
  const statisticsView = h("section", { class: "statistics", id: "view-statistics", hidden: true });
  const planningView = h("section", { class: "planning", id: "view-planning", hidden: true });
  root.append(h("main", { class: "content" }, conversationsView(lists), floorView, handoffsView, statisticsView,
    planningView, adminView),
    buildTransferDialog(), buildBlockDialog(), buildRedirectDialog(), buildHandoffDialog(), buildPrintSheet());
  return { root, ...top.parts, ...lists, floorView, adminView, handoffsView, statisticsView, planningView,
    alert: root.querySelector(".wait-alert"), notice: root.querySelector(".notice-bar") };
}

function topBar(logout) {
  const statusButtons = ["available", "break", "offline"].map((status) =>
    h("button", { type: "button", class: `status-btn status-${status}`, "data-status": status,
      "aria-pressed": "false", text: t(`status_${status}`), onclick: () => send({ type: "status", status }) }));
  const tabs = h("nav", { class: "tabs", "aria-label": t("app_title") },
    h("button", { type: "button", "data-view": "conversations", text: t("conversations_tab"),
      onclick: () => showView("conversations") }),
    supervises() ? h("button", { type: "button", "data-view": "floor", text: t("floor"), onclick: () => showView("floor") }) : null,
    h("button", { type: "button", "data-view": "handoffs", onclick: () => showView("handoffs") }, t("handoffs_tab"),
      h("span", { class: "count badge-awaiting", hidden: true }), h("span", { class: "count badge-failed", hidden: true })),
    supervises() ? h("button", { type: "button", "data-view": "statistics", text: t("stats_tab"),
      onclick: () => showView("statistics") }) : null,
    supervises() ? h("button", { type: "button", "data-view": "planning", text: t("planning_tab"),
      onclick: () => showView("planning") }) : null,
    state.me.role === "admin" ? h("button", { type: "button", "data-view": "admin", text: t("admin_tab"),
      onclick: () => showView("admin") }) : null);
  const connection = h("span", { class: "connection", role: "status" });
  const bar = h("header", { class: "topbar" },
    h("h1", { class: "brand", text: t("app_title") }),
    tabs,
    h("div", { class: "status-switch", role: "group", "aria-label": t("status_label") }, statusButtons),
    connection,
    h("div", { class: "prefs" }, preferenceCheck("sound"), preferenceCheck("badge"), languageSwitch()),
    h("span", { class: "whoami", text: state.me.display_name }),
    h("button", { type: "button", class: "ghost", id: "logout", text: t("logout"), onclick: logout }));
  return { bar, parts: { statusButtons, tabs, connection } };
}

// A yes/no preference kept in this browser: the sound, or the count in the page's title.
function preferenceCheck(name) {
  const box = h("input", { type: "checkbox", id: `pref-${name}`, checked: state[name] });
  box.addEventListener("change", () => {
    state[name] = box.checked;
    prefs.set(name, box.checked);
    if (name === "badge") updateTitle();
  });
  return h("label", { class: "check" }, box, t(name));
}

function conversationsView({ convList, offerList, queueList, panes }) {
  return h("section", { class: "workspace", id: "view-conversations" },
    h("aside", { class: "sidebar" },
      h("section", { class: "panel offers", hidden: true }, h("h2", { text: t("offers") }), offerList),
      h("section", { class: "panel" }, h("h2", { text: t("my_conversations") }), convList),
      h("section", { class: "panel" }, h("h2", {}, t("queue"), " ", h("span", { class: "count queue-count" })), queueList)),
    panes);
}

export function showView(view) {
  const { ui } = state;
  state.view = view;
  ui.root.querySelector("#view-conversations").hidden = view !== "conversations";
  ui.floorView.hidden = view !== "floor";
  ui.adminView.hidden = view !== "admin";
  ui.handoffsView.hidden = view !== "handoffs";
  ui.planningView.hidden = view !== "planning";
  ui.statisticsView.hidden = view !== "statistics";
  for (const button of ui.tabs.querySelectorAll("button")) {
    button.setAttribute("aria-current", button.dataset.view === view ? "page" : "false");
  }
  if (view === "floor") {
    loadInProgress();
    renderFloor();
  }
  if (view === "handoffs") {
    if (!ui.handoffsView.firstChild) buildHandoffsView(ui.handoffsView);
    loadHandoffs();
  }
  if (view === "planning") {
    if (!ui.planningView.firstChild) buildPlanningView(ui.planningView);
    loadPlanning();
  }
  if (view === "statistics" && !ui.statisticsView.firstChild) buildStatisticsView(ui.statisticsView);
  if (view === "admin") {
    if (!ui.adminView.firstChild) ui.adminView.append(buildAdmin({ onCannedChanged: loadCanned }));
    renderAdmin();
  }
}

export function notice(text, kind = "") {
  state.ui.notice.textContent = text;
  state.ui.notice.dataset.kind = kind;
  state.ui.notice.hidden = false;
}

export function render() {
  const { ui } = state;
  if (!ui) return;
  for (const button of ui.statusButtons) {
    button.setAttribute("aria-pressed", String(button.dataset.status === state.status));
  }
  ui.connection.textContent = state.live ? t("connection_live") : t("connection_lost");
  ui.connection.classList.toggle("down", !state.live);
  renderSidebar();
  for (const c of state.contacts.values()) renderPane(c);
  renderFloor();
  renderHandoffBadge();
  checkWaitAlert();
}
