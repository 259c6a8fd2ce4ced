"""Charts of the statistics as SVG, drawn here: bars (the period beside the previous one),
lines (each day beside the same day of the previous period) and the hour-of-week heatmap.
Each has a ``<title>`` and a ``<desc>`` in the reader's language; colours and fonts are
presentation attributes, never a ``style``, so a strict Content-Security-Policy holds.
The same drawing serves the console (``/api/v1/statistics/charts/{name}.svg``) and the
HTML report (inline)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from ..domain.statistics import Cell, Table
from .labels import Labels

WIDTH = 760
FONT = 'font-family="system-ui, sans-serif" font-size="12" fill="#1b1f24"'
CURRENT, PREVIOUS = "#1f5fa8", "#a3adb8"
CHAT, VOICE = "#1f5fa8", "#d9822b"
HEAT = ("#f4f7fb", "#d6e4f3", "#a9c8e8", "#6fa3d6", "#3a78bd", "#1f5fa8", "#123f73")
CHART_NAMES = ("summary", "days", "weeks", "heatmap", "wait", "handle", "categories", "platforms",
               "age_bands", "genders", "contacted_by", "outcomes", "handoffs", "notices")


def _number(value: Cell) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _clipped(label: str, most: int = 44) -> str:
    return label if len(label) <= most else label[:most - 1] + "…"


def shown(value: Cell) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        return value
    return f"{value:,}".replace(",", "\u202f")


def _svg(ident: str, title: str, desc: str, height: int, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>' + "".join(body) + "</svg>"
    )


def _legend(y: int, series: Sequence[tuple[str, str]]) -> list[str]:
    out, x = [], 10
    for name, colour in series:
        out.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour}"/>'
                   f'<text x="{x + 18}" y="{y}" {FONT}>{escape(name)}</text>')
        x += 30 + 8 * len(name)
    return out


def _axis(left: int, top: int, plot_h: int, most: float) -> str:
    y = top + plot_h
    return (f'<line x1="{left}" y1="{y}" x2="{WIDTH - 10}" y2="{y}" stroke="#5c6670"/>'
            f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" {FONT}>'
            f"{escape(shown(int(most)))}</text>")


Series = list[tuple[str, str, list[Cell]]]


def _pair(now: str, before: str, rows: Sequence[dict[str, Cell]], current: str, previous: str) -> Series:
    """The period and the previous one, as two series of a chart."""
    return [(now, CURRENT, [r[current] for r in rows]), (before, PREVIOUS, [r[previous] for r in rows])]


def hbars(ident: str, title: str, desc: str, labels: Sequence[str],
          series: Sequence[tuple[str, str, Sequence[Cell]]]) -> str:
    """Horizontal bars, one group a row: each series (name, colour, values) beside the others."""
    left, row_h, bar_h = 300, 14 * len(series) + 10, 12
    top = 30
    height = top + row_h * max(len(labels), 1) + 10
    most = max((_number(v) for _, _, values in series for v in values), default=0) or 1
    span = WIDTH - left - 70
    body = _legend(16, [(name, colour) for name, colour, _ in series])
    for i, label in enumerate(labels):
        y = top + i * row_h
        body.append(f'<text x="{left - 8}" y="{y + row_h / 2 + 2:.0f}" text-anchor="end" {FONT}>'
                    f'{escape(_clipped(label))}</text>')
        for j, (_, colour, values) in enumerate(series):
            value = values[i]
            length = span * _number(value) / most
            by = y + 4 + j * 14
            body.append(f'<rect x="{left}" y="{by}" width="{length:.1f}" height="{bar_h}" fill="{colour}"/>'
                        f'<text x="{left + length + 4:.1f}" y="{by + 10}" {FONT}>'
                        f"{escape(shown(value))}</text>")
    return _svg(ident, title, desc, height, body)


def vbars(ident: str, title: str, desc: str, labels: Sequence[str],
          series: Sequence[tuple[str, str, Sequence[Cell]]], stacked: bool = False) -> str:
    """Vertical bars over the labels: grouped, or stacked (weeks: chat under voice)."""
    left, top, plot_h, height = 50, 30, 220, 290
    n = max(len(labels), 1)
    slot = (WIDTH - left - 10) / n
    totals = ([sum(_number(values[i]) for _, _, values in series) for i in range(len(labels))] if stacked
              else [_number(v) for _, _, values in series for v in values])
    most = max(totals, default=0) or 1
    body = _legend(16, [(name, colour) for name, colour, _ in series])
    body.append(_axis(left, top, plot_h, most))
    every = max(1, n // 20)  # at most about 20 labels under the axis
    for i, label in enumerate(labels):
        x = left + i * slot
        base: float = top + plot_h
        for j, (_, colour, values) in enumerate(series):
            h = plot_h * _number(values[i]) / most
            if stacked:
                w, bx = slot * 0.8, x + slot * 0.1
                base -= h
                body.append(f'<rect x="{bx:.1f}" y="{base:.1f}" width="{w:.1f}" height="{h:.1f}" '
                            f'fill="{colour}"/>')
            else:
                w = slot * 0.8 / len(series)
                bx = x + slot * 0.1 + j * w
                body.append(f'<rect x="{bx:.1f}" y="{top + plot_h - h:.1f}" width="{w:.1f}" height="{h:.1f}" '
                            f'fill="{colour}"/>')
        if i % every == 0:
            body.append(f'<text x="{x + slot / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle" {FONT}>'
                        f'{escape(label)}</text>')
    return _svg(ident, title, desc, height, body)


def lines(ident: str, title: str, desc: str, labels: Sequence[str],
          series: Sequence[tuple[str, str, Sequence[Cell]]]) -> str:
    """A line per series over the labels (days): the period, and the previous one under it."""
    left, top, plot_h, height = 50, 30, 220, 290
    n = max(len(labels), 2)
    step = (WIDTH - left - 10) / (n - 1)
    most = max((_number(v) for _, _, values in series for v in values), default=0) or 1
    body = _legend(16, [(name, colour) for name, colour, _ in series])
    body.append(_axis(left, top, plot_h, most))
    for name, colour, values in reversed(series):  # the period drawn last, on top
        points = " ".join(f"{left + i * step:.1f},{top + plot_h - plot_h * _number(v) / most:.1f}"
                          for i, v in enumerate(values))
        dash = ' stroke-dasharray="4 3"' if colour == PREVIOUS else ""
        body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}>'
                    f"<title>{escape(name)}</title></polyline>")
    every = max(1, len(labels) // 8)
    for i in range(0, len(labels), every):
        body.append(f'<text x="{left + i * step:.1f}" y="{top + plot_h + 16}" text-anchor="middle" {FONT}>'
                    f"{escape(labels[i])}</text>")
    return _svg(ident, title, desc, height, body)


def heatmap(ident: str, title: str, desc: str, rows: Sequence[str], grid: Sequence[Sequence[Cell]]) -> str:
    """A grid of cells (rows: weekdays; columns: hours), darker for more."""
    left, top, cell = 50, 24, 27
    height = top + cell * len(rows) + 10
    most = max((_number(v) for row in grid for v in row), default=0) or 1
    body = [f'<text x="{left + h * cell + cell / 2:.0f}" y="{top - 6}" text-anchor="middle" {FONT}>{h}</text>'
            for h in range(0, 24, 2)]
    for r, (name, row) in enumerate(zip(rows, grid, strict=True)):
        y = top + r * cell
        body.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4:.0f}" text-anchor="end" {FONT}>'
                    f"{escape(name)}</text>")
        for h, value in enumerate(row):
            shade = HEAT[min(len(HEAT) - 1, round((len(HEAT) - 1) * _number(value) / most))]
            body.append(f'<rect x="{left + h * cell}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                        f'fill="{shade}">'
                        f"<title>{escape(name)} {h} h : {escape(shown(value))}</title></rect>")
    return _svg(ident, title, desc, height, body)


def chart(table: Table, labels: Labels) -> str:
    """The chart of one table of the statistics."""
    name, rows = table.name, table.as_dicts()
    title = labels.title(name)
    now, before = labels("current"), labels("previous")
    ident = f"chart-{name}"
    if name == "summary":
        figures = ("offered", "answered", "abandoned", "refused_closed")
        current, previous = rows[0], rows[1]
        desc = "; ".join(f"{labels.column(f)}: {shown(current[f])} ({before}: {shown(previous[f])})"
                         for f in figures)
        return hbars(ident, title, desc, [labels.column(f) for f in figures],
                     [(now, CURRENT, [current[f] for f in figures]),
                      (before, PREVIOUS, [previous[f] for f in figures])])
    if name == "days":
        total = sum(_number(r["total"]) for r in rows)
        earlier = sum(_number(r["previous_total"]) for r in rows)
        desc = f"{labels('contacts')}: {shown(int(total))} ({before}: {shown(int(earlier))})"
        return lines(ident, title, desc, [str(r["day"])[5:] for r in rows],
                     _pair(now, before, rows, "total", "previous_total"))
    if name == "weeks":
        desc = "; ".join(f"{r['week']}: {shown(r['total'])}" for r in rows)
        return vbars(ident, title, desc, [str(r["week"])[-3:] for r in rows],
                     [(labels("chat"), CHAT, [r["chat"] for r in rows]),
                      (labels("voice"), VOICE, [r["voice"] for r in rows])], stacked=True)
    if name == "heatmap":
        grid = [[r["arrivals"] for r in rows[d * 24:(d + 1) * 24]] for d in range(7)]
        days = labels.weekdays()
        busiest = max(rows, key=lambda r: _number(r["arrivals"]), default=None)
        desc = labels("no_data")
        if busiest and _number(busiest["arrivals"]):
            day = days[int(_number(busiest["iso_weekday"])) - 1]
            desc = f"{day} {busiest['hour']} h: {shown(busiest['arrivals'])}"
        return heatmap(ident, title, desc, days, grid)
    if name in ("wait", "handle"):
        desc = "; ".join(f"{r['seconds']} s: {shown(r['answered'])} ({before}: {shown(r['previous'])})"
                         for r in rows)
        return vbars(ident, title, desc, [str(r["seconds"]) for r in rows],
                     _pair(now, before, rows, "answered", "previous"))
    if name == "notices":
        keys = [f"{r['year']} {labels.item(name, r['target'])} · {labels.item(name, r['decision'])}"
                for r in rows]
        desc = "; ".join(f"{k}: {shown(r['notices'])}" for k, r in zip(keys, rows, strict=True))
        series = [(labels.column("notices"), CURRENT, [r["notices"] for r in rows])]
        return hbars(ident, title, desc or labels("no_data"), keys, series)
    if name == "handoffs":
        keys = [" · ".join(str(k) for k in (labels.item(name, r["target"]), r["state"], r["decision"]) if k)
                for r in rows]
    else:
        keys = [labels.item(name, r["key"]) for r in rows]
    desc = "; ".join(f"{k}: {shown(r['contacts'])} ({before}: {shown(r['previous'])})"
                     for k, r in zip(keys, rows, strict=True)) or labels("no_data")
    return hbars(ident, title, desc, keys,
                 _pair(now, before, rows, "contacts", "previous"))
