// What the console knows, shared by its modules: the counsellor, the contacts, the queue, the
// floor's figures and the preferences kept in this browser; also the page's frame and the
// socket once logged in.
export const prefs = {
  get(name, fallback) {
    const value = localStorage.getItem(`helpline.console.${name}`);
    return value === null ? fallback : JSON.parse(value);
  },
  set(name, value) {
    localStorage.setItem(`helpline.console.${name}`, JSON.stringify(value));
  },
};

export const state = {
  me: null,
  status: "offline",
  live: false,
  contacts: new Map(),
  offers: new Map(),
  queue: [],
  queueTotal: 0,
  queueAt: Date.now(),
  overview: null,
  overviewAt: Date.now(),
  inProgress: [],
  colleagues: [],
  skills: [], // the line's skills, in order (the session event)
  canned: [],
  taxonomy: null,
  attention: 0,
  view: "conversations",
  sound: prefs.get("sound", true),
  badge: prefs.get("badge", true),
  threshold: prefs.get("threshold", 5),
  ui: null, // the console's frame (shell.js), once logged in
  socket: null, // the ConsoleSocket, while logged in
};

export function supervises() {
  return state.me && (state.me.role === "supervisor" || state.me.role === "admin");
}

// One conversation the console follows (its own or one it monitors). ``visitorAway``: the
// young person's page has lost its connection (closed, or no network) and nobody may be
// reading; the server ends the conversation if they are not back within its grace period.
export function newContact(id, info) {
  return { id, info: info || {}, messages: [], lastSeq: 0, unread: 0, pending: new Map(), ended: null,
    gone: null, open: false, monitor: false, typingAt: 0, since: Date.now(), wrapup: null, pane: null,
    visitorAway: false };
}

// A frame to the server over the console's socket (dropped while logged out).
export function send(frame) {
  return Boolean(state.socket) && state.socket.send(frame);
}
