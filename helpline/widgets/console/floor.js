// Supervisors: the floor (today's figures, who waits per skill, the counsellors, the waiting
// and the in-progress conversations, to monitor, put back in the queue or give to a
// colleague) and the alert when someone waits too long.
import { api, errorMessage } from "./api.js";
import { alertUser } from "./attention.js";
import { callMark, isCall } from "./calls.js";
import { h, replace } from "./dom.js";
import { duration, t } from "./i18n.js";
import { label, timeSpan, topicOf } from "./labels.js";
import { notice } from "./shell.js";
import { prefs, send, state, supervises } from "./state.js";
import { fillColleagues, loadColleagues } from "./transfer.js";

let loadingInProgress = false;

export async function loadInProgress() {
  if (!supervises() || loadingInProgress) return;
  loadingInProgress = true;
  const result = await api("GET", "/api/v1/supervisor/conversations");
  loadingInProgress = false;
  if (result.ok) {
    state.inProgress = result.data.conversations;
    renderFloor();
  }
}

export function renderFloor() {
  if (!state.ui || !supervises()) return;
  const focused = document.activeElement && document.activeElement.id === "alert-threshold";
  if (focused) return; // do not redraw under the supervisor's typing
  const o = state.overview;
  const today = o ? o.today : { contacts: 0, answered: 0, abandoned: 0, service_level: null, service_level_threshold_s: 60 };
  const level = today.service_level === null || today.service_level === undefined ? "—" : `${Math.round(today.service_level * 100)} %`;
  replace(state.ui.floorView,
    h("div", { class: "floor-head" }, h("h2", { text: t("floor") }),
      h("label", { class: "threshold", for: "alert-threshold" }, t("alert_threshold")), thresholdInput()),
    h("section", { class: "cards", "aria-label": t("today") },
      card(t("contacts_today"), today.contacts), card(t("answered"), today.answered),
      card(t("abandoned"), today.abandoned), card(t("service_level", { s: today.service_level_threshold_s }), level)),
    h("div", { class: "floor-grid" }, skillsPanel(o), staffPanel(o)),
    waitingPanel(),
    inProgressPanel());
}

