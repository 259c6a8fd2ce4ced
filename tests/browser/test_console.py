"""The counsellor and supervisor console in a real Chromium, against the real server: a
visitor client talks, counsellors and a supervisor work in the browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest_asyncio

from tests.browser import support
from tests.browser.support import PASSWORD, SCREENSHOTS, Tab, WidgetServer, accessibility_violations, expect
from tests.clients import Visitor

XSS = '<img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script>'


class ConsoleTab(Tab):
    """A browser tab on the console that also records Content-Security-Policy violations."""

    csp_violations: list[str]

    @classmethod
    async def open_console(cls, browser: support.Browser) -> ConsoleTab:
        tab = await cls.open(browser)
        assert isinstance(tab, ConsoleTab)
        tab.csp_violations = []
        tab.page.on("console", lambda m: tab.csp_violations.append(m.text)
                    if "Content Security Policy" in m.text else None)
        return tab


@pytest_asyncio.fixture
async def tabs(browser: support.Browser) -> AsyncIterator[list[ConsoleTab]]:
    """Open console tabs on demand (each its own browser context); checked when the test ends."""
    opened: list[ConsoleTab] = []
    yield opened
    for tab in opened:
        await tab.close()
    for tab in opened:
        assert not tab.errors, f"the page raised: {tab.errors}"
        assert not tab.left_loopback(), f"requests left loopback: {tab.left_loopback()}"
        assert not tab.csp_violations, f"CSP violations: {tab.csp_violations}"
        assert not tab.dialogs, f"unexpected dialogs: {tab.dialogs}"


@pytest_asyncio.fixture
async def visitors() -> AsyncIterator[list[Visitor]]:
    opened: list[Visitor] = []
    yield opened
    for v in opened:
        await v.close()


async def new_tab(browser: support.Browser, tabs: list[ConsoleTab]) -> ConsoleTab:
    tab = await ConsoleTab.open_console(browser)
    tabs.append(tab)
    return tab


async def log_in(tab: ConsoleTab, server: WidgetServer, username: str, *, available: bool = True) -> None:
    page = tab.page
    await page.goto(f"{server.url}/console/")
    await page.get_by_label("Identifiant").fill(username)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.locator(".connection")).to_have_text("Connecté")
    if available:
        await page.get_by_role("button", name="Disponible").click()
        await expect(page.get_by_role("button", name="Disponible")).to_have_attribute("aria-pressed", "true")


async def logged_in(
    browser: support.Browser, tabs: list[ConsoleTab], server: WidgetServer, username: str
) -> ConsoleTab:
    """A new console tab, logged in as ``username`` and available."""
    tab = await new_tab(browser, tabs)
    await log_in(tab, server, username)
    return tab


async def visitor(server: WidgetServer, visitors: list[Visitor], **profile: str) -> Visitor:
    v = Visitor(server)  # type: ignore[arg-type]  # the server process stands in for Server
    visitors.append(v)
    await v.start(profile=profile)
    await v.connect()
    return v


async def alice_talking(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor],
    **profile: str,
) -> tuple[ConsoleTab, Visitor, support.Locator]:
    """Alice logged in and available, and a young person she was given: her tab, the young
    person, and the conversation's pane."""
    alice = await new_tab(browser, tabs)
    await log_in(alice, server, "alice")
    v = await visitor(server, visitors, **profile)
    mine = pane(alice, v.contact_id)
    await expect(mine).to_be_visible()
    return alice, v, mine


async def accessible(tab: ConsoleTab) -> None:
    """axe-core finds nothing wrong in the console as it is now."""
    violations = await accessibility_violations(tab.page)
    assert not violations, "\n".join(violations)


def pane(tab: ConsoleTab, contact_id: str) -> support.Locator:
    return tab.page.locator(f"article.pane[data-contact='{contact_id}']")


