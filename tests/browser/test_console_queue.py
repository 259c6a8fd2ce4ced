"""A long queue on the supervisor's floor, in Chromium: the queue frame carries counts and
the first entries only; the rest is paged in on request."""

from __future__ import annotations

from tests.browser import support
from tests.browser.support import WidgetServer, accessibility_violations, expect
from tests.browser.test_console import ConsoleTab, add_user, log_in, new_tab, shot, tabs, visitors  # noqa: F401
from tests.clients import Visitor

WAITING = 60  # more than the 50 a queue frame lists


async def test_a_long_queue_shows_counts_and_pages_in_the_rest(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab],  # noqa: F811
    visitors: list[Visitor],  # noqa: F811
) -> None:
    await add_user(server, "sam", "supervisor")
    for i in range(WAITING):  # nobody available: they all wait (no socket needed to be listed)
        v = Visitor(server)  # type: ignore[arg-type]
        visitors.append(v)
        await v.start(profile={"topic": "sextortion"} if i % 3 == 0 else {})
    sam = await new_tab(browser, tabs)
    await log_in(sam, server, "sam", available=False)
    page = sam.page
    await expect(page.locator(".queue-count")).to_have_text(str(WAITING))
    await expect(page.locator(".queue-item")).to_have_count(50)  # the sidebar: the frame's first ones
    await page.get_by_role("button", name="Plateau").click()
    counts = page.get_by_role("table", name="En attente par canal, compétence et priorité")
    await expect(counts.locator("tbody tr")).to_have_count(2)  # (legal, high), (general, normal)
    await expect(counts.locator("tbody tr").first).to_contain_text("Haute")
    await expect(counts.locator("tbody tr").first).to_contain_text("20")
    await expect(counts.locator("tbody tr").nth(1)).to_contain_text("40")
    waiting = page.locator(".waiting-list li")
    await expect(waiting).to_have_count(50)
    await expect(page.locator(".queue-shown")).to_have_text("50 affiché·es sur 60 en attente")
    more = page.get_by_role("button", name="Afficher les suivant·es (10 de plus)")
    await shot(sam, "long-queue")
    assert await accessibility_violations(page) == []
    await more.click()
    await expect(waiting).to_have_count(WAITING)
    await expect(more).to_be_hidden()
    listed = await waiting.evaluate_all("(items) => items.map((x) => x.dataset.contact)")
    assert sorted(listed) == sorted(v.contact_id for v in visitors)  # each once, none missing
    await shot(sam, "long-queue-paged")
    assert await accessibility_violations(page) == []
