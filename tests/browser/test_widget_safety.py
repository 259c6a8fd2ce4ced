"""What a user test of the widget found: the quick exit while minimised, an ended
conversation left readable on a shared device, a site not allowed refused only at the end,
and a host page whose CSP blocks the WebSocket."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.async_api import ConsoleMessage

from tests.browser.support import (
    PASSWORD,
    Tab,
    WidgetServer,
    accessibility_violations,
    conversation,
    expect,
    host_site,
    open_widget,
    panel,
    say,
    shot,
    start_conversation,
    widget,
)
from tests.clients import queue_length_becomes
from tests.e2e.server_process import free_port

pytestmark = pytest.mark.e2e

WELCOME = "Bonjour, on est là pour t’écouter"


def _warnings(tab: Tab) -> list[str]:
    """Every console.warn of the widget, recorded from now on."""
    seen: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "warning" and "Helpline" in message.text:
            seen.append(message.text)

    tab.page.on("console", record)
    return seen


async def test_minimised_with_a_conversation_the_quick_exit_is_one_tap_away(
    server: WidgetServer, tab: Tab
) -> None:
    page, w = tab.page, widget(tab.page)
    await page.goto(server.demo_url)
    exit_button = w.get_by_role("button", name="Sortie rapide")
    await expect(exit_button).to_have_count(0)  # no conversation: just the launcher

    async with conversation(server, page) as (alice, contact_id):
        await w.get_by_role("button", name="Réduire le tchat").click()
        await expect(panel(page)).to_be_hidden()
        await alice.say(contact_id, "Tu es toujours là ?")
        await expect(w.locator(".badge")).to_have_text("1")
        await expect(exit_button).to_be_visible()
        await expect(exit_button).to_be_in_viewport()
        await page.keyboard.press("Tab")  # from the launcher, focused on minimising
        await expect(exit_button).to_be_focused()
        await shot(page, "minimised-quick-exit")
        assert await accessibility_violations(page) == []

        await page.keyboard.press("Enter")
        await page.wait_for_url(server.exit_url)
        assert await page.evaluate("sessionStorage.length") == 0
        assert (await alice.expect("ended", contact_id=contact_id))["reason"] == "visitor"


async def test_an_ended_conversation_leaves_the_device_with_the_end_screen(
    server: WidgetServer, tab: Tab
) -> None:
    page, w = tab.page, widget(tab.page)
    async with conversation(server, page) as (alice, contact_id):
        await say(page, "Un secret de famille")
        await alice.expect("message", contact_id=contact_id)
        await alice.send_json({"type": "end", "contact_id": contact_id})
        await expect(w.get_by_role("heading", name="Merci de nous avoir écrit")).to_be_visible()
        assert await page.evaluate("sessionStorage.length") == 0, "an ended conversation stays stored"

        # the survey done: the transcript goes too
        await w.get_by_role("button", name="Envoyer mes réponses").click()
        await expect(panel(page).get_by_text("Merci pour tes réponses !")).to_be_visible()
        await expect(panel(page).get_by_text("Un secret de famille")).to_have_count(0)
        await shot(page, "ended-survey-done-forgotten")
        assert await accessibility_violations(page) == []

        # a reload: a fresh start, not the transcript
        await page.reload()
        await w.get_by_role("button", name="Besoin de parler ?").click()
        await expect(w.get_by_role("heading", name=WELCOME)).to_be_visible()
        await expect(w.locator("li.msg")).to_have_count(0)


async def test_closing_the_end_screen_forgets_the_conversation(server: WidgetServer, tab: Tab) -> None:
    page, w = tab.page, widget(tab.page)
    await start_conversation(page, server.demo_url)
    await say(page, "Je préfère arrêter")
    await expect(w.locator("li.from-visitor")).to_have_attribute("data-state", "sent")
    await w.get_by_role("button", name="Quitter la file").click()
    await expect(panel(page).get_by_text("Tu as terminé la conversation.")).to_be_visible()
    await w.get_by_role("button", name="Réduire le tchat").click()
    await expect(w.get_by_role("button", name="Sortie rapide")).to_have_count(0)
    await w.get_by_role("button", name="Besoin de parler ?").click()
    await expect(w.get_by_role("heading", name=WELCOME)).to_be_visible()
    await expect(w.locator("li.msg")).to_have_count(0)
    assert await page.evaluate("sessionStorage.length") == 0


async def test_a_conversation_that_ended_while_the_tab_was_away_is_not_shown_again(
    server: WidgetServer, tab: Tab
) -> None:
    page, w = tab.page, widget(tab.page)
    async with conversation(server, page) as (alice, contact_id):
        await alice.say(contact_id, "Ce que personne d’autre ne doit lire")
        await expect(panel(page).get_by_text("Ce que personne d’autre ne doit lire")).to_be_visible()
        await page.goto(server.exit_url)  # the tab goes elsewhere; its sessionStorage stays
        await alice.send_json({"type": "end", "contact_id": contact_id})
        await alice.expect("ended", contact_id=contact_id)
        await page.goto(server.demo_url)
        await expect(w.get_by_role("heading", name=WELCOME)).to_be_visible()
        await expect(panel(page).get_by_text("Ce que personne d’autre ne doit lire")).to_have_count(0)
        assert await page.evaluate("sessionStorage.length") == 0


async def test_a_site_not_allowed_shows_where_to_get_help_before_any_question(
    tmp_path: Path, tab: Tab
) -> None:
    port = free_port()
    helpline = WidgetServer(tmp_path, HELPLINE_WIDGET_ORIGINS="https://partner.example")
    runner = await host_site(port, f"{helpline.url}/widget.js")
    page, w = tab.page, widget(tab.page)
    warnings = _warnings(tab)
    try:
        await helpline.start()
        await open_widget(page, f"http://127.0.0.1:{port}/", launcher="Chat with us")
        await expect(w.get_by_role("heading", name="The chat cannot open here")).to_be_visible()
        await expect(panel(page).get_by_text("This site is not allowed to open the chat.")).to_be_visible()
        await expect(w.locator("a.number")).to_have_count(5)
        await expect(w.get_by_role("button", name="Start the conversation")).to_have_count(0)
        await expect(w.get_by_role("heading", name="Hello, we are here to listen")).to_have_count(0)
        await shot(page, "site-not-allowed")
        assert await accessibility_violations(page) == []
        assert len(warnings) == 1, warnings
        assert "HELPLINE_WIDGET_ORIGINS" in warnings[0]
        assert f"http://127.0.0.1:{port}" in warnings[0]
        await queue_length_becomes(helpline.url, 0)
    finally:
        await runner.cleanup()
        await helpline.stop()


async def test_a_page_whose_csp_blocks_the_websocket_ends_the_contact_and_says_so(
    tmp_path: Path, tab: Tab
) -> None:
    port = free_port()
    host_origin = f"http://127.0.0.1:{port}"
    helpline = WidgetServer(tmp_path, HELPLINE_WIDGET_ORIGINS=host_origin)
    # script-src and connect-src name the helpline's https address, but not its ws one
    csp = f"default-src 'self'; img-src data:; script-src {helpline.url}; connect-src {helpline.url}"
    runner = await host_site(port, f"{helpline.url}/widget.js", csp=csp)
    page, w = tab.page, widget(tab.page)
    warnings = _warnings(tab)
    try:
        await helpline.start()
        await helpline.add_counsellor("alice", PASSWORD)
        await open_widget(page, host_origin + "/", launcher="Chat with us")
        async with page.expect_response(lambda r: r.url.split("?")[0].endswith("/end")) as ending:
            await w.get_by_role("button", name="Start the conversation").click()
            await expect(w.get_by_role("heading", name="The chat cannot open here")).to_be_visible()
        assert (await ending.value).status == 200
        told = panel(page).get_by_text("The chat cannot connect from this page", exact=False)
        await expect(told).to_be_visible()
        await expect(w.locator("a.number")).to_have_count(5)
        await expect(w.get_by_role("textbox", name="Your message")).to_be_hidden()
        await shot(page, "websocket-blocked")
        assert await accessibility_violations(page) == []
        assert len(warnings) == 1, warnings
        assert "connect-src" in warnings[0] and helpline.url.replace("http", "ws") in warnings[0]
        assert await page.evaluate("sessionStorage.length") == 0

        # the contact ended at once: nobody will be given a conversation with no one behind it
        await queue_length_becomes(helpline.url, 0)
        with sqlite3.connect(helpline.db_path) as db:
            states = db.execute("SELECT state, end_reason FROM contacts").fetchall()
        assert states == [("ended", "visitor")]
    finally:
        await runner.cleanup()
        await helpline.stop()
