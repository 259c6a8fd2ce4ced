// One conversation pane: its head (topic, facts, actions), the messages or the call panel,
// the composer, and once the conversation is over the end notice and the wrap-up form.
import { blockControls, renderBlockControls } from "./block.js";
import { buildCallPanel, callFacts, callHeading, isCall, renderCallPanel } from "./calls.js";
import { buildComposer } from "./composer.js";
import { h, replace } from "./dom.js";
import { emergencyMenu, renderEmergencyMenu } from "./emergency.js";
import { handoffButton } from "./handoffs.js";
import { duration, t } from "./i18n.js";
import { label, topicOf } from "./labels.js";
import { renderLog } from "./messages.js";
import { render } from "./shell.js";
import { send, state, supervises } from "./state.js";
import { openTransfer } from "./transfer.js";
import { wrapupForm } from "./wrapup.js";

const TYPING_SHOWN_MS = 5000;

export function renderPane(c) {
  if (!state.ui) return;
  if (!c.open) {
    if (c.pane) c.pane.hidden = true;
    return;
  }
  if (!c.pane) {
    c.parts = buildPane(c);
    c.pane = c.parts.pane;
    state.ui.panes.append(c.pane);
  }
  c.pane.hidden = false;
  c.unread = 0;
  const closed = Boolean(c.ended || c.gone);
  renderHead(c, closed);
  renderBlockControls(c, c.parts);
  renderEmergencyMenu(c, c.parts.emergency, closed);
  if (c.parts.callPanel) renderCallPanel(c, c.parts.callPanel, closed);
  renderBody(c, closed);
  renderEnd(c, closed);
}

// The visitor is typing: shown for a few seconds unless told again.
export function showTyping(c) {
  c.typingAt = Date.now();
  renderPane(c);
  setTimeout(() => renderPane(c), TYPING_SHOWN_MS + 50);
}

export function forget(id) {
  const c = state.contacts.get(id);
  if (c && c.pane) c.pane.remove();
  state.contacts.delete(id);
  render();
}

function buildPane(c) {
  const call = isCall(c.info); // a phone call: no messages, no typing, no canned responses
  const log = h("ol", { class: "log", "aria-live": "polite", "aria-label": t("conversation", { id: c.id.slice(0, 6) }) });
  const actions = paneActions(c, call);
  const { block, blockStatus } = blockControls(c);
  const callPanel = call ? buildCallPanel(actions.confirmEnd) : null;
  const emergency = emergencyMenu(c, call);
  const pane = h("article", { class: "pane", "data-contact": c.id },
    h("header", { class: "pane-head" },
      h("div", { class: "pane-title" },
        h("h2", { class: "pane-topic" }), h("p", { class: "pane-meta" })),
      h("div", { class: "pane-actions" }, actions.priority, actions.handoff, actions.transfer, actions.endButton, block,
        actions.unmonitor, actions.close)),
    call ? null : actions.confirmEnd,
    h("p", { class: "handover", hidden: true }),
    h("p", { class: "monitor-flag", hidden: true, text: t("monitoring") }),
    blockStatus,
    emergency,
    call ? callPanel : log,
    call ? null : h("p", { class: "typing", hidden: true, text: t("typing") }),
    call ? null : h("p", { class: "visitor-away", role: "status" }),
    h("p", { class: "pending-transfer", role: "status", hidden: true, text: t("transfer_pending") }),
    h("p", { class: "pane-error", role: "alert", hidden: true }),
    h("div", { class: "pane-end", hidden: true }),
    call ? null : buildComposer(c),
    call ? null : h("p", { class: "hint", text: t("composer_hint") }));
  return { pane, log, ...actions, block, blockStatus, callPanel, emergency };
}

function paneActions(c, call) {
  const priority = h("select", { class: "priority-select", "aria-label": t("priority") },
    ["urgent", "high", "normal"].map((p) => h("option", { value: p, text: t(`priority_${p}`) })));
  priority.addEventListener("change", () => send({ type: "priority", contact_id: c.id, priority: priority.value }));
  const endButton = h("button", { type: "button", class: "danger end", text: t("end") });
  const confirmEnd = h("span", { class: "confirm", hidden: true },
    h("span", { text: call ? t("hang_up_confirm") : t("end_confirm") }),
    h("button", { type: "button", class: "danger confirm-end", text: call ? t("hang_up") : t("end"),
      onclick: () => { send({ type: "end", contact_id: c.id }); confirmEnd.hidden = true; } }),
    h("button", { type: "button", class: "ghost", text: t("cancel"), onclick: () => { confirmEnd.hidden = true; } }));
  endButton.addEventListener("click", () => { confirmEnd.hidden = false; });
  return {
    priority, endButton, confirmEnd,
    handoff: handoffButton(c),
    transfer: h("button", { type: "button", class: "secondary transfer", text: t("transfer"),
      onclick: () => openTransfer(c) }),
    unmonitor: h("button", { type: "button", class: "secondary", text: t("unmonitor"),
      onclick: () => send({ type: "unmonitor", contact_id: c.id }) }),
    close: h("button", { type: "button", class: "ghost close", text: t("close_pane"), onclick: () => closePane(c) }),
  };
}

