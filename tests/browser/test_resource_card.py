"""A counsellor sends the young person an emergency number as a card: the widget shows it as
a big button that calls the number, named in words, and shows it again after a reload."""

from __future__ import annotations

import pytest

from tests.browser.support import (
    Tab,
    WidgetServer,
    accessibility_violations,
    conversation,
    expect,
    panel,
    say,
    shot,
    widget,
)

pytestmark = pytest.mark.e2e

NAME = "Appeler le 17 : Police secours (urgence immédiate)"


async def test_the_card_is_a_button_that_calls_17_and_survives_a_reload(
    server: WidgetServer, tab: Tab
) -> None:
    page, w = tab.page, widget(tab.page)
    async with conversation(server, page) as (alice, contact_id):
        await say(page, "il y a quelqu'un qui essaie d'entrer chez moi")
        await alice.expect("message", contact_id=contact_id, sender="visitor")
        await alice.send_json(
            {"type": "resource", "contact_id": contact_id, "client_id": "r1", "resource": "17"}
        )
        await alice.expect("ack", client_id="r1")

        card = w.get_by_role("link", name=NAME)
        await expect(card).to_be_visible()
        await expect(card).to_have_attribute("href", "tel:17")
        await expect(card).to_contain_text("Appeler le 17")
        await expect(w.locator("[aria-live]").last).to_contain_text(NAME)
        await shot(page, "resource-card")
        assert await accessibility_violations(page) == []

        await page.reload()  # the conversation goes on, open as it was
        await expect(panel(page).get_by_role("link", name=NAME)).to_have_attribute("href", "tel:17")
