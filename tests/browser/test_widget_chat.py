"""The chat widget in a real browser, on the demo page, against the real server, with a
counsellor on the console WebSocket: what a young person sees and does."""

from __future__ import annotations

import re
import sqlite3

import pytest

from tests.browser.support import (
    PASSWORD,
    Tab,
    WidgetServer,
    bubbles,
    conversation,
    counsellor_takes_it,
    expect,
    panel,
    say,
    shot,
    start_conversation,
    visible_texts,
    widget,
)
from tests.clients import Counsellor, Visitor, queue_length_becomes

pytestmark = pytest.mark.e2e


async def test_a_whole_conversation_from_the_demo_page(server: WidgetServer, tab: Tab) -> None:
    page, w = tab.page, widget(tab.page)
    ahead = Visitor(server)  # someone is already waiting, about the same thing
    await ahead.start(profile={"age_band": "11_14", "topic": "cyberbullying"})
    alice: Counsellor | None = None
    try:
        await page.goto(server.demo_url)
        await w.get_by_role("button", name="Besoin de parler ?").click()

        # welcome: what this is, the promises, three optional questions
        await expect(w.get_by_role("heading", name="Bonjour, on est là pour t’écouter")).to_be_visible()
        for promise in ("C’est gratuit.", "C’est anonyme", "C’est confidentiel"):
            await expect(panel(page).get_by_text(promise)).to_be_visible()
        await shot(page, "welcome")
        for answer in ("un·e jeune", "11 à 14 ans", "cyberharcèlement"):
            await w.get_by_role("button", name=answer).click()
            await expect(w.get_by_role("button", name=answer)).to_have_attribute("aria-pressed", "true")
        await w.get_by_role("button", name="un parent").click()  # changed my mind
        await w.get_by_role("button", name="un parent").click()  # and left it unanswered
        await expect(w.get_by_role("button", name="un·e jeune")).to_have_attribute("aria-pressed", "false")
        await w.get_by_role("button", name="Commencer la conversation").click()

        # waiting: the place in the queue, updated as the one ahead leaves
        await expect(panel(page).get_by_text("Tu es à la place 2.")).to_be_visible()
        nobody = panel(page).get_by_text("Aucun·e écoutant·e n’est disponible", exact=False)
        await expect(nobody).to_be_visible()
        await shot(page, "waiting")
        await ahead.connect()
        await ahead.send_json({"type": "end"})
        await expect(panel(page).get_by_text("Tu es à la place 1.")).to_be_visible()
        await expect(w.locator("[aria-live]")).to_have_text("Tu es à la place 1.")

        # a counsellor takes it, with what the visitor chose to say about themselves
        alice = Counsellor(server, "alice", PASSWORD)
        await alice.login()
        await alice.connect()
        assigned = (await alice.expect("assigned"))["contact"]
        contact_id = assigned["contact_id"]
        assert assigned["profile"] == {"age_band": "11_14", "topic": "cyberbullying"}, assigned
        await expect(panel(page).get_by_text("alice a rejoint la conversation.")).to_be_visible()
        await expect(panel(page)).to_contain_text("Tu parles avec alice")

        # chatting: bubbles, per-message state, typing, links
        await say(page, "Bonjour, on se moque de moi dans un groupe")
        got = await alice.expect("message", contact_id=contact_id, sender="visitor")
        assert got["text"] == "Bonjour, on se moque de moi dans un groupe"
        mine = w.locator("li.from-visitor").filter(has_text="on se moque de moi")
        await expect(mine).to_have_attribute("data-state", "sent")
        await expect(mine.locator(".meta")).to_contain_text("Envoyé")

        await alice.send_json({"type": "typing", "contact_id": contact_id})
        await expect(panel(page).get_by_text("alice écrit…")).to_be_visible()
        await alice.say(contact_id, "Je suis là. Tu peux lire https://example.org/aide, c’est utile.")
        link = w.get_by_role("link", name="https://example.org/aide")
        await expect(link).to_have_attribute("href", "https://example.org/aide")
        await expect(link).to_have_attribute("rel", re.compile("noopener"))
        await expect(panel(page).get_by_text("alice écrit…")).to_be_hidden()
        await expect(w.locator("[aria-live]")).to_contain_text("Message de alice : Je suis là.")
        await say(page, "Merci")
        thanks = w.locator("li.from-visitor").filter(has_text="Merci")
        await expect(thanks).to_have_attribute("data-state", "sent")
        await shot(page, "chatting")

        # ended: thanks, the survey, and starting again
        await alice.send_json({"type": "end", "contact_id": contact_id})
        await expect(w.get_by_role("heading", name="Merci de nous avoir écrit")).to_be_visible()
        await expect(panel(page).get_by_text("alice a terminé la conversation.")).to_be_visible()
        await expect(w.get_by_role("textbox", name="Ton message")).to_be_hidden()
        await shot(page, "ended")
        helpful = w.get_by_role("group", name=re.compile("aidé"))
        again = w.get_by_role("group", name=re.compile("recontact"))
        await helpful.get_by_role("button", name="Oui").click()
        await again.get_by_role("button", name="Non").click()
        await w.get_by_role("button", name="Envoyer mes réponses").click()
        await expect(panel(page).get_by_text("Merci pour tes réponses !")).to_be_visible()
        await shot(page, "survey-answered")
        with sqlite3.connect(server.db_path) as db:
            stored = db.execute("SELECT contact_id, helpful, again FROM surveys").fetchall()
        assert stored == [(contact_id, "yes", "no")]

        await w.get_by_role("button", name="Commencer une nouvelle conversation").click()
        await expect(w.get_by_role("button", name="Commencer la conversation")).to_be_visible()
        assert await page.evaluate("sessionStorage.length") == 0
    finally:
        await ahead.close()
        if alice:
            await alice.close()


