// What the server tells the console over its socket: one small handler per event type.
import { alertUser } from "./attention.js";
import { loadInProgress } from "./floor.js";
import { loadHandoffs, onHandoffChanged } from "./handoffs.js";
import { t } from "./i18n.js";
import { forget, renderPane, showTyping } from "./pane.js";
import { notice, render, showView } from "./shell.js";
import { renderSidebar } from "./sidebar.js";
import { newContact, state } from "./state.js";

const MAX_OPEN_PANES = 4;

// Events after which the whole console is drawn again.
const REDRAWN = {
  session: onSession, status: onStatus, offer: onOffer, offer_withdrawn: onOfferWithdrawn,
  transfer_failed: onTransferFailed, assigned: onAssigned, monitoring: onMonitoring,
  unmonitored: (event) => forget(event.contact_id), message: onMessage, ended: onEnded,
  unassigned: onUnassigned, priority: onPriority, queue: onQueue, overview: onOverview, error: onError,
  visitor_presence: onVisitorPresence, handoff: onHandoffChanged,
};
// Events that draw again only what they touch.
const TOUCHING = { ack: onAck, typing: onTyping };

export function handleEvent(event) {
  if (Object.hasOwn(TOUCHING, event.type)) {
    TOUCHING[event.type](event);
  } else if (Object.hasOwn(REDRAWN, event.type)) {
    REDRAWN[event.type](event);
    render();
  }
}

function contactFor(id, info) {
  let c = state.contacts.get(id);
  if (!c) {
    c = newContact(id, info);
    state.contacts.set(id, c);
  } else if (info) {
    c.info = { ...c.info, ...info };
  }
  if (info && typeof info.visitor_present === "boolean") c.visitorAway = !info.visitor_present;
  return c;
}

function onSession(event) {
  state.me = { ...state.me, ...event.counsellor };
  state.status = event.status;
  state.skills = event.skills || [];
  state.emergency = event.emergency || []; // the numbers the emergency menu offers
}

function onStatus(event) {
  state.status = event.status;
  // Back to available: the "your phone did not answer, you are on break" notice is done.
  if (event.status === "available" && state.ui.notice.dataset.kind === "not_answered") state.ui.notice.hidden = true;
}

function onOffer(event) {
  state.offers.set(event.contact.contact_id, { ...event, at: Date.now() });
  alertUser();
}

function onOfferWithdrawn(event) {
  if (state.offers.delete(event.contact_id)) notice(t("offer_withdrawn"));
}

function onTransferFailed(event) {
  const c = state.contacts.get(event.contact_id);
  if (c) { c.transferPending = false; c.error = t("transfer_failed"); }
}

// A new conversation opens its pane while fewer than MAX_OPEN_PANES are open.
function onAssigned(event) {
  state.offers.delete(event.contact.contact_id);
  const known = state.contacts.has(event.contact.contact_id);
  const c = contactFor(event.contact.contact_id, event.contact);
  c.monitor = false;
  c.gone = null;
  if (!known) {
    c.since = Date.now() - (event.contact.assigned_s || 0) * 1000; // counted from the assignment
    if ([...state.contacts.values()].filter((x) => x.open).length < MAX_OPEN_PANES) c.open = true;
    alertUser();
  }
}

function onMonitoring(event) {
  const c = contactFor(event.contact.contact_id, event.contact);
  if (!c.info.waited_s) c.info.waited_s = 0;
  c.monitor = true;
  c.open = true;
  c.ended = event.contact.state === "queued" || event.contact.state === "assigned" ? null : "counsellor";
  showView("conversations");
}

function onMessage(m) {
  const c = state.contacts.get(m.contact_id);
  if (!c || m.seq <= c.lastSeq) return;
  c.lastSeq = m.seq;
  c.messages.push(m);
  if (m.client_id && c.pending.has(m.client_id)) {
    clearTimeout(c.pending.get(m.client_id).timer);
    c.pending.delete(m.client_id);
  }
  if (m.sender === "visitor") {
    c.typingAt = 0;
    c.visitorAway = false; // they write: they are back
    if (!c.open || document.hidden) c.unread += 1;
    if (!c.monitor) alertUser();
  }
  renderPane(c);
  renderSidebar();
}

// The young person's page lost its connection, or is back: shown in the pane and the sidebar.
function onVisitorPresence(event) {
  const c = state.contacts.get(event.contact_id);
  if (c) c.visitorAway = !event.present;
}

function onAck(event) {
  const c = state.contacts.get(event.contact_id);
  const p = c && c.pending.get(event.client_id);
  if (p) { p.state = "sent"; p.seq = event.seq; clearTimeout(p.timer); }
  if (c) renderPane(c);
  renderSidebar();
}

function onTyping(event) {
  const c = state.contacts.get(event.contact_id);
  if (c) showTyping(c);
}

function onEnded(event) {
  const c = state.contacts.get(event.contact_id);
  if (c) { c.ended = event.reason; c.typingAt = 0; }
}

function onUnassigned(event) {
  const c = state.contacts.get(event.contact_id);
  if (event.reason === "not_answered") { // the call went back to the queue; the server set us on break
    if (c) forget(c.id);
    notice(t("call_not_answered"), "not_answered");
    alertUser();
    return;
  }
  if (c) {
    c.gone = event.reason;
    for (const p of c.pending.values()) p.state = "failed";
  }
}

function onPriority(event) {
  const c = state.contacts.get(event.contact_id);
  if (c) c.info.priority = event.priority;
  for (const q of state.queue) if (q.contact_id === event.contact_id) q.priority = event.priority;
}

function onQueue(event) {
  state.queue = event.contacts;
  state.queueTotal = event.total ?? event.contacts.length; // the list holds the first ones only
  state.queueAt = Date.now();
}

function onOverview(event) {
  state.overview = event;
  state.overviewAt = Date.now();
  if (state.view === "floor") loadInProgress();
  if (state.view === "handoffs") loadHandoffs(); // a colleague's hand-off may await approval
}

function onError(event) {
  const c = event.contact_id && state.contacts.get(event.contact_id);
  if (c && event.client_id && c.pending.has(event.client_id)) {
    const p = c.pending.get(event.client_id);
    p.state = "failed";
    clearTimeout(p.timer);
  }
  // A colleague who cannot take it now: a skill's queue can (the dialog says so too).
  const message = event.code === "counsellor_unavailable" ? `${event.message} ${t("transfer_try_skill")}` : event.message;
  if (c) { c.error = message; c.transferPending = false; }
  else notice(message);
}
