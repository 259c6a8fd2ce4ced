// The messages of a conversation: sending one (each with its own client id, so a resend is
// never shown twice), marking it failed when no acknowledgement comes in time, and the log.
import { h, replace } from "./dom.js";
import { resourceLine } from "./emergency.js";
import { locale, t } from "./i18n.js";
import { renderPane } from "./pane.js";
import { send } from "./state.js";

const SEND_TIMEOUT_MS = 10000;

function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return "c" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function sendMessage(c, text) {
  if (!text.trim()) return;
  c.error = null;
  const clientId = newClientId();
  const p = { text, state: "sending", timer: null };
  c.pending.set(clientId, p);
  transmit(c, clientId, p);
  renderPane(c);
}

export function transmit(c, clientId, p) {
  p.state = "sending";
  clearTimeout(p.timer);
  p.timer = setTimeout(() => {
    if (p.state === "sending") { p.state = "failed"; renderPane(c); }
  }, SEND_TIMEOUT_MS);
  send({ type: "message", contact_id: c.id, client_id: clientId, text: p.text });
}

// The messages, then those still on their way; it follows the end unless scrolled back.
export function renderLog(c, log) {
  const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
  const items = c.messages.map((m) => messageItem(c, m.sender, m.resource ? resourceLine(m.resource) : m.text,
    m.sent_at, m.sender === "counsellor" ? "sent" : null));
  for (const [clientId, p] of c.pending) items.push(messageItem(c, "counsellor", p.text, null, p.state, clientId, p));
  replace(log, items);
  if (nearBottom) log.scrollTop = log.scrollHeight;
}

function messageItem(c, sender, text, sentAt, status, clientId, pending) {
  const who = sender === "counsellor" ? (c.monitor ? c.info.counsellor || t("counsellor") : t("you")) : t(sender);
  const time = sentAt ? new Date(sentAt).toLocaleTimeString(locale(), { hour: "2-digit", minute: "2-digit" }) : "";
  const item = h("li", { class: `msg from-${sender}${status ? ` state-${status}` : ""}` },
    h("div", { class: "msg-meta" }, h("span", { class: "who", text: who }), time ? h("time", { text: time }) : null),
    h("div", { class: "bubble", text }));
  if (status && !c.monitor) {
    item.append(h("div", { class: "msg-state" }, h("span", { text: t(status) }),
      status === "failed" && !c.gone && !c.ended ? h("button", { type: "button", class: "small retry", text: t("retry"),
        onclick: () => { transmit(c, clientId, pending); renderPane(c); } }) : null));
  }
  return item;
}
