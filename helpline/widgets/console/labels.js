// Short texts shared by the lists, the panes and the floor.
import { h } from "./dom.js";
import { duration, t } from "./i18n.js";

// The catalog's label of a value (a skill, a role...); a value without one shows as it is.
export function label(prefix, value) {
  if (!value) return "";
  const key = `${prefix}_${value}`;
  const text = t(key);
  return text === key ? value : text;
}

export function topicOf(info) {
  const topic = (info.profile && info.profile.topic) || info.topic;
  return topic ? t(`topic_${topic}`) : t("topic_none");
}

// A time that counts up between server updates: baseS seconds at startMs, moved on by tickTimes.
export function timeSpan(startMs, baseS, template) {
  const el = h("span", { class: "ticking", "data-start": String(startMs), "data-base": String(baseS || 0),
    "data-template": template });
  tick(el);
  return el;
}

export function tickTimes() {
  for (const el of document.querySelectorAll(".ticking")) tick(el);
}

function tick(el) {
  const seconds = Number(el.dataset.base) + (Date.now() - Number(el.dataset.start)) / 1000;
  el.textContent = t(el.dataset.template, { t: duration(seconds) });
}