async def test_the_widget_rides_out_a_server_crash_and_a_reload(server: WidgetServer, tab: Tab) -> None:
    page, w = tab.page, widget(tab.page)
    async with conversation(server, page) as (alice, contact_id):
        await say(page, "Premier message")
        await alice.expect("message", contact_id=contact_id, sender="visitor")
        await alice.say(contact_id, "Réponse avant la panne")
        await expect(bubbles(page, "counsellor").filter(has_text="Réponse avant la panne")).to_be_visible()

        # the server dies: the widget says it is reconnecting, and keeps what is typed meanwhile
        await server.kill()
        await expect(panel(page).get_by_text("Connexion perdue. On se reconnecte…")).to_be_visible()
        await say(page, "Écrit pendant la panne")
        written = w.locator("li.from-visitor").filter(has_text="Écrit pendant la panne")
        await expect(written).to_have_attribute("data-state", "sending")
        # no answer from the server in time: "not sent", with a way to try again
        await expect(written).to_have_attribute("data-state", "failed", timeout=15_000)
        await expect(written.locator(".meta")).to_contain_text("Non envoyé")
        await shot(page, "reconnecting")
        await written.get_by_role("button", name="Réessayer").click()
        await expect(written).to_have_attribute("data-state", "sending")
        await alice.closed()
        await alice.drop()

        # it comes back: the widget reconnects by itself and sends what was waiting, once
        await server.start()
        await expect(panel(page).get_by_text("Connexion perdue. On se reconnecte…")).to_be_hidden()
        await expect(written).to_have_attribute("data-state", "sent")
        await alice.connect(after={contact_id: 2})
        resent = await alice.expect("message", contact_id=contact_id, seq=3)
        assert resent["text"] == "Écrit pendant la panne"
        await alice.say(contact_id, "Réponse après la reprise")
        await expect(bubbles(page, "counsellor").filter(has_text="Réponse après la reprise")).to_be_visible()

        expected = [
            ("visitor", "Premier message"),
            ("counsellor", "Réponse avant la panne"),
            ("visitor", "Écrit pendant la panne"),
            ("counsellor", "Réponse après la reprise"),
        ]
        assert await visible_texts(page) == expected
        async with alice.http.get(f"{server.url}/api/v1/contacts/{contact_id}/messages") as r:
            stored = [(m["sender"], m["text"]) for m in (await r.json())["messages"]]
        assert stored == expected, "each message must be stored once, in order"

        # a reload of the tab resumes the same conversation, each message shown once
        await page.reload()
        await expect(panel(page).get_by_text("Réponse après la reprise")).to_be_visible()
        await expect(panel(page)).to_contain_text("Tu parles avec alice")
        assert await visible_texts(page) == expected
        await say(page, "Toujours là après le rechargement")
        got = await alice.expect("message", contact_id=contact_id, seq=5)
        assert got["text"] == "Toujours là après le rechargement"


