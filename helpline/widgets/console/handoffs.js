// Hand-offs of serious cases to partners. From a conversation, the dialog: a target (those
// that fit the case first), its guidance, its fields, the messages ticked one by one and a
// preview of exactly what will leave. The "Hand-offs" view: the list, one hand-off opened,
// what its state and the user's role allow, and for a target filed by hand a printable sheet.
import { api, errorMessage } from "./api.js";
import { h, replace } from "./dom.js";
import { locale, t } from "./i18n.js";
import { label } from "./labels.js";
import { notice } from "./shell.js";
import { state, supervises } from "./state.js";

// The targets to suggest, by wrap-up category or pre-chat topic; any target can still be chosen.
const SUGGESTED = {
  sextortion: ["platform_notice", "thesee"],
  grooming: ["pharos", "child_in_danger"],
  mental_health: ["emergency"],
};
const DECISIONS = ["removed", "refused", "no_answer"];

let targets = null; // GET /api/v1/handoffs/targets, once
let drafting = null; // the dialog's {contact, handoff (once saved)}
let listed = []; // the view's list
let opened = null; // the hand-off opened in the view, whole
const heard = new Map(); // hand-off id → how many of its changes were heard live

async function loadTargets() {
  if (targets) return true;
  const result = await api("GET", "/api/v1/handoffs/targets");
  if (result.ok) targets = result.data.targets;
  return result.ok;
}

function targetOf(id) {
  return (targets || []).find((x) => x.id === id) || { id, name: id, fields: [], sends: false, kind: "" };
}

function stateName(s) {
  return label("handoff_state", s);
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString(locale(), { dateStyle: "short", timeStyle: "short" }) : "";
}

function person(id) {
  const found = [state.me, ...state.colleagues].find((x) => x && x.id === id);
  return found ? found.display_name : `#${id}`;
}

function sender(m) {
  return m.sender === "counsellor" ? t("counsellor") : t(m.sender);
}

// A field's value as it leaves: a choice by its label, addresses one per line.
function shown(f, value) {
  if (Array.isArray(value)) return value.join("\n");
  return f.type === "choice" ? label("handoff_choice", value) : String(value);
}

// Label / value pairs and messages, for the preview, an opened hand-off and the printed sheet.
function fieldList(target, fields) {
  const rows = target.fields.filter((f) => Object.hasOwn(fields, f.id));
  if (!rows.length) return null;
  return h("dl", { class: "handoff-values" },
    rows.map((f) => [h("dt", { text: f.label }), h("dd", { text: shown(f, fields[f.id]) })]));
}

function excerptList(excerpts) {
  return h("ol", { class: "handoff-excerpt-list" }, excerpts.map((m) =>
    h("li", {}, h("span", { class: "who", text: `${sender(m)} · ${when(m.sent_at)}` }), h("span", { text: m.text }))));
}

// --- the dialog, from a conversation --------------------------------------------------------

// The "Hand off" button of a conversation (its pane's actions, or beside its wrap-up).
export function handoffButton(c, extra = "") {
  return h("button", { type: "button", class: `secondary handoff-open ${extra}`.trim(), text: t("handoff"),
    onclick: () => openHandoffDialog(c) });
}

