"""Phone calls in the console, in a real Chromium against the real server: callers are
played by the call simulator (fake carrier), counsellors and a supervisor work in the
browser."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from telephony.simulator import Caller
from tests.browser import support, test_console
from tests.browser.support import PASSWORD, Ear, WidgetServer, add_account, expect
from tests.browser.test_console import ConsoleTab, log_in, new_tab, shot

tabs = test_console.tabs  # the same fixture: tabs opened on demand, checked at the end
TOKEN = "test-twilio-auth-token"
NUMBER = "+33612345678"
BLOCKED = "Cette ligne ne peut pas prendre votre appel pour le moment. Au revoir."
CALL_TIMEOUT = 20.0  # a simulated call's end, once the server has ended it


@pytest_asyncio.fixture
async def server(tmp_path: Path) -> AsyncIterator[WidgetServer]:
    """The real server with its phone line on the fake carrier: a short hold loop, and a
    counsellor's phone that rings for 5 s before the call counts as not answered."""
    process = WidgetServer(tmp_path, HELPLINE_TWILIO_AUTH_TOKEN=TOKEN, HELPLINE_HOLD_ANNOUNCE_S="1",
                           HELPLINE_DIAL_TIMEOUT_S="5")
    try:
        await process.start()
        yield process
    finally:
        await process.stop()


class Call:
    """A simulated caller, dialling in a task; ``ear`` hears what they hear."""

    def __init__(self, server: WidgetServer, number: str = NUMBER, **options: object) -> None:
        self.ear = Ear()
        self.caller = Caller(server=server.url, token=TOKEN, number=number, say=self.ear, **options)  # type: ignore[arg-type]
        self.task = asyncio.create_task(self.caller.run())

    async def over(self) -> list[str]:
        """Wait for the call to end; what the caller heard."""
        return await asyncio.wait_for(self.task, CALL_TIMEOUT)

    async def hang_up(self) -> list[str]:
        self.caller.hangup_after = 0  # the simulator's caller hangs up at its next turn
        return await self.over()


@pytest_asyncio.fixture
async def calls() -> AsyncIterator[list[Call]]:
    placed: list[Call] = []
    yield placed
    for call in placed:
        call.task.cancel()
    await asyncio.gather(*(call.task for call in placed), return_exceptions=True)


def dial(server: WidgetServer, calls: list[Call], number: str = NUMBER, **options: object) -> Call:
    call = Call(server, number, **options)
    calls.append(call)
    return call


async def test_a_counsellor_takes_a_call_hangs_up_and_misses_the_next_one(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], calls: list[Call]
) -> None:
    # An admin gives claire a voice endpoint (a softphone) when creating her account.
    await add_account(server, "root", role="admin")
    admin = await new_tab(browser, tabs)
    await log_in(admin, server, "root", available=False)
    await admin.page.get_by_role("button", name="Administration").click()
    new = admin.page.get_by_role("form", name="Nouvel·le écoutant·e")
    await new.get_by_label("Identifiant").fill("claire")
    await new.get_by_label("Nom affiché").fill("Claire")
    await new.get_by_label("Mot de passe").fill(PASSWORD)
    await expect(new.get_by_text("+33612345678 ou client:identifiant")).to_be_visible()  # the format
    await new.get_by_label("Point d’appel").fill("06 12 34 56 78")
    await new.get_by_role("button", name="Créer").click()
    await expect(new.locator(".admin-status")).to_contain_text("Point d'appel invalide")
    await new.get_by_label("Point d’appel").fill("client:claire")
    await new.get_by_role("button", name="Créer").click()
    account = admin.page.locator("form.account[data-username='claire']")
    await expect(account.get_by_label("Point d’appel")).to_have_value("client:claire")

    tab = await new_tab(browser, tabs)
    page = tab.page
    await log_in(tab, server, "claire")

    # A parent calls (keypad 2): the call comes in as a contact, marked as a call.
    first = dial(server, calls, press="2")
    item = page.locator(".conv-item").first
    await expect(item.locator(".channel-mark")).to_have_text("☎Appel")
    await expect(item).to_contain_text(re.compile(r"Appelant·e [0-9a-f]{8}"))
    await expect(item).to_contain_text("Parent")
    await expect(item).to_contain_text("Français")
    await expect(item).not_to_contain_text("appel en 30 jours")  # their first call
    call_pane = page.locator("article.pane.call")
    await expect(call_pane.locator(".call-state")).to_have_text("☎Appel en cours")
    await expect(call_pane.locator(".pane-topic")).to_contain_text(re.compile(r"Appelant·e [0-9a-f]{8}"))
    await expect(call_pane.get_by_role("textbox")).to_have_count(0)  # nothing to type
    await expect(call_pane.get_by_role("button", name="Terminer")).to_be_hidden()
    await first.ear.hears("a counsellor answers")  # claire's phone rang and she picked up
    await shot(tab, "call")

    # Transferring a call: cold only (the caller goes back on hold).
    await call_pane.get_by_role("button", name="Transférer").click()
    dialog = page.get_by_role("dialog", name="Transférer l’appel")
    await expect(dialog.get_by_text("Un appel se transfère seulement à froid")).to_be_visible()
    await expect(dialog.get_by_label("À chaud")).to_be_hidden()
    await expect(dialog.get_by_label("À froid")).to_be_checked()
    await dialog.get_by_role("button", name="Annuler").click()
    await expect(dialog).to_be_hidden()

    # Hanging up ends the live call, after a confirmation, then the wrap-up.
    await call_pane.get_by_role("button", name="Raccrocher").click()
    await expect(call_pane.get_by_text("Raccrocher et terminer cet appel ?")).to_be_visible()
    await call_pane.locator(".confirm-end").click()
    heard = await first.over()
    assert "call over: the counsellor hung up" in heard
    await expect(call_pane.get_by_text("Appel terminé.")).to_be_visible()
    await expect(call_pane.locator(".call-panel")).to_be_hidden()
    form = call_pane.get_by_role("form", name="Synthèse de l’appel")
    await expect(form).to_be_visible()
    await expect(form.get_by_label("Qui a contacté")).to_have_value("parent")  # from the keypad
    await shot(tab, "call-wrapup")

    # The same number calls again, and claire's phone does not answer: the call goes back
    # to the queue, claire is told so and is now on a break.
    second = dial(server, calls, answer=False)
    ringing = page.locator(".conv-item:not(.closed)")
    await expect(ringing).to_contain_text("2e appel en 30 jours")
    await second.ear.hears("nobody answers")
    notice = page.locator(".notice-bar")
    await expect(notice).to_contain_text("Votre téléphone n’a pas répondu : "
                                         "l’appel est reparti dans la file.")
    await expect(notice).to_contain_text("Vous êtes maintenant en pause")
    await expect(ringing).to_have_count(0)
    await expect(page.get_by_role("button", name="En pause")).to_have_attribute("aria-pressed", "true")
    waiting = page.locator(".queue-item")
    await expect(waiting).to_have_count(1)
    await expect(waiting.locator(".channel-mark")).to_have_text("☎Appel")
    await shot(tab, "call-not-answered")
    await second.hang_up()
    await expect(page.locator(".queue-list")).to_have_text("Personne n’attend.")
    await page.get_by_role("button", name="Disponible").click()  # back from the break: the notice goes
    await expect(notice).to_be_hidden()


