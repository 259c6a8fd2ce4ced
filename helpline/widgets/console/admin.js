// The admin view: counsellor accounts, canned responses, exceptional closures and openings,
// and the contacts on legal hold (which retention keeps until an admin releases them).
import { api, errorMessage } from "./api.js";
import { h, replace } from "./dom.js";
import { locale, t } from "./i18n.js";
import { label } from "./labels.js";
import { state } from "./state.js";

const ROLES = ["counsellor", "supervisor", "admin"];
// Where a refusal of the server points, by error code (a 422 invalid_request names its field).
const FIELD_OF_CODE = {
  username_taken: "username", invalid_username: "username", password_too_short: "password",
  invalid_display_name: "display_name", invalid_capacity: "max_chats", unknown_skill: "skills",
  invalid_voice_endpoint: "voice_endpoint",
};

let root = null;
let hooks = {};

export function buildAdmin(options) {
  hooks = options;
  root = h("div", { class: "admin-grid" },
    h("section", { class: "panel accounts" }, h("h2", { text: t("admin_counsellors") }),
      h("div", { class: "accounts-list" }), newAccountForm()),
    h("section", { class: "panel canned" }, h("h2", { text: t("admin_canned") }),
      h("ul", { class: "canned-list" }), newCannedForm()),
    h("section", { class: "panel exceptions" }, h("h2", { text: t("admin_exceptions") }),
      h("ul", { class: "exceptions-list" }), newExceptionForm()),
    h("section", { class: "panel holds" }, h("h2", { text: t("admin_holds") }),
      h("p", { class: "muted", text: t("admin_holds_intro") }),
      h("ul", { class: "holds-list" }), h("p", { class: "admin-status", role: "status" })));
  return root;
}

export function renderAdmin() {
  // Built before the session said which skills the line has: the new account's are added now.
  const skills = root.querySelector(".new-account fieldset.skills");
  if (!skills.querySelector("input")) skills.replaceWith(skillChecks(state.skills));
  loadAccounts();
  loadCanned();
  loadExceptions();
  loadHolds();
}

function status(el, result, okText) {
  say(el, result.ok, result.ok ? okText : errorMessage(result, t("error_generic")));
}

function say(el, good, text) {
  el.textContent = text;
  el.className = `admin-status ${good ? "good" : "bad"}`;
}

// A refused account form: the field at fault is marked (aria-invalid, a message next to it)
// and focused; the status line says the same.
function showRefusal(form, out, result) {
  const error = (result.data && result.data.error) || {};
  const detail = (error.details || [])[0];
  const name = detail ? String(detail.field).split(".")[0] : FIELD_OF_CODE[error.code];
  const inputs = name ? [...form.querySelectorAll(`[name="${name}"]`)] : [];
  if (!inputs.length) { status(out, result); return; }
  const key = `admin_invalid_${name}`;
  const text = detail ? (t(key) === key ? t("admin_invalid_field") : t(key)) : errorMessage(result, t("error_generic"));
  const message = h("p", { class: "field-error", id: `${form.dataset.errorId}-${name}`, text });
  for (const input of inputs) {
    input.dataset.describedby = input.getAttribute("aria-describedby") || "";
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", `${input.dataset.describedby} ${message.id}`.trim());
  }
  const group = inputs[0].closest("fieldset");
  if (group) group.append(message);
  else inputs[0].closest(".field").after(message);
  say(out, false, text);
  inputs[0].focus();
}

function clearRefusal(form) {
  for (const el of form.querySelectorAll(".field-error")) el.remove();
  for (const el of form.querySelectorAll("[aria-invalid]")) {
    el.removeAttribute("aria-invalid");
    if (el.dataset.describedby) el.setAttribute("aria-describedby", el.dataset.describedby);
    else el.removeAttribute("aria-describedby");
  }
}

function field(labelText, input) {
  return h("label", { class: "field" }, h("span", { text: labelText }), input);
}

// The values given here are also the form's defaults: a reset comes back to them.
function roleSelect(value) {
  return h("select", { name: "role" }, ROLES.map((r) =>
    h("option", { value: r, text: t(`role_${r}`), selected: r === value, defaultSelected: r === value })));
}

// The line's skills (the session's), each with its label or, without one, its id.
function skillChecks(selected) {
  return h("fieldset", { class: "skills" }, h("legend", { text: t("admin_skills") }),
    state.skills.map((s) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: "skills", value: s, checked: selected.includes(s),
        defaultChecked: selected.includes(s) }), label("skill", s))));
}

// Where the counsellor's calls ring: a number (+33612345678) or a softphone (client:identity).
let hintIds = 0;
function voiceField(value) {
  const hintId = `voice-hint-${++hintIds}`;
  return h("div", { class: "voice-field" },
    field(t("admin_voice_endpoint"), h("input", { name: "voice_endpoint", value: value || "", maxlength: "120",
      placeholder: "+33612345678", autocomplete: "off", spellcheck: "false", "aria-describedby": hintId })),
    h("small", { class: "muted hint-text", id: hintId, text: t("admin_voice_hint") }));
}

