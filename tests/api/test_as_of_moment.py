"""A project as of a moment is evaluated at that moment: a criterion whose status changes between
two dates without a new event (the test period running out) shows each date's status, over the
API (``?as_of=``) and on the command line (``show --as-of``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from sandbox.cli import main
from sandbox.config import DB_ENV
from tests.fixtures.api import Api


def _test_period(view: dict[str, Any]) -> dict[str, Any]:
    [rule] = [r for r in view["exit"] if r["progress"].get("days_total") is not None]
    return rule


def test_the_as_of_view_evaluates_timers_at_the_moment_asked_not_at_the_last_event(api: Api) -> None:
    pid = api.create("ecny-pilot")
    api.ecny_application(pid, test_days=120)
    api.submit_and_open(pid)
    api.close_notices(pid)
    api.admit(pid)
    api.do(pid, "alice", "start_test")
    last = api.head()
    end = dt.date.fromisoformat(api.details(pid)["planned_end"])
    api.clock.to(end + dt.timedelta(days=30))  # the days pass: no event, no tick
    assert api.head() == last

    before = api.view(pid, "audrey", as_of=(end - dt.timedelta(days=10)).isoformat())
    after = api.view(pid, "audrey", as_of=(end + dt.timedelta(days=1)).isoformat())
    assert before["as_of_position"] == after["as_of_position"] == last  # the same events...
    assert before["as_of_date"] == (end - dt.timedelta(days=10)).isoformat()
    assert after["as_of_date"] == (end + dt.timedelta(days=1)).isoformat()
    # ... evaluated on each date asked: running ten days before the end, reached after it
    assert _test_period(before)["status"] != "reached"
    assert _test_period(after)["status"] == "reached"
    assert _test_period(before)["progress"]["days_elapsed"] == _test_period(after)["progress"]["days_total"] - 10
    # the day before the end is the test's last day; from the end on, the period is over
    eve = api.view(pid, "audrey", as_of=(end - dt.timedelta(days=1)).isoformat())
    assert _test_period(eve)["status"] != "reached"
    assert _test_period(api.view(pid, "audrey", as_of=end.isoformat()))["status"] == "reached"


def test_show_as_of_evaluates_at_the_date_asked(api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pid = api.create("ecny-pilot")
    api.ecny_application(pid, test_days=120)
    api.submit_and_open(pid)
    api.close_notices(pid)
    api.admit(pid)
    api.do(pid, "alice", "start_test")
    end = dt.date.fromisoformat(api.details(pid)["planned_end"])
    monkeypatch.setenv(DB_ENV, str(tmp_path / "registry.db"))  # (the api fixture's database)

    def shown(day: dt.date) -> dict[str, Any]:
        r = CliRunner().invoke(main, ["show", pid, "--as-of", day.isoformat(), "--json"])
        assert r.exit_code == 0, r.output
        return json.loads(r.output)

    assert _test_period(shown(end - dt.timedelta(days=10)))["status"] != "reached"
    assert _test_period(shown(end - dt.timedelta(days=1)))["status"] != "reached"
    assert _test_period(shown(end))["status"] == "reached"
    assert shown(end)["as_of_date"] == end.isoformat()


def test_a_time_without_an_offset_is_china_time_over_http_and_on_the_command_line(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``?as_of=`` and ``show --as-of`` read a time the same way (``schemas.dates.moment_asked``):
    without an offset it is China time, 8 hours before the same wall-clock time in UTC."""
    pid = api.create("ecny-pilot")
    created = api.head()
    next_day = api.clock.today + dt.timedelta(days=1)
    api.clock.to(next_day)  # 10:00 in China: the application is edited then
    api.ecny_application(pid)
    edited = api.head()
    assert edited > created
    monkeypatch.setenv(DB_ENV, str(tmp_path / "registry.db"))  # (the api fixture's database)
    wall_clock = f"{next_day}T09:59:00"  # a minute before the edits in China, hours after them in UTC
    for text, position in ((wall_clock, created), (f"{wall_clock}+08:00", created), (f"{wall_clock}Z", edited)):
        shown = CliRunner().invoke(main, ["show", pid, "--as-of", text, "--json"])
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.output)["as_of_position"] == position, text
        assert api.view(pid, "alice", as_of=text)["as_of_position"] == position, text


def test_a_date_in_iso_basic_form_is_the_same_bare_date_over_http_and_on_the_command_line(
    api: Api, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``20260301`` is the date ``2026-03-01`` (the end of that day in China) for ``?as_of=`` and
    ``show --as-of`` alike, not 20,260,301 seconds since 1970 (when nothing was recorded)."""
    pid = api.create("ecny-pilot")
    created_on = api.clock.today
    api.clock.to(created_on + dt.timedelta(days=1))
    api.ecny_application(pid)
    monkeypatch.setenv(DB_ENV, str(tmp_path / "registry.db"))  # (the api fixture's database)
    extended, basic = created_on.isoformat(), created_on.strftime("%Y%m%d")
    expected = api.view(pid, "alice", as_of=extended)["as_of_position"]
    assert 0 < expected < api.head()
    assert api.view(pid, "alice", as_of=basic)["as_of_position"] == expected
    shown = CliRunner().invoke(main, ["show", pid, "--as-of", basic, "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["as_of_position"] == expected
