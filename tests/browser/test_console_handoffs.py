"""Hand-offs in the console, in a real Chromium against the real server: a counsellor hands a
sextortion case to a platform (the preview shows exactly what leaves, the server's refusals
show next to their fields), a supervisor approves it in his console, she records the
platform's reference and decision; a guidance hand-off is recorded without approval; a
failed delivery is counted apart on the supervisors' button until one of them retries it."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

from tests.browser import support, test_console
from tests.browser.support import PASSWORD, WidgetServer, expect
from tests.browser.test_console import ConsoleTab, accessible, add_user, alice_talking, log_in, new_tab, shot
from tests.clients import Visitor
from tests.e2e.server_process import free_port
from tests.handoff_targets import webhook_target

tabs = test_console.tabs  # the same fixtures: tabs opened on demand, checked at the end
visitors = test_console.visitors

PLATFORM = "Signalement à une plateforme (signaleur de confiance)"
THESEE = "THESEE : plainte en ligne (chantage, escroquerie)"
BLACKMAIL = "Il me demande 200 euros sinon il envoie mes photos à ma classe"
ACCOUNT = "C'est le compte instagram.example/lucas_du_94"
NAME = "Je m'appelle Léa, j'ai 14 ans"  # never ticked: never leaves


async def test_a_sextortion_case_goes_to_a_platform_after_a_supervisor_approves(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    await add_user(server, "sam", "supervisor")
    alice, v, mine = await alice_talking(browser, server, tabs, visitors, topic="sextortion")
    for text in (BLACKMAIL, ACCOUNT, NAME):
        await v.say(text)
    await expect(mine.locator("li.from-visitor")).to_have_count(3)
    page = alice.page

    # The dialog suggests what fits sextortion, first the platform's notice.
    await mine.get_by_role("button", name="Signaler", exact=True).click()
    dialog = page.get_by_role("dialog", name="Signaler à un partenaire")
    await expect(dialog).to_be_visible()
    target = dialog.get_by_label("Destination")
    suggested = target.locator("optgroup[label='Suggérées pour ce cas'] option")
    await expect(suggested).to_have_text([PLATFORM, THESEE])
    await expect(target.locator("option:checked")).to_have_text(PLATFORM)
    await expect(dialog.get_by_text("Un·e superviseur·e devra l'approuver avant l'envoi.")).to_be_visible()
    await expect(dialog.get_by_text("Rien ne partira.")).to_be_visible()

    await dialog.get_by_label("Plateforme").fill("Instagram")
    await dialog.get_by_label("Adresses exactes du contenu").fill("photo-de-lea.jpg")
    await dialog.get_by_label("Pourquoi ce contenu est illicite").fill(
        "Chantage à la diffusion d'images intimes d'une mineure.")
    await dialog.get_by_role("checkbox", name=BLACKMAIL).check()
    await dialog.get_by_role("checkbox", name=ACCOUNT).check()

    # The preview: the fields and the two ticked messages, nothing else.
    preview = dialog.get_by_role("region", name="Aperçu : exactement ce qui partira")
    await expect(preview.locator("dt")).to_have_text(
        ["Plateforme", "Adresses exactes du contenu",
         "Pourquoi ce contenu est illicite ou contraire aux règles"])
    await expect(preview.locator("dd")).to_have_text(
        ["Instagram", "photo-de-lea.jpg", "Chantage à la diffusion d'images intimes d'une mineure."])
    await expect(preview.locator("li")).to_have_count(2)
    await expect(preview).to_contain_text(BLACKMAIL)
    await expect(preview).to_contain_text(ACCOUNT)
    assert NAME not in await preview.inner_text()
    assert v.contact_id not in await preview.inner_text()

    # Not a web address: the server refuses, and says so next to the field.
    await dialog.get_by_role("button", name="Envoyer").click()
    urls = dialog.get_by_label("Adresses exactes du contenu")
    await expect(urls).to_have_attribute("aria-invalid", "true")
    await expect(urls).to_have_accessible_description(re.compile(
        r"Seulement des adresses web \(http ou https\), une par ligne\.$"))
    await expect(dialog.get_by_role("alert")).to_have_text(
        "Le signalement a été refusé : corrigez les champs signalés.")
    await shot(alice, "handoff-refused")
    await accessible(alice)

    await urls.fill("https://instagram.example/p/Cx81\nhttps://instagram.example/lucas_du_94")
    await dialog.get_by_role("button", name="Enregistrer le brouillon").click()
    await expect(dialog.get_by_role("status")).to_have_text(
        re.compile(r"^Brouillon H-[0-9A-Z]{8} enregistré\.$"))
    await expect(urls).not_to_have_attribute("aria-invalid", "true")
    await expect(target).to_be_disabled()  # a draft keeps its target
    await expect(preview.locator("dd").nth(1)).to_have_text(
        "https://instagram.example/p/Cx81\nhttps://instagram.example/lucas_du_94")
    await shot(alice, "handoff-dialog")
    await accessible(alice)
    await dialog.get_by_role("button", name="Envoyer").click()
    await expect(dialog).to_be_hidden()
    notice = page.locator(".notice-bar")
    await expect(notice).to_have_text(re.compile(r"^Signalement H-[0-9A-Z]{8} : à approuver\.$"))
    reference = (await notice.inner_text()).split(" ")[1]

    # Her view: it waits for approval; it is not hers to approve.
    await page.get_by_role("button", name="Signalements").click()
    row = page.locator(".handoff-list tbody tr")
    await expect(row).to_have_count(1)
    await expect(row.locator("td").nth(2)).to_have_text("à approuver")
    await page.get_by_role("button", name=f"Ouvrir {reference}").click()
    mine_detail = page.locator(".handoff-detail")
    await expect(mine_detail).to_contain_text("État : à approuver")
    await expect(mine_detail.get_by_role("button", name="Approuver")).to_have_count(0)
    await expect(mine_detail.get_by_role("button", name="Annuler le signalement")).to_be_visible()

    # Sam, supervisor, sees it waiting on his view's button, and approves it.
    sam = await new_tab(browser, tabs)
    await log_in(sam, server, "sam", available=False)
    button = sam.page.get_by_role("button", name=re.compile("^Signalements"))
    await expect(button.locator(".badge-awaiting")).to_have_text("1 à approuver")
    await expect(button.locator(".badge-failed")).to_be_hidden()
    await button.click()
    await sam.page.get_by_role("button", name=f"Ouvrir {reference}").click()
    detail = sam.page.locator(".handoff-detail")
    await expect(detail.get_by_role("heading", level=3)).to_have_text(f"{reference} · {PLATFORM}")
    await expect(detail).to_contain_text("État : à approuver")
    await expect(detail).to_contain_text("Auteur·e : alice")
    await expect(detail.locator("dd").first).to_have_text("Instagram")
    await expect(detail.locator(".handoff-excerpt-list li")).to_have_count(2)
    await shot(sam, "handoff-to-approve")
    await accessible(sam)
    await detail.get_by_role("button", name="Approuver").click()
    await expect(detail).to_contain_text("État : en cours d'envoi")
    await expect(button.locator(".badge-awaiting")).to_be_hidden()

    # Alice, who had it open, sees it change at once; she files the platform's form and
    # records its reference.
    await expect(notice).to_have_text(f"Signalement {reference} : en cours d'envoi.")
    await expect(mine_detail).to_contain_text("État : en cours d'envoi")
    await expect(row.locator("td").nth(2)).to_have_text("en cours d'envoi")
    await expect(mine_detail.get_by_role("button", name="Imprimer la fiche")).to_be_visible()
    await page.emulate_media(media="print")  # what window.print() prints: the sheet alone
    sheet = page.locator(".handoff-print")
    await expect(sheet).to_be_visible()
    await expect(page.locator(".topbar")).to_be_hidden()
    await expect(sheet.locator("dd")).to_have_text(["Instagram", re.compile("^https://instagram.example/p/Cx81"),
                                                   "Chantage à la diffusion d'images intimes d'une mineure."])
    await expect(sheet.get_by_role("listitem")).to_have_count(3)  # the checklist
    assert BLACKMAIL not in await sheet.inner_text()  # the fields only
    await shot(alice, "handoff-print")
    await page.emulate_media(media="screen")
    await mine_detail.get_by_label("Le formulaire est déposé : référence").fill("IG-NOTICE-2231")
    await mine_detail.get_by_role("button", name="Enregistrer", exact=True).click()
    await expect(mine_detail).to_contain_text("État : transmis")
    await expect(mine_detail).to_contain_text("Référence du partenaire : IG-NOTICE-2231")
    await expect(mine_detail).to_contain_text("Approuvé par Sam")
    await expect(row.locator("td").nth(2)).to_have_text("transmis")

    # Later, the platform's decision.
    await mine_detail.get_by_label("Décision de la plateforme").select_option("removed")
    await mine_detail.get_by_label("Date de la décision").fill("2026-03-02")
    await mine_detail.get_by_role("button", name="Enregistrer la décision").click()
    await expect(mine_detail).to_contain_text("Décision de la plateforme : retiré (2026-03-02)")
    await shot(alice, "handoff-delivered")
    await accessible(alice)

    # A supervisor never approves his own: the server refuses, and the console says why.
    created = await sam.page.evaluate(
        """async (contact) => {
             const post = (path, body) => fetch(path, {method: "POST",
               headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {})})
               .then((r) => r.json());
             const draft = await post(`/api/v1/contacts/${contact}/handoffs`,
               {target: "pharos", fields: {urls: ["https://example.org/x"], content_type: "threat"}});
             return (await post(`/api/v1/handoffs/${draft.id}/submit`)).reference;
           }""", v.contact_id)
    await expect(button.locator(".badge-awaiting")).to_have_text("1 à approuver")
    await sam.page.get_by_role("button", name=f"Ouvrir {created}").click()
    await detail.get_by_role("button", name="Approuver").click()
    await expect(detail.get_by_role("alert")).to_have_text(
        "Un signalement doit être approuvé par une autre personne que son auteur·e (superviseur·e ou admin).")
    await expect(detail).to_contain_text("État : à approuver")
    await shot(sam, "handoff-four-eyes")


async def test_a_guidance_hand_off_is_recorded_without_approval(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    alice, v, mine = await alice_talking(browser, server, tabs, visitors, topic="sextortion")
    await v.say(BLACKMAIL)
    await expect(mine.locator("li.from-visitor")).to_have_count(1)
    page = alice.page
    # Over: the hand-off is offered beside the wrap-up.
    await mine.get_by_role("button", name="Terminer").click()
    await mine.locator(".confirm-end").click()
    wrapup = mine.get_by_role("form", name="Synthèse de la conversation")
    await expect(wrapup).to_be_visible()
    await wrapup.get_by_label("Snapchat").check()
    await wrapup.get_by_label("Tranche d’âge").select_option("11_14")
    await wrapup.get_by_label("Qui a contacté").select_option("young_person")
    await wrapup.get_by_label("Conseils donnés").check()
    await wrapup.get_by_role("button", name="Enregistrer la synthèse").click()
    await expect(wrapup.get_by_text("Synthèse enregistrée.")).to_be_visible()
    await mine.locator(".pane-end").get_by_role("button", name="Signaler", exact=True).click()

    dialog = page.get_by_role("dialog", name="Signaler à un partenaire")
    # What the wrap-up recorded fills the fields that ask for it, and nothing else.
    await dialog.get_by_label("Destination").select_option("platform_notice")
    await expect(dialog.get_by_label("Plateforme")).to_have_value("Snapchat")
    await dialog.get_by_label("Destination").select_option("child_in_danger")
    await expect(dialog.get_by_label("Âge de l'enfant")).to_have_value("11_14")
    await expect(dialog.get_by_label("Les faits, tels que rapportés")).to_have_value("")
    await dialog.get_by_label("Destination").select_option("thesee")
    await expect(dialog.locator(".handoff-guidance")).to_contain_text("Se connecter avec FranceConnect")
    await expect(dialog.get_by_text("Rien ne quitte la ligne d'écoute")).to_be_visible()
    await expect(dialog.get_by_role("group", name=re.compile("^Messages à joindre"))).to_be_hidden()
    await expect(dialog.get_by_text("Rien ne partira.")).to_be_visible()
    await shot(alice, "handoff-guidance")
    await accessible(alice)
    await dialog.get_by_role("button", name="Noter comme fait").click()
    await expect(dialog).to_be_hidden()
    await expect(page.locator(".notice-bar")).to_have_text(
        re.compile(r"^Signalement H-[0-9A-Z]{8} : transmis\.$"))

    await page.get_by_role("button", name="Signalements").click()
    row = page.locator(".handoff-list tbody tr")
    await expect(row.locator("td").nth(1)).to_have_text(THESEE)
    await expect(row.locator("td").nth(2)).to_have_text("transmis")
    await row.get_by_role("button").click()
    detail = page.locator(".handoff-detail")
    await expect(detail).to_contain_text("État : transmis")
    await expect(detail).not_to_contain_text("Approuvé par")
    await expect(detail.get_by_role("button", name="Imprimer la fiche")).to_have_count(0)  # nothing to file
    await shot(alice, "handoff-view")
    await accessible(alice)


async def test_a_failed_delivery_is_counted_apart_and_a_supervisor_retries_it(
    browser: support.Browser, tmp_path: Path, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    answers = [400]  # the partner refuses for good, then takes it

    async def partner(_request: web.Request) -> web.Response:
        return web.json_response({"reference": "HL-1"}, status=answers[0])

    app = web.Application()
    app.router.add_post("/handoffs", partner)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    targets = webhook_target(tmp_path / "targets.toml", "hotline", "Hotline partenaire",
                             f"http://127.0.0.1:{port}/handoffs", "TEST_HOTLINE_SECRET",
                             fields=(("description", "text", "Description"),))
    server = WidgetServer(tmp_path, HELPLINE_HANDOFF_TARGETS_FILE=str(targets), TEST_HOTLINE_SECRET="s3cret")
    try:
        await server.start()
        await server.add_counsellor("alice", PASSWORD)
        await add_user(server, "sam", "supervisor")
        alice, _, mine = await alice_talking(browser, server, tabs, visitors, topic="shocking_content")
        await mine.get_by_role("button", name="Signaler", exact=True).click()
        dialog = alice.page.get_by_role("dialog", name="Signaler à un partenaire")
        await dialog.get_by_label("Description").fill("Un adulte lui demande des photos.")
        await dialog.get_by_role("button", name="Envoyer").click()
        await expect(alice.page.locator(".notice-bar")).to_have_text(
            re.compile(r"^Signalement H-[0-9A-Z]{8} : en échec\.$"), timeout=20_000)  # told live

        sam = await new_tab(browser, tabs)
        await log_in(sam, server, "sam", available=False)
        button = sam.page.get_by_role("button", name=re.compile("^Signalements"))
        await expect(button.locator(".badge-failed")).to_have_text("1 en échec")
        await expect(button.locator(".badge-awaiting")).to_be_hidden()
        await button.click()
        await sam.page.locator(".handoff-list button.reference").click()
        detail = sam.page.locator(".handoff-detail")
        await expect(detail).to_contain_text("Dernière erreur : http_400")
        await expect(detail).to_contain_text("Envoyé sans approbation : à revoir.")
        await shot(sam, "handoff-failed")
        await accessible(sam)
        answers[0] = 200
        await detail.get_by_role("button", name="Relancer l'envoi").click()
        await expect(button.locator(".badge-failed")).to_be_hidden()
        await expect(alice.page.locator(".notice-bar")).to_contain_text(": transmis.", timeout=20_000)
    finally:
        await server.stop()
        await runner.cleanup()