export function checkWaitAlert() {
  const { ui } = state;
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

// The wait (in minutes) from which a skill's row is marked late and the alert shows.
function thresholdInput() {
  const threshold = h("input", { type: "number", id: "alert-threshold", min: "0", max: "240", step: "any",
    value: String(state.threshold) });
  threshold.addEventListener("change", () => {
    const value = Number(threshold.value);
    if (threshold.value === "" || value < 0) return;
    state.threshold = value;
    prefs.set("threshold", value);
    for (const row of state.ui.floorView.querySelectorAll(".skills-table tbody tr")) {
      row.classList.toggle("late", Number(row.dataset.wait) >= value * 60);
    }
    checkWaitAlert();
  });
  return threshold;
}

function card(title, value, extra) {
  return h("div", { class: `card${extra ? ` ${extra}` : ""}` }, h("span", { class: "card-title", text: title }),
    h("strong", { class: "card-value", text: String(value) }));
}

function skillsPanel(o) {
  return h("section", { class: "panel" }, h("h3", { text: t("waiting_per_skill") }),
    h("table", { class: "skills-table" },
      h("thead", {}, h("tr", {}, h("th", { text: t("skill") }), h("th", { text: t("waiting") }), h("th", { text: t("longest_wait") }))),
      h("tbody", {}, o && o.skills.length ? null : h("tr", {}, h("td", { colspan: "3", class: "empty", text: t("queue_empty") })),
        (o ? o.skills : []).map((s) => h("tr", { class: s.longest_wait_s >= state.threshold * 60 ? "late" : "", "data-wait": String(s.longest_wait_s) },
          h("td", { text: label("skill", s.skill) }), h("td", { text: String(s.waiting) }),
          h("td", {}, timeSpan(state.overviewAt, s.longest_wait_s, "since")))))),
    // Waiting chats whose young person has no widget open: they keep their place until the
    // grace period ends them, but count in nobody's place or wait.
    o && o.unattended ? h("p", { class: "unattended", role: "status", text: t("unattended", { n: o.unattended }) }) : null);
}

function staffPanel(o) {
  return h("section", { class: "panel" }, h("h3", { text: t("counsellors") }),
    h("table", { class: "staff-table" },
      h("thead", {}, h("tr", {}, [t("name"), t("status"), t("chats"), t("in_status"), t("connected")].map((x) => h("th", { text: x })))),
      h("tbody", {}, (o ? o.counsellors : []).map((x) => h("tr", { "data-counsellor": String(x.id) },
        h("td", { text: x.display_name }),
        h("td", {}, h("span", { class: `dot status-${x.status}` }), label("status", x.status)),
        h("td", { text: String(x.active_chats) }),
        h("td", {}, timeSpan(state.overviewAt, x.in_status_s, "since")),
        h("td", { text: x.connected ? t("yes") : t("no") }))))));
}

// What a listed conversation is about: no more than the lists show to everyone.
function describe(x) {
  return [isCall(x) ? [callMark(), " · "] : `${topicOf(x)} · `, label("skill", x.skill),
    x.counsellor ? ` · ${t("held_by", { name: x.counsellor })}` : ""];
}

// Put back in the queue, give to a colleague and, unless it is one's own, monitor.
function actions(x) {
  return h("span", { class: "row-actions" },
    h("button", { type: "button", class: "small", text: t("requeue"), onclick: () => openRedirect(x, false) }),
    h("button", { type: "button", class: "small", text: t("give_to"), onclick: () => openRedirect(x, true) }),
    x.counsellor_id === state.me.id ? null : h("button", { type: "button", class: "small", text: t("monitor"),
      onclick: () => send({ type: "monitor", contact_id: x.contact_id }) }));
}

function waitingPanel() {
  const listed = [...state.queue, ...state.queueMore];
  const left = state.queueTotal - listed.length;
  return h("section", { class: "panel waiting" }, h("h3", { text: t("queue") }),
    state.queueCounts.length ? h("table", { class: "queue-counts" },
      h("caption", { text: t("queue_counts") }),
      h("thead", {}, h("tr", {}, [t("priority"), t("channel"), t("skill"), t("queue_total"), t("longest_wait")]
        .map((x) => h("th", { scope: "col", text: x })))),
      h("tbody", {}, state.queueCounts.map((c) => h("tr", {},
        h("td", {}, h("span", { class: `prio prio-${c.priority}`, text: label("priority", c.priority) })),
        h("td", { text: label("channel", c.channel) }), h("td", { text: label("skill", c.skill) }),
        h("td", { text: String(c.waiting) }), h("td", {}, timeSpan(state.queueAt, c.longest_wait_s, "since")))))) : null,
    listed.length ? h("ul", { class: "progress-list waiting-list" }, listed.map((x) =>
      h("li", { "data-contact": x.contact_id },
        h("span", { class: `prio prio-${x.priority}`, text: label("priority", x.priority) }),
        h("span", {}, describe(x), " · ", timeSpan(state.queueAt, x.waited_s, "waited")),
        actions(x))))
      : h("p", { class: "empty", text: t("queue_empty") }),
    listed.length ? h("p", { class: "queue-shown", text: t("queue_shown", { shown: listed.length, total: state.queueTotal }) }) : null,
    left > 0 ? h("button", { type: "button", class: "small queue-more", text: t("queue_more", { n: left }),
      onclick: loadMoreQueue }) : null);
}

// The next page of the waiting list, after what is listed (the frame's first entries and the
// pages loaded since); a new queue frame starts again from its own first entries.
async function loadMoreQueue() {
  const offset = state.queue.length + state.queueMore.length;
  const result = await api("GET", `/api/v1/console/queue?offset=${offset}&limit=50`);
  if (!result.ok) {
    notice(errorMessage(result, t("error_generic")));
    return;
  }
  state.queueMore = [...state.queueMore, ...result.data.contacts];
  renderFloor();
  const more = state.ui.floorView.querySelector(".queue-more");
  if (more) more.focus(); // the keyboard stays where it was
}

function inProgressPanel() {
  return h("section", { class: "panel in-progress" }, h("h3", { text: t("in_progress") }),
    state.inProgress.length ? h("ul", { class: "progress-list" }, state.inProgress.map((x) =>
      h("li", { "data-contact": x.contact_id },
        h("span", { class: `prio prio-${x.priority}`, text: label("priority", x.priority) }),
        h("span", {}, describe(x)),
        actions(x))))
      : h("p", { class: "empty", text: t("none_in_progress") }));
}

// The dialog that puts a conversation back in the queue (for anyone) or gives it to a
// colleague who can take it now, once the supervisor confirms.
let redirecting = null; // {x: the listed conversation, give: to a colleague}

export function buildRedirectDialog() {
  const dialog = h("dialog", { class: "transfer-dialog redirect-dialog", id: "redirect-dialog",
    "aria-labelledby": "redirect-title" });
  const form = h("form", {},
    h("h2", { id: "redirect-title" }),
    h("p", { class: "redirect-what" }),
    h("p", { class: "redirect-explain" }),
    h("div", { class: "field redirect-to" },
      h("label", { for: "redirect-counsellor", text: t("transfer_counsellor") }),
      h("select", { id: "redirect-counsellor", name: "counsellor" })),
    h("p", { class: "redirect-nobody", role: "status", hidden: true, text: t("give_nobody") }),
    h("p", { class: "form-error", role: "alert", hidden: true }),
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "ghost", text: t("cancel"), onclick: () => dialog.close() }),
      h("button", { type: "submit", class: "primary" })));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitRedirect(dialog, form);
  });
  dialog.append(form);
  return dialog;
}

async function openRedirect(x, give) {
  redirecting = { x, give };
  const dialog = state.ui.root.querySelector("#redirect-dialog");
  const form = dialog.querySelector("form");
  const action = give ? "give_to" : "requeue";
  form.querySelector("#redirect-title").textContent = t(`${action}_title`);
  replace(form.querySelector(".redirect-what"), describe(x));
  form.querySelector(".redirect-explain").textContent = t(`${action}_explain`);
  form.querySelector(".form-error").hidden = true;
  let ready = 1;
  if (give) {
    await loadColleagues();
    ready = fillColleagues(form.elements.counsellor, x.counsellor_id ? [x.counsellor_id] : []);
  }
  form.querySelector(".redirect-to").hidden = !give;
  form.querySelector(".redirect-nobody").hidden = Boolean(ready);
  const submit = form.querySelector("button[type=submit]");
  submit.textContent = t(`${action}_confirm`);
  submit.disabled = !ready;
  dialog.showModal();
}

async function submitRedirect(dialog, form) {
  if (!redirecting) return;
  const { x, give } = redirecting;
  const submit = form.querySelector("button[type=submit]");
  const select = form.elements.counsellor;
  const body = give ? { counsellor_id: Number(select.value) } : {};
  submit.disabled = true;
  const result = await api("POST", `/api/v1/supervisor/contacts/${x.contact_id}/requeue`, body);
  submit.disabled = false;
  if (!result.ok) {
    const error = form.querySelector(".form-error");
    error.textContent = errorMessage(result, t("error_generic"));
    error.hidden = false;
    return;
  }
  redirecting = null;
  dialog.close();
  notice(give ? t("given_done", { name: select.selectedOptions[0].dataset.name }) : t("requeued_done"));
  loadInProgress();
}
