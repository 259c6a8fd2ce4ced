// A chat pane's composer: the text box (Enter sends, Shift+Enter starts a new line), the send
// button, the "typing" signal to the visitor, and the canned responses picked with "/words".
import { api } from "./api.js";
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { sendMessage } from "./messages.js";
import { send, state } from "./state.js";

const TYPING_EVERY_MS = 3000;
const MAX_CHOICES = 8;

export async function loadCanned() {
  const result = await api("GET", "/api/v1/canned");
  if (result.ok) state.canned = result.data.responses;
}

export function buildComposer(c) {
  const text = h("textarea", { class: "composer-text", rows: "2", "aria-label": t("message_label"),
    placeholder: t("message_label") });
  const picker = cannedPicker(text);
  const submit = () => {
    const value = text.value;
    text.value = "";
    sendMessage(c, value);
  };
  text.addEventListener("keydown", (event) => {
    if (picker.onKey(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  signalTyping(c, text);
  const sendButton = h("button", { type: "button", class: "primary", text: t("send"),
    onclick: () => { submit(); text.focus(); } });
  return h("div", { class: "composer" }, picker.list, text, sendButton);
}

// Tells the visitor the counsellor is typing, at most every few seconds.
function signalTyping(c, text) {
  let typingSent = 0;
  text.addEventListener("input", () => {
    if (Date.now() - typingSent > TYPING_EVERY_MS && text.value) {
      typingSent = Date.now();
      send({ type: "typing", contact_id: c.id });
    }
  });
}

// The canned responses whose title or text hold every word typed after "/".
function cannedChoices(query) {
  const words = query.slice(1).toLocaleLowerCase().split(/\s+/).filter(Boolean);
  return state.canned.filter((c) => words.every((w) => `${c.title} ${c.text}`.toLocaleLowerCase().includes(w)))
    .slice(0, MAX_CHOICES);
}

// The list under the text box; onKey(event) says whether the key was the picker's (arrows,
// Escape, Enter on a choice).
function cannedPicker(text) {
  const list = h("ul", { class: "canned-picker", role: "listbox", "aria-label": t("canned_title"), hidden: true });
  let choices = [];
  let chosen = 0;
  const pick = (c) => {
    text.value = c.text;
    list.hidden = true;
    text.focus();
  };
  const show = () => {
    if (!text.value.startsWith("/")) { list.hidden = true; return; }
    choices = cannedChoices(text.value);
    chosen = Math.min(chosen, Math.max(0, choices.length - 1));
    replace(list, choices.length ? choices.map((c, i) => h("li", { role: "option", class: "canned-option",
      "aria-selected": String(i === chosen), onmousedown: (e) => { e.preventDefault(); pick(c); } },
      h("strong", { text: c.title }), h("span", { text: c.text })))
      : h("li", { class: "empty", text: t("canned_none") }));
    list.hidden = false;
  };
  text.addEventListener("input", show);
  text.addEventListener("blur", () => { list.hidden = true; });
  const onKey = (event) => {
    if (list.hidden) return false;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      chosen = (chosen + (event.key === "ArrowDown" ? 1 : -1) + choices.length) % Math.max(1, choices.length);
      show();
      return true;
    }
    if (event.key === "Escape") { list.hidden = true; return true; }
    if (event.key === "Enter" && choices.length) { event.preventDefault(); pick(choices[chosen]); return true; }
    return false;
  };
  return { list, onKey };
}
