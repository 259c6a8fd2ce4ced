// The transfer dialog: a conversation goes to a colleague or to a skill's queue, cold (at
// once) or warm (the colleague accepts it first). A call can only go back on hold: cold.
import { api } from "./api.js";
import { isCall } from "./calls.js";
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { label } from "./labels.js";
import { renderPane } from "./pane.js";
import { send, state } from "./state.js";

let transferring = null; // the contact whose transfer the dialog is about

export async function loadColleagues() {
  const result = await api("GET", "/api/v1/console/colleagues");
  if (result.ok) state.colleagues = result.data.counsellors;
}

// The colleagues a contact may go to, in a select: those who can take it now first, then the
// others, listed with their status but not selectable. The first who can is selected (none
// when nobody can). Returns how many can.
export function fillColleagues(select, except) {
  const others = state.colleagues.filter((x) => !except.includes(x.id));
  const ready = others.filter((x) => x.can_take);
  replace(select, [...ready, ...others.filter((x) => !x.can_take)].map((x) => {
    const status = x.status === "available" && !x.can_take ? t("console_closed") : t(`status_${x.status}`);
    return h("option", { value: String(x.id), disabled: !x.can_take, "data-name": x.display_name,
      text: t(x.can_take ? "colleague_ready" : "colleague_not_ready", { name: x.display_name, id: x.id, status }) });
  }));
  select.value = ready.length ? String(ready[0].id) : "";
  return ready.length;
}

export function buildTransferDialog() {
  const dialog = h("dialog", { class: "transfer-dialog", id: "transfer-dialog", "aria-labelledby": "transfer-title" });
  const form = h("form", { method: "dialog" },
    h("h2", { id: "transfer-title", text: t("transfer_title") }),
    targetFields(),
    modeFields(),
    h("div", { class: "field" },
      h("label", { for: "transfer-note", text: t("transfer_note") }),
      h("textarea", { id: "transfer-note", name: "note", rows: "3", maxlength: "2000" })),
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "ghost", value: "cancel", text: t("cancel"), onclick: () => dialog.close() }),
      h("button", { type: "submit", class: "primary", text: t("transfer_submit") })));
  form.addEventListener("change", () => showChoices(form));
  form.addEventListener("submit", () => submitTransfer(form));
  dialog.append(form);
  return dialog;
}

// To whom: a colleague, or whoever is free with a skill.
function targetFields() {
  return [
    h("fieldset", { class: "target" },
      h("legend", { class: "sr-only", text: t("transfer_title") }),
      h("label", { class: "check" }, h("input", { type: "radio", name: "target", value: "counsellor", checked: true }), t("transfer_to_counsellor")),
      h("label", { class: "check" }, h("input", { type: "radio", name: "target", value: "skill" }), t("transfer_to_skill"))),
    h("div", { class: "field to-counsellor" },
      h("label", { for: "transfer-counsellor", text: t("transfer_counsellor") }),
      h("select", { id: "transfer-counsellor", name: "counsellor" })),
    h("p", { class: "transfer-nobody", role: "status", hidden: true, text: t("transfer_nobody") }),
    h("div", { class: "field to-skill", hidden: true },
      h("label", { for: "transfer-skill", text: t("transfer_skill") }),
      h("select", { id: "transfer-skill", name: "skill" })),
  ];
}

// How: cold or warm, each explained.
function modeFields() {
  return [
    h("fieldset", { class: "modes" },
      h("legend", { text: t("transfer_mode") }),
      h("label", { class: "check" }, h("input", { type: "radio", name: "mode", value: "cold", checked: true }), t("transfer_cold")),
      h("label", { class: "check warm-choice" }, h("input", { type: "radio", name: "mode", value: "warm" }), t("transfer_warm"))),
    h("p", { class: "mode mode-cold", text: t("transfer_mode_cold") }),
    h("p", { class: "mode mode-call", hidden: true, text: t("call_transfer_cold_only") }),
    h("p", { class: "mode mode-warm", hidden: true, text: t("transfer_mode_warm") }),
  ];
}

function showChoices(form) {
  const toSkill = form.elements.target.value === "skill";
  form.querySelector(".to-skill").hidden = !toSkill;
  form.querySelector(".to-counsellor").hidden = toSkill;
  const call = Boolean(transferring) && isCall(transferring.info);
  const warm = !call && form.elements.mode.value === "warm";
  form.querySelector(".mode-warm").hidden = !warm;
  form.querySelector(".mode-cold").hidden = warm || call;
  form.querySelector(".mode-call").hidden = !call;
  form.querySelector("button[type=submit]").disabled = !toSkill && !form.elements.counsellor.value;
}

function submitTransfer(form) {
  if (!transferring) return;
  const to = form.elements.target.value === "skill"
    ? { skill: form.elements.skill.value } : { counsellor: Number(form.elements.counsellor.value) };
  const note = form.elements.note.value.trim();
  const mode = isCall(transferring.info) ? "cold" : form.elements.mode.value; // calls: cold only
  transferring.error = null;
  transferring.transferPending = mode === "warm";
  send({ type: "transfer", contact_id: transferring.id, to, mode, ...(note ? { note } : {}) });
  renderPane(transferring);
  transferring = null;
}

export async function openTransfer(c) {
  transferring = c;
  await loadColleagues();
  const dialog = state.ui.root.querySelector("#transfer-dialog");
  const form = dialog.querySelector("form");
  // Nobody who can take it now: the dialog says so and offers the skills' queues.
  const ready = fillColleagues(dialog.querySelector("#transfer-counsellor"), [state.me.id]);
  const toCounsellor = form.querySelector("input[name=target][value=counsellor]");
  toCounsellor.disabled = !ready;
  form.querySelector(`input[name=target][value=${ready ? "counsellor" : "skill"}]`).checked = true;
  form.querySelector(".transfer-nobody").hidden = Boolean(ready);
  replace(dialog.querySelector("#transfer-skill"), state.skills.map((s) => h("option", { value: s, text: label("skill", s) })));
  dialog.querySelector("#transfer-note").value = "";
  // A call can only go back on hold (cold): the warm choice is not offered for it.
  const call = isCall(c.info);
  dialog.querySelector("#transfer-title").textContent = call ? t("call_transfer_title") : t("transfer_title");
  dialog.querySelector(".warm-choice").hidden = call;
  form.querySelector("input[name=mode][value=warm]").disabled = call;
  if (call) form.querySelector("input[name=mode][value=cold]").checked = true;
  form.dispatchEvent(new Event("change"));
  dialog.showModal();
}