// Monitoring stops; a finished conversation is forgotten; a live one is only put away.
function closePane(c) {
  if (c.monitor) {
    send({ type: "unmonitor", contact_id: c.id });
  } else if (c.ended || c.gone) {
    forget(c.id);
  } else {
    c.open = false;
    render();
  }
}

function renderHead(c, closed) {
  const { pane, priority, endButton, handoff, transfer, unmonitor } = c.parts;
  const call = isCall(c.info);
  pane.classList.toggle("monitor", c.monitor);
  pane.classList.toggle("closed", closed);
  pane.classList.toggle("call", call);
  const title = pane.querySelector(".pane-topic");
  if (call) replace(title, callHeading(c.info));
  else title.textContent = topicOf(c.info);
  pane.querySelector(".pane-meta").textContent = paneFacts(c, call).join(" · ");
  priority.value = c.info.priority || "normal";
  priority.disabled = closed || (c.monitor && !supervises());
  endButton.hidden = call || c.monitor || closed; // a call ends with the call panel's hang-up
  transfer.hidden = c.monitor || closed;
  handoff.hidden = closed; // once over, it is beside the wrap-up
  unmonitor.hidden = !c.monitor;
}

function paneFacts(c, call) {
  const profile = c.info.profile || {};
  return [
    ...(call ? callFacts(c.info) : []),
    label("skill", c.info.skill), call ? "" : label("role", profile.role), profile.age_band ? profile.age_band.replace("_", "-") : "",
    call && c.info.waited_s ? t("waited", { t: duration(c.info.waited_s) }) : "",
    c.monitor && c.info.counsellor_id ? t("held_by", { name: c.info.counsellor || holderName(c.info.counsellor_id) }) : "",
    `#${c.id.slice(0, 6)}`,
  ].filter(Boolean);
}

function holderName(id) {
  const staff = (state.overview && state.overview.counsellors) || state.colleagues;
  const found = staff.find((x) => x.id === id);
  return found ? found.display_name : `#${id}`;
}

// The handover note, the monitoring flag, the log, typing, a pending transfer, an error and
// the composer.
function renderBody(c, closed) {
  const pane = c.pane;
  const handover = pane.querySelector(".handover");
  handover.hidden = !c.info.note;
  handover.textContent = c.info.note ? t("handover_note", { note: c.info.note }) : "";
  pane.querySelector(".monitor-flag").hidden = !c.monitor;
  renderLog(c, c.parts.log);
  const typing = pane.querySelector(".typing");
  if (typing) typing.hidden = closed || Date.now() - c.typingAt > TYPING_SHOWN_MS;
  // A live region kept in the page, empty while the young person is there: set only on a
  // change, so that it is read out once.
  const away = pane.querySelector(".visitor-away");
  const awayText = c.visitorAway && !closed ? t("visitor_away") : "";
  if (away && away.textContent !== awayText) away.textContent = awayText;
  pane.querySelector(".pending-transfer").hidden = !c.transferPending || closed;
  const error = pane.querySelector(".pane-error");
  error.hidden = !c.error;
  error.textContent = c.error || "";
  for (const el of pane.querySelectorAll(".composer, .hint")) el.hidden = c.monitor || closed;
}

// Once over: why it ended and, for the counsellor who held it, the wrap-up form (made once).
function renderEnd(c, closed) {
  const end = c.pane.querySelector(".pane-end");
  end.hidden = !closed;
  if (!closed) delete end.dataset.done;
  if (!closed || end.dataset.done) return;
  end.dataset.done = "1";
  const prefix = isCall(c.info) ? "call_" : "";
  const gone = ["transferred", "redirected"].includes(c.gone) ? c.gone : "requeued";
  const reason = c.gone ? t(`${prefix}${gone}`) : t(`${prefix}ended_${c.ended}`);
  replace(end, h("p", { class: "end-notice", text: reason }));
  if (c.ended && !c.gone && !c.monitor) end.append(handoffButton(c, "beside-wrapup"), wrapupForm(c));
}
