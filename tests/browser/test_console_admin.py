"""The console's admin view and the line's own skills, in a real Chromium against the real
server: accounts created one after another, refusals that point at their field, a skill
the catalogs do not know, and a top bar that fits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from tests.browser import support, test_console
from tests.browser.support import PASSWORD, WidgetServer, accessibility_violations, expect
from tests.browser.test_console import ConsoleTab, add_user, log_in, new_tab, pane, shot, visitor
from tests.clients import Visitor

tabs, visitors = test_console.tabs, test_console.visitors  # the console tests' fixtures

LINE_SKILLS = "general,psychological,legal,technical,gaming"  # gaming: no label in the catalogs


@pytest_asyncio.fixture
async def server(tmp_path: Path) -> AsyncIterator[WidgetServer]:
    """The real server, open 24/7, whose line has a skill of its own; alice and root (admin)."""
    process = WidgetServer(tmp_path, HELPLINE_SKILLS=LINE_SKILLS)
    try:
        await process.start()
        await process.add_counsellor("alice", PASSWORD)
        await add_user(process, "root", "admin")
        yield process
    finally:
        await process.stop()


async def accounts(tab: ConsoleTab) -> dict[str, dict[str, object]]:
    listed = await tab.page.evaluate("fetch('/api/v1/admin/counsellors').then(r => r.json())")
    return {a["username"]: a for a in listed["counsellors"]}


async def test_an_admin_creates_accounts_in_a_row_and_is_told_which_field_is_wrong(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab]
) -> None:
    admin = await new_tab(browser, tabs)
    page = admin.page
    await log_in(admin, server, "root", available=False)
    await page.get_by_role("button", name="Administration").click()
    new = page.get_by_role("form", name="Nouvel·le écoutant·e")
    # The line's skills, in its order; one without a label shows its id.
    skills = new.locator("fieldset.skills label")
    await expect(skills).to_have_text(["Généraliste", "Psychologique", "Juridique", "Technique", "gaming"])

    for username in ("nina", "omar"):  # the second in a row used to be refused
        await new.get_by_label("Identifiant").fill(username)
        await new.get_by_label("Mot de passe").fill(PASSWORD)
        await new.get_by_role("button", name="Créer").click()
        await expect(page.locator(f"form.account[data-username='{username}']")).to_be_visible()
        await expect(new.locator(".admin-status")).to_have_text("Enregistré.")
        # Back to a fresh form: every skill ticked, the default capacity and role.
        for box in await new.locator("input[name=skills]").all():
            await expect(box).to_be_checked()
        await expect(new.get_by_label("Chats simultanés")).to_have_value("3")
        await expect(new.get_by_label("Rôle")).to_have_value("counsellor")
    made = await accounts(admin)
    assert made["omar"]["skills"] == sorted(LINE_SKILLS.split(","))
    assert made["omar"]["role"] == "counsellor" and made["omar"]["max_chats"] == 3

    # No skill: the server refuses (422 invalid_request, field "skills"); the form says where.
    await new.get_by_label("Identifiant").fill("paul")
    await new.get_by_label("Mot de passe").fill(PASSWORD)
    for box in await new.locator("input[name=skills]").all():
        await box.uncheck()
    await new.get_by_role("button", name="Créer").click()
    error = new.locator("fieldset.skills .field-error")
    await expect(error).to_have_text("Cochez au moins une compétence.")
    await expect(new.locator("input[name=skills]").first).to_be_focused()
    await expect(new.locator("input[name=skills][aria-invalid=true]")).to_have_count(5)
    await expect(new.get_by_role("checkbox", name="Généraliste")).to_have_accessible_description(
        "Cochez au moins une compétence.")
    await expect(new.locator(".admin-status")).to_have_text("Cochez au moins une compétence.")
    await expect(page.locator("form.account[data-username='paul']")).to_have_count(0)
    await shot(admin, "admin-refused-skills")
    assert await accessibility_violations(page) == []

    # A taken username: the server's own message, next to that field, which gets the focus.
    await new.get_by_label("Identifiant").fill("nina")
    await new.get_by_label("Juridique").check()
    await new.get_by_role("button", name="Créer").click()
    username = new.get_by_label("Identifiant")
    await expect(username).to_be_focused()
    await expect(username).to_have_attribute("aria-invalid", "true")
    await expect(username).to_have_accessible_description("Cet identifiant existe déjà.")
    await expect(new.locator("fieldset.skills .field-error")).to_have_count(0)  # the old one is gone
    await expect(new.locator("input[aria-invalid]")).to_have_count(1)
    await shot(admin, "admin-refused-username")
    # Corrected, it goes through with what was ticked.
    await username.fill("paul")
    await new.get_by_role("button", name="Créer").click()
    await expect(page.locator("form.account[data-username='paul']")).to_be_visible()
    await expect(new.locator(".field-error")).to_have_count(0)
    assert (await accounts(admin))["paul"]["skills"] == ["legal"]


async def test_the_admin_top_bar_fits_and_the_view_is_accessible(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab]
) -> None:
    admin = await new_tab(browser, tabs)
    page = admin.page
    await log_in(admin, server, "root")
    await page.get_by_role("button", name="Administration").click()
    await expect(page.locator("form.account[data-username='alice']")).to_be_visible()
    # At 1280 px every item of the top bar is on one line.
    await shot(admin, "admin-1280")
    assert await one_line(page), "the top bar wraps at 1280 px"
    assert await accessibility_violations(page) == []
    # Narrower it wraps, and nothing overflows the page sideways.
    await page.set_viewport_size({"width": 900, "height": 800})
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page overflows by {overflow} px at 900 px"
    await shot(admin, "admin-900")


async def one_line(page: support.Page) -> bool:
    """Whether the top bar's items all sit on one line (their vertical extents overlap)."""
    return bool(await page.evaluate("""() => {
      const boxes = [...document.querySelectorAll('.topbar > *')].filter((e) => e.getClientRects().length)
        .map((e) => e.getBoundingClientRect());
      return Math.max(...boxes.map((b) => b.top)) < Math.min(...boxes.map((b) => b.bottom));
    }"""))


