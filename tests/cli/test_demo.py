"""The demo registry: its named stories really happened, through commands and timers only."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from events.model import RecordedEvent
from events.sqlite import SQLiteEventStore
from projections.read_models import ReadModels
from sandbox.cli import main
from sandbox.config import DB_ENV
from sandbox.demo import PEOPLE, STORIES, DemoRefused, build_demo, demo_tokens
from sandbox.registry import open_store
from sandbox.service import Registry
from sandbox.tokens import Tokens

TODAY = dt.date(2026, 11, 28)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, SQLiteEventStore]]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    result = build_demo(path, projects=6, seed=11, today=TODAY)
    store = open_store(path)
    yield result, store
    store.close()


def stream(store: SQLiteEventStore, result: Any, label_start: str) -> list[RecordedEvent[Any]]:
    [label] = [label for label in result.stories if label.startswith(label_start)]
    return store.read_stream(f"project-{result.stories[label]}")


def types(events: list[RecordedEvent[Any]]) -> list[str]:
    return [e.type for e in events]


def test_every_story_is_in_the_log_and_the_log_verifies(demo: tuple[Any, SQLiteEventStore]) -> None:
    result, store = demo
    assert len(result.stories) == len(STORIES) and len(result.synthetic) == 6
    assert store.verify().ok
    assert result.until == TODAY - dt.timedelta(days=1)
    last = store.read_after(result.head - 1)[0]
    assert last.recorded_at.date() <= TODAY


def test_nothing_is_hand_written(demo: tuple[Any, SQLiteEventStore]) -> None:
    """Every project event comes from a command (a decided command id) or a system timer."""
    _, store = demo
    for event in store.iter_all():
        if not event.stream_id.startswith("project-"):
            continue
        meta = event.metadata
        if meta.role == "system" and meta.reason == "timer":
            assert meta.command_id.startswith("tick:"), event
        else:
            assert meta.command_id.startswith("syn:"), event


EXPECTED_END = {
    "Graduated": "GRADUATED",
    "e-CNY motorway toll": "GRADUATED",
    "Rejected": "REJECTED",
    "Objection upheld": "REJECTED",
    "Suspended after": "GRADUATED",
    "e-CNY consumer red-packet": "EXITED",
    "Withdrawn": "WITHDRAWN",
    "Public data": "TESTING",
    "Forced out": "EXITED",
    "In test": "TESTING",
}


def test_the_stories_end_as_told(demo: tuple[Any, SQLiteEventStore]) -> None:
    result, store = demo
    registry = Registry(store)
    expected = {**EXPECTED_END, **IN_FLIGHT}
    ends = {}
    for label, pid in result.stories.items():
        [prefix] = [p for p in expected if label.startswith(p)]
        ends[prefix] = registry.load(pid).state.value
    assert ends == expected


def test_the_incident_story_is_suspended_by_a_severity_1_incident_and_reinstated(
    demo: tuple[Any, SQLiteEventStore],
) -> None:
    result, store = demo
    events = stream(store, result, "Suspended after a severity-1")
    kinds = types(events)
    incident = next(e for e in events if e.type == "IncidentReported")
    assert incident.payload.severity == 1
    suspended = kinds.index("ProjectSuspended")
    assert kinds.index("IncidentReported") < suspended < kinds.index("ProjectReinstated")
    assert events[suspended].metadata.role == "system"  # the program's criterion, not a person


def test_the_objection_story_is_refused_admission(demo: tuple[Any, SQLiteEventStore]) -> None:
    result, store = demo
    events = stream(store, result, "Objection upheld")
    disposed = next(e for e in events if e.type == "ObjectionDisposed")
    assert disposed.payload.outcome == "upheld"
    assert types(events)[-1] == "ApplicationRejected"
    assert "ApplicationAdmitted" not in types(events)


def test_the_forced_exit_and_the_fuzhou_pilots(demo: tuple[Any, SQLiteEventStore]) -> None:
    result, store = demo
    forced = stream(store, result, "Forced out")
    assert next(e for e in forced if e.type == "ExitInitiated").payload.mode == "forced"
    for label in ("e-CNY motorway toll", "e-CNY consumer red-packet"):
        events = stream(store, result, label)
        draft = events[0].payload
        assert draft.region == "福州"
        scenario = {
            k: v for e in events if e.type == "DraftEdited" for k, v in e.payload.fields.items() if k == "scenario"
        }
        assert scenario["scenario"] == ("transport_tolls" if "toll" in label else "red_packets")


def test_the_fuzhou_bank_reports_monthly_with_its_technology_partner(demo: tuple[Any, SQLiteEventStore]) -> None:
    result, store = demo
    events = stream(store, result, "In test")
    assert events[0].payload.organisation == "fz-rcb" and events[0].payload.region == "福州"
    assert any(e.type == "PartnerAdded" and e.payload.organisation == "rongcheng-fintech" for e in events)
    reports = [e.payload for e in events if e.type == "MetricsReported"]
    assert len(reports) >= 6
    gaps = {(b.period_start - a.period_end).days for a, b in itertools.pairwise(reports)}
    assert gaps == {1}  # consecutive monthly periods, none skipped


def test_the_public_data_product_is_pledged(demo: tuple[Any, SQLiteEventStore]) -> None:
    result, store = demo
    events = stream(store, result, "Public data")
    product: dict[str, Any] = {}
    for e in events:
        if e.type == "DraftEdited" and e.payload.section == "product":
            product |= e.payload.fields
    assert product["public_data"] is True and product["pledged"] is True
    assert any(e.type == "DocumentAttached" and e.payload.kind == "valuation_report" for e in events)
    # its loan repaid, the pledge is released and the asset, revalued, pledged again: still listed
    lives = [e.type for e in events if e.type.startswith("Pledge")]
    assert lives == ["PledgeReleased", "PledgeRegistered"]
    released = next(e.position for e in events if e.type == "PledgeReleased")
    assert not [e for e in events if e.position > released and e.type in ("ExitInitiated", "ThresholdBreached")]


def test_read_models_equal_a_rebuild(demo: tuple[Any, SQLiteEventStore]) -> None:
    _, store = demo
    models = ReadModels(store)
    models.catch_up()
    caught_up = models.dump()
    models.rebuild()
    assert models.dump() == caught_up


def test_the_same_seed_gives_the_same_registry(tmp_path: Path) -> None:
    a = build_demo(tmp_path / "a.db", projects=3, seed=5, today=dt.date(2025, 9, 1))
    b = build_demo(tmp_path / "b.db", projects=3, seed=5, today=dt.date(2025, 9, 1))
    c = build_demo(tmp_path / "c.db", projects=3, seed=6, today=dt.date(2025, 9, 1))
    assert (a.stories, a.synthetic, a.head, a.states) == (b.stories, b.synthetic, b.head, b.states)
    assert a.synthetic != c.synthetic


def test_demo_refuses_an_existing_database(tmp_path: Path) -> None:
    path = tmp_path / "mine.db"
    path.write_bytes(b"precious")
    with pytest.raises(DemoRefused, match="already exists"):
        build_demo(path)
    assert path.read_bytes() == b"precious"
    result = CliRunner().invoke(main, ["demo", "--db", str(path)])
    assert result.exit_code == 2 and "already exists" in result.output and "Traceback" not in result.output
    assert "已存在" in result.output  # and in Chinese
    assert path.read_bytes() == b"precious"


def test_demo_tokens_one_per_role_and_fresh_ones_revoke_the_old(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    build_demo(path, today=dt.date(2025, 3, 1))
    store = open_store(path)
    try:
        tokens = Tokens(store.db)
        first = demo_tokens(tokens)
        assert {role for _, role, _, _ in first} == {
            "applicant",
            "case_officer",
            "assessor",
            "approver",
            "auditor",
            "public",
        }
        assert [(n, r, o) for n, r, o, _ in first] == list(PEOPLE)
        second = demo_tokens(tokens)
        for (name, role, org, old), (_, _, _, new) in zip(first, second, strict=True):
            assert tokens.authenticate(old) is None
            info = tokens.authenticate(new)
            assert info is not None and (info.name, info.role, info.organisation) == (name, role, org)
    finally:
        store.close()


def test_cli_demo_prints_its_stories_and_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV, raising=False)
    path = tmp_path / "cli.db"
    result = CliRunner().invoke(main, ["demo", "--db", str(path), "--projects", "2", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "sbr_" in result.output and "approver-02" in result.output
    again = CliRunner().invoke(main, ["token", "demo", "--db", str(path)])
    assert again.exit_code == 0 and again.output.count("sbr_") == len(PEOPLE)


#: The stage each story of work in flight is held in.
IN_FLIGHT = {
    "In flight: a draft being written": "DRAFT",
    "In flight: submitted, waiting for intake": "SUBMITTED",
    "In flight: under assessment": "UNDER_REVIEW",
    "In flight: public notice with a comment and an open objection": "PUBLIC_NOTICE",
    "In flight: recommended for admission, waiting for two approvers": "NOTICE_CLOSED",
    "In flight: admitted, the test not started yet": "ADMITTED",
    "In flight: suspended by the regulator": "SUSPENDED",
    "In flight: exit in progress": "EXIT_IN_PROGRESS",
}


@pytest.mark.parametrize("today", [TODAY, dt.date(2026, 6, 15)])
def test_the_demo_ends_with_work_in_flight_in_every_stage(today: dt.date, tmp_path: Path) -> None:
    """Whatever day it is built, the demo holds a project in each stage a regulator acts in, and
    the work queue has items for the case officer, the assessor and the approvers."""
    result = build_demo(tmp_path / "flight.db", today=today)
    store = open_store(tmp_path / "flight.db")
    try:
        registry = Registry(store)
        states = {label: registry.load(result.stories[label]) for label in IN_FLIGHT}
        assert {label: s.state.value for label, s in states.items()} == IN_FLIGHT
        notice = states["In flight: public notice with a comment and an open objection"]
        assert notice.comments >= 1 and notice.open_objections
        waiting = states["In flight: recommended for admission, waiting for two approvers"]
        assert waiting.pending is not None and waiting.pending.decision == "admit" and not waiting.pending.approvers
        assert waiting.pending.approvals_required == 2
        models = ReadModels(store)
        models.catch_up()
        queued = {pid for pid in result.stories.values()}
        roles = {row["role"] for row in models.queue() if row["project_id"] in queued}
        assert {"case_officer", "assessor", "approver"} <= roles
        items = {(row["project_id"], row["item"].split(":")[0]) for row in models.queue()}
        pid = result.stories
        assert (pid["In flight: submitted, waiting for intake"], "accept_intake") in items
        assert (pid["In flight: under assessment"], "assess") in items
        assert (pid["In flight: public notice with a comment and an open objection"], "objection") in items
        assert (pid["In flight: recommended for admission, waiting for two approvers"], "approve") in items
        assert (pid["In flight: exit in progress"], "confirm_exit") in items
        # the assessor's work is one item per required topic still to assess, named in both languages
        assessing = registry.load(pid["In flight: under assessment"])
        topics = {t.id: t for t in registry.bound_program(assessing, today).assessment_topics}
        per_topic = [q for q in models.queue(role="assessor") if q["project_id"] == pid["In flight: under assessment"]]
        assert per_topic
        for q in per_topic:
            topic = topics[q["item"].removeprefix("assess:")]
            assert topic.label_zh in q["label_zh"] and topic.label_en in q["label_en"]
        # both approvers are offered an approval of the waiting recommendation, its recommender none
        waiting_id = pid["In flight: recommended for admission, waiting for two approvers"]
        for approver in ("approver-01", "approver-02"):
            offered = models.queue(role="approver", person=approver)
            assert len([q for q in offered if q["project_id"] == waiting_id]) == 2, approver
        assert waiting.pending.recommender not in ("approver-01", "approver-02")
        recommender = [q for q in models.queue(person=waiting.pending.recommender) if q["project_id"] == waiting_id]
        assert not any(q["item"].startswith("approve:") for q in recommender)
    finally:
        store.close()
