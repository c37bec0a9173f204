"""Charts as server-rendered SVG: no script, no library, nothing to fetch, readable offline.

Pure functions from numbers to SVG text. Every chart has a ``<title>`` and a ``<desc>`` listing its
values, so a screen reader (and a test) reads what it shows; classes, not inline styles, colour it
(the page's stylesheet), so a strict Content-Security-Policy holds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape

WIDTH = 560
BAR_HEIGHT = 22
GAP = 6
LABEL_WIDTH = 190


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    alert: bool = False  # drawn in red (overdue, breached)


def bar_chart(chart_id: str, title: str, bars: list[Bar]) -> str:
    """Horizontal bars, one a row, each with its label and value."""
    top = 8
    height = top + max(len(bars), 1) * (BAR_HEIGHT + GAP) + 8
    largest = max((b.value for b in bars), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 60
    rows = []
    for i, b in enumerate(bars):
        y = top + i * (BAR_HEIGHT + GAP)
        w = round(span * b.value / largest)
        kind = "bar alert" if b.alert else "bar"
        rows.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" class="label" text-anchor="end">{escape(b.label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{w}" height="{BAR_HEIGHT}" class="{kind}"/>'
            f'<text x="{LABEL_WIDTH + w + 6}" y="{y + 16}" class="value">{b.value}</text>'
        )
    if not bars:
        rows.append(f'<text x="{LABEL_WIDTH}" y="{top + 16}" class="label">—</text>')
    desc = "; ".join(f"{b.label}: {b.value}" for b in bars) or "—"
    return _svg(chart_id, title, desc, height, "".join(rows))


@dataclass(frozen=True, slots=True)
class Point:
    on: dt.date
    value: float


def line_chart(chart_id: str, title: str, points: list[Point], limit: float, unit: str) -> str:
    """Values over time against a limit (a dashed red line); points above it are red."""
    height, left, right, top, bottom = 220, 56, 16, 12, 36
    inner_w, inner_h = WIDTH - left - right, height - top - bottom
    highest = max([p.value for p in points] + [limit]) * 1.15 or 1.0
    days = [p.on for p in points]
    first, last = (min(days), max(days)) if days else (dt.date.today(), dt.date.today())
    spread = max((last - first).days, 1)

    def x(day: dt.date) -> float:
        return left + inner_w * ((day - first).days / spread if len(points) > 1 else 0.5)

    def y(value: float) -> float:
        return top + inner_h * (1 - value / highest)

    parts = [
        f'<line x1="{left}" y1="{top + inner_h}" x2="{WIDTH - right}" y2="{top + inner_h}" class="axis"/>',
        f'<line x1="{left}" y1="{y(limit):.1f}" x2="{WIDTH - right}" y2="{y(limit):.1f}" class="limit"/>',
        f'<text x="{WIDTH - right}" y="{y(limit) - 4:.1f}" class="limit-label" text-anchor="end">'
        f"{_number(limit)} {escape(unit)}</text>",
        f'<text x="{left - 6}" y="{top + inner_h}" class="label" text-anchor="end">0</text>',
    ]
    if len(points) > 1:
        line = " ".join(f"{x(p.on):.1f},{y(p.value):.1f}" for p in points)
        parts.append(f'<polyline points="{line}" class="series"/>')
    for p in points:
        over = " alert" if p.value > limit else ""
        parts.append(f'<circle cx="{x(p.on):.1f}" cy="{y(p.value):.1f}" r="4" class="dot{over}"/>')
    if points:
        parts.append(f'<text x="{left}" y="{height - 12}" class="label">{first.isoformat()}</text>')
        parts.append(
            f'<text x="{WIDTH - right}" y="{height - 12}" class="label" text-anchor="end">{last.isoformat()}</text>'
        )
    desc = "; ".join(f"{p.on.isoformat()}: {_number(p.value)}" for p in points) or "—"
    return _svg(chart_id, title, f"{desc} (limit {_number(limit)} {unit})", height, "".join(parts))


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _svg(chart_id: str, title: str, desc: str, height: int, body: str) -> str:
    return (
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}"'
        f' role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>'
        f"{body}</svg>"
    )
