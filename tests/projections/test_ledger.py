"""The running aggregates of a project's reports give what a reading of every report gives.

Each property folds a random history of metrics reports (periods that repeat, overlap and come
out of order, corrections among them) and complaints logged one by one into a ledger, and
compares each answer the exit criteria ask of it with the answer computed from the whole list
of reports, as the rules computed it before the ledger kept running aggregates.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from projections.ledger import (
    EMPTY,
    Ledger,
    LedgerDraft,
    complaint_count,
    figures_in,
    record_complaint,
    record_report,
)

DAY0 = dt.date(2026, 3, 1)
METRICS = ("complaints", "transactions", "active_users")


@dataclass(frozen=True)
class Report:
    start: dt.date
    end: dt.date
    metrics: dict[str, int]
    position: int


@dataclass(frozen=True)
class Logged:
    received_on: dt.date
    position: int


reports = st.builds(
    lambda first, length, metrics: (DAY0 + dt.timedelta(days=first), length, metrics),
    st.integers(0, 40),
    st.integers(0, 12),
    st.dictionaries(st.sampled_from(METRICS), st.integers(0, 30), max_size=3),
)
complaints = st.integers(0, 55).map(lambda day: DAY0 + dt.timedelta(days=day))
histories = st.lists(st.one_of(reports, complaints), max_size=40)


def fold(history: list[object]) -> tuple[Ledger, list[Report], list[Logged]]:
    """The ledger of a history, folded in two halves (as a snapshot and the events after it),
    with the reports and complaints it holds."""
    ledger, kept_reports, kept_complaints = EMPTY, [], []
    half = len(history) // 2
    for part in (history[:half], history[half:]):
        draft = LedgerDraft(ledger)
        for position, item in enumerate(part, start=len(kept_reports) + len(kept_complaints) + 1):
            if isinstance(item, dt.date):
                record_complaint(draft, item, position)
                kept_complaints.append(Logged(item, position))
            else:
                first, length, metrics = item  # type: ignore[misc]
                end = first + dt.timedelta(days=length)
                record_report(draft, first, end, metrics, position, end)
                kept_reports.append(Report(first, end, metrics, position))
        ledger = draft.freeze()
    return ledger, kept_reports, kept_complaints


def reported(all_reports: list[Report], metric: str) -> list[Report]:
    """One report per period giving the metric: the latest."""
    return list({(r.start, r.end): r for r in all_reports if metric in r.metrics}.values())


def counted(all_reports: list[Report], logged: list[Logged], since: dt.date, until: dt.date) -> tuple[int, set[int]]:
    periods = reported(all_reports, "complaints")
    count, evidence = 0, set()
    for report in periods:
        if since <= report.end <= until:
            inside = [c for c in logged if report.start <= c.received_on <= report.end]
            count += max(report.metrics["complaints"], len(inside))
            evidence |= {report.position, *(c.position for c in inside)}
    for complaint in logged:
        covered = any(r.start <= complaint.received_on <= r.end for r in periods)
        if not covered and since <= complaint.received_on <= until:
            count += 1
            evidence.add(complaint.position)
    return count, evidence


@given(histories, st.integers(0, 60), st.integers(1, 40))
def test_windowed_figures_and_complaints_are_those_of_every_report(
    history: list[object], until_day: int, window: int
) -> None:
    ledger, all_reports, logged = fold(history)
    until = DAY0 + dt.timedelta(days=until_day)
    since = until - dt.timedelta(days=window - 1)
    for metric in METRICS:
        periods = reported(all_reports, metric)
        expected = sorted((r.metrics[metric], r.position) for r in periods if since <= r.end <= until)
        assert sorted(figures_in(ledger, metric, since, until)) == expected
    count, evidence = complaint_count(ledger, since, until)
    assert (count, set(evidence)) == counted(all_reports, logged, since, until)


@given(histories)
def test_running_totals_and_latest_figures_are_those_of_every_report(history: list[object]) -> None:
    ledger, all_reports, logged = fold(history)
    assert ledger.complaints_total == counted(all_reports, logged, dt.date.min, dt.date.max)[0]
    assert ledger.reports == len(all_reports)
    for metric in METRICS:
        periods = reported(all_reports, metric)
        assert ledger.totals.get(metric, 0) == sum(r.metrics[metric] for r in periods)
        giving = [r for r in all_reports if metric in r.metrics]
        if giving:
            latest = max(giving, key=lambda r: (r.end, r.position))
            assert ledger.latest[metric][:2] == (latest.metrics[metric], latest.position)
            assert ledger.last_values[metric] == (giving[-1].metrics[metric], giving[-1].position)
        else:
            assert metric not in ledger.latest and metric not in ledger.last_values
    if all_reports:
        basis = max(all_reports, key=lambda r: (r.end, r.position))
        assert (ledger.last_end, ledger.basis) == (basis.end, basis.position)
        assert ledger.last is not None and ledger.last.position == all_reports[-1].position
    active = [r.end for r in all_reports if r.metrics.get("transactions", 0)]
    assert ledger.active_until == (max(active) if active else None)
