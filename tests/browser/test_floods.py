"""Floods and blocks as people see them, in a real Chromium against the real server: a
young person who starts a chat when too many did from the same place, one who pastes a
long text over the message rate, a supervisor who blocks a chat's sender (and what that
sender then sees), and the floor's count of waiting chats nobody is behind."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from tests.browser import support, test_console
from tests.browser.support import (
    Tab,
    WidgetServer,
    accessibility_violations,
    conversation,
    expect,
    open_widget,
    say,
    shot,
    start_conversation,
    widget,
)
from tests.browser.test_console import ConsoleTab, add_user, log_in, new_tab

pytestmark = pytest.mark.e2e
tabs = test_console.tabs
BUSY = "Beaucoup de monde essaie de nous joindre"
SLOW_DOWN = "Tu écris vite ! On envoie ce message dans quelques secondes."
UNAVAILABLE = "Le tchat n’est pas disponible pour le moment"


@pytest_asyncio.fixture
async def fresh_tabs(browser: support.Browser) -> AsyncIterator[list[Tab]]:
    """More widget tabs, each its own browser context (another young person, same address)."""
    opened: list[Tab] = []
    yield opened
    for tab in opened:
        await tab.close()
    for tab in opened:
        assert not tab.errors, f"the page raised: {tab.errors}"
        assert not tab.left_loopback(), f"requests left loopback: {tab.left_loopback()}"


async def test_too_many_chats_from_one_place_get_a_kind_word_and_a_retry(
    tmp_path: Path, browser: support.Browser, tab: Tab, fresh_tabs: list[Tab],
) -> None:
    server = WidgetServer(tmp_path, HELPLINE_LIMIT_CONTACTS_PER_CLIENT="1/min,burst=1")
    try:
        await server.start()
        await start_conversation(tab.page, server.demo_url)  # the first one of this address
        other = await Tab.open(browser)
        fresh_tabs.append(other)
        page, w = other.page, widget(other.page)
        await open_widget(page, server.demo_url)
        await w.get_by_role("button", name="Commencer la conversation").click()
        await expect(w.get_by_role("heading", name=BUSY)).to_be_visible()
        await expect(w.get_by_role("status")).to_have_text(re.compile(r"Réessaie dans \d+ secondes\."))
        retry = w.get_by_role("button", name="Réessayer")
        await expect(retry).to_be_focused()
        await shot(page, "widget-busy")
        assert await accessibility_violations(page) == []
        await retry.click()  # too early: still the same kind word, no error
        await expect(w.get_by_role("heading", name=BUSY)).to_be_visible()
        await expect(w.get_by_text("Tu es dans la file d’attente")).to_have_count(0)
    finally:
        await server.stop()


async def test_a_long_paste_over_the_message_rate_goes_out_by_itself_in_order(
    tmp_path: Path, tab: Tab,
) -> None:
    server = WidgetServer(tmp_path, HELPLINE_LIMIT_MESSAGES_PER_SOCKET="30/min,burst=2")
    try:
        await server.start()
        code, out, err = await server.cli("counsellor", "add", "alice", "--password-stdin",
                                          stdin=support.PASSWORD + "\n")
        assert code == 0, out + err
        page, w = tab.page, widget(tab.page)
        async with conversation(server, page) as (alice, _contact_id):
            pasted = "\n".join(f"partie {i} " + "mot " * 990 for i in range(1, 4))  # ~12,000: 3 messages
            await say(page, pasted)
            sent = w.locator("li.from-visitor")
            await expect(sent).to_have_count(3)
            await expect(sent.nth(2)).to_contain_text(SLOW_DOWN)
            await shot(page, "widget-slow-down")
            assert await accessibility_violations(page) == []
            for i in range(3):
                await expect(sent.nth(i).locator(".meta")).to_contain_text("Envoyé", timeout=15_000)
            got = [await alice.expect("message", sender="visitor") for _ in range(3)]
            assert "".join(m["text"] for m in got) == pasted  # every piece, in order
            assert [m["seq"] for m in got] == [1, 2, 3]
    finally:
        await server.stop()


async def test_a_supervisor_blocks_a_chats_sender_who_then_sees_where_to_get_help(
    server: WidgetServer, browser: support.Browser, tab: Tab, tabs: list[ConsoleTab], fresh_tabs: list[Tab],
) -> None:
    await add_user(server, "sam", "supervisor")
    await start_conversation(tab.page, server.demo_url)
    console = await new_tab(browser, tabs)
    page = console.page
    await log_in(console, server, "sam", available=False)
    queued = page.locator(".queue-item")
    await expect(queued).to_have_count(1)
    await queued.get_by_role("button", name="Observer").click()
    watched = page.locator("article.pane.monitor")
    block = watched.get_by_role("button", name="Bloquer l’expéditeur·rice")
    await block.click()
    dialog = page.get_by_role("dialog", name="Bloquer l’expéditeur·rice")
    await expect(dialog).to_contain_text("L’adresse n’est jamais connue de la ligne.")
    await dialog.get_by_label("24 h").check()
    await dialog.get_by_label("Motif").fill("Messages injurieux répétés")
    await test_console.shot(console, "block-sender")
    assert await accessibility_violations(page) == []
    await dialog.get_by_role("button", name="Bloquer").click()
    await expect(dialog).to_be_hidden()
    done = watched.locator(".block-status")
    await expect(done).to_contain_text(re.compile(r"Expéditeur·rice bloqué·e jusqu’au .*20\d\d"))
    await expect(block).to_be_hidden()
    await test_console.shot(console, "sender-blocked")

    # The same sender (this machine's address) opens the widget again elsewhere.
    other = await Tab.open(browser)
    fresh_tabs.append(other)
    visitor, w = other.page, widget(other.page)
    await open_widget(visitor, server.demo_url)
    await w.get_by_role("button", name="Commencer la conversation").click()
    await expect(w.get_by_role("heading", name=UNAVAILABLE)).to_be_visible()
    await expect(w.get_by_text("Tu peux parler à quelqu’un tout de suite à ces numéros.")).to_be_visible()
    await expect(w.locator("a.number")).to_have_count(5)
    assert "bloqu" not in (await w.get_by_role("dialog").inner_text()).lower()
    await shot(visitor, "widget-sender-blocked")
    assert await accessibility_violations(visitor) == []


async def test_the_floor_shows_waiting_chats_nobody_is_behind(
    server: WidgetServer, browser: support.Browser, tabs: list[ConsoleTab],
) -> None:
    await add_user(server, "sam", "supervisor")
    # A script's chat: no widget, no socket, ever.
    async with aiohttp.ClientSession() as http, http.post(f"{server.url}/api/v1/contacts",
                                                          json={"channel": "chat"}) as r:
        assert r.status == 201
    console = await new_tab(browser, tabs)
    page = console.page
    await log_in(console, server, "sam", available=False)
    await page.get_by_role("button", name="Plateau").click()
    note = page.locator(".unattended")
    await expect(note).to_contain_text("Dont 1 sans personne derrière", timeout=45_000)
    await test_console.shot(console, "floor-unattended")
    assert await accessibility_violations(page) == []
