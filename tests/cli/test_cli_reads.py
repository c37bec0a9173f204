"""The read commands of ``sandbox-registry`` and the JSON shapes scripts rely on."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from events.model import NewEvent, StreamWrite
from projections.project import fold
from sandbox.cli import main
from sandbox.config import DB_ENV
from sandbox.demo import build_demo
from sandbox.registry import open_store
from schemas.base import EventMetadata
from schemas.dates import CHINA
from schemas.registry import RegistryCreated
from tests.fixtures.api import copy_db

RULE_KEYS = {"id", "label_zh", "label_en", "kind", "params"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    path = tmp_path_factory.mktemp("reads") / "demo.db"
    result = build_demo(path, projects=4, seed=2, today=dt.date(2026, 11, 28))
    return path, result.stories


def run(*args: str | Path, ok: bool = True) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, result.output
    return result


def as_json(*args: str | Path) -> Any:
    return json.loads(run(*args, "--json").output)


def story(stories: dict[str, str], prefix: str) -> str:
    return next(pid for label, pid in stories.items() if label.startswith(prefix))


@pytest.fixture(autouse=True)
def no_env_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV, raising=False)


def test_programs_json_lists_every_rule_with_both_labels(demo: tuple[Path, dict[str, str]]) -> None:
    programs = as_json("programs", "--db", demo[0])
    assert {p["key"] for p in programs} == {"fintech-sandbox", "ecny-pilot", "data-asset"}
    for program in programs:
        assert {"key", "version", "name_zh", "name_en", "admission", "exit"} <= set(program)
        assert program["admission"] and program["exit"]
        for rule in program["admission"] + program["exit"]:
            assert set(rule) - {"stage"} == RULE_KEYS and rule["label_zh"] and rule["label_en"]
        # the stage gates: which conditions the applicants alone satisfy, the topics the notice waits for
        assert {r["stage"] for r in program["admission"]} == {"submission", "admission"}
        assert len(program["assessment_topics"]) == 2 and all(t["label_zh"] for t in program["assessment_topics"])
        assert program["public_fields"] and "complaint_contact" not in str(program["public_fields"])


def test_projects_json_and_its_filters(demo: tuple[Path, dict[str, str]]) -> None:
    db, stories = demo
    everything = as_json("projects", "--db", db)
    assert len(everything) == len(stories) + 4
    assert all({"id", "title", "program", "state", "applicant"} <= set(p) for p in everything)
    testing = as_json("projects", "--db", db, "--state", "testing")
    assert testing and {p["state"] for p in testing} == {"TESTING"}
    assert {p["id"] for p in testing} == {p["id"] for p in everything if p["state"] == "TESTING"}
    ecny = as_json("projects", "--db", db, "--program", "ecny-pilot")
    assert ecny and {p["program"] for p in ecny} == {"ecny-pilot"}
    mine = as_json("projects", "--db", db, "--applicant", "fz-rcb")
    assert story(stories, "In test") in {p["id"] for p in mine}
    # its own projects as lead, and those it joined as a partner (the public-data pledge), each
    # row saying which it is
    assert {p["applicant"] for p in mine} >= {"fz-rcb"}
    assert story(stories, "Public data") in {p["id"] for p in mine}
    roles = {p["id"]: p["applicant_role"] for p in mine}
    assert roles[story(stories, "In test")] == "lead" and roles[story(stories, "Public data")] == "partner"
    assert all((p["applicant"] == "fz-rcb") == (p["applicant_role"] == "lead") for p in mine)
    assert "applicant_role" not in everything[0]  # (said only where an applicant was asked for)
    table = run("projects", "--db", db, "--applicant", "fz-rcb").output
    assert "(fz-rcb: partner / 合作机构)" in table and f"{len(mine)} project" in table


def test_show_json_now_and_as_of_a_position(demo: tuple[Path, dict[str, str]]) -> None:
    db, stories = demo
    pid = story(stories, "Graduated")
    now = as_json("show", pid, "--db", db)
    assert now["id"] == pid and now["state"] == "GRADUATED" and now["program"] == "fintech-sandbox"
    assert now["program_version"] == 1
    for entry in now["admission"]:
        assert {"id", "status", "evidence", "label_zh", "label_en"} <= set(entry)
        assert entry["status"] in ("met", "unmet", "waived")
    for entry in now["exit"]:
        assert {"id", "status", "progress", "evidence", "label_zh", "label_en"} <= set(entry)
    store = open_store(db)
    try:
        events = store.read_stream(f"project-{pid}")
    finally:
        store.close()
    admitted = next(e for e in events if e.type == "ProjectAdmitted")
    before = as_json("show", pid, "--db", db, "--position", str(admitted.position - 1))
    assert before["state"] == fold([e for e in events if e.position < admitted.position]).state.value
    assert before["state"] != "ADMITTED" and before["version"] < now["version"]
    at_time = as_json("show", pid, "--db", db, "--as-of", admitted.recorded_at.isoformat())
    assert at_time["state"] == "ADMITTED"


def test_the_past_is_asked_for_as_in_the_api(demo: tuple[Path, dict[str, str]]) -> None:
    """A bare date is the end of that day in China; a time and a position are not both given;
    a position beyond the head is refused, not shown as if it existed."""
    db, stories = demo
    pid = story(stories, "Graduated")
    store = open_store(db)
    try:
        head = store.head().position
        day = max(e.recorded_at for e in store.read_stream(f"project-{pid}")).astimezone(CHINA).date()
    finally:
        store.close()
    assert as_json("show", pid, "--db", db, "--as-of", day.isoformat()) == as_json(
        "show", pid, "--db", db, "--as-of", f"{day + dt.timedelta(days=1)}T00:00:00+08:00"
    )
    assert as_json("show", pid, "--db", db, "--position", str(head))["as_of_position"] == head
    # the day of the project's last event, once it was over, holds every event of the project
    assert (
        as_json("show", pid, "--db", db, "--as-of", day.isoformat())["version"]
        == as_json("show", pid, "--db", db)["version"]
    )
    for args, message, message_zh in (
        (["--as-of", day.isoformat(), "--position", "3"], "give --as-of or --position, not both", "只能给出一个"),
        (["--position", str(head + 1)], f"must not be after the head of the log (position {head})", "不能超过日志末端"),
    ):
        result = run("show", pid, "--db", db, *args, ok=False)
        assert result.exit_code == 2 and message in result.output and message_zh in result.output, result.output


def test_history_names_actors_and_reasons_in_order(demo: tuple[Path, dict[str, str]]) -> None:
    db, stories = demo
    pid = story(stories, "Forced out")
    events = as_json("history", pid, "--db", db)
    positions = [e["position"] for e in events]
    assert positions == sorted(positions) and events[0]["type"] == "DraftCreated"
    exit_started = next(e for e in events if e["type"] == "ExitInitiated")
    assert exit_started["role"] in ("case_officer", "approver") and exit_started["actor"]
    table = run("history", pid, "--db", db).output
    assert "ExitInitiated" in table and exit_started["actor"] in table


@pytest.mark.parametrize(
    ("args", "code", "message", "message_zh"),
    [
        (["show", "nope"], 1, "no project nope", "没有项目 nope"),
        (["show", "nope", "--position", "3"], 1, "no project nope at that moment", "该时点没有项目 nope"),
        (["history", "nope"], 1, "no project nope", "没有项目 nope"),
        (["projects", "--state", "bogus"], 2, "'bogus' is not one of", ""),  # click's own check
        (["projects", "--program", "nope"], 2, "no program 'nope'", "没有项目类别 'nope'"),
        (["show", "x", "--as-of", "yesterday"], 2, "'yesterday' must be a time (ISO 8601", "须为时间（ISO 8601"),
        (["show", "x", "--as-of", "9999-12-31T23:59:59-01:00"], 2, "between years 1 and 9999", "1 至 9999 年"),
        (["tick", "--now", "soon"], 2, "not an ISO 8601 time", "不是 ISO 8601 时间"),
    ],
)
def test_bad_input_is_one_line_and_a_non_zero_exit(
    demo: tuple[Path, dict[str, str]], args: list[str], code: int, message: str, message_zh: str
) -> None:
    result = run(*args, "--db", demo[0], ok=False)
    assert result.exit_code == code and message in result.output and message_zh in result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)  # not a crash


def test_a_missing_database_is_named(tmp_path: Path) -> None:
    result = run("projects", "--db", tmp_path / "none.db", ok=False)
    assert result.exit_code == 2 and "none.db" in result.output and not (tmp_path / "none.db").exists()


def test_tick_twice_at_one_time_records_nothing_more(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build_demo(db, today=dt.date(2025, 6, 1))
    first = run("tick", "--db", db, "--now", "2025-06-20T10:00:00+08:00").output
    second = run("tick", "--db", db, "--now", "2025-06-20T10:00:00+08:00").output
    assert int(first.split()[1]) > 0 and second.strip() == "recorded 0 timer events"


def test_a_tick_ahead_of_the_clock_needs_future_and_records_nothing_without_it(tmp_path: Path) -> None:
    """Timer events record facts (a notice closed, a report overdue): a time ahead of this
    machine's clock is refused, with nothing written, unless --future says it is a demonstration."""
    db = tmp_path / "t.db"
    build_demo(db, today=dt.date.today() - dt.timedelta(days=60))
    ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(days=40)).isoformat()
    store = open_store(db)
    head = store.head().position
    store.close()
    refused = run("tick", "--db", db, "--now", ahead, ok=False)
    assert refused.exit_code == 2 and "--future" in refused.output and "晚于本机时间" in refused.output
    store = open_store(db)
    assert store.head().position == head
    store.close()
    assert int(run("tick", "--db", db, "--now", ahead, "--future").output.split()[1]) > 0


