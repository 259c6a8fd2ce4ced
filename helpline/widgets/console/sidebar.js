// The conversations view's sidebar: the offers to accept, my conversations, and the queue.
import { callFacts, contactTitle, isCall } from "./calls.js";
import { h, replace } from "./dom.js";
import { duration, t } from "./i18n.js";
import { label, timeSpan } from "./labels.js";
import { render } from "./shell.js";
import { send, state, supervises } from "./state.js";

export function renderSidebar() {
  renderOffers();
  renderConversations();
  renderQueue();
}

function renderOffers() {
  const { offerList } = state.ui;
  offerList.parentElement.hidden = !state.offers.size;
  replace(offerList, [...state.offers.values()].map((o) =>
    h("li", { class: "offer-item", "data-contact": o.contact.contact_id },
      contactTitle(o.contact, "conv-topic"),
      h("span", { class: "conv-meta", text: [o.warm_transfer ? t("offer_warm") : t("offer_new"),
        ...(isCall(o.contact) ? callFacts(o.contact) : []), label("skill", o.contact.skill)].join(" · ") }),
      o.contact.note ? h("span", { class: "offer-note", text: t("handover_note", { note: o.contact.note }) }) : null,
      h("button", { type: "button", class: "primary small", text: t("accept"),
        onclick: () => send({ type: "accept", contact_id: o.contact.contact_id }) }))));
}

function renderConversations() {
  const own = [...state.contacts.values()].filter((c) => !c.monitor);
  replace(state.ui.convList, own.length ? own.map(conversationItem) : h("li", { class: "empty", text: t("no_conversations") }));
}

// A button that opens or puts away the conversation's pane.
function conversationItem(c) {
  return h("li", { class: `conv-item${c.open ? " open" : ""}${c.ended || c.gone ? " closed" : ""}`,
    "data-contact": c.id },
    h("button", { type: "button", class: "conv-open", onclick: () => { c.open = !c.open; c.unread = 0; render(); } },
      h("span", { class: `prio prio-${c.info.priority || "normal"}`, text: label("priority", c.info.priority || "normal") }),
      contactTitle(c.info, "conv-topic"),
      h("span", { class: "conv-meta" }, isCall(c.info) ? callFacts(c.info).map((x) => `${x} · `) : null,
        label("skill", c.info.skill), " · ",
        t("waited", { t: duration(c.info.waited_s || 0) }), " · ", timeSpan(c.since, 0, "since")),
      c.visitorAway && !c.ended && !c.gone ? h("span", { class: "away-flag", text: t("visitor_away_short") }) : null,
      c.unread ? h("span", { class: "unread", "aria-label": t("unread", { n: c.unread }), text: String(c.unread) }) : null));
}

function renderQueue() {
  state.ui.root.querySelector(".queue-count").textContent = String(state.queueTotal);
  replace(state.ui.queueList, state.queue.length ? state.queue.map((q) =>
    h("li", { class: "queue-item", "data-contact": q.contact_id },
      h("span", { class: `prio prio-${q.priority}`, text: label("priority", q.priority) }),
      contactTitle(q, "queue-topic"),
      h("span", { class: "queue-meta" }, isCall(q) ? callFacts(q).map((x) => `${x} · `) : `${label("channel", q.channel)} · `,
        label("skill", q.skill), " · ",
        timeSpan(state.queueAt, q.waited_s, "waited")),
      supervises() ? h("button", { type: "button", class: "small", text: t("monitor"),
        onclick: () => send({ type: "monitor", contact_id: q.contact_id }) }) : null))
    : h("li", { class: "empty", text: t("queue_empty") }));
}
