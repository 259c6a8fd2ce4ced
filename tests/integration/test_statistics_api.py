"""The statistics over HTTP: supervisors and admins read them as JSON, CSV and SVG;
counsellors may not; a bad range, channel, table or chart says what is wrong; no export
holds a count under 5."""

from __future__ import annotations

import asyncio
import csv
import io
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from benchmarks.year_of_contacts import generate
from helpline.domain import statistics as rules
from helpline.domain.counsellor import Role
from helpline.domain.statistics import TABLE_NAMES, Kind
from helpline.reports.charts import CHART_NAMES
from tests.clients import Clients, Counsellor, Server
from tests.integration.test_cli_and_schema import run

YEAR = "from=2025-01-01&to=2025-12-31"


def _counts() -> dict[str, set[str]]:
    """Each table's count columns (where the small-count rule applies)."""
    period = rules.period("2025-01-01", "2025-01-01", ZoneInfo("Europe/Paris"))
    empty = rules.tables(rules.Aggregates(), rules.Aggregates(), period,
                         rules.notices_table([], period.zone, {}), {})
    return {t.name: {c.name for c in t.columns if c.kind is Kind.COUNT} for t in empty}


COUNTS = _counts()
SVG = "{http://www.w3.org/2000/svg}"


async def _supervisor(server: Server, clients: Clients) -> Counsellor:
    await generate(server.services.ctx.store.engine, contacts=2000, start=date(2025, 1, 1), seed=3)
    return await clients.logged_in("sam", role=Role.SUPERVISOR)


async def test_a_supervisor_reads_the_statistics_of_a_year_with_labels_in_their_language(
    server: Server, clients: Clients
) -> None:
    sam = await _supervisor(server, clients)
    async with sam.http.get(f"{server.url}/api/v1/statistics?{YEAR}&channel=chat&lang=en") as r:
        assert r.status == 200
        assert r.headers["Cache-Control"] == "no-store"
        body = await r.json()
    assert (body["from"], body["to"], body["channel"]) == ("2025-01-01", "2025-12-31", "chat")
    assert body["previous"] == {"from": "2024-01-01", "to": "2024-12-31"}
    assert set(body["tables"]) == set(TABLE_NAMES)
    current = body["tables"]["summary"]["rows"][0]
    assert current["period"] == "current" and current["offered"] > 1000
    assert body["labels"]["tables"]["categories"] == "Reasons"
    assert body["labels"]["items"]["categories"]["sextortion"] == "Sextortion / webcam blackmail"
    for name in ("categories", "platforms", "age_bands", "genders", "contacted_by", "outcomes",
                 "handoffs", "notices"):  # breakdowns: no count from 1 to 4 on the page either
        for row in body["tables"][name]["rows"]:
            assert not any(isinstance(row[k], int) and 0 < row[k] < 5 for k in COUNTS[name]), row


async def test_every_table_exports_as_csv_without_a_count_under_five(
    server: Server, clients: Clients
) -> None:
    sam = await _supervisor(server, clients)
    small_seen = False
    for name in TABLE_NAMES:
        url = f"{server.url}/api/v1/statistics/export/{name}.csv?{YEAR}&channel=voice"
        async with sam.http.get(url) as r:
            assert r.status == 200, name
            assert r.content_type == "text/csv"
            assert f'filename="{name}_2025-01-01_2025-12-31.csv"' in r.headers["Content-Disposition"]
            rows = list(csv.DictReader(io.StringIO(await r.text())))
        counts = [row[k] for row in rows for k in COUNTS[name]]
        assert not [v for v in counts if v.isdigit() and 0 < int(v) < 5], name
        small_seen = small_seen or "<5" in counts
    assert small_seen  # the sample has small cells: the rule was applied, not just never needed