def test_a_tick_that_passed_a_project_over_says_so_and_exits_1(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    build_demo(db, today=dt.date(2025, 6, 1))
    store = open_store(db)
    stuck = next(e.stream_id for e in store.iter_all() if e.type == "PublicNoticeOpened")
    now = dt.datetime(2025, 6, 2, tzinfo=dt.UTC)
    stray = RegistryCreated(registry_id="r", name="n", created_at=now, hash_format="x")
    store.append(
        [StreamWrite(stuck, (NewEvent(stray, EventMetadata(actor="x", role="system", occurred_at=now)),))],
        command_id="stray",
    )
    store.close()
    result = run("tick", "--db", db, "--now", "2025-09-01T10:00:00+08:00", ok=False)
    assert result.exit_code == 1 and stuck.removeprefix("project-") in result.output
    assert "could not be evaluated" in result.output and "无法计算" in result.output
    assert int(result.output.split()[1]) > 0  # the others' timers were recorded


def test_a_condition_met_by_declared_fields_cites_the_edits_that_declared_them(
    demo: tuple[Path, dict[str, str]],
) -> None:
    db, stories = demo
    pid = story(stories, "e-CNY motorway toll")
    view = as_json("show", pid, "--db", db)
    store = open_store(db)
    try:
        edits = {
            e.position: set(e.payload.fields) for e in store.read_stream(f"project-{pid}") if e.type == "DraftEdited"
        }
    finally:
        store.close()
    scenario = next(c for c in view["admission"] if c["id"] == "ec.adm.scenario")
    assert scenario["status"] == "met" and scenario["evidence"]
    assert all("scenario" in edits[position] for position in scenario["evidence"])
    assert max(p for p, fields in edits.items() if "scenario" in fields) in scenario["evidence"]


def test_rebuild_lists_what_the_read_models_could_not_derive_and_exits_1(
    demo: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = copy_db(demo[0], tmp_path / "r.db")
    assert run("rebuild", "--db", db).stdout.startswith("rebuilt read models from")
    from projections.read_models import writer as read_models  # (where the rows are derived)

    derive = read_models.project_row

    def broken(state: Any) -> dict[str, Any]:
        if state.title.startswith("适老化"):
            raise ValueError("a column the rows cannot hold")
        return derive(state)

    monkeypatch.setattr(read_models, "project_row", broken)
    result = run("rebuild", "--db", db, ok=False)
    assert result.exit_code == 1
    [line] = [x for x in result.stderr.splitlines() if "a column the rows cannot hold" in x]
    assert "the project's rows are stale" in line
    assert result.stderr.splitlines()[-1] == "Error: read-model failures: 1 (listed above) / 读模型失败 1 处（见上）"


def exported(db: Path, directory: Path) -> Path:
    out = directory / "registry.jsonl"
    run("export", "--db", db, "--out", out)
    return out


def test_import_restores_an_export_with_its_head_read_models_and_command_records(
    demo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    db, _ = demo
    export = exported(db, tmp_path)
    restored = tmp_path / "restored.db"
    result = run("import", str(export), "--db", restored)
    original = open_store(db)
    try:
        head = original.head()
        spans: dict[str, list[int]] = {}
        for e in original.read_after(0):
            spans.setdefault(e.metadata.command_id, [e.position, e.position])[1] = e.position
    finally:
        original.close()
    assert f"imported {head.position} events into {restored}; head position {head.position}" in result.output
    assert head.hash in result.output
    assert run("verify", "--db", restored).output.startswith(f"ok: {head.position} events verified")
    assert as_json("projects", "--db", restored) == as_json("projects", "--db", db)  # read models rebuilt
    store = open_store(restored)
    try:  # the restored registry knows the commands it holds, so a retried one appends nothing
        for command_id, span in list(spans.items())[-5:]:
            recorded = store.command_result(command_id)
            assert recorded is not None and [recorded.first_position, recorded.last_position] == span
        assert store.head() == head
    finally:
        store.close()


def test_import_refuses_a_file_that_does_not_verify_and_leaves_no_database(
    demo: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    db, _ = demo
    export = exported(db, tmp_path)
    lines = export.read_bytes().splitlines(keepends=True)
    record = json.loads(lines[4])
    record["data"]["__tampered"] = 1
    lines[4] = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
    export.write_bytes(b"".join(lines))
    restored = tmp_path / "restored.db"
    result = run("import", str(export), "--db", restored, ok=False)
    assert result.exit_code == 1
    assert "refused" in result.output and "line 5" in result.output and "position 5" in result.output
    assert "拒绝导入" in result.output and "第 5 行" in result.output
    assert not any(Path(str(restored) + suffix).exists() for suffix in ("", "-wal", "-shm"))
    again = run("import", str(export), "--db", db, ok=False)  # never over an existing database
    assert again.exit_code == 2 and "already exists" in again.output and "已存在" in again.output