async def shot(tab: ConsoleTab, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await tab.page.screenshot(path=str(SCREENSHOTS / f"console-{name}.png"))


async def add_user(server: WidgetServer, username: str, role: str) -> None:
    code, out, err = await server.cli("counsellor", "add", username, "--password-stdin", "--role", role,
                                      "--display-name", username.capitalize(), stdin=PASSWORD + "\n")
    assert code == 0, out + err


async def test_login_errors_and_languages(browser: support.Browser, server: WidgetServer,
                                          tabs: list[ConsoleTab]) -> None:
    tab = await new_tab(browser, tabs)
    page = tab.page
    await page.goto(f"{server.url}/console/")
    await expect(page.get_by_role("heading", name="Connexion à la console")).to_be_visible()
    await shot(tab, "login")
    await page.get_by_label("Identifiant").fill("alice")
    await page.get_by_label("Mot de passe").fill("wrong")
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page.get_by_role("alert")).to_have_text("Identifiant ou mot de passe incorrect.")
    await page.get_by_label("Langue").select_option("en")
    await expect(page.get_by_role("heading", name="Log in to the console")).to_be_visible()
    await page.get_by_label("Username").fill("alice")
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("button", name="Available")).to_be_visible()
    await expect(page.get_by_text("No conversation in progress.")).to_be_visible()
    await shot(tab, "english")
    await page.get_by_role("button", name="Log out").click()
    await expect(page.get_by_role("heading", name="Log in to the console")).to_be_visible()
    me = await page.evaluate("fetch('/api/v1/auth/me').then(r => r.status)")
    assert me == 401


