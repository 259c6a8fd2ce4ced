"""The report a director sends to the board: one self-contained HTML file (charts inline as
SVG, the numbers as tables beside them, print styles; nothing fetched from anywhere), every
small count hidden (see domain.statistics)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from html import escape

from ..domain.statistics import Table
from ..services.statistics import Figures
from .charts import chart, shown
from .labels import Labels

LONG_TABLES = ("days", "heatmap")  # folded: the chart says it, the rows are there to read

STYLE = """
body { font-family: system-ui, sans-serif; color: #1b1f24; margin: 2rem auto; max-width: 52rem;
       line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #c9d1d9; }
.note { color: #4a535c; font-size: .9rem; }
svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .85rem; }
caption { text-align: left; font-weight: 600; padding: .2rem 0; }
th, td { border: 1px solid #c9d1d9; padding: .15rem .5rem; text-align: right; }
th[scope="row"], thead th:first-child { text-align: left; }
section { break-inside: avoid; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  details { display: block; }
  details > summary { display: none; }
  h2 { break-after: avoid; }
}
@page { size: A4; margin: 15mm; }
"""


def table_html(table: Table, labels: Labels) -> str:
    """The numbers of one table, headed by column, each row by its key (the overview turned
    on its side: a figure a row, the period and the previous one beside it)."""
    if table.name == "summary":
        head = "".join(f'<th scope="col">{escape(labels.column(c.name))}</th>'
                       for c in table.columns[:1]) + "".join(
            f'<th scope="col">{escape(labels.item("summary", row[0]))}</th>' for row in table.rows)
        body = [f'<tr><th scope="row">{escape(labels.column(c.name))}</th>'
                + "".join(f"<td>{escape(shown(row[i]))}</td>" for row in table.rows) + "</tr>"
                for i, c in enumerate(table.columns) if i]
        return (f"<table><caption>{escape(labels.title(table.name))}</caption><thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(body)}</tbody></table>")
    head = "".join(f'<th scope="col">{escape(labels.column(c.name))}</th>' for c in table.columns)
    body = []
    for row in table.rows:
        cells = [f'<th scope="row">{escape(labels.item(table.name, row[0]))}</th>']
        cells += [f"<td>{escape(shown(value))}</td>" for value in row[1:]]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table><caption>{escape(labels.title(table.name))}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def report(found: Figures, labels: Labels, produced: date,
           advance: Callable[[], None] = lambda: None) -> str:
    """The whole report of statistics whose small counts are already hidden."""
    p = found.period
    channel = labels(f"channel_{found.channel.value}")
    sections = list(_sections(found.tables, labels, advance))
    span = labels("period", **{"from": p.first.isoformat(), "to": p.last.isoformat()})
    compared = labels("compared", **{"from": p.previous.first.isoformat(), "to": p.previous.last.isoformat()})
    return (
        f'<!doctype html><html lang="{labels.lang}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(labels('report_title'))} · {p.first.isoformat()} – {p.last.isoformat()}</title>"
        f"<style>{STYLE}</style></head><body><main>"
        f"<h1>{escape(labels('report_title'))}</h1>"
        f"<p>{escape(span)} · {escape(channel)}</p>"
        f'<p class="note">{escape(compared)}</p>'
        f"<p class=\"note\">{escape(labels('small_counts'))}</p>"
        + "".join(sections)
        + f"<p class=\"note\">{escape(labels('generated', date=produced.isoformat()))}</p>"
        "</main></body></html>"
    )


def _sections(tables: Iterable[Table], labels: Labels, advance: Callable[[], None]) -> Iterable[str]:
    for table in tables:
        numbers = table_html(table, labels)
        if table.name in LONG_TABLES:
            numbers = f"<details><summary>{escape(labels.title(table.name))}</summary>{numbers}</details>"
        yield (f'<section id="{table.name}"><h2>{escape(labels.title(table.name))}</h2>'
               f"<figure>{chart(table, labels)}</figure>{numbers}</section>")
        advance()