export function buildHandoffDialog() {
  const dialog = h("dialog", { class: "transfer-dialog handoff-dialog", id: "handoff-dialog",
    "aria-labelledby": "handoff-title" });
  const form = h("form", { class: "handoff-form", noValidate: true },
    h("h2", { id: "handoff-title", text: t("handoff_title") }),
    h("div", { class: "field" },
      h("label", { for: "handoff-target", text: t("handoff_target") }),
      h("select", { id: "handoff-target", name: "target" })),
    h("p", { class: "handoff-guidance" }),
    h("p", { class: "handoff-route" }),
    h("div", { class: "handoff-fields" }),
    h("fieldset", { class: "handoff-excerpts", "data-field": "excerpts" },
      h("legend", { text: t("handoff_excerpts") }), h("div", { class: "excerpt-choices" })),
    h("section", { class: "handoff-preview", "aria-labelledby": "handoff-preview-title" },
      h("h3", { id: "handoff-preview-title", text: t("handoff_preview") }), h("div", { class: "preview-body" })),
    h("p", { class: "form-error handoff-error", role: "alert", hidden: true }),
    h("p", { class: "handoff-status", role: "status" }),
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "ghost", text: t("cancel"), onclick: () => dialog.close() }),
      h("button", { type: "button", class: "secondary save-draft", text: t("handoff_save_draft"),
        onclick: () => saveDraft(form, false) }),
      h("button", { type: "submit", class: "primary send" })));
  form.elements.target.addEventListener("change", () => showTarget(form));
  form.addEventListener("input", () => renderPreview(form));
  form.addEventListener("change", () => renderPreview(form));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveDraft(form, true);
  });
  dialog.append(form);
  return dialog;
}

export async function openHandoffDialog(c) {
  if (!(await loadTargets())) { notice(t("error_generic")); return; }
  drafting = { contact: c, handoff: null };
  const dialog = state.ui.root.querySelector("#handoff-dialog");
  const form = dialog.querySelector("form");
  const keys = [...((c.wrapup && c.wrapup.categories) || []), (c.info.profile || {}).topic || c.info.topic];
  if (c.info.priority === "urgent") keys.push("mental_health"); // a word of danger was seen
  const wanted = new Set(keys.flatMap((k) => SUGGESTED[k] || []));
  const suggested = targets.filter((x) => wanted.has(x.id));
  const others = targets.filter((x) => !wanted.has(x.id));
  const option = (x) => h("option", { value: x.id, text: x.name });
  replace(form.elements.target, suggested.length
    ? [h("optgroup", { label: t("handoff_suggested") }, suggested.map(option)),
      h("optgroup", { label: t("handoff_others") }, others.map(option))]
    : targets.map(option));
  form.elements.target.disabled = false;
  form.elements.target.value = (suggested[0] || targets[0]).id;
  const messages = c.messages.filter((m) => m.seq);
  replace(form.querySelector(".excerpt-choices"), messages.length ? messages.map((m) =>
    h("label", { class: "check excerpt" }, h("input", { type: "checkbox", name: "excerpt", value: String(m.seq) }),
      h("span", { class: "who", text: `${sender(m)} · ${when(m.sent_at)}` }), h("span", { text: m.text })))
    : h("p", { class: "muted", text: t("handoff_no_messages") }));
  form.querySelector(".handoff-status").textContent = "";
  showTarget(form);
  dialog.showModal();
}

// The chosen target: its guidance (the whole of it for guidance and emergency numbers), where
// it goes, its fields, and whether messages can go along.
function showTarget(form) {
  const target = targetOf(form.elements.target.value);
  const guidance = form.querySelector(".handoff-guidance");
  guidance.textContent = target.guidance || "";
  guidance.hidden = !target.guidance;
  guidance.classList.toggle("main", !target.sends);
  guidance.classList.toggle("emergency", target.kind === "emergency");
  const route = [target.sends ? "" : t("handoff_nothing_leaves"), target.approval ? t("handoff_approval") : "",
    target.connector === "manual" ? t("handoff_manual") : ""].filter(Boolean);
  form.querySelector(".handoff-route").textContent = route.join(" ");
  replace(form.querySelector(".handoff-fields"), target.fields.map(fieldInput));
  prefill(form, drafting.contact);
  form.querySelector(".handoff-excerpts").hidden = !target.sends;
  for (const box of form.querySelectorAll("input[name=excerpt]")) box.checked = false;
  form.querySelector(".send").textContent = target.sends ? t("handoff_send") : t("handoff_record_done");
  clearRefusal(form);
  renderPreview(form);
}

