// The "Planning" view (supervisors, admins): for each opening hour of the week, the
// counsellors needed (Erlang A to Erlang C) beside those available on average, from
// GET /api/v1/statistics/staffing. A table: days as columns, hours as rows; a cell below
// what was needed says so in words and with ▼, not by colour alone.
import { api, errorMessage } from "./api.js";
import { h, replace } from "./dom.js";
import { duration, locale, t } from "./i18n.js";

let form = null;
let output = null;

export function buildPlanningView(section) {
  const weeks = h("input", { type: "number", id: "planning-weeks", min: "1", max: "52", value: "8", required: true });
  const target = h("input", { type: "number", id: "planning-target", min: "50", max: "99", value: "80", required: true });
  const within = h("input", { type: "number", id: "planning-within", min: "1", max: "3600", value: "60", required: true });
  form = h("form", { class: "planning-form", onsubmit: (e) => { e.preventDefault(); loadPlanning(); } },
    field(weeks, t("planning_weeks")), field(target, t("planning_target")), field(within, t("planning_within")),
    h("button", { type: "submit", text: t("planning_update") }));
  output = h("div", { class: "planning-output", "aria-live": "polite" });
  section.append(h("h2", { text: t("planning_title") }), form, output);
}

function field(input, text) {
  return h("label", { class: "planning-field", for: input.id }, text, input);
}

export async function loadPlanning() {
  if (!form) return;
  const query = new URLSearchParams({
    weeks: form.querySelector("#planning-weeks").value,
    target: form.querySelector("#planning-target").value,
    within_s: form.querySelector("#planning-within").value,
  });
  replace(output, h("p", { text: t("planning_loading") }));
  const result = await api("GET", `/api/v1/statistics/staffing?${query}`);
  if (!result.ok) {
    replace(output, h("p", { class: "error", role: "alert", text: errorMessage(result, t("error_generic")) }));
    return;
  }
  renderPlanning(result.data);
}

function number(n) {
  return n.toLocaleString(locale(), { maximumFractionDigits: 1 });
}

function dayName(day) {
  // 1 January 2024 was a Monday
  return new Date(Date.UTC(2024, 0, 1 + day)).toLocaleDateString(locale(), { weekday: "long", timeZone: "UTC" });
}

function hourName(hour) {
  return locale() === "en" ? `${String(hour).padStart(2, "0")}:00` : `${hour} h`;
}

function renderPlanning(plan) {
  const intro = h("p", { class: "planning-intro",
    text: t("planning_intro", { target: Math.round(plan.target * 100), within: plan.within_s, weeks: plan.weeks }) });
  const demand = Object.entries(plan.channels).map(([channel, c]) => h("li", {
    text: t("planning_demand", {
      channel: t(`planning_${channel}`), contacts: c.contacts, handle: duration(c.handle_s),
      patience: c.patience_s === null ? t("planning_patience_unknown") : duration(c.patience_s),
    }) }));
  if (!plan.hours.length) {
    replace(output, intro, h("p", { text: t("planning_closed") }));
    return;
  }
  const days = [...new Set(plan.hours.map((x) => x.day))].sort((a, b) => a - b);
  const hours = [...new Set(plan.hours.map((x) => x.hour))].sort((a, b) => a - b);
  const cells = new Map(plan.hours.map((x) => [`${x.day}-${x.hour}`, x]));
  const table = h("table", { class: "planning-grid" },
    h("caption", { text: t("planning_caption") }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: t("planning_hour") }),
      days.map((d) => h("th", { scope: "col", text: dayName(d) })))),
    h("tbody", {}, hours.map((hour) => h("tr", {},
      h("th", { scope: "row", text: hourName(hour) }),
      days.map((day) => cell(cells.get(`${day}-${hour}`)))))));
  replace(output, intro, h("ul", { class: "planning-demand" }, demand),
    h("p", { class: "planning-legend", text: t("planning_legend") }), h("div", { class: "planning-scroll" }, table));
}

function cell(x) {
  if (!x) return h("td", {});
  const needed = x.erlang_a === x.erlang_c
    ? t("planning_needed_one", { n: x.erlang_c })
    : t("planning_needed", { a: x.erlang_a, c: x.erlang_c });
  return h("td", { class: x.short ? "short" : "", "data-day": String(x.day), "data-hour": String(x.hour) },
    h("span", { class: "needed", text: needed }),
    h("span", { class: "staffed", text: t("planning_staffed", { n: number(x.staffed) }) }),
    x.short ? h("span", { class: "short-mark" }, h("span", { "aria-hidden": "true", text: "▼ " }), t("planning_short")) : null);
}
