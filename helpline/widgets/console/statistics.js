// The statistics view (supervisors and admins): a range of days and a channel, then each
// table of the figures as a chart drawn by the server (an <img>) with its numbers in a table
// beside it, and a CSV link. The words of the tables come with the figures, in this language.
import { api, errorMessage } from "./api.js";
import { h, replace } from "./dom.js";
import { locale, t } from "./i18n.js";

const LONG = new Set(["days", "heatmap", "weeks"]); // their numbers folded under the chart

function iso(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function presets() {
  const today = new Date();
  const y = today.getFullYear(), m = today.getMonth();
  const daysAgo = new Date(today);
  daysAgo.setDate(today.getDate() - 30);
  const yesterday = new Date(today);
  yesterday.setDate(today.getDate() - 1);
  return [
    ["stats_last_30", iso(daysAgo), iso(yesterday)],
    ["stats_last_month", iso(new Date(y, m - 1, 1)), iso(new Date(y, m, 0))],
    ["stats_last_year", iso(new Date(y - 1, 0, 1)), iso(new Date(y - 1, 11, 31))],
  ];
}

export function buildStatisticsView(section) {
  const [, first, last] = presets()[1];
  const from = h("input", { type: "date", id: "stats-from", name: "from", required: true, value: first });
  const to = h("input", { type: "date", id: "stats-to", name: "to", required: true, value: last });
  const channel = h("select", { id: "stats-channel", name: "channel" },
    ["all", "chat", "voice"].map((c) => h("option", { value: c, text: t(`stats_channel_${c}`) })));
  const status = h("p", { class: "stats-status", role: "status" });
  const results = h("div", { class: "stats-results" });
  const form = h("form", { class: "stats-filters", "aria-label": t("stats_filters") },
    h("label", { for: "stats-from" }, t("stats_from")), from,
    h("label", { for: "stats-to" }, t("stats_to")), to,
    h("label", { for: "stats-channel" }, t("stats_channel")), channel,
    h("button", { type: "submit", text: t("stats_show") }),
    h("span", { class: "stats-presets", role: "group", "aria-label": t("stats_presets") },
      presets().map(([key, a, b]) => h("button", { type: "button", class: "ghost", text: t(key), onclick: () => {
        from.value = a;
        to.value = b;
        form.requestSubmit();
      } }))));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load({ from: from.value, to: to.value, channel: channel.value }, status, results);
  });
  section.append(h("div", { class: "stats-head" }, h("h2", { text: t("stats_heading") }), form),
    h("p", { class: "stats-note", text: t("stats_small_counts") }), status, results);
  form.requestSubmit();
}

async function load(query, status, results) {
  const params = new URLSearchParams({ ...query, lang: locale() }).toString();
  status.textContent = t("stats_loading");
  const result = await api("GET", `/api/v1/statistics?${params}`);
  if (!result.ok) {
    status.textContent = errorMessage(result, t("stats_failed"));
    replace(results);
    return;
  }
  const body = result.data;
  status.textContent = t("stats_compared", { from: body.previous.from, to: body.previous.to });
  replace(results, Object.entries(body.tables).map(([name, table]) => card(name, table, body.labels, params)));
}

function cell(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") return value.toLocaleString(locale() === "en" ? "en-GB" : "fr-FR");
  return String(value);
}

// The overview turned on its side: a figure a row, the period and the previous one beside it.
function overview(table, labels) {
  const items = labels.items.summary || {};
  return h("table", { class: "stats-table" },
    h("caption", { text: labels.tables.summary }),
    h("thead", {}, h("tr", {}, h("th", { scope: "col", text: labels.columns.period }),
      table.rows.map((row) => h("th", { scope: "col", text: items[row.period] ?? row.period })))),
    h("tbody", {}, table.columns.slice(1).map((c) => h("tr", {},
      h("th", { scope: "row", text: labels.columns[c] || c }),
      table.rows.map((row) => h("td", { text: cell(row[c]) }))))));
}

function numbers(name, table, labels) {
  if (name === "summary") return overview(table, labels);
  const keys = new Set(name === "heatmap" ? ["iso_weekday", "hour"] : [table.columns[0]]);
  const items = labels.items[name] || {};
  return h("table", { class: "stats-table" },
    h("caption", { text: labels.tables[name] }),
    h("thead", {}, h("tr", {}, table.columns.map((c) => h("th", { scope: "col", text: labels.columns[c] || c })))),
    h("tbody", {}, table.rows.map((row) => h("tr", {}, table.columns.map((c, i) => keys.has(c)
      ? h("th", { scope: "row", text: i === 0 ? (items[String(row[c])] ?? String(row[c])) : String(row[c]) })
      : h("td", { text: cell(row[c]) }))))));
}

function card(name, table, labels, params) {
  const title = labels.tables[name];
  const chart = h("img", { src: `/api/v1/statistics/charts/${name}.svg?${params}`, alt: title, class: "stats-chart",
    width: 760 });
  const detail = LONG.has(name)
    ? h("details", {}, h("summary", { text: t("stats_numbers") }), numbers(name, table, labels))
    : numbers(name, table, labels);
  const csv = h("a", { href: `/api/v1/statistics/export/${name}.csv?${params}`, download: "",
    class: "stats-csv", text: t("stats_csv", { table: title }) });
  return h("section", { class: "stats-card", id: `stats-${name}`, "aria-labelledby": `stats-${name}-title` },
    h("h3", { id: `stats-${name}-title`, text: title }), h("div", { class: "stats-pair" }, chart, detail), csv);
}
