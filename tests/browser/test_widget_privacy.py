"""Leave no trace, ask nothing of anyone else, and help even when the line is closed:
the quick exit, the closed state, the size budget, and embedding on another site."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio

from tests.browser.support import (
    PASSWORD,
    Tab,
    WidgetServer,
    accessibility_violations,
    conversation,
    counsellor_takes_it,
    expect,
    host_site,
    open_widget,
    panel,
    say,
    shot,
    widget,
)
from tests.e2e.server_process import free_port

pytestmark = pytest.mark.e2e

BUDGET_GZIPPED = 25 * 1024
EMERGENCY = [("17", "tel:17"), ("112", "tel:112"), ("119", "tel:119"), ("3114", "tel:3114"),
             ("114", "sms:114")]
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@pytest.mark.parametrize("how", ["button", "escape twice"])
async def test_quick_exit_leaves_no_trace_and_back_does_not_return(
    server: WidgetServer, tab: Tab, how: str
) -> None:
    page, w = tab.page, widget(tab.page)
    async with conversation(server, page) as (alice, contact_id):
        await say(page, "Quelqu'un arrive")
        await alice.expect("message", contact_id=contact_id)
        assert await page.evaluate("sessionStorage.length") == 1  # what a reload would resume

        if how == "button":
            await w.get_by_role("button", name="Sortie rapide").click()
        else:
            await page.keyboard.press("Escape")
            hint = panel(page).get_by_text("Appuie encore sur Échap pour quitter rapidement.")
            await expect(hint).to_be_visible()
            await page.keyboard.press("Escape")
        await page.wait_for_url(server.exit_url)

        left = await page.evaluate(
            "async () => ({session: sessionStorage.length, local: localStorage.length,"
            " cookie: document.cookie, idb: (await indexedDB.databases()).length})"
        )
        assert left == {"session": 0, "local": 0, "cookie": "", "idb": 0}, left
        assert await tab.context.cookies() == []
        assert (await alice.expect("ended", contact_id=contact_id))["reason"] == "visitor"

        await page.go_back()
        assert "/demo" not in page.url, f"Back returned to the chat page: {page.url}"


async def test_escape_does_nothing_while_no_chat_is_going_on(server: WidgetServer, tab: Tab) -> None:
    page = tab.page
    await page.goto(server.demo_url)
    await expect(widget(page).get_by_role("button", name="Besoin de parler ?")).to_be_visible()
    await page.keyboard.press("Escape")
    await page.keyboard.press("Escape")
    await page.get_by_role("button", name="Un bouton de la page").click()  # the page still responds
    assert page.url == server.demo_url


@pytest_asyncio.fixture
async def closed_server(tmp_path: Path) -> AsyncIterator[WidgetServer]:
    """A server on opening hours that are empty every day: closed whatever the time."""
    hours = tmp_path / "closed.toml"
    hours.write_text(
        'timezone = "Europe/Paris"\n[hours]\n' + "".join(f"{day} = []\n" for day in DAYS), "utf-8"
    )
    process = WidgetServer(tmp_path, always_open=False, HELPLINE_SCHEDULE_FILE=str(hours))
    try:
        await process.start()
        yield process
    finally:
        await process.stop()


async def test_when_closed_the_emergency_numbers_are_a_tap_away(
    closed_server: WidgetServer, tab: Tab
) -> None:
    page, w = tab.page, widget(tab.page)
    await open_widget(page, closed_server.demo_url)
    await expect(w.get_by_role("heading", name="Le tchat est fermé pour le moment")).to_be_visible()
    await expect(w.get_by_role("button", name="Commencer la conversation")).to_have_count(0)
    numbers = w.locator("a.number")
    await expect(numbers).to_have_count(len(EMERGENCY))
    for number, href in EMERGENCY:
        row = numbers.filter(has=page.locator(".n", has_text=re.compile(f"^{number}$")))
        await expect(row).to_have_attribute("href", href)
    await expect(panel(page).get_by_text("Allô Enfance en danger", exact=False)).to_be_visible()
    await expect(w.get_by_role("row")).to_have_count(7)  # the coming days' hours
    await expect(w.get_by_role("cell", name="fermé")).to_have_count(7)
    await shot(page, "closed")
    assert tab.origins() == {closed_server.url}, f"requests went elsewhere: {tab.origins()}"


async def test_an_exceptional_closure_says_why_and_english_times_read_on_a_24_hour_clock(
    tmp_path: Path, tab: Tab
) -> None:
    hours = tmp_path / "hours.toml"  # open every day 9h-20h, but closed today for a reason
    every_day = "".join(f'{day} = ["09:00-20:00"]\n' for day in DAYS)
    hours.write_text('timezone = "Europe/Paris"\n[hours]\n' + every_day, "utf-8")
    server = WidgetServer(tmp_path, always_open=False, HELPLINE_SCHEDULE_FILE=str(hours))
    await server.start()
    try:
        today = datetime.now(ZoneInfo("Europe/Paris")).date().isoformat()
        code, _, err = await server.cli("schedule", "close", today, "--reason", "Formation de l'équipe")
        assert code == 0, err
        page, w = tab.page, widget(tab.page)
        await open_widget(page, server.demo_url + "?locale=en", launcher="Need to talk?")
        await expect(w.get_by_text("Today, exceptionally: Formation de l'équipe.")).to_be_visible()
        reopens = await w.get_by_text("It opens again").text_content()
        assert reopens and re.search(r"\b09:00\b", reopens) and not re.search(r"AM|PM", reopens), reopens
        await expect(w.get_by_role("cell", name="closed (Formation de l'équipe)")).to_have_count(1)
        await shot(page, "closed-exceptionally-en")
        assert await accessibility_violations(page) == []
    finally:
        await server.stop()


async def test_the_widget_fits_the_budget_and_asks_nothing_of_third_parties(server: WidgetServer) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/widget.js", headers={"Accept-Encoding": "gzip"}) as r,
    ):
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("application/javascript")
        assert r.headers.get("Content-Encoding") == "gzip", "widget.js should be served compressed"
        source = await r.text()
    size = len(gzip.compress(source.encode("utf-8"), compresslevel=9))
    assert size <= BUDGET_GZIPPED, f"widget.js is {size} bytes gzipped, over the {BUDGET_GZIPPED} budget"
    assert "__HELPLINE_" not in source, "a placeholder was left unfilled"
    assert server.exit_url in source, "the configured quick exit is not the default"
    # The only absolute addresses: the SVG namespace (a name, never fetched) and the exit.
    absolute = re.findall(r"\bhttps?://[^\s\"'`)<>]+", source)
    protocol_relative = re.findall(r"[\"'`(]//[\w-]+\.[\w.-]+", source)
    addresses = set(absolute + protocol_relative) - {"http://www.w3.org/2000/svg", server.exit_url}
    assert addresses == set(), f"widget.js names other sites: {addresses}"
    for forbidden in ("@import", "@font-face", "url(", "localStorage.setItem", "indexedDB", "document.cookie",
                      "innerHTML", "insertAdjacentHTML", "eval("):
        assert forbidden not in source, f"widget.js uses {forbidden}"


# --- embedded on another site ---------------------------------------------------------------


@pytest.mark.parametrize("listed", [True, False])
async def test_only_the_listed_sites_can_open_a_conversation(tmp_path: Path, tab: Tab, listed: bool) -> None:
    port = free_port()
    host_origin = f"http://127.0.0.1:{port}"
    origins = f"https://partner.example,{host_origin}" if listed else "https://partner.example"
    helpline = WidgetServer(tmp_path, HELPLINE_WIDGET_ORIGINS=origins)
    runner = await host_site(port, f"{helpline.url}/widget.js")
    page, w = tab.page, widget(tab.page)
    try:
        await helpline.start()
        await helpline.add_counsellor("alice", PASSWORD)
        await open_widget(page, host_origin + "/", launcher="Chat with us")
        if listed:
            await w.get_by_role("button", name="Start the conversation").click()
            await expect(panel(page).get_by_text("You are number 1 in the queue.")).to_be_visible()
            box = w.get_by_role("textbox", name="Your message")
            await box.fill("Hello from a partner site")
            await box.press("Enter")
            await expect(w.locator("li.from-visitor")).to_have_attribute("data-state", "sent")
            alice, contact_id = await counsellor_takes_it(helpline)
            try:
                got = await alice.expect("message", contact_id=contact_id)
                assert got["text"] == "Hello from a partner site"
                await expect(panel(page)).to_contain_text("You are talking with alice")
            finally:
                await alice.close()
            await shot(page, "partner-site-english")
        else:
            # told at once, before any question, with where to get help now
            await expect(w.get_by_role("heading", name="The chat cannot open here")).to_be_visible()
            await expect(w.get_by_role("button", name="Start the conversation")).to_have_count(0)
            async with aiohttp.ClientSession() as http, http.get(f"{helpline.url}/api/v1/status") as r:
                assert (await r.json())["queue_length"] == 0, "a refused site created a contact"
        assert tab.origins() == {host_origin, helpline.url}, tab.origins()
    finally:
        await runner.cleanup()
        await helpline.stop()