// Only from what is already recorded about the contact: the age band (the wrap-up's, else the
// young person's own answer) and the first platform of the wrap-up. Never anything else.
function prefill(form, c) {
  const wrapup = c.wrapup || {};
  const platform = (wrapup.platforms || [])[0];
  const named = platform && state.taxonomy
    ? (state.taxonomy.platforms.find((p) => p.id === platform) || {}).label : null;
  const known = {
    age_band: wrapup.age_band || (c.info.profile || {}).age_band,
    platform: named ? named[locale()] || named.fr : platform,
  };
  for (const [name, value] of Object.entries(known)) {
    const input = form.elements[name];
    if (input && value && !input.value) input.value = value;
  }
}

function fieldInput(f) {
  const id = `handoff-field-${f.id}`;
  const helpId = f.help ? `${id}-help` : null;
  const common = { id, name: f.id, "aria-required": f.required ? "true" : null, "aria-describedby": helpId };
  let input;
  if (f.type === "text" || f.type === "urls") {
    input = h("textarea", { ...common, rows: f.type === "urls" ? "3" : "4", spellcheck: f.type === "urls" ? "false" : null });
  } else if (f.type === "choice") {
    input = h("select", common, h("option", { value: "", text: t("choose") }),
      f.choices.map((choice) => h("option", { value: choice, text: label("handoff_choice", choice) })));
  } else {
    input = h("input", { ...common, type: f.type === "date" ? "date" : "text", autocomplete: "off" });
  }
  return h("div", { class: "field", "data-field": f.id },
    h("label", { for: id, text: f.required ? `${f.label} *` : f.label }), input,
    helpId ? h("small", { class: "muted hint-text", id: helpId, text: f.help }) : null);
}

// What the form holds, as the server takes it: only the filled-in fields, addresses as a list.
function formValues(form, target) {
  const fields = {};
  for (const f of target.fields) {
    const input = form.elements[f.id];
    if (!input) continue; // the target was just changed: its fields are being built
    const raw = input.value;
    const value = f.type === "urls" ? raw.split("\n").map((u) => u.trim()).filter(Boolean) : raw;
    if (value.length) fields[f.id] = value;
  }
  const excerpts = target.sends
    ? [...form.querySelectorAll("input[name=excerpt]:checked")].map((box) => Number(box.value)) : [];
  return { fields, excerpts };
}

// Exactly what will leave: the fields filled in and the messages ticked, nothing else.
function renderPreview(form) {
  const target = targetOf(form.elements.target.value);
  const { fields, excerpts } = formValues(form, target);
  const messages = drafting ? drafting.contact.messages.filter((m) => excerpts.includes(m.seq)) : [];
  const values = target.sends ? fieldList(target, fields) : null;
  replace(form.querySelector(".preview-body"), values || messages.length
    ? [values, messages.length ? [h("h4", { text: t("handoff_preview_messages") }), excerptList(messages)] : null]
    : h("p", { class: "muted", text: t("handoff_preview_empty") }));
}

// Saved as a draft (created, or changed once created), then submitted if asked.
async function saveDraft(form, submit) {
  const c = drafting && drafting.contact;
  if (!c) return;
  const target = targetOf(form.elements.target.value);
  const body = formValues(form, target);
  clearRefusal(form);
  const saved = drafting.handoff;
  let result = saved
    ? await api("PATCH", `/api/v1/handoffs/${saved.id}`, body)
    : await api("POST", `/api/v1/contacts/${encodeURIComponent(c.id)}/handoffs`, { target: target.id, ...body });
  if (result.ok) {
    drafting.handoff = result.data;
    form.elements.target.disabled = true; // a draft keeps its target
    remember(result.data);
    if (submit) {
      const { answer, overtaken } = await step(result.data.id, "submit");
      result = answer;
      if (result.ok && overtaken) { drafting = null; form.closest("dialog").close(); return; }
    }
  }
  if (!result.ok) { showRefusal(form, result); return; }
  remember(result.data);
  const { reference } = result.data;
  if (!submit) {
    form.querySelector(".handoff-status").textContent = t("handoff_draft_saved", { reference });
    return;
  }
  drafting = null;
  form.closest("dialog").close();
  notice(t("handoff_done", { reference, state: stateName(result.data.state) }));
}