async def test_every_chart_is_an_svg_with_a_title_and_no_inline_style(
    server: Server, clients: Clients
) -> None:
    sam = await _supervisor(server, clients)
    for name in CHART_NAMES:
        async with sam.http.get(f"{server.url}/api/v1/statistics/charts/{name}.svg?{YEAR}&lang=fr") as r:
            assert r.status == 200, name
            assert r.content_type == "image/svg+xml"
            text = await r.text()
        svg = ET.fromstring(text)
        assert svg.find(f"{SVG}title") is not None and svg.find(f"{SVG}desc") is not None
        assert "style" not in text and "<script" not in text
    async with sam.http.get(f"{server.url}/api/v1/statistics/charts/categories.svg?{YEAR}&lang=fr") as r:
        assert "Sextorsion" in await r.text()


@pytest.mark.parametrize(("query", "code"), [
    ("from=2025-02-30&to=2025-03-01", "bad_date"),
    ("to=2025-03-01", "bad_date"),
    ("from=2025-03-02&to=2025-03-01", "range_reversed"),
    ("from=2020-01-01&to=2025-03-01", "range_too_long"),
    (f"{YEAR}&channel=fax", "bad_channel"),
])
async def test_a_bad_range_or_channel_is_a_400_that_says_what_is_wrong(
    server: Server, clients: Clients, query: str, code: str
) -> None:
    await server.add_counsellor("sam", role=Role.SUPERVISOR)
    sam = clients.counsellor("sam")
    await sam.login()
    for path in ("", "/export/days.csv", "/charts/days.svg"):
        path = f"/api/v1/statistics{path}"
        async with sam.http.get(f"{server.url}{path}?{query}") as r:
            assert r.status == 400, path
            assert (await r.json())["error"]["code"] == code


async def test_an_unknown_table_or_chart_is_a_404(server: Server, clients: Clients) -> None:
    sam = await clients.logged_in("sam", role=Role.ADMIN)
    for path, code in (("export/contacts.csv", "unknown_table"), ("charts/transcripts.svg", "unknown_chart")):
        async with sam.http.get(f"{server.url}/api/v1/statistics/{path}?{YEAR}") as r:
            assert r.status == 404
            assert (await r.json())["error"]["code"] == code


async def test_counsellors_may_not_read_the_statistics_and_strangers_must_log_in(
    server: Server, clients: Clients
) -> None:
    alice = await clients.logged_in("alice")
    stranger = clients.visitor()
    for path in ("", "/export/days.csv", "/charts/days.svg"):
        async with alice.http.get(f"{server.url}/api/v1/statistics{path}?{YEAR}") as r:
            assert r.status == 403
        async with stranger.http.get(f"{server.url}/api/v1/statistics{path}?{YEAR}") as r:
            assert r.status == 401


async def test_helpline_report_refuses_a_bad_range_and_writes_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    out = tmp_path / "report.html"
    for args, code in ((["--from", "2025-13-01", "--to", "2025-12-31"], "bad_date"),
                       (["--from", "2025-12-31", "--to", "2025-01-01"], "range_reversed"),
                       (["--from", "2025-01-01", "--to", "2025-12-31", "--channel", "fax"], "bad_channel")):
        done = await asyncio.to_thread(run, ["report", *args, "--out", str(out)], url)
        assert done.returncode == 1 and f"error: {code}:" in done.stderr, done.stderr
        assert not out.exists()


async def test_helpline_report_writes_a_quiet_html_file_for_a_short_range(
    database_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    args = ["report", "--from", "2025-03-01", "--to", "2025-03-31", "--out", str(out), "--lang", "en"]
    done = await asyncio.to_thread(run, args, database_url)
    assert done.returncode == 0, done.stderr
    assert "report:" not in done.stderr  # a month: no progress bar
    html = out.read_text("utf-8")
    assert html.startswith('<!doctype html><html lang="en">') and "Helpline activity report" in html
    assert "From 2025-03-01 to 2025-03-31" in html and "from 2025-02-01 to 2025-02-28" in html