async def test_a_network_drop_is_ridden_out_too(server: WidgetServer, tab: Tab) -> None:
    page, w = tab.page, widget(tab.page)
    async with conversation(server, page) as (alice, contact_id):
        await tab.context.set_offline(True)
        await expect(panel(page).get_by_text("Connexion perdue. On se reconnecte…")).to_be_visible()
        await say(page, "Écrit hors ligne")
        await tab.context.set_offline(False)
        await expect(panel(page).get_by_text("Connexion perdue. On se reconnecte…")).to_be_hidden()
        written = w.locator("li.from-visitor").filter(has_text="Écrit hors ligne")
        await expect(written).to_have_attribute("data-state", "sent")
        got = await alice.expect("message", contact_id=contact_id)
        assert (got["seq"], got["text"]) == (1, "Écrit hors ligne")
        await alice.say(contact_id, "Bien reçu")
        await expect(bubbles(page, "counsellor")).to_have_text(["Bien reçu"])
        assert [m["seq"] for m in alice.messages()] == [1, 2], "a message was delivered twice"


READ_STORED = "() => JSON.parse(sessionStorage.getItem('helpline.chat'))"
WRITE_STORED = "(saved) => sessionStorage.setItem('helpline.chat', JSON.stringify(saved))"


async def test_a_conversation_stored_by_an_earlier_widget_resumes(server: WidgetServer, tab: Tab) -> None:
    """A tab mid-chat when the widget is upgraded: what the earlier widget kept in
    sessionStorage ({cid, tok, pend: [{c, t}], ...}) is read, and kept in that shape."""
    page = tab.page
    visitor = Visitor(server)
    await visitor.start()
    alice, contact_id = await counsellor_takes_it(server)
    earlier = {"cid": visitor.contact_id, "tok": visitor.token, "pend": [{"c": "w-0123", "t": "Tu es là ?"}],
               "talked": True, "name": "alice", "surveyed": False, "open": True}
    try:
        await page.goto(server.demo_url)
        await page.evaluate(WRITE_STORED, earlier)
        await page.reload()
        await expect(panel(page)).to_contain_text("Tu parles avec alice")
        got = await alice.expect("message", contact_id=contact_id, sender="visitor")
        assert (got["client_id"], got["text"]) == ("w-0123", "Tu es là ?")
        await expect(widget(page).locator("li.from-visitor")).to_have_attribute("data-state", "sent")
        assert await page.evaluate(READ_STORED) == {**earlier, "pend": []}
        await say(page, "Encore moi")
        again = await alice.expect("message", contact_id=contact_id, sender="visitor")
        assert again["text"] == "Encore moi"
    finally:
        await alice.close()
        await visitor.close()


async def test_a_transfer_to_another_counsellor_is_told_and_the_talk_goes_on(
    server: WidgetServer, tab: Tab
) -> None:
    page, w = tab.page, widget(tab.page)
    await server.add_counsellor("bob", PASSWORD)
    await start_conversation(page, server.demo_url)
    alice, contact_id = await counsellor_takes_it(server)
    bob = Counsellor(server, "bob", PASSWORD)
    try:
        bob_id = (await bob.login())["id"]
        await bob.connect()
        await say(page, "Bonjour")
        await alice.expect("message", contact_id=contact_id)
        await alice.send_json({"type": "transfer", "contact_id": contact_id, "to": {"counsellor": bob_id},
                               "mode": "cold", "note": "sextorsion, à suivre"})
        await bob.expect("assigned")
        handed_over = panel(page).get_by_text("Ta conversation est confiée à une autre personne", exact=False)
        await expect(handed_over).to_be_visible()
        await expect(panel(page).get_by_text("bob a rejoint la conversation.")).to_be_visible()
        await expect(panel(page)).to_contain_text("Tu parles avec bob")
        await bob.say(contact_id, "Bonjour, je prends le relais.")
        await expect(w.locator("li.from-counsellor .who")).to_have_text(["bob"])
        await expect(bubbles(page, "counsellor")).to_have_text(["Bonjour, je prends le relais."])
        assert "sextorsion" not in await panel(page).inner_text(), "the handover note reached the visitor"
    finally:
        await alice.close()
        await bob.close()


