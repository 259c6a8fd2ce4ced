"""What the browser tests share: the real server with the widget's settings, a browser tab
that records every request it makes, and helpers that look at the widget as a visitor does."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from tests.clients import Counsellor
from tests.e2e.server_process import ServerProcess, helpline_command

try:
    from axe_playwright_python.base import AXE_SCRIPT
except ImportError:  # installed with Playwright by the test extra
    AXE_SCRIPT = ""

try:
    from playwright.async_api import (
        Browser,
        BrowserContext,
        Dialog,
        Locator,
        Page,
        Request,
        WebSocket,
        async_playwright,
        expect,
    )
except ImportError:  # the browser fixture says so, and skips (fails under CI)
    async_playwright = None  # type: ignore[assignment]
else:
    expect.set_options(timeout=10_000)

PASSWORD = "secret-pass"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class WidgetServer(ServerProcess):
    """`helpline serve` as ``ServerProcess`` runs it, plus settings of our own. Its quick
    exit leads to a page of its own (``/healthz``), so no test ever leaves loopback.
    ``always_open=False`` runs it on the opening hours of its settings instead of 24/7."""

    def __init__(self, directory: Path, *, always_open: bool = True, **env: str) -> None:
        super().__init__(directory)
        self.always_open = always_open
        self.extra_env = {"HELPLINE_QUICK_EXIT_URL": self.exit_url, **env}

    @property
    def exit_url(self) -> str:
        return f"{self.url}/healthz"

    @property
    def demo_url(self) -> str:
        return f"{self.url}/demo"

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.extra_env}

    async def start(self) -> None:
        if self.always_open:
            await super().start()
            return
        assert not self.running, "the server is already running"
        out, err = self._open_logs()
        try:
            self.proc = await asyncio.create_subprocess_exec(
                *helpline_command(), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=err, env=self.env(),
                cwd=self.directory,
            )
        finally:
            out.close()
            err.close()
        await self.wait_ready()


@dataclass
class Tab:
    """A page of a fresh browser context (no cookies, no storage), with what it did."""

    context: BrowserContext
    page: Page
    requests: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @classmethod
    async def open(cls, browser: Browser, **context_options: Any) -> Tab:
        context_options.setdefault("viewport", {"width": 1280, "height": 800})
        context = await browser.new_context(locale="fr-FR", timezone_id="Europe/Paris", **context_options)
        page = await context.new_page()
        tab = cls(context, page)
        page.on("request", tab._on_request)
        page.on("websocket", tab._on_socket)
        page.on("dialog", tab._on_dialog)
        page.on("pageerror", lambda error: tab.errors.append(str(error)))
        return tab

    def _on_request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _on_socket(self, socket: WebSocket) -> None:
        self.sockets.append(socket.url)

    async def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        await dialog.dismiss()

    def origins(self) -> set[str]:
        """Every origin the tab talked to (HTTP and WebSocket); data: URLs have none."""
        seen = set()
        for url in self.requests + self.sockets:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https", "ws", "wss"):
                scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
                seen.add(f"{scheme}://{parts.netloc}")
        return seen

    def left_loopback(self) -> list[str]:
        return [
            url for url in self.requests + self.sockets
            if urlsplit(url).scheme not in ("data", "about", "blob")
            and urlsplit(url).hostname not in LOOPBACK
        ]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.context.close()


def widget(page: Page) -> Locator:
    """The widget's host element; locators reach into its (open) shadow root."""
    return page.locator("helpline-chat")


def panel(page: Page) -> Locator:
    return widget(page).get_by_role("dialog")


def bubbles(page: Page, sender: str) -> Locator:
    return widget(page).locator(f"li.from-{sender} .bubble")


async def open_widget(page: Page, url: str, launcher: str = "Besoin de parler ?") -> None:
    await page.goto(url)
    await widget(page).get_by_role("button", name=launcher).click()
    await expect(panel(page)).to_be_visible()


async def start_conversation(page: Page, url: str) -> None:
    """From the demo page to the queue, answering none of the optional questions."""
    await open_widget(page, url)
    await widget(page).get_by_role("button", name="Commencer la conversation").click()
    await expect(widget(page).get_by_text("Tu es dans la file d’attente")).to_be_visible()


async def counsellor_takes_it(server: ServerProcess, username: str = "alice") -> tuple[Counsellor, str]:
    """A counsellor logs in and becomes available; returns them and the contact they get."""
    alice = Counsellor(server, username, PASSWORD)  # the server process stands in for Server
    await alice.login()
    await alice.connect()
    assigned = await alice.expect("assigned")
    return alice, assigned["contact"]["contact_id"]


@contextlib.asynccontextmanager
async def conversation(server: WidgetServer, page: Page) -> AsyncIterator[tuple[Counsellor, str]]:
    """The visitor on ``page`` starts a conversation from the demo page and Alice takes it:
    Alice (her console closed at the end) and the contact's id."""
    await start_conversation(page, server.demo_url)
    alice, contact_id = await counsellor_takes_it(server)
    try:
        yield alice, contact_id
    finally:
        await alice.close()