function checkedSkills(form) {
  return [...form.querySelectorAll("input[name=skills]:checked")].map((i) => i.value);
}

// --- accounts --------------------------------------------------------------------------

async function loadAccounts() {
  const result = await api("GET", "/api/v1/admin/counsellors");
  const list = root.querySelector(".accounts-list");
  if (!result.ok) { replace(list, h("p", { class: "bad", text: errorMessage(result, t("error_generic")) })); return; }
  replace(list, result.data.counsellors.map(accountForm));
}

function accountForm(a) {
  const out = h("p", { class: "admin-status", role: "status" });
  const form = h("form", { class: `account${a.disabled ? " disabled" : ""}`, "data-username": a.username,
    "data-error-id": `account-${a.id}` },
    h("div", { class: "account-head" }, h("strong", { text: a.username }), h("span", { class: "muted", text: `#${a.id}` })),
    h("div", { class: "row" },
      field(t("admin_display_name"), h("input", { name: "display_name", value: a.display_name, maxlength: "80" })),
      field(t("admin_role"), roleSelect(a.role)),
      field(t("admin_max_chats"), h("input", { name: "max_chats", type: "number", min: "1", max: "20", value: String(a.max_chats) }))),
    h("div", { class: "row" }, voiceField(a.voice_endpoint)),
    skillChecks(a.skills),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "disabled", checked: a.disabled }), t("admin_disabled")),
    h("div", { class: "row actions" },
      h("button", { type: "submit", class: "primary small", text: t("admin_save") }),
      field(t("admin_new_password"), h("input", { name: "password", type: "password", autocomplete: "new-password" })),
      h("button", { type: "button", class: "secondary small", text: t("admin_set_password"), onclick: async () => {
        const result = await api("POST", `/api/v1/admin/counsellors/${a.id}/password`, { password: form.elements.password.value });
        form.elements.password.value = "";
        status(out, result, t("admin_password_set"));
      } })),
    out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearRefusal(form);
    const result = await api("PATCH", `/api/v1/admin/counsellors/${a.id}`, {
      display_name: form.elements.display_name.value, role: form.elements.role.value,
      max_chats: Number(form.elements.max_chats.value), skills: checkedSkills(form),
      disabled: form.elements.disabled.checked,
      voice_endpoint: form.elements.voice_endpoint.value.trim(), // "" takes it away
    });
    if (!result.ok) { showRefusal(form, out, result); return; }
    status(out, result, t("admin_saved"));
    form.classList.toggle("disabled", result.data.disabled);
  });
  return form;
}

function newAccountForm() {
  const out = h("p", { class: "admin-status", role: "status" });
  const form = h("form", { class: "account new-account", "aria-label": t("admin_new_counsellor"),
    "data-error-id": "new-account" },
    h("h3", { text: t("admin_new_counsellor") }),
    h("div", { class: "row" },
      field(t("admin_username"), h("input", { name: "username", required: true, maxlength: "64" })),
      field(t("admin_display_name"), h("input", { name: "display_name", maxlength: "80" })),
      field(t("password"), h("input", { name: "password", type: "password", required: true, autocomplete: "new-password" }))),
    h("div", { class: "row" },
      field(t("admin_role"), roleSelect("counsellor")),
      field(t("admin_max_chats"), h("input", { name: "max_chats", type: "number", min: "1", max: "20", value: "3" }))),
    h("div", { class: "row" }, voiceField("")),
    skillChecks(state.skills),
    h("button", { type: "submit", class: "primary small", text: t("admin_create") }), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearRefusal(form);
    const result = await api("POST", "/api/v1/admin/counsellors", {
      username: form.elements.username.value, password: form.elements.password.value,
      display_name: form.elements.display_name.value || null, role: form.elements.role.value,
      max_chats: Number(form.elements.max_chats.value), skills: checkedSkills(form),
      voice_endpoint: form.elements.voice_endpoint.value.trim() || null,
    });
    if (!result.ok) { showRefusal(form, out, result); return; }
    status(out, result, t("admin_saved"));
    form.reset(); // back to a fresh form's defaults: every skill, the default capacity and role
    loadAccounts();
  });
  return form;
}

// --- canned responses --------------------------------------------------------------------

async function loadCanned() {
  const result = await api("GET", "/api/v1/canned");
  const list = root.querySelector(".canned-list");
  if (!result.ok) return;
  replace(list, result.data.responses.length ? result.data.responses.map((c) =>
    h("li", { class: "canned-item" }, h("strong", { text: c.title }), h("span", { text: c.text }),
      h("button", { type: "button", class: "danger small", text: t("admin_remove"), onclick: async () => {
        await api("DELETE", `/api/v1/admin/canned/${c.id}`);
        loadCanned();
        hooks.onCannedChanged && hooks.onCannedChanged();
      } }))) : h("li", { class: "empty", text: t("admin_none") }));
}