// One step (submit, approve, partner...). Its answer is overtaken when the hand-off changed
// again meanwhile (the dispatcher is quick): the live event, newer, has said so already.
async function step(id, name, body) {
  const before = heard.get(id) || 0;
  const answer = await api("POST", `/api/v1/handoffs/${id}/${name}`, body);
  return { answer, overtaken: (heard.get(id) || 0) !== before };
}

// A refusal: each field at fault says why next to it; the rest in the dialog's error line.
function showRefusal(form, result) {
  const error = (result.data && result.data.error) || {};
  const general = form.querySelector(".handoff-error");
  let marked = 0;
  for (const detail of error.details || []) {
    const path = String(detail.field).split(".");
    const name = path[0] === "fields" ? path[1] : path[0];
    const holder = form.querySelector(`[data-field="${CSS.escape(name || "")}"]`);
    if (!holder) continue;
    const key = `handoff_problem_${detail.problem}`;
    const message = h("p", { class: "field-error", id: `handoff-error-${name}`,
      text: t(key) === key ? t("handoff_problem_other") : t(key) });
    holder.append(message);
    const input = holder.querySelector("input, textarea, select");
    if (input && holder.tagName !== "FIELDSET") {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", `${input.getAttribute("aria-describedby") || ""} ${message.id}`.trim());
    }
    if (!marked++ && input) input.focus();
  }
  general.textContent = marked ? t("handoff_refused") : errorMessage(result, t("error_generic"));
  general.hidden = false;
}

function clearRefusal(form) {
  for (const el of form.querySelectorAll(".field-error")) {
    const input = el.parentElement.querySelector("[aria-invalid]");
    if (input) {
      input.removeAttribute("aria-invalid");
      const rest = input.getAttribute("aria-describedby").replace(el.id, "").trim();
      if (rest) input.setAttribute("aria-describedby", rest);
      else input.removeAttribute("aria-describedby");
    }
    el.remove();
  }
  form.querySelector(".handoff-error").hidden = true;
}

// --- the view ---------------------------------------------------------------------------------

export function buildHandoffsView(view) {
  replace(view,
    h("div", { class: "floor-head" }, h("h2", { text: t("handoffs_tab") })),
    h("div", { class: "handoffs-grid" },
      h("section", { class: "panel handoff-list", "aria-label": t("handoffs_tab") }),
      h("section", { class: "panel handoff-detail", "aria-live": "polite", hidden: true })));
}

// The print sheet lives beside the views: the only thing printed (console.css, @media print).
export function buildPrintSheet() {
  return h("div", { class: "handoff-print" });
}

export async function loadHandoffs() {
  const [result] = await Promise.all([api("GET", "/api/v1/handoffs"), loadTargets()]);
  if (result.ok) listed = result.data.handoffs;
  renderHandoffs();
}

function remember(handoff) {
  const i = listed.findIndex((x) => x.id === handoff.id);
  if (i >= 0) listed[i] = { ...listed[i], ...handoff };
  else listed.unshift(handoff);
  if (opened && opened.id === handoff.id) opened = { ...opened, ...handoff };
}

