// The pane's "Emergency numbers" menu: in a chat, send the young person a card for one of the
// line's numbers (a button that calls it); on a call, put the caller through to one (asked
// once more first: the call then ends for the counsellor). The numbers come with the session.
import { h } from "./dom.js";
import { locale, t } from "./i18n.js";
import { send, state } from "./state.js";

function newClientId() {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return "r" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function labelOf(resource) {
  return (resource.label && (resource.label[locale()] || resource.label.fr)) || "";
}

// What a card looks like in the conversation's log.
export function resourceLine(resource) {
  return t("resource_line", { number: resource.number, label: labelOf(resource) });
}

export function emergencyMenu(c, call) {
  const numbers = (state.emergency || []).filter((r) => !call || r.href.startsWith("tel:"));
  const confirm = h("p", { class: "confirm emergency-confirm", hidden: true });
  const ask = (r) => {
    confirm.replaceChildren(h("span", { text: t("emergency_confirm", { number: r.number }) }),
      h("button", { type: "button", class: "danger", text: t("emergency_put_through"), onclick: () => {
        send({ type: "put_through", contact_id: c.id, number: r.number });
        confirm.hidden = true;
      } }),
      h("button", { type: "button", class: "ghost", text: t("cancel"), onclick: () => { confirm.hidden = true; } }));
    confirm.hidden = false;
  };
  const choose = (r) => (call ? ask(r)
    : send({ type: "resource", contact_id: c.id, client_id: newClientId(), resource: r.number }));
  return h("details", { class: "emergency-menu" },
    h("summary", { text: t("emergency_menu") }),
    h("p", { class: "hint", text: t(call ? "emergency_hint_call" : "emergency_hint_chat") }),
    h("ul", { class: "emergency-numbers" }, numbers.map((r) => h("li", {},
      h("button", { type: "button", class: "secondary small", onclick: () => choose(r) },
        h("strong", { text: t(call ? "emergency_transfer" : "emergency_send", { number: r.number }) }),
        ` ${labelOf(r)}`)))),
    confirm);
}

export function renderEmergencyMenu(c, menu, closed) {
  menu.hidden = c.monitor || closed;
  if (menu.hidden) menu.open = false;
}
