/* Helpline chat widget. Plain JavaScript, no build step, no dependency.
 *
 * Embed, with the address of the helpline server:
 *   <script src="{helpline}/widget.js" async data-locale="fr"></script>
 * Options (data- attributes of that script tag, all optional):
 *   data-locale         fr (default) | en
 *   data-accent         a CSS colour for the launcher, buttons and your messages
 *   data-position       right (default) | left
 *   data-launcher-text  the launcher's label
 *   data-exit-url       where the quick exit goes (http or https; the server's default otherwise)
 *
 * Everything renders in a Shadow DOM. No cookie, no localStorage, no IndexedDB: the
 * conversation's key is kept in sessionStorage only, so a reload of the tab resumes it,
 * and the quick exit (button, or Escape twice) erases it and leaves for a neutral site.
 * Message text is only ever set as text, never as HTML.
 */
(function () {
  "use strict";

  const STYLES = "__HELPLINE_CSS__"; // filled in by the server
  const DEFAULT_EXIT_URL = "__HELPLINE_EXIT_URL__"; // filled in by the server
  // Every text, French first: {fr: {...}, en: {...}}, the [widget] table of the catalogs
  // (helpline/locales/fr.toml, en.toml). t("key", {name: "Alice"}) fills {name}.
  const CATALOG = "__HELPLINE_CATALOG__"; // filled in by the server
  const KEY = "helpline.chat";
  const ACK_TIMEOUT_MS = 8000;
  const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 3000, 5000];
  const TYPING_EVERY_MS = 3000;
  const TYPING_SHOWN_MS = 6000;
  const ESCAPE_WINDOW_MS = 2000;
  const MAX_TEXT = 4000;
  // A WebSocket that never answers (a host page's CSP without the wss: address, a proxy):
  // after this many tries of this long each, with HTTP still working, the widget gives up.
  const CONNECT_TRIES = 3;
  const HELLO_WAIT_MS = 5000;

  /* --- where we come from, and the options ------------------------------------------- */

  const script = document.currentScript ||
    document.querySelector('script[src$="/widget.js"], script[src*="/widget.js?"]');
  const ONCE = Symbol.for("helpline.chat-widget");
  if (!script || window[ONCE]) return; // once per page, even if the snippet is pasted twice
  window[ONCE] = true;
  const BASE = new URL(script.src, location.href).origin;
  const WS_BASE = BASE.replace(/^http/, "ws");
  const data = script.dataset || {};
  const LOCALE = data.locale && CATALOG[data.locale.toLowerCase()] ? data.locale.toLowerCase() : "fr";
  const T = CATALOG[LOCALE];
  const EXIT_URL = safeHttpUrl(data.exitUrl) || DEFAULT_EXIT_URL;

  function safeHttpUrl(value) {
    if (!value) return null;
    try {
      const url = new URL(value, location.href);
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function t(key, values) {
    let text = T[key];
    if (values) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
    return text;
  }

  /* --- tiny DOM helpers (text only: no HTML is ever parsed) -------------------------- */

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "on") {
        for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
      } else if (name === "class") {
        el.className = value;
      } else {
        el.setAttribute(name, value === true ? "" : value);
      }
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return el;
  }

  const ICONS = {
    chat: "M21 12a8 8 0 0 1-11.6 7.1L4 20l1.1-4.6A8 8 0 1 1 21 12z",
    down: "M6 9l6 6 6-6",
    exit: "M15 4h4a1 1 0 0 1 1 1v14a1 1 0 0 1-1 1h-4M10 17l5-5-5-5M15 12H3",
    check: "M5 12.5l4.5 4.5L19 7",
    send: "M4 12l16-8-6 16-3-7-7-1z",
    phone: "M5 4h4l2 5-2.5 1.5a11 11 0 0 0 5 5L15 13l5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2",
    heart: "M12 20s-7-4.4-9-9a4.8 4.8 0 0 1 9-3 4.8 4.8 0 0 1 9 3c-2 4.6-9 9-9 9z",
  };

  function icon(name) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", ICONS[name]);
    svg.appendChild(path);
    return svg;
  }

  /* --- the conversation that survives a reload: sessionStorage only ------------------- */

  // The conversation of this tab: {contactId, token, pending: [{clientId, text}], talked,
  // name, surveyed, open}. Stored under shorter names, {cid, tok, pend: [{c, t}], ...}, the
  // ones earlier versions of the widget stored: a tab mid-chat across an upgrade resumes.
  let session = null;

  function load() {
    try {
      const raw = sessionStorage.getItem(KEY);
      const saved = raw && JSON.parse(raw);
      if (!saved || !saved.cid || !saved.tok) return null;
      return { contactId: saved.cid, token: saved.tok,
        pending: (saved.pend || []).map((p) => ({ clientId: p.c, text: p.t })),
        talked: saved.talked, name: saved.name, surveyed: saved.surveyed, open: saved.open };
    } catch (e) {
      return null;
    }
  }

  // An ended conversation is never kept on the device (a shared tablet): what it said
  // stays on screen only until the end screen is left.
  function save() {
    syncExit();
    if (!session) return;
    if (session.over) {
      unstore();
      return;
    }
    const stored = { cid: session.contactId, tok: session.token,
      pend: session.pending.map((p) => ({ c: p.clientId, t: p.text })),
      talked: session.talked, name: session.name, surveyed: session.surveyed, open: session.open };
    try {
      sessionStorage.setItem(KEY, JSON.stringify(stored));
    } catch (e) {
      /* storage refused (private mode, quota): the chat still works, without resume */
    }
  }

  function forget() {
    session = null;
    unstore();
    syncExit();
  }

  function unstore() {
    try {
      sessionStorage.removeItem(KEY);
    } catch (e) {
      /* nothing stored */
    }
  }

  /* --- the widget's frame ------------------------------------------------------------- */

  const host = document.createElement("helpline-chat");
  const shadow = host.attachShadow({ mode: "open" });
  if ("adoptedStyleSheets" in shadow && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLES); // not an inline <style>: works under a strict style-src CSP
    shadow.adoptedStyleSheets = [sheet];
  } else {
    shadow.appendChild(h("style", {}, STYLES));
  }

  const live = h("div", { class: "sr-only", "aria-live": "polite", "aria-atomic": "true" });
  const badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
  const launcher = h(
    "button",
    { type: "button", class: "launcher", "aria-haspopup": "dialog", "aria-expanded": "false",
      on: { click: () => openPanel(true) } },
    icon("chat"), h("span", {}, data.launcherText || T.launcher), badge,
  );
  // While minimised with a conversation going on: the quick exit, one tap away.
  const miniExit = h("button", { type: "button", class: "exit mini-exit", title: T.exitHelp, hidden: true,
    on: { click: quickExit } }, icon("exit"), T.exit);
  const title = h("h2", { id: "hl-title" }, T.title);
  const sub = h("p", { class: "sub" }, T.tagline);
  const exitButton = h(
    "button",
    { type: "button", class: "exit", title: T.exitHelp, "aria-describedby": "hl-exit-help",
      on: { click: quickExit } },
    icon("exit"), T.exit,
  );
  const head = h(
    "div", { class: "head" },
    h("div", { class: "head-text" }, title, sub),
    h("button", { type: "button", class: "icon-btn", "aria-label": T.minimize, title: T.minimize,
      on: { click: () => closePanel(true) } }, icon("down")),
    exitButton,
    h("span", { id: "hl-exit-help", class: "sr-only" }, T.exitHelp),
  );
  const banner = h("div", { class: "banner", role: "status", hidden: true },
    h("span", { class: "spinner", "aria-hidden": "true" }), T.reconnecting);
  const body = h("div", { class: "body" });
  const toast = h("div", { class: "toast", role: "status", hidden: true });
  const textarea = h("textarea", { id: "hl-text", rows: "1",
    placeholder: T.placeholder, autocomplete: "off" });
  const composer = h(
    "div", { class: "composer", hidden: true },
    h("label", { for: "hl-text", class: "sr-only" }, T.messageLabel),
    textarea,
    h("button", { type: "button", class: "send", title: T.send, on: { click: sendFromComposer } },
      icon("send"), h("span", { class: "sr-only" }, T.send)),
  );
  const panel = h(
    "div",
    { class: "panel", role: "dialog", "aria-modal": "true", "aria-labelledby": "hl-title", hidden: true },
    head, banner, body, composer, toast,
  );
  const root = h("div", { class: "hl" + (data.position === "left" ? " left" : ""), lang: LOCALE },
    launcher, miniExit, panel, live);
  shadow.appendChild(root);

  function applyAccent(value) {
    if (!value || !window.CSS || !CSS_supports(value)) return;
    const probe = h("span", {});
    probe.style.color = value;
    root.appendChild(probe);
    const rgb = (getComputedStyle(probe).color.match(/[\d.]+/g) || []).slice(0, 3).map(Number);
    probe.remove();
    if (rgb.length < 3) return;
    const lum = (c) => {
      const s = c / 255;
      return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
    };
    const L = 0.2126 * lum(rgb[0]) + 0.7152 * lum(rgb[1]) + 0.0722 * lum(rgb[2]);
    const onWhite = 1.05 / (L + 0.05);
    const onDark = (L + 0.05) / 0.0565; // #111820
    root.style.setProperty("--accent", value);
    root.style.setProperty("--on-accent", onWhite >= 4.5 || onWhite >= onDark ? "#ffffff" : "#111820");
  }

  function CSS_supports(value) {
    try {
      return window.CSS.supports("color", value);
    } catch (e) {
      return false;
    }
  }

  /* --- live state --------------------------------------------------------------------- */

  let view = "idle"; // loading | closed | welcome | error | convo | ended
  let ws = null;
  let attempts = 0;
  let retryTimer = 0;
  let bannerTimer = 0;
  let typingTimer = 0;
  let toastTimer = 0;
  let lastTypingSent = 0;
  let lastEscape = 0;
  let lastSeq = 0;
  let online = false;
  let torn = false;
  let contactState = "queued"; // queued | assigned | ended
  let answered = false; // a WebSocket of this page has heard from the server
  let failedTries = 0; // WebSockets that closed without a word, before any did
  let resuming = false; // after a reload: the transcript shows once the contact is known open
  const bubbles = new Map(); // client_id -> message element
  const ackTimers = new Map();
  let ui = {}; // the current conversation view's parts

  /* --- panel open and close, focus ---------------------------------------------------- */

  function isOpen() {
    return !panel.hidden;
  }

  function syncExit() {
    miniExit.hidden = isOpen() || !session;
  }

  function openPanel(byUser) {
    if (isOpen()) return;
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    badge.hidden = true;
    badge.textContent = "";
    syncExit();
    if (session) {
      session.open = true;
      save();
    }
    if (view === "idle") startFlow();
    if (byUser) focusFirst();
    scrollToEnd();
  }

  function closePanel(byUser) {
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    if (view === "ended") reset(); // leaving the end screen: the conversation is forgotten
    if (session) {
      session.open = false;
      save();
    }
    syncExit();
    if (byUser) launcher.focus();
  }

  function focusables() {
    return Array.from(panel.querySelectorAll(
      'button, [href], textarea, input, select, [tabindex]:not([tabindex="-1"])',
    )).filter((el) => !el.disabled && el.getClientRects().length > 0 && el.tabIndex >= 0);
  }

  function focusFirst() {
    const target = body.querySelector("[data-autofocus]") || (composer.hidden ? null : textarea) ||
      focusables()[0];
    if (target) target.focus();
  }

  function focusInside() {
    return isOpen() && panel.contains(shadow.activeElement);
  }

  panel.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const items = focusables();
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    const current = shadow.activeElement;
    if (event.shiftKey && (current === first || !panel.contains(current))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (current === last || !panel.contains(current))) {
      event.preventDefault();
      first.focus();
    }
  });

  function onKeyDown(event) {
    if (event.key !== "Escape" || torn) return;
    if (!isOpen() && !session) return; // the host page's own Escape, with no chat going on
    const now = Date.now();
    if (now - lastEscape <= ESCAPE_WINDOW_MS) {
      event.preventDefault();
      quickExit();
      return;
    }
    lastEscape = now;
    showToast(T.escAgain);
  }

  function showToast(text) {
    clearTimeout(toastTimer);
    toast.textContent = text;
    toast.hidden = false;
    toastTimer = setTimeout(() => {
      toast.hidden = true;
    }, ESCAPE_WINDOW_MS);
  }

  function announce(text) {
    live.textContent = "";
    setTimeout(() => {
      live.textContent = text;
    }, 50);
  }

  function scrollToEnd() {
    body.scrollTop = body.scrollHeight;
  }

  /* --- leave no trace ----------------------------------------------------------------- */

  function quickExit() {
    if (torn) return;
    torn = true;
    if (ws && ws.readyState === WebSocket.OPEN) {
      try {
        ws.send(JSON.stringify({ type: "end" }));
      } catch (e) {
        /* leaving anyway */
      }
    } else if (session && !session.over) {
      endOverHttp(session);
    }
    teardown();
    forget();
    // The neutral site is not told where the visitor came from.
    const meta = document.createElement("meta");
    meta.name = "referrer";
    meta.content = "no-referrer";
    (document.head || document.documentElement).appendChild(meta);
    location.replace(EXIT_URL); // replace: Back does not return here
  }

  function teardown() {
    for (const timer of [retryTimer, bannerTimer, typingTimer, toastTimer]) clearTimeout(timer);
    for (const timer of ackTimers.values()) clearTimeout(timer);
    const socket = ws;
    ws = null;
    if (socket) {
      try {
        socket.close(1000);
      } catch (e) {
        /* already closed */
      }
    }
    document.removeEventListener("keydown", onKeyDown, true);
    window.removeEventListener("online", onOnline);
    window.removeEventListener("offline", onOffline);
    host.remove();
  }

  /* --- the server --------------------------------------------------------------------- */

  function api(path, payload) {
    // keepalive: a POST still goes out when the quick exit leaves the page at once
    const options = { method: payload ? "POST" : "GET", credentials: "omit", cache: "no-store",
      referrerPolicy: "no-referrer", mode: "cors", keepalive: !!payload };
    if (payload) {
      // text/plain keeps it a CORS "simple" request: no preflight.
      options.headers = { "Content-Type": "text/plain;charset=UTF-8" };
      options.body = JSON.stringify(payload);
    }
    const url = BASE + path + (path.includes("?") ? "&" : "?") + "lang=" + LOCALE;
    return fetch(url, options).then((response) =>
      response.json().catch(() => ({})).then((json) => ({ status: response.status, json })),
    );
  }

  function endOverHttp(gone) {
    return api("/api/v1/contacts/" + encodeURIComponent(gone.contactId) + "/end", { token: gone.token })
      .catch(() => null); // the server ends it anyway once the visitor's grace period is over
  }

  function errorCode(answer) {
    return answer && answer.json && answer.json.error ? answer.json.error.code : null;
  }

  /* --- views -------------------------------------------------------------------------- */

  function setView(name, ...children) {
    view = name;
    body.replaceChildren(...children);
    composer.hidden = name !== "convo";
    body.scrollTop = 0;
    if (focusInside() || (isOpen() && shadow.activeElement === null)) focusFirst();
  }

  function startFlow() {
    if (session) {
      showConversation();
      connect();
      return;
    }
    setHeader(T.tagline);
    setView("loading", h("p", { class: "muted", role: "status" }, T.loading));
    api("/api/v1/status")
      .then((answer) => {
        if (answer.status !== 200) throw new Error("status " + answer.status);
        if (answer.json.origin_allowed === false) showElsewhere(answer.json);
        else if (answer.json.accepting_contacts) showWelcome(answer.json);
        else showClosed(answer.json);
      })
      .catch(() => showError(T.unavailable));
  }

  function setHeader(text) {
    sub.textContent = text;
  }

  function showError(text, withRetry = true) {
    setHeader(T.tagline);
    setView(
      "error",
      h("div", { class: "stack" },
        h("div", { class: "card stack" },
          h("p", { class: "lead", role: "alert" }, text),
          withRetry ? h("button", { type: "button", class: "btn btn-secondary", "data-autofocus": true,
            on: { click: () => { forget(); startFlow(); } } }, T.retry) : null),
        dangerLine()),
    );
  }

  function dangerLine() {
    const link = (n) => h("a", { href: "tel:" + n }, n);
    const parts = T.dangerLine.split(/(\{n\d+\})/);
    return h("p", { class: "danger-line" },
      parts.map((part) => {
        const m = part.match(/^\{n(\d+)\}$/);
        return m ? link(m[1]) : part;
      }));
  }

  function formatWait(seconds) {
    if (seconds === null || seconds === undefined) return null;
    if (seconds <= 0) return T.waitSoon;
    if (seconds < 60) return T.waitUnderMinute;
    if (seconds > 3600) return T.waitHour;
    return t("waitMinutes", { n: Math.ceil(seconds / 60) });
  }

  // One tap selects, a second tap clears: every question stays optional. One Tab stop per
  // group; the arrow keys move between the answers.
  function choices(labelId, options, onChange) {
    let selected = null;
    const buttons = [];
    const group = h("div", { class: "choices", role: "group", "aria-labelledby": labelId });
    Object.entries(options).forEach(([value, label], index) => {
      const button = h("button", { type: "button", class: "choice", "aria-pressed": "false",
        tabindex: index === 0 ? "0" : "-1", "data-value": value }, icon("check"), label);
      button.addEventListener("click", () => {
        selected = selected === value ? null : value;
        buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.value === selected)));
        onChange(selected);
      });
      button.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
        let next = null;
        if (step) next = buttons[(buttons.indexOf(button) + step + buttons.length) % buttons.length];
        if (event.key === "Home") next = buttons[0];
        if (event.key === "End") next = buttons[buttons.length - 1];
        if (!next) return;
        event.preventDefault();
        buttons.forEach((b) => b.setAttribute("tabindex", b === next ? "0" : "-1"));
        next.focus();
      });
      buttons.push(button);
      group.appendChild(button);
    });
    return group;
  }

  function question(id, label, options, onChange) {
    return h("div", { class: "q" },
      h("p", { class: "q-label", id }, label, " ", h("span", { class: "muted" }, T.optional)),
      choices(id, options, onChange));
  }

  function showWelcome(status) {
    setHeader(T.tagline);
    const profile = {};
    const wait = status.counsellors_available > 0 ? formatWait(status.estimated_wait_s) : null;
    const startButton = h("button", { type: "button", class: "btn btn-primary wide",
      on: { click: () => startContact(profile, startButton) } }, T.start);
    setView(
      "welcome",
      h("div", { class: "stack" },
        h("h3", { class: "view-title focus-target", tabindex: "-1", "data-autofocus": true }, T.welcomeTitle),
        h("p", { class: "lead" }, T.welcomeIntro),
        h("ul", { class: "promises" }, T.promises.map((p) => h("li", {}, icon("check"), h("span", {}, p)))),
        h("div", { class: "card" },
          h("h3", {}, T.aboutYou),
          h("p", { class: "muted" }, T.nothingRequired),
          question("hl-q-role", T.qRole, T.roles, (v) => { profile.role = v; }),
          question("hl-q-age", T.qAge, T.ages, (v) => { profile.age_band = v; }),
          question("hl-q-topic", T.qTopic, T.topics, (v) => { profile.topic = v; })),
        wait ? h("p", { class: "muted" }, t("waitNow", { wait })) : null,
        startButton,
        dangerLine()),
    );
  }

  function startContact(profile, button) {
    button.disabled = true;
    button.textContent = T.starting;
    const chosen = {};
    for (const [key, value] of Object.entries(profile)) if (value) chosen[key] = value;
    api("/api/v1/contacts", { channel: "chat", profile: chosen })
      .then((answer) => {
        if (answer.status === 201) {
          session = { contactId: answer.json.contact_id, token: answer.json.token, pending: [],
            talked: false, name: "", surveyed: false, open: true };
          save();
          showConversation();
          connect();
        } else if (errorCode(answer) === "closed") {
          startFlow();
        } else if (errorCode(answer) === "rate_limited") {
          showBusy(answer.json.error.retry_after_s, (again) => startContact(profile, again));
        } else if (errorCode(answer) === "chat_unavailable") {
          showUnavailable(answer.json.error);
        } else if (errorCode(answer) === "origin_not_allowed") {
          showError(T.originRefused, false);
        } else {
          showError(T.unavailable);
        }
      })
      .catch(() => showError(T.unavailable));
  }

  // Too many chats started at once (from this address, or for the whole line): a kind word,
  // and the same start again after the wait the server gave.
  function showBusy(seconds, again) {
    const wait = Math.max(1, Math.round(Number(seconds) || 5));
    setHeader(T.tagline);
    const button = h("button", { type: "button", class: "btn btn-secondary", "data-autofocus": true,
      on: { click: () => again(button) } }, T.retry);
    setView(
      "busy",
      h("div", { class: "stack" },
        h("div", { class: "card stack" },
          h("h3", { class: "view-title focus-target", tabindex: "-1" }, T.busyTitle),
          h("p", { class: "lead", role: "status" }, wait > 90 ? T.busyTextLater : t("busyText", { n: wait })),
          button),
        dangerLine()),
    );
  }

  // This sender may not start a chat for now (a supervisor's block): said neutrally, never
  // as a reproach, with the numbers that answer at once.
  function showUnavailable(refusal) {
    setHeader(T.tagline);
    setView(
      "unavailable",
      h("div", { class: "stack" },
        h("h3", { class: "view-title focus-target", tabindex: "-1", "data-autofocus": true }, T.unavailableTitle),
        h("p", { class: "lead" }, T.unavailableText),
        helpNow({ emergency: refusal.emergency || [] })),
    );
  }

  function dayLabel(isoDate) {
    const [y, m, d] = isoDate.split("-").map(Number);
    return new Intl.DateTimeFormat(LOCALE, { weekday: "long", day: "numeric", month: "long", timeZone: "UTC" })
      .format(new Date(Date.UTC(y, m - 1, d)));
  }

  function showClosed(status) {
    setHeader(T.tagline);
    let when = null;
    if (status.opens_at) {
      try {
        when = new Intl.DateTimeFormat(LOCALE, { weekday: "long", day: "numeric", month: "long",
          hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: status.timezone || undefined })
          .format(new Date(status.opens_at));
      } catch (e) {
        when = null;
      }
    }
    const today = status.today ? status.today.date : null;
    // Why today is not as usual (an exceptional closure's reason, as the team wrote it).
    const because = (status.today && status.today.exceptions) || [];
    const rows = (status.days || []).map((day) => {
      const holiday = day.holiday ? day.holiday[LOCALE] || day.holiday.fr : null;
      const why = holiday || (day.exceptions || []).join(", ");
      const hours = day.hours.length
        ? day.hours.map((span) => span.from + "–" + span.to).join(", ")
        : T.dayClosed + (why ? " (" + why + ")" : "");
      return h("tr", { class: day.date === today ? "today" : null },
        h("th", { scope: "row" }, dayLabel(day.date)),
        h("td", { class: day.hours.length ? null : "closed-day" }, hours));
    });
    setView(
      "closed",
      h("div", { class: "stack" },
        h("h3", { class: "view-title focus-target", tabindex: "-1", "data-autofocus": true }, T.closedTitle),
        status.open ? h("p", { class: "lead" }, T.closedFull) : null,
        because.length ? h("p", { class: "lead" }, t("closedBecause", { reason: because.join(", ") })) : null,
        when ? h("p", { class: "lead" }, t("closedReopens", { when })) : null,
        helpNow(status),
        rows.length
          ? h("section", { class: "card", "aria-labelledby": "hl-hours" },
            h("h3", { id: "hl-hours" }, T.hoursTitle),
            h("table", { class: "hours" }, h("tbody", {}, rows)))
          : null),
    );
  }

  // The free numbers that answer at once (the status's emergency list).
  function helpNow(status) {
    const numbers = (status.emergency || []).map((r) =>
      h("li", {},
        h("a", { class: "number", href: r.href },
          h("span", { class: "n" }, r.number),
          h("span", { class: "l" }, (r.label && (r.label[LOCALE] || r.label.fr)) || ""))));
    return h("section", { class: "card stack", "aria-labelledby": "hl-help-now" },
      h("h3", { id: "hl-help-now" }, T.helpNowTitle),
      h("p", { class: "muted" }, T.helpNowIntro),
      h("ul", { class: "numbers" }, numbers));
  }

  // The chat cannot work on this page: this site is not allowed (the status says so), or
  // its WebSocket cannot open. The young person learns it at once, with where to get help
  // now; the site's developer gets one warning in the console saying what to change.
  function showElsewhere(status) {
    const refused = status.origin_allowed === false;
    console.warn("Helpline chat widget: " + (refused
      ? "this site (" + location.origin + ") may not open the chat. Add it to HELPLINE_WIDGET_ORIGINS" +
        " on the helpline server (" + BASE + ")."
      : "its WebSocket to " + WS_BASE + " does not open. If this page has a Content-Security-Policy," +
        " its connect-src must allow " + BASE + " and " + WS_BASE + "."));
    setHeader(T.tagline);
    setView(
      "elsewhere",
      h("div", { class: "stack" },
        h("h3", { class: "view-title focus-target", tabindex: "-1", "data-autofocus": true }, T.elsewhereTitle),
        h("p", { class: "lead" }, refused ? T.elsewhereSite : T.elsewhereConnection),
        helpNow(status)),
    );
  }

  /* --- the conversation view: waiting, chatting ---------------------------------------- */

  function showConversation() {
    bubbles.clear();
    lastSeq = 0;
    const log = h("ol", { class: "log", "aria-label": T.conversation, hidden: resuming });
    const queueCard = h("div", { class: "card stack", hidden: true });
    const typing = h("div", { class: "typing", hidden: true },
      h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), h("span"));
    const endRow = h("div", { class: "end-row", hidden: true });
    ui = { log, queueCard, typing, endRow, place: null, waitText: null, lastPlace: null };
    setView("convo", h("div", { class: "stack" }, queueCard, log, typing, endRow));
    for (const p of (session && session.pending) || []) addVisitorBubble(p.clientId, p.text, "sending");
    renderWaiting(null, undefined);
    setContactState(session && session.talked && session.name ? "assigned" : "queued", true);
    if (session && session.open !== false) openPanel(false);
    if (isOpen()) textarea.focus();
  }

  function renderWaiting(position, wait) {
    const card = ui.queueCard;
    if (!card) return;
    if (!ui.place) {
      ui.place = h("b", {}, "…");
      ui.placeText = h("p", { class: "lead" }, T.placeUnknown);
      ui.waitText = h("p", { class: "muted" });
      card.replaceChildren(
        h("div", { class: "queue" },
          h("div", { class: "place", "aria-hidden": "true" }, ui.place, h("span", {}, T.place)),
          h("div", { class: "q-text" },
            h("h3", { class: "focus-target", tabindex: "-1" }, T.queueTitle),
            ui.placeText, ui.waitText)),
        h("p", { class: "muted" }, T.writeWhileWaiting),
        h("button", { type: "button", class: "btn-link", on: { click: endConversation } }, T.leaveQueue),
      );
    }
    if (position) {
      ui.place.textContent = String(position);
      ui.placeText.textContent = t("placeIs", { n: position });
    }
    if (wait !== undefined) {
      const text = formatWait(wait);
      ui.waitText.textContent = text === null ? T.waitNobody : t("waitIs", { wait: text });
    }
  }

  function setContactState(state, quiet) {
    contactState = state;
    if (view !== "convo") return;
    ui.queueCard.hidden = state !== "queued";
    ui.endRow.hidden = state !== "assigned";
    if (state === "assigned") {
      setHeader(t("talkingWith", { name: counsellorName() }));
      if (!ui.endRow.firstChild) renderEndButton();
    } else {
      setHeader(T.waitingSub);
    }
    if (!quiet) scrollToEnd();
  }

  function counsellorName() {
    return (session && session.name) || T.counsellor;
  }

  function renderEndButton() {
    ui.endRow.replaceChildren(h("button", { type: "button", class: "btn-link",
      on: { click: confirmEnd } }, T.end));
  }

  function confirmEnd() {
    const yes = h("button", { type: "button", class: "btn btn-primary", on: { click: endConversation } },
      T.endYes);
    ui.endRow.replaceChildren(h("div", { class: "card confirm", role: "group", "aria-labelledby": "hl-end-q" },
      h("p", { id: "hl-end-q" }, T.endConfirm),
      h("div", { class: "row" }, yes,
        h("button", { type: "button", class: "btn btn-secondary", on: { click: () => {
          renderEndButton();
          textarea.focus();
        } } }, T.endNo))));
    yes.focus();
    scrollToEnd();
  }

  function endConversation() {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "end" }));
  }

  function notice(text) {
    ui.log.appendChild(h("li", { class: "notice" }, text));
    scrollToEnd();
  }

  function timeOf(iso) {
    const at = iso ? new Date(iso) : new Date();
    return new Intl.DateTimeFormat(LOCALE, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(at);
  }

  // Counsellor links become clickable (http and https only); everything else stays text.
  function linkified(text) {
    const out = [];
    const pattern = /\b(?:https?:\/\/|www\.)[^\s<>"']+/gi;
    let at = 0;
    let match;
    while ((match = pattern.exec(text))) {
      let url = match[0];
      const trail = url.match(/[.,;:!?)\]}»"'’]+$/);
      if (trail) url = url.slice(0, -trail[0].length);
      const href = safeHttpUrl(/^www\./i.test(url) ? "https://" + url : url);
      if (!href || !/^https?:\/\//i.test(href)) continue;
      out.push(text.slice(at, match.index));
      out.push(h("a", { href, target: "_blank", rel: "noopener noreferrer nofollow" }, url));
      at = match.index + url.length;
      pattern.lastIndex = at;
    }
    out.push(text.slice(at));
    return out;
  }

  // Stored messages in seq order; messages not yet stored at the end.
  function place(item) {
    const seq = Number(item.dataset.seq || 0);
    if (seq) {
      for (const other of ui.log.children) {
        const otherSeq = Number(other.dataset.seq || 0);
        if (other !== item && other.classList.contains("msg") && (!otherSeq || otherSeq > seq)) {
          ui.log.insertBefore(item, other);
          return;
        }
      }
    }
    ui.log.appendChild(item);
  }

  function addVisitorBubble(clientId, text, state, seq, sentAt) {
    const status = h("span", { class: "state" });
    const meta = h("div", { class: "meta" }, status);
    const item = h("li", { class: "msg from-visitor" },
      h("span", { class: "sr-only" }, t("said", { name: T.you })), h("div", { class: "bubble" }, text), meta);
    item.dataset.clientId = clientId;
    if (seq) item.dataset.seq = String(seq);
    item._text = text;
    item._status = status;
    item._meta = meta;
    item._sentAt = sentAt;
    bubbles.set(clientId, item);
    place(item);
    setBubbleState(item, state);
    scrollToEnd();
    return item;
  }

  function setBubbleState(item, state, reason) {
    item.dataset.state = state;
    const labels = { sending: T.sending, sent: T.sent + " · " + timeOf(item._sentAt), failed: reason || T.failed };
    item._status.textContent = labels[state];
    const old = item._meta.querySelector(".retry");
    if (old) old.remove();
    if (state === "failed" && !reason) {
      item._meta.appendChild(h("button", { type: "button", class: "retry",
        on: { click: () => retry(item.dataset.clientId) } }, T.retry));
    }
  }

  function addCounsellorBubble(message) {
    const prev = ui.log.lastElementChild;
    const first = !prev || !prev.classList.contains("from-counsellor");
    const item = h("li", { class: "msg from-counsellor" },
      first ? h("span", { class: "who" }, counsellorName())
        : h("span", { class: "sr-only" }, t("said", { name: counsellorName() })),
      message.resource ? resourceCard(message.resource) : h("div", { class: "bubble" }, linkified(message.text)),
      h("div", { class: "meta" }, timeOf(message.sent_at)));
    item.dataset.seq = String(message.seq);
    place(item);
    scrollToEnd();
  }

  // A card the counsellor sent: one of the line's emergency numbers, as a big button that
  // calls it (or writes to it). Only a tel: or sms: number is ever a link.
  function resourceCard(resource) {
    const href = /^(tel|sms):\+?[0-9]+$/.test(resource.href || "") ? resource.href : null;
    const label = (resource.label && (resource.label[LOCALE] || resource.label.fr)) || "";
    const action = t(href && href.startsWith("sms:") ? "resourceText" : "resourceCall", { number: resource.number });
    return h(href ? "a" : "div", { class: "number resource-card", href, "aria-label": t("resourceSaid", { action, label }) },
      h("span", { class: "n" }, action), h("span", { class: "l" }, label));
  }

  function resourceText(resource) {
    return resourceCard(resource).getAttribute("aria-label");
  }

  function newClientId() {
    const bytes = new Uint8Array(9);
    crypto.getRandomValues(bytes);
    return "w-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // A text over the limit (a long paste) is not cut: it goes as several messages, each cut
  // after a line or a space when there is one in its second half.
  function pieces(text) {
    const out = [];
    let rest = text;
    while (rest.length > MAX_TEXT) {
      let cut = Math.max(rest.lastIndexOf("\n", MAX_TEXT - 1), rest.lastIndexOf(" ", MAX_TEXT - 1)) + 1;
      if (cut < MAX_TEXT / 2) cut = MAX_TEXT - (/[\uD800-\uDBFF]/.test(rest[MAX_TEXT - 1]) ? 1 : 0);
      out.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    out.push(rest);
    return out.filter((piece) => piece.trim());
  }

  function sendFromComposer() {
    const text = textarea.value;
    if (!text.trim() || !session) return;
    for (const piece of pieces(text)) {
      const clientId = newClientId();
      session.pending.push({ clientId, text: piece });
      addVisitorBubble(clientId, piece, "sending");
      transmit(clientId, piece);
    }
    save();
    textarea.value = "";
    autoGrow();
    textarea.focus();
  }

  function transmit(clientId, text) {
    const item = bubbles.get(clientId);
    if (item && item.dataset.state !== "sending") setBubbleState(item, "sending");
    if (ws && ws.readyState === WebSocket.OPEN && online) {
      ws.send(JSON.stringify({ type: "message", client_id: clientId, text }));
    }
    clearTimeout(ackTimers.get(clientId));
    ackTimers.set(clientId, setTimeout(() => {
      const pending = bubbles.get(clientId);
      if (pending && pending.dataset.state === "sending") setBubbleState(pending, "failed");
    }, ACK_TIMEOUT_MS));
  }

  // The server took too many messages at once (a long paste, fast typing): nothing was
  // stored; the message stays "sending", says so kindly, and goes again (same client_id)
  // after the wait the server gave.
  function resendLater(clientId, seconds) {
    clearTimeout(ackTimers.get(clientId));
    const item = bubbles.get(clientId);
    if (item) item._status.textContent = T.slowDown;
    ackTimers.set(clientId, setTimeout(() => {
      const again = bubbles.get(clientId);
      if (again && again.dataset.state === "sending") transmit(clientId, again._text);
    }, Math.max(1, Number(seconds) || 1) * 1000));
  }

  function retry(clientId) {
    const item = bubbles.get(clientId);
    if (!item) return;
    transmit(clientId, item._text);
    if (!ws) reconnectNow();
  }

  function delivered(clientId, seq, sentAt) {
    clearTimeout(ackTimers.get(clientId));
    ackTimers.delete(clientId);
    if (session) {
      const before = session.pending.length;
      session.pending = session.pending.filter((p) => p.clientId !== clientId);
      if (session.pending.length !== before) save();
    }
    const item = bubbles.get(clientId);
    if (!item) return;
    if (sentAt) item._sentAt = sentAt;
    if (seq && !item.dataset.seq) {
      item.dataset.seq = String(seq);
      place(item);
    }
    setBubbleState(item, "sent");
  }

  function autoGrow() {
    textarea.style.height = "auto";
    textarea.style.height = Math.min(textarea.scrollHeight + 3, 140) + "px";
  }

  textarea.addEventListener("input", () => {
    autoGrow();
    const now = Date.now();
    if (textarea.value.trim() && now - lastTypingSent > TYPING_EVERY_MS && ws && online) {
      lastTypingSent = now;
      ws.send(JSON.stringify({ type: "typing" }));
    }
  });
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendFromComposer();
    }
  });

  /* --- the socket: resume, resend, never twice ---------------------------------------- */

  function connect() {
    clearTimeout(retryTimer);
    if (!session || torn || contactState === "ended") return;
    let socket;
    let heard = false;
    try {
      socket = new WebSocket(WS_BASE + "/api/v1/contacts/" + encodeURIComponent(session.contactId) +
        "/ws?lang=" + LOCALE);
    } catch (e) {
      unanswered();
      return;
    }
    ws = socket;
    const silence = setTimeout(() => {
      if (!heard) socket.close(); // no answer to hello: this try failed
    }, HELLO_WAIT_MS);
    socket.onopen = () => {
      if (ws !== socket) return;
      socket.send(JSON.stringify({ type: "hello", token: session.token, after_seq: lastSeq }));
      online = true;
      // the same client_id again: the server stores each message once
      for (const p of session.pending) transmit(p.clientId, p.text);
    };
    socket.onmessage = (event) => {
      if (ws !== socket) return;
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      heard = answered = true;
      clearTimeout(silence);
      back();
      handle(message);
    };
    // Chromium reports a socket its page's CSP blocks with an error and no close event.
    let gone = false;
    const closed = (code) => {
      if (gone) return;
      gone = true;
      clearTimeout(silence);
      if (ws !== socket) return;
      ws = null;
      online = false;
      if (torn || contactState === "ended") return;
      if (code === 4401) {
        forget();
        showError(T.contactLost);
        return;
      }
      lost();
      if (heard) scheduleReconnect();
      else unanswered();
    };
    socket.onclose = (event) => closed(event.code);
    socket.onerror = () => {
      if (socket.readyState === WebSocket.CLOSED) closed(1006);
    };
  }

  // A WebSocket closed without a word. Before any has answered on this page, a few such
  // tries while plain HTTP works mean it cannot open here (a CSP, a proxy): the contact is
  // ended at once (nobody is to be assigned a conversation with no one behind it) and the
  // young person is shown where else to get help. Without HTTP either, it is an outage:
  // keep trying.
  function unanswered() {
    failedTries += 1;
    if (answered || failedTries < CONNECT_TRIES || navigator.onLine === false) {
      scheduleReconnect();
      return;
    }
    api("/api/v1/status")
      .then((answer) => {
        if (answer.status !== 200) throw new Error("status " + answer.status);
        const gone = session;
        if (!gone || torn) return;
        contactState = "ended";
        clearTimeout(bannerTimer);
        banner.hidden = true;
        forget();
        endOverHttp(gone);
        showElsewhere(answer.json);
      })
      .catch(() => {
        failedTries = 0;
        scheduleReconnect();
      });
  }

  function lost() {
    if (!bannerTimer && banner.hidden) {
      bannerTimer = setTimeout(() => {
        bannerTimer = 0;
        if (!ws || !online || attempts > 0) {
          banner.hidden = false;
          announce(T.reconnecting);
        }
      }, 700);
    }
  }

  function back() {
    attempts = 0;
    clearTimeout(bannerTimer);
    bannerTimer = 0;
    if (!banner.hidden) {
      banner.hidden = true;
      announce(T.reconnected);
    }
  }

  function scheduleReconnect() {
    clearTimeout(retryTimer);
    const base = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length - 1)];
    attempts += 1;
    retryTimer = setTimeout(connect, base * (0.8 + Math.random() * 0.4));
  }

  function reconnectNow() {
    if (ws || !session || torn) return;
    attempts = 0;
    connect();
  }

  function onOnline() {
    reconnectNow();
  }

  function onOffline() {
    if (ws) {
      try {
        ws.close(4000);
      } catch (e) {
        /* gone already */
      }
    }
  }

  function handle(event) {
    if (view !== "convo" && view !== "ended") return;
    if (resuming && ["queue", "assigned", "requeued"].includes(event.type)) {
      resuming = false; // still open: the transcript can show
      ui.log.hidden = false;
      scrollToEnd();
    } else if (resuming && event.type === "ended") {
      resuming = false; // it ended while this tab was away: a fresh start, not the transcript
      reset();
      if (isOpen()) startFlow();
      return;
    }
    switch (event.type) {
      case "queue":
        if (contactState !== "queued") setContactState("queued");
        renderWaiting(event.position, event.estimated_wait_s);
        if (event.position !== ui.lastPlace) {
          ui.lastPlace = event.position;
          announce(t("placeIs", { n: event.position }));
        }
        break;
      case "assigned": {
        const name = (event.counsellor && event.counsellor.display_name) || "";
        const fresh = contactState !== "assigned" || name !== session.name;
        session.name = name;
        session.talked = true;
        save();
        if (fresh) {
          setContactState("assigned");
          notice(t("joined", { name: counsellorName() }));
          announce(t("joinedLive", { name: counsellorName() }));
        }
        break;
      }
      case "requeued": {
        const why = event.reason === "transferred" ? T.requeuedTransfer : T.requeued;
        ui.lastPlace = null;
        setContactState("queued");
        notice(why);
        announce(why);
        break;
      }
      case "transferring":
        notice(T.transferring);
        announce(T.transferring);
        break;
      case "message":
        receive(event);
        break;
      case "ack":
        delivered(event.client_id, event.seq);
        break;
      case "typing":
        showTyping();
        break;
      case "ended":
        ended(event.reason);
        break;
      case "error":
        if (event.code === "rate_limited" && event.client_id && bubbles.has(event.client_id)) {
          resendLater(event.client_id, event.retry_after_s);
        } else if (event.client_id && bubbles.has(event.client_id)) {
          clearTimeout(ackTimers.get(event.client_id));
          const final = event.code === "contact_closed" ? T.failedClosed : null;
          setBubbleState(bubbles.get(event.client_id), "failed", final);
        }
        break;
      default:
        break;
    }
  }

  function receive(message) {
    if (message.seq <= lastSeq) return; // already shown
    lastSeq = message.seq;
    if (message.sender === "visitor") {
      if (message.client_id && bubbles.has(message.client_id)) {
        delivered(message.client_id, message.seq, message.sent_at);
      } else {
        const item = addVisitorBubble(message.client_id || "seq-" + message.seq, message.text, "sent",
          message.seq, message.sent_at);
        setBubbleState(item, "sent");
      }
    } else if (message.sender === "counsellor") {
      hideTyping();
      addCounsellorBubble(message);
      announce(t("newMessage", { name: counsellorName(),
        text: message.resource ? resourceText(message.resource) : message.text }));
      if (!isOpen()) {
        badge.textContent = String(Number(badge.textContent || 0) + 1);
        badge.hidden = false;
      }
    } else {
      notice(message.text);
    }
  }

  function showTyping() {
    if (view !== "convo") return;
    ui.typing.lastChild.textContent = t("typing", { name: counsellorName() });
    ui.typing.hidden = false;
    scrollToEnd();
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_SHOWN_MS);
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    if (ui.typing) ui.typing.hidden = true;
  }

  /* --- the end, the survey, and starting again ----------------------------------------- */

  function ended(reason) {
    if (view === "ended") return;
    contactState = "ended";
    hideTyping();
    const socket = ws;
    ws = null;
    online = false;
    if (socket) socket.close(1000);
    clearTimeout(retryTimer);
    back();
    for (const [clientId, item] of bubbles) {
      if (item.dataset.state === "sending" || item.dataset.state === "failed") {
        clearTimeout(ackTimers.get(clientId));
        setBubbleState(item, "failed", T.failedClosed);
      }
    }
    if (session) {
      session.pending = [];
      session.over = true;
      save();
    }
    const why = reason === "counsellor" ? t("endedCounsellor", { name: counsellorName() })
      : reason === "abandoned" ? T.endedAbandoned : T.endedVisitor;
    const heading = h("h3", { class: "view-title focus-target", tabindex: "-1", "data-autofocus": true },
      T.endedTitle);
    const card = h("div", { class: "card stack thanks" },
      h("span", { class: "big", "aria-hidden": "true" }, icon("heart")),
      heading, h("p", {}, why), h("p", { class: "lead" }, T.endedText));
    const parts = [card];
    if (session && session.talked && !session.surveyed) parts.push(surveyCard());
    parts.push(h("button", { type: "button", class: "btn btn-secondary wide",
      on: { click: restart } }, T.restart));
    parts.push(dangerLine());
    const end = h("div", { class: "stack" }, parts);
    if (view === "convo") {
      ui.queueCard.hidden = true;
      ui.endRow.replaceChildren();
      ui.endRow.hidden = true;
      ui.log.parentNode.appendChild(end);
    } else {
      body.replaceChildren(end);
    }
    view = "ended";
    composer.hidden = true;
    setHeader(T.tagline);
    announce(T.endedTitle + ". " + why);
    if (isOpen()) heading.focus({ preventScroll: true });
    body.scrollTop = end.offsetTop - 12;
  }

  function surveyCard() {
    const answers = { helpful: null, again: null };
    const status = h("p", { class: "muted", role: "status" });
    const send = h("button", { type: "button", class: "btn btn-primary" }, T.surveySend);
    const card = h("section", { class: "card stack", "aria-labelledby": "hl-survey" },
      h("h3", { id: "hl-survey" }, T.surveyTitle),
      h("p", { class: "muted" }, T.surveyNote),
      question("hl-q-helpful", T.qHelpful, { yes: T.yes, no: T.no }, (v) => { answers.helpful = v; }),
      question("hl-q-again", T.qAgain, { yes: T.yes, no: T.no }, (v) => { answers.again = v; }),
      send, status);
    send.addEventListener("click", () => {
      if (!session) return;
      send.disabled = true;
      api("/api/v1/contacts/" + encodeURIComponent(session.contactId) + "/survey",
        { token: session.token, helpful: answers.helpful, again: answers.again })
        .then((answer) => {
          if (answer.status === 201 || errorCode(answer) === "survey_already_answered") {
            forget(); // done: the conversation leaves the device, and the screen
            if (ui.log) ui.log.remove();
            const thanks = h("p", { class: "lead focus-target", tabindex: "-1", role: "status" }, T.surveyThanks);
            card.replaceChildren(thanks);
            thanks.focus();
          } else {
            throw new Error("survey " + answer.status);
          }
        })
        .catch(() => {
          send.disabled = false;
          status.textContent = T.surveyFailed;
        });
    });
    return card;
  }

  function reset() {
    forget();
    contactState = "queued";
    bubbles.clear();
    ui = {};
    view = "idle";
    body.replaceChildren();
    composer.hidden = true;
  }

  function restart() {
    reset();
    startFlow();
  }

  /* --- go ----------------------------------------------------------------------------- */

  function mount() {
    document.body.appendChild(host);
    applyAccent(data.accent);
    document.addEventListener("keydown", onKeyDown, true);
    window.addEventListener("online", onOnline);
    window.addEventListener("offline", onOffline);
    session = load();
    if (session) {
      contactState = "queued";
      resuming = true;
      startFlow(); // resume the conversation of this tab
      if (!session.open) closePanel(false);
    }
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