export function renderHandoffs() {
  const view = state.ui && state.ui.handoffsView;
  if (!view || !view.firstChild) return;
  const list = view.querySelector(".handoff-list");
  replace(list, listed.length ? h("table", {},
    h("thead", {}, h("tr", {}, [t("handoff_reference"), t("handoff_target"), t("handoff_state"), t("handoff_created"),
      t("handoff_updated")].map((text) => h("th", { scope: "col", text })))),
    h("tbody", {}, listed.map((x) => h("tr", { "data-handoff": String(x.id), class: opened && opened.id === x.id ? "open" : "" },
      h("td", {}, h("button", { type: "button", class: "small secondary reference", text: x.reference,
        "aria-label": `${t("handoff_open")} ${x.reference}`, onclick: () => openHandoff(x.id) })),
      h("td", { text: targetOf(x.target).name }),
      h("td", {}, h("span", { class: `handoff-state state-${x.state}`, text: stateName(x.state) })),
      h("td", { text: when(x.created_at) }), h("td", { text: when(x.updated_at) })))))
    : h("p", { class: "empty", text: t("handoff_none") }));
  renderDetail(view.querySelector(".handoff-detail"));
}

async function openHandoff(id) {
  const result = await api("GET", `/api/v1/handoffs/${id}`);
  opened = result.ok ? result.data : null;
  if (!result.ok) notice(errorMessage(result, t("error_generic")));
  renderHandoffs();
}

function renderDetail(panel) {
  panel.hidden = !opened;
  const sheet = state.ui.root.querySelector(".handoff-print");
  if (!opened) { replace(sheet); return; }
  const x = opened;
  const target = targetOf(x.target);
  const facts = [
    t("handoff_contact", { id: x.contact_id.slice(0, 6) }), t("handoff_author", { name: person(x.author_id) }),
    x.approver_id ? t("handoff_approver", { name: person(x.approver_id) }) : "", `${t("handoff_created")} ${when(x.created_at)}`,
  ].filter(Boolean);
  replace(panel,
    h("h3", { text: `${x.reference} · ${target.name}` }),
    h("p", { class: `handoff-now handoff-state state-${x.state}`, text: t("handoff_state_is", { state: stateName(x.state) }) }),
    h("p", { class: "muted", text: facts.join(" · ") }),
    x.review_needed ? h("p", { class: "warn", text: t("handoff_review_needed") }) : null,
    x.last_error ? h("p", { class: "bad", text: t("handoff_last_error", { code: x.last_error }) }) : null,
    h("h4", { text: t("handoff_fields") }),
    fieldList(target, x.fields || {}) || h("p", { class: "muted", text: t("handoff_no_fields") }),
    x.excerpts && x.excerpts.length ? [h("h4", { text: t("handoff_preview_messages") }), excerptList(x.excerpts)] : null,
    partnerFacts(x),
    h("p", { class: "form-error detail-error", role: "alert", hidden: true }),
    h("div", { class: "row-actions" }, stepButtons(x), printButton(target, x)),
    partnerForms(x, target));
  replace(sheet, target.connector === "manual" ? printSheet(x, target) : null);
}

function partnerFacts(x) {
  const facts = [
    x.partner_reference ? t("handoff_partner_reference_is", { reference: x.partner_reference }) : "",
    x.decision ? t("handoff_decision_is", { decision: label("handoff_decision", x.decision), on: x.decision_on || "" }) : "",
  ].filter(Boolean);
  return facts.length ? h("p", { class: "handoff-partner", text: facts.join(" · ") }) : null;
}

// What this user may do now: the server has the last word (four_eyes, not_your_handoff...).
function stepButtons(x) {
  const mine = state.me && x.author_id === state.me.id;
  const steps = [
    ["submit", x.state === "draft" && mine, "primary"],
    ["approve", x.state === "awaiting_approval" && supervises(), "primary"],
    ["retry", x.state === "failed" && supervises(), "primary"],
    ["cancel", ["draft", "awaiting_approval"].includes(x.state) && (mine || supervises()), "danger"],
  ];
  return steps.filter(([, allowed]) => allowed).map(([name, , kind]) =>
    h("button", { type: "button", class: kind, text: t(`handoff_${name}`),
      onclick: () => act(x, name) }));
}