async def test_the_transfer_dialog_offers_the_lines_skills(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    tab = await new_tab(browser, tabs)
    await log_in(tab, server, "alice")
    v = await visitor(server, visitors)
    mine = pane(tab, v.contact_id)
    await mine.get_by_role("button", name="Transférer").click()
    dialog = tab.page.get_by_role("dialog", name="Transférer la conversation")
    await dialog.get_by_label("À une compétence").check()
    skill = dialog.get_by_label("Compétence", exact=True)
    await expect(skill.locator("option")).to_have_text(
        ["Généraliste", "Psychologique", "Juridique", "Technique", "gaming"])
    await skill.select_option("gaming")
    await shot(tab, "transfer-custom-skill")
    assert await accessibility_violations(tab.page) == []


async def test_an_admin_sees_the_contacts_on_legal_hold_and_releases_one_with_a_reason(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab], visitors: list[Visitor]
) -> None:
    v = Visitor(server)  # type: ignore[arg-type]
    visitors.append(v)
    await v.start()
    admin = await new_tab(browser, tabs)
    page = admin.page
    await log_in(admin, server, "root", available=False)
    made = await page.evaluate("""(id) => fetch(`/api/v1/contacts/${id}/handoffs`, {method: 'POST',
        headers: {'Content-Type': 'application/json'}, body: JSON.stringify({target: 'thesee'})})
        .then(async (r) => [r.status, await r.json()])""", v.contact_id)
    assert made[0] == 201, made
    await page.get_by_role("button", name="Administration").click()
    holds = page.locator("section.holds")
    await expect(holds.get_by_role("heading", name="Conservation légale")).to_be_visible()
    item = holds.locator(f"li.hold-item[data-contact='{v.contact_id}']")
    await expect(item).to_contain_text(f"Contact {v.contact_id[:8]}")
    await expect(item).to_contain_text(made[1]["reference"])
    await item.scroll_into_view_if_needed()
    await shot(admin, "admin-legal-holds")
    assert await accessibility_violations(page) == []

    form = holds.get_by_role("form", name=f"Lever la conservation du contact {v.contact_id[:8]}")
    await form.get_by_role("button", name="Lever la conservation").click()  # no reason: the browser stops it
    await expect(form.get_by_label("Motif de la levée")).to_be_focused()
    await form.get_by_label("Motif de la levée").fill("Dossier clos par le partenaire")
    await form.get_by_role("button", name="Lever la conservation").click()
    await expect(holds.get_by_role("status")).to_have_text("Conservation levée.")
    await expect(holds.locator("li.hold-item")).to_have_count(0)
    await expect(holds.locator("li.empty")).to_be_visible()
    await shot(admin, "admin-legal-hold-released")
    audit = await page.evaluate("fetch('/api/v1/admin/audit').then(r => r.json())")
    assert audit["records"][-1]["action"] == "release_hold"
    assert audit["records"][-1]["contact_id"] == v.contact_id
