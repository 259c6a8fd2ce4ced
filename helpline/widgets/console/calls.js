// Phone calls: what a counsellor is told about a phone contact, and the call panel that stands
// in a call's pane where a chat has its messages (a call has no typing, no canned responses).
import { h } from "./dom.js";
import { ordinal, t } from "./i18n.js";
import { label, topicOf } from "./labels.js";

export function isCall(info) {
  return Boolean(info) && info.channel === "voice";
}

// A caller key exists (so the caller can be blocked): the label is given, or the repeat
// count (counted only for a known number) is.
export function hasCaller(info) {
  return isCall(info) && (Boolean(info.caller) || (info.profile || {}).repeat_calls !== undefined);
}

export function callMark() {
  return h("span", { class: "channel-mark channel-voice" },
    h("span", { class: "channel-icon", "aria-hidden": "true", text: t("call_marker") }), t("channel_voice"));
}

export function callerText(info) {
  if (info.caller) return t("caller_label", { id: info.caller });
  if (info.profile && !hasCaller(info)) return t("caller_hidden");
  return ""; // a queue entry (nothing known yet) or a monitored call whose label is not sent
}

// The call marker, then the caller when something is known of them.
export function callHeading(info) {
  const caller = callerText(info);
  return [callMark(), caller ? h("span", { class: "caller", text: caller }) : null];
}

// Role from the keypad, language, and how often this caller called lately.
export function callFacts(info) {
  const profile = info.profile || {};
  const repeat = Number(profile.repeat_calls || 0);
  return [
    label("role", profile.role), profile.language ? t(`lang_${profile.language}`) : "",
    repeat > 0 ? t("repeat_calls", { nth: ordinal(repeat + 1) }) : "",
  ].filter(Boolean);
}

// The title of a contact in a list: the call marker and the caller, or the chat's topic.
export function contactTitle(info, cls) {
  if (!isCall(info)) return h("span", { class: cls, text: topicOf(info) });
  return h("span", { class: `${cls} call-title` }, callHeading(info));
}

// The call's state, a hint, and the hang-up button asking the pane's confirmation first.
export function buildCallPanel(confirmEnd) {
  const hangUp = h("button", { type: "button", class: "danger hang-up", text: t("hang_up"),
    onclick: () => { confirmEnd.hidden = false; } });
  return h("section", { class: "call-panel", "aria-label": t("channel_voice") },
    h("p", { class: "call-state", role: "status" },
      h("span", { class: "channel-icon", "aria-hidden": "true", text: t("call_marker") }), h("span", { class: "call-state-text" })),
    h("p", { class: "call-hint" }), confirmEnd, hangUp);
}

export function renderCallPanel(c, panel, closed) {
  panel.hidden = closed;
  panel.querySelector(".call-state-text").textContent = c.monitor ? t("channel_voice") : t("call_in_progress");
  panel.querySelector(".call-hint").textContent = c.monitor ? t("call_monitor") : t("call_hint");
  panel.querySelector(".hang-up").hidden = c.monitor || closed;
  if (closed) panel.querySelector(".confirm").hidden = true;
}