// A manual target being filed: the partner's reference; a platform's notice: its decision.
function partnerForms(x, target) {
  const forms = [];
  if (x.state === "dispatching" && target.connector === "manual") {
    const input = h("input", { id: "handoff-partner-ref", name: "partner_reference", maxlength: "100", autocomplete: "off" });
    forms.push(h("form", { class: "row partner-form" },
      h("div", { class: "field" }, h("label", { for: "handoff-partner-ref", text: t("handoff_filed") }), input),
      h("button", { type: "submit", class: "primary", text: t("handoff_record") })));
    forms[0].addEventListener("submit", (event) => {
      event.preventDefault();
      if (input.value.trim()) act(x, "partner", { partner_reference: input.value.trim() });
    });
  }
  if (x.state === "delivered" && target.kind === "notice") {
    const decision = h("select", { id: "handoff-decision", name: "decision" },
      DECISIONS.map((d) => h("option", { value: d, text: label("handoff_decision", d) })));
    const on = h("input", { id: "handoff-decision-on", name: "decision_on", type: "date" });
    const form = h("form", { class: "row decision-form" },
      h("div", { class: "field" }, h("label", { for: "handoff-decision", text: t("handoff_decision") }), decision),
      h("div", { class: "field" }, h("label", { for: "handoff-decision-on", text: t("handoff_decision_on") }), on),
      h("button", { type: "submit", class: "secondary", text: t("handoff_record_decision") }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      act(x, "partner", { decision: decision.value, ...(on.value ? { decision_on: on.value } : {}) });
    });
    forms.push(form);
  }
  return forms;
}

function printButton(target, x) {
  if (target.connector !== "manual" || !["awaiting_approval", "dispatching", "delivered"].includes(x.state)) return null;
  return h("button", { type: "button", class: "secondary print", text: t("handoff_print"), onclick: () => window.print() });
}

async function act(x, name, body) {
  const { answer: result, overtaken } = await step(x.id, name, body);
  if (!result.ok) {
    const error = state.ui.handoffsView.querySelector(".detail-error");
    error.textContent = errorMessage(result, t("error_generic"));
    error.hidden = false;
    return;
  }
  if (!overtaken) remember(result.data);
  renderHandoffs();
}

// What is printed to file a manual target: the fields, the official address, a checklist.
function printSheet(x, target) {
  return [
    h("h1", { text: t("handoff_print_title", { reference: x.reference, target: target.name }) }),
    target.address ? h("p", { text: t("handoff_print_address", { address: target.address }) }) : null,
    fieldList(target, x.fields || {}),
    target.statement ? h("p", { class: "statement", text: target.statement }) : null,
    h("h2", { text: t("handoff_print_checklist") }),
    h("ul", {}, ["handoff_check_1", "handoff_check_2", "handoff_check_3"].map((key) => h("li", { text: `☐ ${t(key)}` }))),
  ];
}

// --- live -------------------------------------------------------------------------------------

// One of this user's hand-offs changed state (approved, delivered, failed...).
export function onHandoffChanged(event) {
  heard.set(event.id, (heard.get(event.id) || 0) + 1);
  const known = listed.some((x) => x.id === event.id);
  remember({ id: event.id, reference: event.reference, state: event.state });
  notice(t("handoff_done", { reference: event.reference, state: stateName(event.state) }));
  if (!known || (opened && opened.id === event.id)) {
    if (opened && opened.id === event.id) openHandoff(event.id);
    else loadHandoffs();
  }
}

// Supervisors: how many wait for approval, and how many failed, on the view's button.
export function renderHandoffBadge() {
  const button = state.ui && state.ui.tabs.querySelector("button[data-view=handoffs]");
  const counts = (state.overview && state.overview.handoffs) || {};
  if (!button) return;
  const awaiting = button.querySelector(".badge-awaiting");
  const failed = button.querySelector(".badge-failed");
  awaiting.textContent = t("handoffs_awaiting", { n: counts.awaiting_approval || 0 });
  awaiting.hidden = !supervises() || !counts.awaiting_approval;
  failed.textContent = t("handoffs_failed", { n: counts.failed || 0 });
  failed.hidden = !supervises() || !counts.failed;
}
