"""The statistics (supervisor, admin): the tables as JSON, each table as CSV, each chart
as SVG. A range of local days (``from``, ``to``) and a channel (``all``, ``chat``,
``voice``) in the query; a bad one is a 400 saying what is wrong. The JSON and the charts
hide the breakdowns' small counts; a CSV hides every small count (see domain.statistics)."""

from __future__ import annotations

import csv
import io

from aiohttp import web

from ..domain.access import may_see_statistics
from ..domain.statistics import TABLE_NAMES, BadRange
from ..reports.charts import CHART_NAMES, chart
from ..reports.labels import Labels
from ..services.statistics import Figures
from .errors import ApiError, request_lang
from .keys import SERVICES
from .session import require_user

PRIVATE = {"Cache-Control": "no-store"}
UNLABELLED = ("days", "weeks", "wait", "handle")  # their keys are dates, weeks, seconds


async def _statistics(request: web.Request) -> Figures:
    await require_user(request, may_see_statistics)
    statistics = request.app[SERVICES].statistics
    try:
        period = statistics.period(request.query.get("from"), request.query.get("to"))
        channel = statistics.channel(request.query.get("channel"))
    except BadRange as bad:
        raise ApiError(400, bad.code) from None
    return await statistics.compute(period, channel)


def _labels(request: web.Request) -> Labels:
    return Labels(request_lang(request), request.app[SERVICES].ctx.handoff_targets)


def _name(request: web.Request, known: tuple[str, ...], code: str) -> str:
    name = request.match_info["name"]
    if name not in known:
        raise ApiError(404, code)
    return name


async def statistics_json(request: web.Request) -> web.Response:
    found = (await _statistics(request)).suppressed(breakdowns_only=True)
    labels = _labels(request)
    body = found.as_json()
    body["labels"] = {
        "tables": {t.name: labels.title(t.name) for t in found.tables},
        "columns": {c.name: labels.column(c.name) for t in found.tables for c in t.columns},
        "items": {t.name: {str(row[0]): labels.item(t.name, row[0]) for row in t.rows}
                  for t in found.tables if t.name not in UNLABELLED},
    }
    return web.json_response(body, headers=PRIVATE)


async def export_csv(request: web.Request) -> web.Response:
    name = _name(request, TABLE_NAMES, "unknown_table")
    table = (await _statistics(request)).suppressed().table(name)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.name for c in table.columns])
    writer.writerows(["" if cell is None else cell for cell in row] for row in table.rows)
    found = request.query
    filename = f"{name}_{found.get('from')}_{found.get('to')}.csv"
    return web.Response(text=out.getvalue(), content_type="text/csv", charset="utf-8", headers={
        **PRIVATE, "Content-Disposition": f'attachment; filename="{filename}"'})


async def chart_svg(request: web.Request) -> web.Response:
    name = _name(request, CHART_NAMES, "unknown_chart")
    table = (await _statistics(request)).suppressed(breakdowns_only=True).table(name)
    return web.Response(text=chart(table, _labels(request)), content_type="image/svg+xml", charset="utf-8",
                        headers={**PRIVATE, "Content-Security-Policy": "default-src 'none'"})