function newCannedForm() {
  const out = h("p", { class: "admin-status", role: "status" });
  const form = h("form", { class: "new-canned", "aria-label": t("admin_canned") },
    field(t("admin_canned_title"), h("input", { name: "title", required: true, maxlength: "80" })),
    field(t("admin_canned_text"), h("textarea", { name: "text", required: true, rows: "3", maxlength: "4000" })),
    h("button", { type: "submit", class: "primary small", text: t("admin_add") }), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = await api("POST", "/api/v1/admin/canned", { title: form.elements.title.value, text: form.elements.text.value });
    status(out, result, t("admin_saved"));
    if (result.ok) { form.reset(); loadCanned(); hooks.onCannedChanged && hooks.onCannedChanged(); }
  });
  return form;
}

// --- exceptional closures and openings -------------------------------------------------

async function loadExceptions() {
  const result = await api("GET", "/api/v1/admin/schedule/exceptions");
  const list = root.querySelector(".exceptions-list");
  if (!result.ok) return;
  replace(list, result.data.exceptions.length ? result.data.exceptions.map((x) =>
    h("li", { class: "exception-item" },
      h("strong", { text: t(`kind_${x.kind}`) }),
      h("span", { text: `${x.first}${x.last && x.last !== x.first ? ` → ${x.last}` : ""} · ${x.start ? `${x.start}-${x.end}` : t("admin_whole_day")}` }),
      h("span", { class: "muted", text: x.reason }),
      h("button", { type: "button", class: "danger small", text: t("admin_remove"), onclick: async () => {
        await api("DELETE", `/api/v1/admin/schedule/exceptions/${x.id}`);
        loadExceptions();
      } }))) : h("li", { class: "empty", text: t("admin_none") }));
}

function newExceptionForm() {
  const out = h("p", { class: "admin-status", role: "status" });
  const kind = h("select", { name: "kind" }, ["close", "open"].map((k) => h("option", { value: k, text: t(`kind_${k}`) })));
  const form = h("form", { class: "new-exception", "aria-label": t("admin_exceptions") },
    h("div", { class: "row" },
      field(t("admin_kind"), kind),
      field(t("admin_first"), h("input", { name: "first", type: "date", required: true })),
      field(t("admin_last"), h("input", { name: "last", type: "date" }))),
    h("div", { class: "row" },
      field(t("admin_start"), h("input", { name: "start", type: "time" })),
      field(t("admin_end"), h("input", { name: "end", type: "time" })),
      field(t("admin_reason"), h("input", { name: "reason", required: true, maxlength: "200" }))),
    h("button", { type: "submit", class: "primary small", text: t("admin_add") }), out);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const e = form.elements;
    const body = { kind: e.kind.value, first: e.first.value, reason: e.reason.value };
    if (e.last.value) body.last = e.last.value;
    if (e.start.value) body.start = e.start.value;
    if (e.end.value) body.end = e.end.value;
    const result = await api("POST", "/api/v1/admin/schedule/exceptions", body);
    status(out, result, t("admin_saved"));
    if (result.ok) { form.reset(); loadExceptions(); }
  });
  return form;
}

// --- legal holds -------------------------------------------------------------------------

async function loadHolds() {
  const result = await api("GET", "/api/v1/admin/legal-holds");
  const list = root.querySelector(".holds-list");
  if (!result.ok) return;
  replace(list, result.data.holds.length ? result.data.holds.map(holdItem)
    : h("li", { class: "empty", text: t("admin_none") }));
}

function holdItem(hold) {
  const out = root.querySelector("section.holds > [role=status]");
  const reasonId = `hold-reason-${hold.contact_id}`;
  const since = new Date(hold.since).toLocaleDateString(locale());
  const refs = hold.handoffs.length ? hold.handoffs.join(", ") : "–";
  const form = h("form", { class: "hold-release", "aria-label": t("admin_hold_release_of", { id: hold.contact_id.slice(0, 8) }) },
    h("label", { for: reasonId, text: t("admin_hold_reason") }),
    h("input", { id: reasonId, name: "reason", required: true, maxlength: "500" }),
    h("button", { type: "submit", class: "danger small", text: t("admin_hold_release") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const result = await api("POST", `/api/v1/admin/legal-holds/${hold.contact_id}/release`,
      { reason: form.elements.reason.value });
    status(out, result, t("admin_hold_released"));
    if (result.ok) loadHolds();
  });
  return h("li", { class: "hold-item", "data-contact": hold.contact_id },
    h("strong", { text: t("admin_hold_contact", { id: hold.contact_id.slice(0, 8) }) }),
    h("span", { text: t("admin_hold_since", { date: since, refs }) }), form);
}
