// The console's WebSocket: reconnects by itself (1 s, 2 s, 4 s... up to 10 s) and starts
// every connection with the hello frame the app builds (the last seq of each contact).
import { locale } from "./i18n.js";

export class ConsoleSocket {
  constructor({ hello, onEvent, onState }) {
    this.hello = hello;
    this.onEvent = onEvent;
    this.onState = onState;
    this.ws = null;
    this.delay = 1000;
    this.stopped = false;
    this.live = false;
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    // The server's error frames come in the console's language.
    return `${scheme}//${location.host}/api/v1/console/ws?lang=${locale()}`;
  }

  connect() {
    if (this.stopped) return;
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.delay = 1000;
      ws.send(JSON.stringify(this.hello()));
    });
    ws.addEventListener("message", (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch { return; }
      if (data.type === "session") this.setLive(true);
      this.onEvent(data);
    });
    ws.addEventListener("close", () => {
      if (this.ws !== ws) return;
      if (!this.live) this.onState(false); // never got in: the app checks the session
      this.setLive(false);
      if (this.stopped) return;
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10000);
    });
  }

  setLive(live) {
    if (this.live === live) return;
    this.live = live;
    this.onState(live);
  }

  send(frame) {
    if (!this.live || !this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close(1000);
  }
}
