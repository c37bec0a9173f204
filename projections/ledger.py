"""The running aggregates of a project's metrics reports and logged complaints.

The exit criteria read a project's reports in a few ways only: the figure of a metric per
period (several reports for the very same period are corrections of one another: the latest
counts), summed over a window of days or over the whole test, the latest period's figure, the
last report, the last period reported and the last day with activity. The :class:`Ledger` keeps
exactly those, updated as each report is folded, so that evaluating a criterion reads a bounded
amount (the days of its window, a few entries) however long the project's history is:

- ``periods``: each period's latest figure of each metric, with the position of its report (a
  correction replaces a figure, and the running totals move by the difference);
- ``ends``: the periods by the day they end, so a window of ``n`` days reads ``n`` entries;
- ``totals``: each metric summed over the periods (a cumulative KPI);
- ``latest``: each metric's figure in the latest period that gives it (a latest-period KPI);
- ``last`` and ``last_values``: the last report received, and each metric's last figure
  received, in the order of the log;
- ``last_end``/``basis`` and ``active_until``: the end of the latest period reported (with the
  position of its report) and of the latest period with transactions or trades;
- the complaints logged one by one, by the day received, the complaints periods covering each
  of those days (kept for the days a complaint was logged on only: a period covers a month of
  days, and an entry per day covered made most of a reporting project's stored state), the
  longest complaints period, and the running count of complaints over the whole test (see
  :func:`complaint_count`).

The fold owns the only writer (:class:`LedgerDraft`, through :func:`record_report` and
:func:`record_complaint`); a frozen ledger is never changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import msgspec

#: A figure: its value and the position of the report that gave it.
Figure = tuple[int, int]


class Period(msgspec.Struct, frozen=True, kw_only=True):
    """One reporting period: each metric's latest figure in it (value, position)."""

    start: dt.date
    end: dt.date
    figures: dict[str, Figure] = {}


class LastReport(msgspec.Struct, frozen=True, kw_only=True):
    """The last report received (in the order of the log)."""

    period_start: dt.date
    period_end: dt.date
    metrics: dict[str, int]
    position: int
    reported_on: dt.date


class Ledger(msgspec.Struct, frozen=True, kw_only=True):
    """The running aggregates of a project's reports and complaints (see the module's docstring)."""

    reports: int = 0
    periods: dict[str, Period] = {}
    ends: dict[int, tuple[str, ...]] = {}
    totals: dict[str, int] = {}
    latest: dict[str, tuple[int, int, int]] = {}  # metric -> (value, position, the period's end ordinal)
    last: LastReport | None = None
    last_values: dict[str, Figure] = {}
    last_end: dt.date | None = None
    basis: int = 0  # the position of the report of the latest period (the last such report)
    active_until: dt.date | None = None
    complaints_on: dict[int, tuple[int, ...]] = {}  # day ordinal -> positions of complaints logged
    #: day ordinal of a complaint logged -> the complaints periods covering that day
    covering: dict[int, tuple[str, ...]] = {}
    longest: int = 0  # the days from the start to the end of the longest complaints period
    complaints_total: int = 0


EMPTY = Ledger()


class LedgerDraft:
    """A ledger being folded: the same fields, its mappings copied once from the frozen ledger
    (the values they hold are immutable and replaced, never edited)."""

    def __init__(self, ledger: Ledger) -> None:
        self.reports = ledger.reports
        self.periods = dict(ledger.periods)
        self.ends = dict(ledger.ends)
        self.totals = dict(ledger.totals)
        self.latest = dict(ledger.latest)
        self.last = ledger.last
        self.last_values = dict(ledger.last_values)
        self.last_end = ledger.last_end
        self.basis = ledger.basis
        self.active_until = ledger.active_until
        self.complaints_on = dict(ledger.complaints_on)
        self.covering = dict(ledger.covering)
        self.longest = ledger.longest
        self.complaints_total = ledger.complaints_total

    def freeze(self) -> Ledger:
        return Ledger(
            reports=self.reports,
            periods=dict(self.periods),
            ends=dict(self.ends),
            totals=dict(self.totals),
            latest=dict(self.latest),
            last=self.last,
            last_values=dict(self.last_values),
            last_end=self.last_end,
            basis=self.basis,
            active_until=self.active_until,
            complaints_on=dict(self.complaints_on),
            covering=dict(self.covering),
            longest=self.longest,
            complaints_total=self.complaints_total,
        )