async def test_html_in_a_message_is_shown_as_text(server: WidgetServer, tab: Tab) -> None:
    page, w = tab.page, widget(tab.page)
    attack = "<img src=x onerror=alert(1)>"
    async with conversation(server, page) as (alice, contact_id):
        await say(page, attack)
        await expect(bubbles(page, "visitor")).to_have_text([attack])
        sneaky = attack + ' <a href="javascript:alert(2)">clique</a>'
        await alice.say(contact_id, sneaky)
        await expect(bubbles(page, "counsellor")).to_have_text([sneaky])
        await alice.say(contact_id, "fin du test")  # one more round trip: an alert would be out by now
        await expect(bubbles(page, "counsellor").filter(has_text="fin du test")).to_be_visible()
        await expect(w.locator("img")).to_have_count(0)
        await expect(w.locator("a[href^='javascript']")).to_have_count(0)
        assert tab.dialogs == [], f"a dialog opened: {tab.dialogs}"
        assert not [u for u in tab.requests if u.endswith("/x")], "the img tag was rendered"


async def test_keyboard_alone_goes_from_the_page_to_a_sent_message(server: WidgetServer, tab: Tab) -> None:
    page, w = tab.page, widget(tab.page)
    await page.goto(server.demo_url)
    focused_class = "() => document.activeElement.shadowRoot?.activeElement?.className ?? ''"
    for _ in range(20):  # Tab through the host page to the launcher
        await page.keyboard.press("Tab")
        if await page.evaluate(focused_class) == "launcher":
            break
    else:
        raise AssertionError("Tab never reached the widget's launcher")
    launcher = w.get_by_role("button", name="Besoin de parler ?")
    outline = await launcher.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "the focused launcher shows no focus ring"

    await page.keyboard.press("Enter")
    await expect(w.get_by_role("heading", name="Bonjour, on est là pour t’écouter")).to_be_focused()
    await page.keyboard.press("Tab")  # the first group: "un·e jeune"
    await expect(w.get_by_role("button", name="un·e jeune")).to_be_focused()
    await page.keyboard.press("Space")
    await page.keyboard.press("Tab")  # age: the arrows move inside a group
    await page.keyboard.press("ArrowRight")
    await expect(w.get_by_role("button", name="11 à 14 ans")).to_be_focused()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")  # topic: End goes to the last answer
    await page.keyboard.press("End")
    await expect(w.get_by_role("button", name="autre chose")).to_be_focused()
    await page.keyboard.press("Space")
    await page.keyboard.press("Tab")
    await expect(w.get_by_role("button", name="Commencer la conversation")).to_be_focused()
    await shot(page, "keyboard-welcome")
    await page.keyboard.press("Enter")

    box = w.get_by_role("textbox", name="Ton message")
    await expect(box).to_be_focused()
    await page.keyboard.type("Bonjour, je n’utilise que le clavier")
    await page.keyboard.press("Enter")
    await expect(w.locator("li.from-visitor").filter(has_text="que le clavier")).to_have_attribute(
        "data-state", "sent"
    )

    # focus stays in the open panel, however long one tabs, both ways
    for key in ["Tab"] * 12 + ["Shift+Tab"] * 12:
        await page.keyboard.press(key)
        inside = await page.evaluate(
            "() => document.activeElement.tagName === 'HELPLINE-CHAT'"
            " && !!document.activeElement.shadowRoot.activeElement?.closest('[role=dialog]')"
        )
        assert inside, f"focus left the panel after {key}"
    await shot(page, "keyboard-chat")

    alice, contact_id = await counsellor_takes_it(server)
    try:
        assigned = next(e for e in alice.events if e["type"] == "assigned")
        chosen = {"role": "young_person", "age_band": "11_14", "topic": "other"}
        assert assigned["contact"]["profile"] == chosen
        got = await alice.expect("message", contact_id=contact_id)
        assert got["text"] == "Bonjour, je n’utilise que le clavier"
    finally:
        await alice.close()


