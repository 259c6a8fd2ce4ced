"""Nobody is stranded: in a real Chromium against the real server, the transfer dialog offers
only colleagues who can take a conversation now, a supervisor puts conversations back in the
queue or gives them to a colleague, and a counsellor sees at once that the young person's
page lost its connection."""

from __future__ import annotations

import re

from tests.browser import support, test_console
from tests.browser.support import WidgetServer, expect
from tests.browser.test_console import (
    ConsoleTab,
    accessible,
    add_user,
    alice_talking,
    log_in,
    new_tab,
    pane,
    shot,
    visitor,
)
from tests.clients import Visitor

tabs = test_console.tabs  # the same fixtures: tabs opened on demand, checked at the end
visitors = test_console.visitors


async def test_a_transfer_offers_only_colleagues_who_can_take_it_now(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    await add_user(server, "bob", "counsellor")
    alice, _, mine = await alice_talking(browser, server, tabs, visitors, topic="hacked_account")
    bob = await new_tab(browser, tabs)
    await log_in(bob, server, "bob", available=False)  # logged in, but offline

    # Bob is offline: listed, not selectable, and the dialog points to the skills instead.
    await mine.get_by_role("button", name="Transférer").click()
    dialog = alice.page.get_by_role("dialog", name="Transférer la conversation")
    await expect(dialog).to_be_visible()
    bob_option = dialog.locator("#transfer-counsellor option", has_text="Bob")
    await expect(bob_option).to_have_text(
        re.compile(r"^Bob \(#\d+, Hors ligne\) — ne peut pas la prendre maintenant$"))
    await expect(bob_option).to_be_disabled()
    await expect(dialog.get_by_label("Écoutant·e", exact=True)).to_have_value("")
    await expect(dialog.get_by_text("Aucun·e collègue ne peut la prendre maintenant")).to_be_visible()
    await expect(dialog.get_by_label("À un·e écoutant·e")).to_be_disabled()
    await expect(dialog.get_by_label("À une compétence")).to_be_checked()
    await shot(alice, "transfer-nobody")
    await accessible(alice)
    await dialog.get_by_role("button", name="Annuler").click()

    # Bob is available: he is offered, and chosen.
    await bob.page.get_by_role("button", name="Disponible").click()
    await mine.get_by_role("button", name="Transférer").click()
    await expect(bob_option).to_be_enabled()
    await expect(dialog.get_by_label("À un·e écoutant·e")).to_be_checked()
    await expect(dialog.get_by_label("Écoutant·e", exact=True)).to_have_value(
        await bob_option.get_attribute("value") or "-")
    await expect(dialog.get_by_text("Aucun·e collègue ne peut la prendre maintenant")).to_be_hidden()

    # He goes on a break before Alice confirms: the server refuses, and the pane says why.
    await bob.page.get_by_role("button", name="En pause").click()
    await expect(bob.page.get_by_role("button", name="En pause")).to_have_attribute("aria-pressed", "true")
    await dialog.get_by_role("button", name="Transférer").click()
    refusal = mine.get_by_role("alert")
    await expect(refusal).to_have_text("Cet·te écoutant·e n'est pas disponible ou n'a pas de place. "
                                       "Transférez-la plutôt vers une compétence.")
    await expect(mine.get_by_label("Votre message")).to_be_visible()  # the conversation is still hers
    await shot(alice, "transfer-refused")
    await accessible(alice)


async def test_a_supervisor_puts_back_in_the_queue_and_gives_to_a_colleague(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    await add_user(server, "bob", "counsellor")
    await add_user(server, "sam", "supervisor")
    alice = await new_tab(browser, tabs)
    await log_in(alice, server, "alice")
    bob = await new_tab(browser, tabs)
    await log_in(bob, server, "bob", available=False)
    first = await visitor(server, visitors, topic="cyberbullying")
    second = await visitor(server, visitors, topic="hacked_account")
    await expect(pane(alice, first.contact_id)).to_be_visible()
    await expect(pane(alice, second.contact_id)).to_be_visible()
    await alice.page.get_by_role("button", name="En pause").click()  # she keeps both

    sam = await new_tab(browser, tabs)
    await log_in(sam, server, "sam", available=False)
    page = sam.page
    await page.get_by_role("button", name="Plateau").click()
    held = page.locator(f".in-progress li[data-contact='{first.contact_id}']")
    await expect(held).to_contain_text("avec alice")

    # Back in the queue, for anyone: Alice's pane says so, the young person is told, it waits.
    await held.get_by_role("button", name="Remettre en file").click()
    dialog = page.get_by_role("dialog", name="Remettre en file")
    await expect(dialog).to_contain_text("la première personne disponible")
    await dialog.get_by_role("button", name="Remettre en file").click()
    await expect(dialog).to_be_hidden()
    await expect(pane(alice, first.contact_id).get_by_text(
        "Un·e superviseur·e a confié cette conversation à quelqu’un d’autre.")).to_be_visible()
    await first.expect("requeued", reason="redirected")
    waiting = page.locator(f".waiting-list li[data-contact='{first.contact_id}']")
    await expect(waiting).to_contain_text("Cyberharcèlement")
    await expect(held).to_have_count(0)
    await shot(sam, "floor-requeued")
    await accessible(sam)

    # Give the other one: nobody can take it yet (Bob is offline), so nothing to confirm.
    other = page.locator(f".in-progress li[data-contact='{second.contact_id}']")
    await other.get_by_role("button", name="Confier à…").click()
    give = page.get_by_role("dialog", name="Confier à un·e collègue")
    await expect(give.get_by_text("Aucun·e collègue ne peut la prendre maintenant")).to_be_visible()
    await expect(give.locator("#redirect-counsellor option", has_text="Alice")).to_have_count(0)  # holds it
    await expect(give.locator("#redirect-counsellor option", has_text="Bob")).to_be_disabled()
    await expect(give.get_by_role("button", name="Confier", exact=True)).to_be_disabled()
    await shot(sam, "give-nobody")
    await accessible(sam)
    await give.get_by_role("button", name="Annuler").click()

    # Bob comes: the waiting one is his at once; then the supervisor gives him the other.
    await bob.page.get_by_role("button", name="Disponible").click()
    await expect(pane(bob, first.contact_id)).to_be_visible()
    await expect(waiting).to_have_count(0)
    await other.get_by_role("button", name="Confier à…").click()
    await expect(give.get_by_label("Écoutant·e")).to_have_value(
        await give.locator("#redirect-counsellor option", has_text="Bob").get_attribute("value") or "-")
    await shot(sam, "give-to-bob")
    await give.get_by_role("button", name="Confier", exact=True).click()
    await expect(page.locator(".notice-bar")).to_have_text("Conversation confiée à Bob.")
    await expect(pane(bob, second.contact_id)).to_be_visible()
    await expect(pane(alice, second.contact_id).get_by_text(
        "Un·e superviseur·e a confié cette conversation à quelqu’un d’autre.")).to_be_visible()
    await expect(other).to_contain_text("avec Bob")
    await shot(alice, "redirected")
    await accessible(alice)


async def test_the_console_shows_that_the_young_person_is_disconnected(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    alice = await new_tab(browser, tabs)
    await log_in(alice, server, "alice")
    v = await visitor(server, visitors, topic="cyberbullying")
    mine = pane(alice, v.contact_id)
    await v.say("Je dois y aller")
    await expect(mine.locator("li.from-visitor")).to_have_count(1)
    away = mine.get_by_role("status").filter(has_text="La personne s’est déconnectée")
    marker = alice.page.locator(f".conv-item[data-contact='{v.contact_id}'] .away-flag")
    await expect(away).to_have_count(0)

    await v.drop()  # the page is closed, or the network lost
    await expect(away).to_be_visible()
    await expect(away).to_contain_text("La conversation se termine si elle ne revient pas.")
    await expect(marker).to_have_text("Déconnecté·e")
    # Written meanwhile: stored and sent (the young person gets it on return).
    await mine.get_by_label("Votre message").fill("Tu es toujours là ?")
    await mine.get_by_label("Votre message").press("Enter")
    await expect(mine.locator("li.from-counsellor.state-sent")).to_have_count(1)
    await expect(away).to_be_visible()
    await shot(alice, "visitor-away")
    await accessible(alice)

    await v.connect(after_seq=1)  # back
    assert (await v.expect("message", sender="counsellor"))["text"] == "Tu es toujours là ?"
    await expect(away).to_have_count(0)
    await expect(marker).to_have_count(0)
    await shot(alice, "visitor-back")
