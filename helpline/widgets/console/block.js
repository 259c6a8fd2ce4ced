// Supervisors: blocking a caller, or the sender of a live chat, for a while from the contact's
// pane (the dialog asks how long and why), and lifting the block.
import { api, errorMessage } from "./api.js";
import { callerText, hasCaller, isCall } from "./calls.js";
import { h } from "./dom.js";
import { locale, t } from "./i18n.js";
import { renderPane } from "./pane.js";
import { state, supervises } from "./state.js";

const BLOCK_HOURS = [[24, "block_24h"], [24 * 7, "block_7d"], [24 * 30, "block_30d"]];

let blocking = null; // the contact whose caller (or sender) the dialog is about

// A call with a known number, or a live chat whose sender's keyed address the server holds.
function blockable(info) {
  return hasCaller(info) || Boolean(info && info.blockable);
}

function texts(c) {
  return isCall(c.info)
    ? { action: "block_caller", explain: "block_explain", done: "block_done" }
    : { action: "block_sender", explain: "block_sender_explain", done: "block_sender_done" };
}

export function buildBlockDialog() {
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
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitBlock(dialog, form, error, submit);
  });
  form.elements.reason.addEventListener("input", () => { error.hidden = true; });
  dialog.append(form);
  return dialog;
}

async function submitBlock(dialog, form, error, submit) {
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
}

function openBlock(c) {
  blocking = c;
  const dialog = state.ui.root.querySelector("#block-dialog");
  dialog.querySelector("form").reset();
  dialog.querySelector(".form-error").hidden = true;
  const words = texts(c);
  dialog.querySelector("#block-title").textContent = t(words.action);
  dialog.querySelector(".mode").textContent = t(words.explain);
  const who = dialog.querySelector(".block-who");
  who.textContent = isCall(c.info) ? callerText(c.info) : "";
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

// In a pane: the "block" button (among the pane's actions) and the block's status line.
export function blockControls(c) {
  return {
    block: h("button", { type: "button", class: "danger block-caller", text: t("block_caller"), hidden: true,
      onclick: () => openBlock(c) }),
    blockStatus: h("p", { class: "block-status", role: "status", hidden: true },
      h("span", { class: "block-text" }),
      h("button", { type: "button", class: "secondary small unblock", text: t("unblock_caller"), onclick: () => unblockCaller(c) })),
  };
}

export function renderBlockControls(c, { block, blockStatus }) {
  block.textContent = t(texts(c).action);
  block.hidden = !supervises() || !blockable(c.info) || Boolean(c.blockedUntil);
  blockStatus.hidden = !c.blockedUntil && !c.blockNote;
  blockStatus.querySelector(".block-text").textContent = c.blockedUntil
    ? t(texts(c).done, { until: new Date(c.blockedUntil).toLocaleString(locale(), { dateStyle: "long", timeStyle: "short" }) })
    : c.blockNote || "";
  blockStatus.querySelector(".unblock").hidden = !c.blockedUntil;
}