#: The metrics whose figure, when not 0, makes a period active (a dormancy rule counts from it).
ACTIVITY = ("transactions", "trades")


def period_key(start: dt.date, end: dt.date) -> str:
    return f"{start.isoformat()}/{end.isoformat()}"


def _days(start: dt.date, end: dt.date) -> range:
    return range(start.toordinal(), end.toordinal() + 1)


def _logged_in(complaints_on: dict[int, tuple[int, ...]], start: dt.date, end: dt.date) -> int:
    """How many complaints were logged one by one within a period."""
    days = _days(start, end)
    if len(days) <= len(complaints_on):
        return sum(len(complaints_on.get(day, ())) for day in days)
    return sum(len(found) for day, found in complaints_on.items() if day in days)


def record_report(
    ledger: LedgerDraft, start: dt.date, end: dt.date, metrics: dict[str, int], position: int, on: dt.date
) -> None:
    """Fold one metrics report into the ledger. (Every report of a project passes here, in a
    rebuild every report of the log: the common case, a new period that ends last, takes no
    look-up per metric.)"""
    key = period_key(start, end)
    end_day = end.toordinal()
    period = ledger.periods.get(key)
    if period is None:
        ledger.ends[end_day] = (*ledger.ends.get(end_day, ()), key)
        old: dict[str, Figure] = {}
    else:
        old = period.figures
    if "complaints" in metrics:
        _recount_complaints(ledger, key, start, end, old.get("complaints"), metrics["complaints"])
    figures = dict(old)
    totals, latest, last_values = ledger.totals, ledger.latest, ledger.last_values
    ends_last = ledger.last_end is None or end >= ledger.last_end
    for metric, value in metrics.items():
        figures[metric] = last_values[metric] = (value, position)
        before = old.get(metric) if old else None
        totals[metric] = totals.get(metric, 0) + value - (before[0] if before is not None else 0)
        if ends_last:  # (no metric's latest period ends after the latest period reported)
            latest[metric] = (value, position, end_day)
        else:
            current = latest.get(metric)
            if current is None or end_day >= current[2]:
                latest[metric] = (value, position, end_day)
    ledger.periods[key] = Period(start=start, end=end, figures=figures)
    ledger.reports += 1
    ledger.last = LastReport(period_start=start, period_end=end, metrics=metrics, position=position, reported_on=on)
    if ends_last:
        ledger.last_end, ledger.basis = end, position
    if ledger.active_until is None or end > ledger.active_until:
        for name in ACTIVITY:
            if metrics.get(name, 0):
                ledger.active_until = end
                break


def _recount_complaints(
    ledger: LedgerDraft, key: str, start: dt.date, end: dt.date, old: Figure | None, reported: int
) -> None:
    """Move the running count of complaints by what a period's complaints figure changes: the
    period counts the larger of its figure and the complaints logged within it, and the
    complaints logged on days it is the first complaints period to cover stop counting alone."""
    logged_on = ledger.complaints_on
    days = _logged_days(logged_on, start, end) if logged_on else []  # (most projects log none)
    logged = sum(len(logged_on[day]) for day in days) if days else 0
    if old is None:
        for day in days:
            covering = ledger.covering.get(day, ())
            if not covering:
                ledger.complaints_total -= len(logged_on[day])
            ledger.covering[day] = (*covering, key)
        ledger.longest = max(ledger.longest, end.toordinal() - start.toordinal())
        ledger.complaints_total += max(reported, logged)
    else:
        ledger.complaints_total += max(reported, logged) - max(old[0], logged)


def _logged_days(complaints_on: dict[int, tuple[int, ...]], start: dt.date, end: dt.date) -> list[int]:
    """The days within a period on which complaints were logged one by one."""
    days = _days(start, end)
    if len(days) <= len(complaints_on):
        return [day for day in days if day in complaints_on]
    return [day for day in complaints_on if day in days]


def _periods_covering(ledger: LedgerDraft, day: int) -> tuple[str, ...]:
    """The complaints periods that cover a day: those that end within the longest such period's
    length after it and start on or before it (the ends are looked up day by day, or the ends
    known are scanned when they are fewer)."""
    ends = range(day, day + ledger.longest + 1)
    if len(ends) <= len(ledger.ends):
        keys = [key for end in ends for key in ledger.ends.get(end, ())]
    else:
        keys = [key for end, found in ledger.ends.items() if end in ends for key in found]
    periods = ledger.periods
    return tuple(
        key for key in keys if periods[key].start.toordinal() <= day and "complaints" in periods[key].figures
    )


