// The wrap-up form shown once a conversation has ended: what it was about, who contacted,
// and how it ended, in the terms of the taxonomy the server gives.
import { api, errorMessage } from "./api.js";
import { isCall } from "./calls.js";
import { h } from "./dom.js";
import { locale, t } from "./i18n.js";
import { state } from "./state.js";

export function wrapupForm(c) {
  const title = isCall(c.info) ? t("wrapup_title_call") : t("wrapup_title");
  const form = h("form", { class: "wrapup", "aria-label": title }, h("h3", { text: title }));
  const status = h("p", { class: "wrapup-status", role: "status" });
  fillWrapup(c, form, status);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    saveWrapup(c, form, status);
  });
  return form;
}

async function fillWrapup(c, form, status) {
  if (!state.taxonomy) {
    const result = await api("GET", "/api/v1/taxonomy");
    if (!result.ok) { status.textContent = errorMessage(result, t("error_generic")); form.append(status); return; }
    state.taxonomy = result.data;
  }
  const tx = state.taxonomy;
  const profile = c.info.profile || {};
  const note = h("textarea", { name: "note", id: `note-${c.id}`, rows: "3", maxlength: "4000" });
  const save = h("button", { type: "submit", class: "primary", text: t("wrapup_save") });
  form.append(
    checks("categories", tx.categories),
    h("div", { class: "row" }, select(c, "contacted_by", tx.contacted_by), select(c, "age_band", tx.age_bands),
      select(c, "gender", tx.genders, true)),
    checks("platforms", tx.platforms),
    checks("outcomes", tx.outcomes),
    h("div", { class: "field" }, h("label", { for: `note-${c.id}`, text: t("wrapup_note") }), note),
    status, save);
  // What the young person said it was about, when the taxonomy has that category.
  const topic = form.querySelector(`input[name=categories][value="${CSS.escape(profile.topic || "")}"]`);
  if (topic) topic.checked = true;
  if (profile.role) form.elements.contacted_by.value = profile.role;
  if (profile.age_band) form.elements.age_band.value = profile.age_band;
}

function itemName(item) {
  return item.label[locale()] || item.label.fr;
}

function checks(field, items) {
  return h("fieldset", { class: `checks field-${field}` },
    h("legend", { text: t(`wrapup_${field}`) }),
    items.map((item) => h("label", { class: "check" },
      h("input", { type: "checkbox", name: field, value: item.id }), itemName(item))));
}

function select(c, field, items, optional) {
  const el = h("select", { name: field, id: `${field}-${c.id}` },
    h("option", { value: "", text: optional ? t("wrapup_gender_none") : t("choose") }),
    items.map((item) => h("option", { value: item.id, text: itemName(item) })));
  return h("div", { class: "field" }, h("label", { for: `${field}-${c.id}`, text: t(`wrapup_${field}`) }), el);
}

async function saveWrapup(c, form, status) {
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
}