async def test_a_supervisor_blocks_a_caller_whose_next_call_is_refused(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], calls: list[Call]
) -> None:
    await add_account(server, "sam", role="supervisor")
    tab = await new_tab(browser, tabs)
    page = tab.page
    await log_in(tab, server, "sam", available=False)

    # A hidden number waits (nobody takes calls): it cannot be blocked.
    hidden = dial(server, calls, number="anonymous", press="3")
    queued = page.locator(".queue-item")
    await expect(queued.locator(".channel-mark")).to_have_text("☎Appel")
    await queued.get_by_role("button", name="Observer").click()
    watched = page.locator("article.pane.call.monitor")
    await expect(watched.locator(".pane-topic")).to_contain_text("Numéro masqué")
    await expect(watched.locator(".pane-meta")).to_contain_text("Professionnel")
    await expect(watched.get_by_text("Observation (lecture seule)")).to_be_visible()
    await expect(watched.get_by_role("button", name="Raccrocher")).to_be_hidden()
    await expect(watched.get_by_role("button", name="Bloquer l’appelant·e")).to_be_hidden()
    await hidden.hang_up()
    await expect(watched.get_by_text("La personne a raccroché avant la fin.")).to_be_visible()
    await watched.get_by_role("button", name="Arrêter l’observation").click()
    await expect(watched).to_have_count(0)
    await expect(page.locator(".queue-list")).to_have_text("Personne n’attend.")

    # A known number waits; the supervisor watches it and blocks the caller for 7 days.
    first = dial(server, calls, press="1")
    await expect(queued).to_have_count(1)
    await queued.get_by_role("button", name="Observer").click()
    await expect(watched.locator(".pane-meta")).to_contain_text("Jeune")
    block = watched.get_by_role("button", name="Bloquer l’appelant·e")
    await block.click()
    dialog = page.get_by_role("dialog", name="Bloquer l’appelant·e")
    await dialog.get_by_label("7 jours").check()
    await dialog.get_by_label("Motif").fill("   ")
    await dialog.get_by_role("button", name="Bloquer").click()
    await expect(dialog.get_by_role("alert")).to_have_text("Indiquez un motif.")
    await expect(dialog).to_be_visible()
    await dialog.get_by_label("Motif").fill("Appels répétés d’insultes")
    await shot(tab, "block-caller")
    await dialog.get_by_role("button", name="Bloquer").click()
    await expect(dialog).to_be_hidden()
    done = watched.locator(".block-status")
    await expect(done).to_contain_text(re.compile(r"Appelant·e bloqué·e jusqu’au .*20\d\d"))
    await expect(done.get_by_role("button", name="Lever le blocage")).to_be_visible()
    await expect(block).to_be_hidden()
    await shot(tab, "caller-blocked")

    # The same number calls again: a short message, the call ends, nobody is queued.
    again = dial(server, calls)
    heard = await again.over()
    assert f'hears (fr-FR): "{BLOCKED}"' in heard, heard
    assert not any(line.startswith("presses") for line in heard)
    await first.hang_up()
    # Once the first caller has gone, the floor counts two contacts today (the hidden
    # number and the first call), both abandoned: the blocked call never was one.
    await page.get_by_role("button", name="Plateau").click()
    cards = page.locator(".cards")
    await expect(cards.locator(".card", has_text="Abandonnés").locator(".card-value")).to_have_text("2")
    await expect(cards.locator(".card", has_text="Contacts").locator(".card-value")).to_have_text("2")
    await expect(page.locator(".queue-list")).to_have_text("Personne n’attend.")
