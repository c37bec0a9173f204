"""What the dashboard and a pilot's charts show, computed from read-model rows and folded states.

Pure: each function takes the rows or the state and the program and returns the numbers a chart
draws (``sandbox.web.charts``), so the numbers are tested without a page.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from projections.ledger import periods_in_order
from projections.project import ProjectState
from sandbox.web.charts import Bar, Point
from schemas.programs import ComplaintRate, MetricLimit, ProgramDefinition

#: How far back the dashboard counts breaches.
BREACH_DAYS = 30


def breaches_by_criterion(states: Iterable[ProjectState], today: dt.date) -> Counter[str]:
    """Breaches recorded in the last :data:`BREACH_DAYS` days, by exit criterion."""
    since = today - dt.timedelta(days=BREACH_DAYS)
    return Counter(b.criterion_id for s in states for b in s.breaches if since < b.on <= today)


def overdue_by_role(rows: list[dict[str, Any]]) -> Counter[str]:
    """The work-queue items past their due date, by the role they wait for."""
    return Counter(r["role"] for r in rows if r["overdue"])


def metric_series(
    state: ProjectState, program: ProgramDefinition
) -> list[tuple[str, str, str, list[Point], float, str]]:
    """For each metric threshold of the program's exit criteria, the value each period reported
    gave (its latest report's: a correction replaces the figures it corrects), against the limit:
    (rule id, Chinese label, English label, points, limit, unit). A ratio (payment failures per
    1,000 transactions, complaints per 1,000 active users) is computed per period."""
    out = []
    for rule in program.exit:
        p = rule.params
        if isinstance(p, MetricLimit):
            metric, ratio_of, scale, limit = p.metric, p.ratio_of, p.scale, float(p.limit)
        elif isinstance(p, ComplaintRate):
            metric, ratio_of, scale, limit = "complaints", "active_users", 1000, float(p.per_mille)
        else:
            continue
        points = []
        for period in periods_in_order(state.ledger):
            figure = period.figures.get(metric)
            if figure is None:
                continue
            value = float(figure[0])
            if ratio_of is not None:
                base = period.figures.get(ratio_of, (0, 0))[0]
                if not base:
                    continue
                value = value * scale / base
            points.append(Point(period.end, value))
        unit = "‰" if ratio_of is not None and scale == 1000 else (f"/{scale}" if ratio_of else "")
        if points:
            out.append((rule.id, rule.label_zh, rule.label_en, points, limit, unit))
    return out


def bars(counts: Counter[str], labels: dict[str, str] | None = None, *, alert: bool = False) -> list[Bar]:
    """Bars for counts, largest first, each labelled (by ``labels`` where given)."""
    names = labels or {}
    return [Bar(names.get(key, key), value, alert) for key, value in counts.most_common()]