@pytest.mark.parametrize(
    ("name", "viewport", "scale"),
    [("narrow-320", {"width": 320, "height": 640}, 1), ("zoom-200", {"width": 640, "height": 400}, 2)],
)
async def test_small_screens_and_200_percent_zoom_get_a_full_screen_panel(
    server: WidgetServer, browser: object, name: str, viewport: dict[str, int], scale: int
) -> None:
    # 200 % zoom of a 1280 x 800 window is a 640 x 400 CSS viewport at twice the pixel density.
    tab = await Tab.open(browser, viewport=viewport, device_scale_factor=scale)  # type: ignore[arg-type]
    page, w = tab.page, widget(tab.page)
    try:
        await page.goto(server.demo_url)
        await w.get_by_role("button", name="Besoin de parler ?").click()
        start = w.get_by_role("button", name="Commencer la conversation")
        await expect(start).to_be_attached()
        box = await panel(page).bounding_box()
        assert box == {"x": 0, "y": 0, "width": viewport["width"], "height": viewport["height"]}, box
        overflow = await panel(page).evaluate(
            "el => [...el.querySelectorAll('*')].filter(e => e.getClientRects().length"
            " && e.getBoundingClientRect().right > window.innerWidth + 0.5)"
            ".map(e => e.className || e.tagName)"
        )
        assert overflow == [], f"cut off on the right: {overflow}"
        await expect(w.get_by_role("button", name="Sortie rapide")).to_be_in_viewport()
        await shot(page, name)
        await start.click()  # reachable: scrolled into view
        await say(page, "Petit écran")
        await expect(w.locator("li.from-visitor").filter(has_text="Petit écran")).to_have_attribute(
            "data-state", "sent"
        )
        await shot(page, f"{name}-chat")
        assert not tab.errors and not tab.left_loopback()
    finally:
        await tab.close()


async def test_no_survey_for_someone_who_left_the_queue(server: WidgetServer, tab: Tab) -> None:
    page, w = tab.page, widget(tab.page)
    await start_conversation(page, server.demo_url)
    await w.get_by_role("button", name="Quitter la file").click()
    await expect(panel(page).get_by_text("Tu as terminé la conversation.")).to_be_visible()
    await expect(w.get_by_role("button", name="Envoyer mes réponses")).to_have_count(0)
    await queue_length_becomes(server.url, 0)


async def test_the_host_page_css_and_the_widget_css_stay_apart(server: WidgetServer, tab: Tab) -> None:
    page, w = tab.page, widget(tab.page)
    await page.goto(server.demo_url)
    # The demo page styles every button (uppercase, dashed, monospace) and sets a 10 px root.
    launcher = w.get_by_role("button", name="Besoin de parler ?")
    style = "el => { const s = getComputedStyle(el); return [s.textTransform, s.borderStyle, s.fontSize]; }"
    assert await launcher.evaluate(style) == ["none", "none", "16px"]
    font = await launcher.evaluate("el => getComputedStyle(el).fontFamily")
    assert "monospace" not in font and "Georgia" not in font, font
    # ...and the widget's styles do not reach the page.
    own = page.get_by_role("button", name="Un bouton de la page")
    assert (await own.evaluate(style))[:2] == ["uppercase", "dashed"]
    assert "Georgia" in await page.evaluate("getComputedStyle(document.body).fontFamily")


async def test_a_paste_over_the_limit_is_sent_whole_as_several_messages(
    server: WidgetServer, tab: Tab
) -> None:
    page, w = tab.page, widget(tab.page)
    await start_conversation(page, server.demo_url)
    alice, contact_id = await counsellor_takes_it(server)
    story = " ".join(f"mot{i}" for i in range(1400))  # 10,089 characters, pasted at once
    try:
        await say(page, story)
        await expect(w.locator("li.from-visitor")).to_have_count(3)
        for i in range(3):
            await expect(w.locator("li.from-visitor").nth(i)).to_have_attribute("data-state", "sent")
        got = [await alice.expect("message", contact_id=contact_id, seq=seq) for seq in (1, 2, 3)]
        assert all(len(m["text"]) <= 4000 for m in got)
        assert "".join(m["text"] for m in got) == story, "something was cut"
        assert got[0]["text"].endswith(" ") and got[1]["text"].startswith("mot"), "cut inside a word"
    finally:
        await alice.close()