async def say(page: Page, text: str) -> None:
    """Type a message in the widget and send it with Enter."""
    box = widget(page).get_by_role("textbox", name="Ton message")
    await box.fill(text)
    await box.press("Enter")


async def visible_texts(page: Page) -> list[tuple[str, str]]:
    """(sender, text) of every message bubble, top to bottom."""
    items = widget(page).locator("li.msg")
    result = []
    for i in range(await items.count()):
        item = items.nth(i)
        sender = "visitor" if "from-visitor" in (await item.get_attribute("class") or "") else "counsellor"
        result.append((sender, await item.locator(".bubble").inner_text()))
    return result


# Text of the widget that WCAG AA deems too faint on what is behind it: 4.5:1, or 3:1 for
# large text (24 px, or 18.66 px bold). Backgrounds are found by walking up to the first
# opaque one, across the shadow boundary.
CONTRAST_SCRIPT = """
(host) => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = (rgb) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(rgb[0]) + 0.7152 * f(rgb[1]) + 0.0722 * f(rgb[2]);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement || (e.getRootNode() && e.getRootNode().host)) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] > 0.9)) return c;
    }
    return [255, 255, 255];
  };
  const failures = [];
  for (const el of host.shadowRoot.querySelectorAll("*")) {
    const text = Array.from(el.childNodes).filter((n) => n.nodeType === 3)
      .map((n) => n.textContent).join("").trim();
    if (!text || !el.getClientRects().length || el.closest(".sr-only")) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    const fg = parse(style.color), bg = background(el);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    if (ratio < needed) failures.push(`${text.slice(0, 40)}: ${ratio.toFixed(2)} < ${needed}`);
  }
  return failures;
}
"""


async def shot(page: Page, name: str) -> None:
    """Screenshot the page as it is (into var/screenshots/) and check the widget's contrast."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    faint = await widget(page).evaluate(CONTRAST_SCRIPT)
    assert not faint, f"text below WCAG AA contrast in state {name!r}: {faint}"


async def host_site(port: int, widget_url: str, csp: str | None = None) -> web.AppRunner:
    """A partner's page on another origin (another loopback port) embedding the widget in
    English, served with the Content-Security-Policy ``csp`` if given."""

    async def page(_request: web.Request) -> web.Response:
        headers = {"Content-Security-Policy": csp} if csp else {}
        return web.Response(content_type="text/html", headers=headers, text=(
            '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
            "<title>Partner</title></head><body><main><h1>A partner site</h1></main>"
            f'<script src="{widget_url}" async data-locale="en" data-accent="#7a1f5c"'
            ' data-position="left" data-launcher-text="Chat with us"></script></body></html>'
        ))

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner


# --- phone calls -------------------------------------------------------------------------

async def add_account(server: ServerProcess, username: str, *, role: str = "counsellor",
                      voice: str | None = None) -> None:
    """`helpline counsellor add` with the test password; ``voice``: where their calls ring."""
    args = ["counsellor", "add", username, "--password-stdin", "--role", role,
            "--display-name", username.capitalize()]
    if voice is not None:
        args += ["--voice", voice]
    code, out, err = await server.cli(*args, stdin=PASSWORD + "\n")
    assert code == 0, f"`helpline {' '.join(args)}` exited with {code}: {out}{err}"


class Ear:
    """What a simulated caller hears (pass it as the simulator's ``say``), awaitable:
    ``await ear.hears("a counsellor answers")`` returns once a line containing it came."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._new = asyncio.Event()

    def __call__(self, line: str) -> None:
        self.lines.append(line)
        self._new.set()

    async def hears(self, fragment: str, timeout: float = 20.0) -> str:
        async def first() -> str:
            while True:
                found = next((line for line in self.lines if fragment in line), None)
                if found is not None:
                    return found
                self._new.clear()
                await self._new.wait()

        try:
            return await asyncio.wait_for(first(), timeout)
        except TimeoutError:
            raise AssertionError(f"the caller never heard {fragment!r}; heard: {self.lines}") from None


# --- accessibility -----------------------------------------------------------------------

async def accessibility_violations(page: Page, exclude: tuple[str, ...] = ()) -> list[str]:
    """What axe-core finds wrong in the page as it is now (every rule it runs by default:
    WCAG 2.x A and AA, and best practices), one line per rule and element, the widget's
    shadow DOM included, leaving out the elements the ``exclude`` selectors match.
    Evaluated by the browser's debugging protocol, so the page's Content-Security-Policy
    neither blocks it nor reports it."""
    assert AXE_SCRIPT, "axe-core is not installed: pip install -e '.[test]'"
    await page.evaluate(AXE_SCRIPT)
    results = await page.evaluate(
        "(exclude) => axe.run({include: [document], exclude: exclude.map((s) => [s])},"
        " {resultTypes: ['violations']})",
        list(exclude),
    )
    return [f"{v['id']}: {node['target']} {node['failureSummary']}"
            for v in results["violations"] for node in v["nodes"]]
