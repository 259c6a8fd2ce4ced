"""The statistics in a real Chromium against the real server: a supervisor opens last year
on a generated year of contacts, reads a trend, downloads a CSV; `helpline report` writes
an HTML file that shows with nothing fetched from anywhere."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest_asyncio

from benchmarks.year_of_contacts import generate
from tests.browser import support, test_console
from tests.browser.support import PASSWORD, SCREENSHOTS, Tab, WidgetServer, accessibility_violations, expect
from tests.browser.test_console import ConsoleTab, add_user, log_in, new_tab, shot

tabs = test_console.tabs  # the console tests' fixture

LAST_YEAR = date.today().year - 1


@pytest_asyncio.fixture
async def server(tmp_path: Path) -> AsyncIterator[WidgetServer]:
    """The real server with sam (supervisor) and alice (counsellor), and a year of contacts
    from the July before last: last year's first half beside the year before's second."""
    process = WidgetServer(tmp_path)
    try:
        await process.start()
        await process.add_counsellor("alice", PASSWORD)
        await add_user(process, "sam", "supervisor")
        await generate(f"sqlite+aiosqlite:///{process.db_path}", contacts=3000,
                       start=date(LAST_YEAR - 1, 7, 1), seed=5)
        yield process
    finally:
        await process.stop()


async def test_a_supervisor_reads_last_years_trends_and_downloads_a_csv(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab]
) -> None:
    tab = await new_tab(browser, tabs)
    page = tab.page
    await log_in(tab, server, "sam", available=False)
    await page.get_by_role("button", name="Statistiques").click()
    await page.get_by_role("button", name="Année dernière").click()
    await expect(page.locator(".stats-status")).to_have_text(
        f"Comparé à la période précédente, du {LAST_YEAR - 1}-01-01 au {LAST_YEAR - 1}-12-31.")

    # The trend of a reason, as the table beside its chart says, is the server's figure.
    categories = page.locator("#stats-categories")
    row = categories.get_by_role("row", name=re.compile("^Sextorsion"))
    cells = await row.get_by_role("cell").all_inner_texts()
    query = f"from={LAST_YEAR}-01-01&to={LAST_YEAR}-12-31&channel=all"
    body = await page.evaluate(f"fetch('/api/v1/statistics?{query}').then(r => r.json())")
    sextortion = next(r for r in body["tables"]["categories"]["rows"] if r["key"] == "sextortion")
    assert sextortion["contacts"] >= 5 and sextortion["previous"] >= 5
    shown = f"{sextortion['change_pct']:.1f}".replace(".", ",").replace(",0", "")
    assert cells == [f"{sextortion['contacts']:,}".replace(",", "\u202f"),
                     f"{sextortion['previous']:,}".replace(",", "\u202f"), shown], cells

    chart = categories.get_by_role("img", name="Motifs")
    await chart.scroll_into_view_if_needed()
    await expect(chart).to_have_js_property("complete", True)
    assert await chart.evaluate("img => img.naturalWidth") > 0  # the SVG drew

    async with page.expect_download() as fetched:
        await page.get_by_role("link", name="Motifs : télécharger en CSV").click()
    download = await fetched.value
    assert download.suggested_filename == f"categories_{LAST_YEAR}-01-01_{LAST_YEAR}-12-31.csv"
    saved = await download.path()
    rows = list(csv.DictReader(io.StringIO(await asyncio.to_thread(saved.read_text, "utf-8"))))
    exported = next(r for r in rows if r["key"] == "sextortion")
    assert (int(exported["contacts"]), int(exported["previous"]), float(exported["change_pct"])) == (
        sextortion["contacts"], sextortion["previous"], sextortion["change_pct"])
    assert not [r for r in rows for k in ("contacts", "previous") if r[k].isdigit() and 0 < int(r[k]) < 5]

    await page.get_by_role("heading", name="Statistiques").scroll_into_view_if_needed()
    await shot(tab, "statistics")
    assert await accessibility_violations(page) == []


async def test_counsellors_have_no_statistics_tab(
    browser: support.Browser, server: WidgetServer, tabs: list[ConsoleTab]
) -> None:
    tab = await new_tab(browser, tabs)
    await log_in(tab, server, "alice", available=False)
    await expect(tab.page.get_by_role("button", name="Dossiers")).to_have_count(0)
    await expect(tab.page.locator("nav.tabs button")).not_to_contain_text(["Statistiques"])


async def test_the_html_report_shows_with_nothing_fetched_and_no_count_under_five(
    browser: support.Browser, server: WidgetServer
) -> None:
    out = server.directory / "report.html"
    code, said, err = await server.cli("report", "--from", f"{LAST_YEAR}-01-01", "--to", f"{LAST_YEAR}-12-31",
                                       "--out", str(out))
    assert code == 0, said + err
    assert "report:" in err and "15/15" in err  # a year: the progress bar on stderr
    html = out.read_text("utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # nothing outside the file
    tab = await Tab.open(browser)
    try:
        await tab.page.set_content(html)
        title = tab.page.get_by_role("heading", name="Rapport d'activité de la ligne d'écoute")
        await expect(title).to_be_visible()
        await expect(tab.page.locator("svg[role=img]")).to_have_count(14)
        cells = await tab.page.locator("td").all_inner_texts()
        assert "<5" in cells
        assert not [c for c in cells if c.isdigit() and 0 < int(c) < 5]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await tab.page.screenshot(path=str(SCREENSHOTS / "report.png"))
        await tab.page.screenshot(path=str(SCREENSHOTS / "report-full.png"), full_page=True)
        assert await accessibility_violations(tab.page) == []
        assert tab.requests == []  # self-contained: the browser asked for nothing
    finally:
        await tab.close()