async def test_a_counsellor_handles_two_conversations_and_wraps_up(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    tab = await logged_in(browser, tabs, server, "alice")
    page = tab.page
    await expect(page.locator(".conv-list")).to_contain_text("Aucune conversation en cours.")

    first = await visitor(server, visitors, topic="cyberbullying", role="young_person", age_band="11_14")
    one = pane(tab, first.contact_id)
    await expect(one).to_be_visible()
    await expect(page).to_have_title(re.compile(r"^\(1\) Console d’écoute$"))  # the badge
    await first.say("Bonjour, on se moque de moi sur Discord")
    visitor_bubbles = one.locator("li.from-visitor .bubble")
    await expect(visitor_bubbles).to_have_text("Bonjour, on se moque de moi sur Discord")
    await first.send_json({"type": "typing"})
    await expect(one.get_by_text("Le jeune écrit…")).to_be_visible()

    box = one.get_by_label("Votre message")
    await box.click()
    await box.press_sequentially("Je suis là.")
    await first.expect("typing")  # the visitor sees the counsellor typing
    await box.press("Shift+Enter")
    await box.press_sequentially("Raconte-moi.")
    await box.press("Enter")
    got = await first.expect("message", sender="counsellor")
    assert got["text"] == "Je suis là.\nRaconte-moi."
    await expect(one.locator("li.from-counsellor.state-sent")).to_have_count(1)
    await expect(box).to_have_value("")

    # A second conversation at the same time, with a payload that must stay text.
    second = await visitor(server, visitors, topic="sextortion")
    two = pane(tab, second.contact_id)
    await expect(two).to_be_visible()
    await second.say(XSS)
    await expect(two.locator("li.from-visitor .bubble")).to_have_text(XSS)
    assert await two.locator("li.from-visitor img, li.from-visitor script").count() == 0
    await expect(page.locator(".conv-item")).to_have_count(2)
    await expect(page.locator(".prio-high").first).to_be_visible()  # sextortion: high
    await two.get_by_label("Votre message").fill("Tu as bien fait de nous écrire.")
    await two.get_by_label("Votre message").press("Enter")
    assert (await second.expect("message", sender="counsellor"))["text"] == "Tu as bien fait de nous écrire."
    await first.say("Ils publient des photos de moi")
    await expect(one.locator("li.from-visitor .bubble")).to_have_count(2)
    await shot(tab, "two-conversations")

    # Priority: the counsellor raises the first one.
    await one.get_by_label("Priorité").select_option("urgent")
    await expect(page.locator(f".conv-item[data-contact='{first.contact_id}'] .prio-urgent")).to_be_visible()

    # End the first and wrap it up.
    await one.get_by_role("button", name="Terminer").click()
    await one.locator(".confirm-end").click()
    await first.expect("ended")
    await expect(one.get_by_text("Conversation terminée.")).to_be_visible()
    form = one.get_by_role("form", name="Synthèse de la conversation")  # a chat, not a call
    await expect(form).to_be_visible()
    await expect(form.get_by_role("heading", name="Synthèse de la conversation")).to_be_visible()
    await expect(form.get_by_label("Cyberharcèlement")).to_be_checked()  # the topic the teen chose
    await form.get_by_label("Cyberharcèlement").uncheck()
    await form.get_by_role("button", name="Enregistrer la synthèse").click()
    await expect(form.locator(".wrapup-status")).to_contain_text("Choisissez au moins une thématique")
    await form.get_by_label("Cyberharcèlement").check()
    await form.get_by_label("Discord").check()
    await form.get_by_label("Conseils donnés").check()
    assert await form.get_by_label("Qui a contacté").input_value() == "young_person"  # from the profile
    assert await form.get_by_label("Tranche d’âge").input_value() == "11_14"
    await form.get_by_label("Note").fill("Harcèlement par un groupe de classe.")
    await shot(tab, "wrapup")
    await form.get_by_role("button", name="Enregistrer la synthèse").click()
    await expect(form.locator(".wrapup-status")).to_have_text("Synthèse enregistrée.")
    stored = await page.evaluate(f"fetch('/api/v1/contacts/{first.contact_id}/wrapup').then(r => r.json())")
    assert stored["categories"] == ["cyberbullying"]
    assert stored["note"] == "Harcèlement par un groupe de classe."

    # A closed pane counts what arrives unread; opening it again clears the count.
    await two.get_by_role("button", name="Fermer").click()
    await expect(two).to_be_hidden()
    await second.say("Tu es encore là ?")
    item = page.locator(f".conv-item[data-contact='{second.contact_id}']")
    await expect(item.locator(".unread")).to_have_text("1")
    await item.get_by_role("button").click()
    await expect(two.locator("li.from-visitor")).to_have_count(2)
    await expect(item.locator(".unread")).to_have_count(0)
    # A refused message is marked failed, with a retry.
    await two.get_by_label("Votre message").fill("x" * 4001)
    await two.get_by_label("Votre message").press("Enter")
    failed = two.locator("li.state-failed")
    await expect(failed.get_by_role("button", name="Réessayer")).to_be_visible()
    await expect(two.get_by_role("alert")).to_contain_text("trop long")
    await shot(tab, "failed-message")

    # The visitor of the second one leaves: the counsellor is told.
    await second.send_json({"type": "end"})
    await expect(two.get_by_text("Le jeune a terminé la conversation.")).to_be_visible()
    assert await page.title() != "pwned"


async def test_transfer_supervision_and_privacy(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    await add_user(server, "bob", "counsellor")
    await add_user(server, "sam", "supervisor")
    alice, v, mine = await alice_talking(browser, server, tabs, visitors, topic="hacked_account")
    await v.say("On a piraté mon compte")
    await expect(mine.locator("li.from-visitor")).to_have_count(1)

    bob = await new_tab(browser, tabs)
    await log_in(bob, server, "bob")
    # Bob cannot read Alice's transcript.
    denied = await bob.page.evaluate(
        f"fetch('/api/v1/contacts/{v.contact_id}/messages').then(async r => [r.status, await r.json()])")
    assert denied[0] == 403 and denied[1]["error"]["code"] == "not_your_contact"

    # The supervisor sees the floor live and monitors the conversation.
    sam = await new_tab(browser, tabs)
    await log_in(sam, server, "sam", available=False)
    page = sam.page
    await page.get_by_role("button", name="Plateau").click()
    staff = page.locator(".staff-table")
    await expect(staff.locator("tr", has_text="Alice")).to_contain_text("Disponible")
    await expect(staff.locator("tr", has_text="Bob")).to_contain_text("Disponible")
    in_progress = page.locator(f".progress-list li[data-contact='{v.contact_id}']")
    await expect(in_progress).to_contain_text("avec alice")
    await shot(sam, "floor")
    assert await accessibility_violations(page) == []
    await in_progress.get_by_role("button", name="Observer").click()
    watched = pane(sam, v.contact_id)
    await expect(watched.get_by_text("Observation (lecture seule)")).to_be_visible()
    await expect(watched.locator(".pane-meta")).to_contain_text("avec alice")
    await expect(watched.locator("li.from-visitor .bubble")).to_have_text("On a piraté mon compte")
    await expect(watched.get_by_label("Votre message")).to_be_hidden()
    await mine.get_by_label("Votre message").fill("Quel réseau social ?")
    await mine.get_by_label("Votre message").press("Enter")
    await expect(watched.locator("li.from-counsellor .bubble")).to_have_text("Quel réseau social ?")
    await expect(watched.locator("li.from-counsellor .who")).to_have_text("alice")  # not "Écoutant·e"
    await v.say("Instagram")
    await expect(watched.locator("li.from-visitor .bubble").last).to_have_text("Instagram")
    await shot(sam, "monitoring")
    assert await accessibility_violations(page) == []
    # Bob goes on a break: the floor follows.
    await bob.page.get_by_role("button", name="En pause").click()
    await page.get_by_role("button", name="Plateau").click()
    await expect(staff.locator("tr", has_text="Bob")).to_contain_text("En pause")
    await bob.page.get_by_role("button", name="Disponible").click()

    # A cold transfer from Alice to Bob, with a note.
    await mine.get_by_role("button", name="Transférer").click()
    dialog = alice.page.get_by_role("dialog", name="Transférer la conversation")
    await expect(dialog).to_be_visible()
    colleagues = await alice.page.evaluate("fetch('/api/v1/console/colleagues').then(r => r.json())")
    bob_id = next(c["id"] for c in colleagues["counsellors"] if c["display_name"] == "Bob")
    await dialog.get_by_label("Écoutant·e", exact=True).select_option(str(bob_id))
    await dialog.get_by_label("Note pour la personne suivante").fill("Compte Instagram piraté, a peur.")
    await shot(alice, "transfer")
    await dialog.get_by_role("button", name="Transférer").click()
    await expect(mine.get_by_text("Conversation transférée.")).to_be_visible()
    theirs = pane(bob, v.contact_id)
    await expect(theirs).to_be_visible()
    handover = theirs.locator(".handover")
    await expect(handover).to_have_text("Note de transfert : Compte Instagram piraté, a peur.")
    await expect(theirs.locator("li.msg")).to_have_count(3)  # the whole history
    await theirs.get_by_label("Votre message").fill("Bonjour, je prends le relais.")
    await theirs.get_by_label("Votre message").press("Enter")
    assert (await v.expect("message", text="Bonjour, je prends le relais."))["sender"] == "counsellor"
    await shot(bob, "after-transfer")
    # Now Alice may not read it any more, and a counsellor may not monitor.
    denied = await alice.page.evaluate(
        f"fetch('/api/v1/contacts/{v.contact_id}/messages').then(r => r.status)")
    assert denied == 403


async def test_the_counsellor_view_after_a_reload_and_an_ended_conversation(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    tab = await new_tab(browser, tabs)
    page = tab.page
    await log_in(tab, server, "alice")
    v = await visitor(server, visitors, topic="hacked_account")
    mine = pane(tab, v.contact_id)
    await expect(mine).to_be_visible()
    # Alone, the pane takes the whole width beside the sidebar.
    widths = await page.evaluate("""(id) => [document.querySelector('.panes').clientWidth,
      document.querySelector(`article.pane[data-contact="${id}"]`).offsetWidth]""", v.contact_id)
    assert widths[1] >= widths[0] - 2 * 14 - 2, f"a lone pane is {widths[1]} px wide of {widths[0]}"
    since = page.locator(f".conv-item[data-contact='{v.contact_id}'] .ticking")
    await expect(since).to_have_text(re.compile(r"^depuis ([3-9]|\d\d) s$"))
    # After a reload the time still counts from the assignment (the server's), not from now.
    await page.reload()
    await expect(since).to_be_visible()
    assert re.fullmatch(r"depuis ([3-9]|\d\d) s|depuis \d+ min", await since.inner_text())
    await expect(mine).to_be_visible()
    await shot(tab, "single-pane")

    # The young person leaves: the ended conversation stays in the list, readable (WCAG AA),
    # with the "available" button pressed.
    await v.send_json({"type": "end"})
    await expect(mine.get_by_text("Le jeune a terminé la conversation.")).to_be_visible()
    await expect(page.locator(f".conv-item.closed[data-contact='{v.contact_id}']")).to_be_visible()
    await expect(page.get_by_role("button", name="Disponible")).to_have_attribute("aria-pressed", "true")
    await expect(mine.get_by_role("form", name="Synthèse de la conversation")).to_be_visible()
    await expect(mine.get_by_label("Compte piraté / usurpation d’identité")).to_be_checked()
    await shot(tab, "ended-in-sidebar")
    assert await accessibility_violations(page) == []


async def test_the_wait_alert_and_the_queue_panel(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    await add_user(server, "sam", "supervisor")
    sam = await new_tab(browser, tabs)
    await log_in(sam, server, "sam", available=False)
    page = sam.page
    v = await visitor(server, visitors, topic="sextortion")  # nobody available: it waits
    item = page.locator(f".queue-item[data-contact='{v.contact_id}']")
    await expect(item).to_contain_text("Sextorsion")
    await expect(item).to_contain_text("Juridique")
    await expect(item).to_contain_text("Haute")
    await page.get_by_role("button", name="Plateau").click()
    await expect(page.locator(".skills-table")).to_contain_text("Juridique")
    await expect(page.locator(".wait-alert")).to_be_hidden()
    # The default threshold is 5 minutes; at 0 any wait raises the alert (in every view).
    threshold = page.get_by_label("Alerte si l’attente dépasse (minutes)")
    await expect(threshold).to_have_value("5")
    await threshold.fill("0")
    await threshold.press("Tab")
    await expect(page.locator(".wait-alert")).to_contain_text("Attente trop longue")
    await expect(page.locator(".skills-table tr.late")).to_have_count(1)
    await shot(sam, "wait-alert")


async def test_the_waiting_list_in_a_surge_shows_how_many_wait(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab]
) -> None:
    """More young people wait than the queue frame lists (its first 100): the count says
    how many wait in all, the list shows the first ones."""
    waiting = 120
    async with aiohttp.ClientSession() as http:
        for _ in range(waiting):
            async with http.post(f"{server.url}/api/v1/contacts", json={"channel": "chat"}) as r:
                assert r.status == 201, await r.text()
    await add_user(server, "sam", "counsellor")
    sam = await new_tab(browser, tabs)
    await log_in(sam, server, "sam", available=False)
    page = sam.page
    await expect(page.locator(".queue-count")).to_have_text(str(waiting))
    await expect(page.locator(".queue-item")).to_have_count(100)
    await shot(sam, "queue-surge")
    assert await accessibility_violations(page) == []


async def test_a_warm_transfer_is_accepted_by_a_colleague(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    await add_user(server, "bob", "counsellor")
    alice, v, mine = await alice_talking(browser, server, tabs, visitors)
    await v.say("Bonjour")
    bob = await new_tab(browser, tabs)
    await log_in(bob, server, "bob")

    await mine.get_by_role("button", name="Transférer").click()
    dialog = alice.page.get_by_role("dialog", name="Transférer la conversation")
    await dialog.get_by_label("À chaud").check()
    await expect(dialog.get_by_text("vous gardez la conversation")).to_be_visible()
    colleagues = await alice.page.evaluate("fetch('/api/v1/console/colleagues').then(r => r.json())")
    bob_id = next(c["id"] for c in colleagues["counsellors"] if c["display_name"] == "Bob")
    await dialog.get_by_label("Écoutant·e", exact=True).select_option(str(bob_id))
    await dialog.get_by_label("Note pour la personne suivante").fill("Prête à parler à un juriste.")
    await dialog.get_by_role("button", name="Transférer").click()
    await expect(mine.get_by_text("en attente d’acceptation")).to_be_visible()
    # Alice keeps it and may still write until Bob accepts.
    await mine.get_by_label("Votre message").fill("Je te passe une collègue.")
    await mine.get_by_label("Votre message").press("Enter")
    await v.expect("message", text="Je te passe une collègue.")

    offer = bob.page.locator(f".offer-item[data-contact='{v.contact_id}']")
    await expect(offer).to_contain_text("Transfert d’un·e collègue")
    await expect(offer).to_contain_text("Prête à parler à un juriste.")
    await shot(bob, "warm-offer")
    await offer.get_by_role("button", name="Accepter").click()
    theirs = pane(bob, v.contact_id)
    await expect(theirs.locator("li.msg")).to_have_count(2)
    await expect(offer).to_be_hidden()
    await expect(mine.get_by_text("Conversation transférée.")).to_be_visible()
    await theirs.get_by_label("Votre message").fill("Bonjour, je suis Bob.")
    await theirs.get_by_label("Votre message").press("Enter")
    await v.expect("message", text="Bonjour, je suis Bob.")


async def test_the_console_reconnects_and_resyncs_after_a_server_crash(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    tab = await logged_in(browser, tabs, server, "alice")
    page = tab.page
    v = await visitor(server, visitors)
    mine = pane(tab, v.contact_id)
    await v.say("Avant la panne")
    await expect(mine.locator("li.from-visitor")).to_have_count(1)

    await server.kill()
    await expect(page.locator(".connection")).to_have_text("Connexion perdue, reconnexion…")
    # Written while the server is down: kept as "sending", sent once it is back.
    await mine.get_by_label("Votre message").fill("Pendant la panne")
    await mine.get_by_label("Votre message").press("Enter")
    await expect(mine.locator("li.state-sending")).to_have_count(1)
    await shot(tab, "reconnecting")
    await server.start()
    await expect(page.locator(".connection")).to_have_text("Connecté", timeout=20_000)
    await v.drop()
    await v.connect(after_seq=1)
    got = await v.expect("message", sender="counsellor")
    assert got["text"] == "Pendant la panne"
    await v.say("Après la panne")
    await expect(mine.locator("li.from-visitor .bubble")).to_have_text(["Avant la panne", "Après la panne"])
    await expect(mine.locator("li.from-counsellor.state-sent")).to_have_count(1)
    await expect(page.get_by_role("button", name="Disponible")).to_have_attribute("aria-pressed", "true")


async def test_an_admin_manages_accounts_canned_responses_and_closures(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    await add_user(server, "root", "admin")
    admin = await new_tab(browser, tabs)
    page = admin.page
    await log_in(admin, server, "root", available=False)
    await page.get_by_role("button", name="Administration").click()
    new = page.get_by_role("form", name="Nouvel·le écoutant·e")
    await new.get_by_label("Identifiant").fill("nina")
    await new.get_by_label("Nom affiché").fill("Nina")
    await new.get_by_label("Mot de passe").fill(PASSWORD)
    await new.get_by_label("Juridique").uncheck()
    await new.get_by_role("button", name="Créer").click()
    nina = page.locator("form.account[data-username='nina']")
    await expect(nina).to_be_visible()
    await nina.get_by_label("Chats simultanés").fill("2")
    await nina.get_by_role("button", name="Enregistrer").click()
    await expect(nina.locator(".admin-status")).to_have_text("Enregistré.")

    canned = page.get_by_role("form", name="Réponses types")
    await canned.get_by_label("Titre").fill("Signalement")
    await canned.get_by_label("Texte").fill("Tu peux signaler le contenu sur Pharos.")
    await canned.get_by_role("button", name="Ajouter").click()
    await expect(page.locator(".canned-list")).to_contain_text("Signalement")

    closures = page.get_by_role("form", name="Fermetures et ouvertures exceptionnelles")
    await closures.get_by_label("Du").fill("2030-12-24")
    await closures.get_by_label("De (facultatif)").fill("16:00")
    await closures.get_by_label("À (facultatif)").fill("20:00")
    await closures.get_by_label("Motif").fill("Veille de Noël")
    await closures.get_by_role("button", name="Ajouter").click()
    await expect(page.locator(".exceptions-list")).to_contain_text("Veille de Noël")
    await shot(admin, "admin")

    # Nina logs in and answers with the canned response, found with "/".
    tab = await new_tab(browser, tabs)
    await log_in(tab, server, "nina")
    v = await visitor(server, visitors)
    mine = pane(tab, v.contact_id)
    box = mine.get_by_label("Votre message")
    await box.click()
    await box.press_sequentially("/pharos")
    picker = mine.get_by_role("listbox", name="Réponses types")
    await expect(picker.get_by_role("option")).to_have_count(1)
    await shot(tab, "canned")
    await box.press("Enter")
    await expect(box).to_have_value("Tu peux signaler le contenu sur Pharos.")
    await box.press("Enter")
    sent = await v.expect("message", sender="counsellor")
    assert sent["text"] == "Tu peux signaler le contenu sur Pharos."
    # Disabled by the admin: Nina's console closes and asks for a login.
    await nina.get_by_label("Désactivé").check()
    await nina.get_by_role("button", name="Enregistrer").click()
    await expect(nina.locator(".admin-status")).to_have_text("Enregistré.")
    await expect(tab.page.get_by_role("heading", name="Connexion à la console")).to_be_visible()
    await expect(tab.page.get_by_role("alert")).to_have_text("Connectez-vous pour continuer.")
