"""Time: a command's exit criteria are evaluated at its business time, and a tick moves the
clock of the projects it is given only."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from sandbox.cli import main
from sandbox.deciders import business_time
from schemas import commands as c
from tests.fixtures.api import CST, Api, sha


def ecny_in_test(api: Api) -> str:
    pid = api.create("ecny-pilot")
    api.ecny_application(pid)
    api.submit_and_open(pid)
    api.do(pid, "sam", "file_assessment", {"topic": "wallet_limits", "outcome": "favourable", "summary": "符合",
                                            "sha256": sha("a")})
    api.close_notices(pid)
    api.admit(pid)
    api.do(pid, "alice", "start_test")
    return pid


def test_a_back_dated_report_is_judged_on_the_day_it_was_due(api: Api) -> None:
    """Five fraud cases in a period that ended 45 days ago, reported late with the day it was
    due: the 30-day fraud window is counted back from that day, not from this machine's today,
    and the suspension says it occurred then."""
    pid = ecny_in_test(api)
    started = api.clock.today
    api.clock.advance(days=60)
    period_end = started + dt.timedelta(days=15)
    due = dt.datetime.combine(period_end + dt.timedelta(days=1), dt.time(18, 0), CST)
    body = {
        "period_start": (started + dt.timedelta(days=1)).isoformat(),
        "period_end": period_end.isoformat(),
        "metrics": {"transactions": 500, "fraud_cases": 5},
        "occurred_at": due.isoformat(),
    }
    done = api.do(pid, "alice", "report_metrics", body)
    assert "ProjectSuspended" in done["events"], done
    events = api.events(pid)
    breach = next(e for e in events if e["type"] == "ThresholdBreached")
    assert breach["data"]["criterion_id"] == "ec.exit.fraud"
    suspended = next(e for e in events if e["type"] == "ProjectSuspended")
    assert dt.datetime.fromisoformat(suspended["metadata"]["occurred_at"]) == due
    assert api.state(pid) == "SUSPENDED"


def test_a_report_dated_now_counts_in_todays_window_only(api: Api) -> None:
    """The same figures reported without a date are today's: a period that ended 45 days ago
    lies outside today's 30-day window, and nothing is suspended (the counterpart of the test
    above: the business time decides)."""
    pid = ecny_in_test(api)
    started = api.clock.today
    api.clock.advance(days=60)
    body: dict[str, Any] = {
        "period_start": (started + dt.timedelta(days=1)).isoformat(),
        "period_end": (started + dt.timedelta(days=15)).isoformat(),
        "metrics": {"transactions": 500, "fraud_cases": 5},
    }
    done = api.do(pid, "alice", "report_metrics", body)
    assert "ProjectSuspended" not in done["events"]
    assert not [e for e in api.events(pid) if e["data"].get("criterion_id") == "ec.exit.fraud"]


def test_business_time_is_the_report_date_never_a_future_one() -> None:
    now = dt.datetime(2026, 5, 1, 10, tzinfo=CST)
    earlier = now - dt.timedelta(days=3)
    report = c.ReportMetrics(period_start=dt.date(2026, 4, 1), period_end=dt.date(2026, 4, 20), metrics={},
                             occurred_at=earlier)
    assert business_time(report, now) == earlier
    assert business_time(c.Suspend(category="x"), now) == now
    later = c.ReportMetrics(period_start=dt.date(2026, 4, 1), period_end=dt.date(2026, 4, 20), metrics={},
                            occurred_at=now + dt.timedelta(days=1))
    assert business_time(later, now) == now  # (the decider refuses it; it never moves the clock ahead)


def test_tick_project_moves_that_project_only(api: Api, tmp_path: Path) -> None:
    first, second = api.create("ecny-pilot"), api.create("ecny-pilot", title="第二个试点")
    for pid in (first, second):
        api.ecny_application(pid)
        api.submit_and_open(pid)
    ends = dt.date.fromisoformat(api.details(first)["notice_ends"])
    db = api.app.state.store.path
    moment = dt.datetime.combine(ends + dt.timedelta(days=2), dt.time(9), CST).isoformat()
    runner = CliRunner()
    done = runner.invoke(main, ["tick", "--db", str(db), "--project", first, "--now", moment])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("recorded 1 timer event") and "events" not in done.output  # (in the singular)
    api.app.state.registry.read_models.catch_up()
    assert api.state(first) == "NOTICE_CLOSED"
    assert api.state(second) == "PUBLIC_NOTICE"  # its clock was not moved
    unknown = runner.invoke(main, ["tick", "--db", str(db), "--project", "nope", "--now", moment])
    assert unknown.exit_code == 1 and "no project nope" in unknown.output and "没有项目 nope" in unknown.output