def record_complaint(ledger: LedgerDraft, received_on: dt.date, position: int) -> None:
    """Fold one complaint logged one by one into the ledger."""
    day = received_on.toordinal()
    if day in ledger.complaints_on:
        covering = ledger.covering.get(day, ())
    else:  # the first complaint logged on the day: the periods covering it are looked up once
        covering = _periods_covering(ledger, day)
        if covering:
            ledger.covering[day] = covering
    for key in covering:  # each complaints period covering the day may now count one more
        period = ledger.periods[key]
        logged = _logged_in(ledger.complaints_on, period.start, period.end)
        figure = period.figures["complaints"][0]
        ledger.complaints_total += max(figure, logged + 1) - max(figure, logged)
    if not covering:
        ledger.complaints_total += 1
    ledger.complaints_on[day] = (*ledger.complaints_on.get(day, ()), position)


# -- reading ---------------------------------------------------------------------------------


def periods_ending(ledger: Ledger, since: dt.date, until: dt.date) -> Iterator[Period]:
    """The periods that end between ``since`` and ``until`` (both included): the window's days
    are looked up one by one, or the ends known are scanned when they are fewer."""
    if until < since:
        return
    days = _days(since, until)
    if len(days) <= len(ledger.ends):
        for day in days:
            for key in ledger.ends.get(day, ()):
                yield ledger.periods[key]
    else:
        for day, keys in ledger.ends.items():
            if day in days:
                for key in keys:
                    yield ledger.periods[key]


def figures_in(ledger: Ledger, metric: str, since: dt.date, until: dt.date) -> list[Figure]:
    """The figures of ``metric`` (one per period, the latest) of the periods ending in the window."""
    return [p.figures[metric] for p in periods_ending(ledger, since, until) if metric in p.figures]


def complaint_count(ledger: Ledger, since: dt.date, until: dt.date) -> tuple[int, list[int]]:
    """How many complaints a threshold counts between ``since`` and ``until``, and the positions
    of the events they rest on. Every complaint is counted once.

    Complaints reach the registry two ways: one by one (``LogComplaint``, dated ``received_on``)
    and as the ``complaints`` figure of a periodic metrics report, which is the applicant's count
    for its whole period and so already includes the complaints logged one by one in that period.
    Adding the two would count a logged complaint twice. So:

    - a report counts when its period ends within the window, for the larger of its reported
      figure and the complaints logged within its period (a report that under-counts the
      complaints the registry holds individually cannot lower the count);
    - a logged complaint outside the period of every report with a ``complaints`` figure counts
      on its own, when it was received within the window.

    Several reports for the very same period are corrections of one another: the latest counts.
    The count over the whole test is the ledger's ``complaints_total``, kept as reports and
    complaints are folded.
    """
    count, evidence = 0, []
    for period in periods_ending(ledger, since, until):
        figure = period.figures.get("complaints")
        if figure is None:
            continue
        days = _days(period.start, period.end)
        if len(days) <= len(ledger.complaints_on):
            logged = [p for day in days for p in ledger.complaints_on.get(day, ())]
        else:
            logged = [p for day, found in ledger.complaints_on.items() if day in days for p in found]
        count += max(figure[0], len(logged))
        evidence += [figure[1], *logged]
    window = _days(since, until) if until >= since else range(0)
    days_logged = (
        window if len(window) <= len(ledger.complaints_on) else [d for d in ledger.complaints_on if d in window]
    )
    for day in days_logged:
        found = ledger.complaints_on.get(day, ())
        if found and not ledger.covering.get(day):
            count += len(found)
            evidence += found
    return count, evidence


def periods_in_order(ledger: Ledger) -> list[Period]:
    """Each period reported, in the order of their ends (for display and charts: the rules read
    the indexes above)."""
    return sorted(ledger.periods.values(), key=lambda p: (p.end, p.start))


def reported_periods(ledger: Ledger) -> list[dict[str, object]]:
    """Each period reported, in the order of their ends, with each metric's latest figure and the
    position of the report that gave it."""
    return [
        {
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "metrics": {metric: value for metric, (value, _) in period.figures.items()},
            "positions": {metric: position for metric, (_, position) in period.figures.items()},
        }
        for period in periods_in_order(ledger)
    ]
