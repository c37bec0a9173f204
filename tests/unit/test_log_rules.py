"""Every rule of the log, broken once in a generated export whose chain is then recomputed (as
someone rewriting the file would): the export's verification, ``import`` and a database's
``verify`` each refuse it at the right line, naming the rule; ``import`` exits 1 and leaves no file.

The chain is recomputed here from the README's specification (``json.dumps`` and ``hashlib``),
not with the code under test."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from events.export import export_lines, verify_export
from events.logrules import RULES
from sandbox.cli import main
from sandbox.config import DB_ENV
from tests.fixtures.stores import drop_triggers, notes, open_sqlite, raw_connection, write

Record = dict[str, Any]
DEEP = "__deep__"
DEEP_JSON = '{"a":' * 1000 + "1" + "}" * 1000


def dumps(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace(json.dumps(DEEP), DEEP_JSON)


def rechain(records: list[Record], start: int) -> list[bytes]:
    """The export's lines, the chain recomputed from ``records[start]`` on."""
    prev = records[start - 1]["hash"] if start else "0" * 64
    for record in records[start:]:
        record["prev_hash"] = prev
        body = {k: v for k, v in record.items() if k != "hash"}
        record["hash"] = prev = hashlib.sha256(dumps(body).encode()).hexdigest()
    return [dumps(r).encode() + b"\n" for r in records]


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> list[Record]:
    """A log of appends of one and of several events, in several streams."""
    store = open_sqlite(tmp_path_factory.mktemp("rules") / "source.db", synchronous="OFF")
    try:
        store.append([write("a", *notes("one", "二")), write("b", *notes("three"))], command_id="c1")
        store.append([write("a", *notes("four"))], command_id="c2")
        store.append([write("b", *notes("five", "six")), write("c", *notes("seven"))], command_id="c3")
        store.append([write("c", *notes("eight"))], command_id="c4")
        return [json.loads(line) for line in export_lines(store.iter_stored())]
    finally:
        store.close()


def at(index: int, change: Callable[[Record], None]) -> Callable[[list[Record]], int]:
    """A mutation of the record at ``index`` (0-based); returns the index the chain restarts at."""

    def apply(records: list[Record]) -> int:
        change(records[index])
        return index

    return apply


def setter(*path: str, value: Any) -> Callable[[Record], None]:
    def change(record: Record) -> None:
        target = record
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def drop(*path: str) -> Callable[[Record], None]:
    def change(record: Record) -> None:
        target = record
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def copy_from(source: int, *fields: str) -> Callable[[list[Record]], int]:
    """Fields of record ``source`` copied into the record after it (a repeated id, a reused command)."""

    def apply(records: list[Record]) -> int:
        for f in fields:
            if f == "command_id":
                records[source + 1]["metadata"]["command_id"] = records[source]["metadata"]["command_id"]
            else:
                records[source + 1][f] = records[source][f]
        return source + 1

    return apply


def legacy_id(records: list[Record]) -> int:
    records[3]["event_id"] = "0f1e2d3c-4b5a-4978-8877-665544332211"  # random, version 4
    return 3


def derived_like(records: list[Record]) -> int:
    records[1]["event_id"] = records[1]["event_id"][:14] + "8" + records[1]["event_id"][15:]
    return 1


def reused_command(records: list[Record]) -> int:
    """Append 4 (``c3``, at index 4) claims command ``c1`` again, with the id ``c1`` derives."""
    for i in (4, 5, 6):
        records[i]["metadata"]["command_id"] = "c1"
    records[4]["event_id"] = records[0]["event_id"]
    return 4


# (what is broken, mutation, the 1-based line it shows at, the rule named)
EVENT_MUTATIONS: list[tuple[str, Callable[[list[Record]], int], int, str]] = [
    ("a float in data", at(2, setter("data", "n", value=1.5)), 3, "integers_only"),
    ("a float in metadata", at(2, setter("metadata", "reason", value=0.5)), 3, "integers_only"),
    ("data that is not an object", at(2, setter("data", value=[1, 2])), 3, "data_object"),
    ("data nested 1,000 deep", at(2, setter("data", "n", value=DEEP)), 3, "nesting"),
    ("recorded_at going backwards", at(3, setter("recorded_at", value="2000-01-01T00:00:00.000000Z")), 4,
     "recorded_at_order"),
    ("recorded_at not in the stated form", at(3, setter("recorded_at", value="2099-01-01T00:00:00Z")), 4,
     "recorded_at_form"),
    ("occurred_at of yesterday", at(1, setter("metadata", "occurred_at", value="yesterday")), 2, "occurred_at_form"),
    ("occurred_at with a zone offset", at(1, setter("metadata", "occurred_at", value="2024-05-01T09:30:00+08:00")),
     2, "occurred_at_form"),
    ("a missing metadata key", at(1, drop("metadata", "reason")), 2, "metadata_keys"),
    ("an unknown metadata key", at(1, setter("metadata", "extra", value="x")), 2, "metadata_keys"),
    ("an event id in capitals", at(1, lambda r: r.update(event_id=r["event_id"].upper())), 2, "event_id_form"),
    ("a first event id not derived from its command id", legacy_id, 4, "first_event_id"),
    ("another event of an append with a version-8 id", derived_like, 2, "other_event_id"),
    ("a repeated event id", copy_from(5, "event_id"), 7, "event_id_unique"),
    ("a command id that begins two appends", reused_command, 5, "command_once"),
]

FILE_MUTATIONS: list[tuple[str, Callable[[list[bytes]], list[bytes]], int, str]] = [
    ("a blank line", lambda ls: [*ls[:2], b"\n", *ls[2:]], 3, "framing"),
    ("a whitespace-only line", lambda ls: [*ls[:2], b"  \t\n", *ls[2:]], 3, "framing"),
    ("a CR LF line end", lambda ls: [*ls[:1], ls[1][:-1] + b"\r\n", *ls[2:]], 2, "framing"),
    ("no final newline", lambda ls: [*ls[:-1], ls[-1][:-1]], 8, "framing"),
    ("a byte order mark", lambda ls: [b"\xef\xbb\xbf" + ls[0], *ls[1:]], 1, "framing"),
    ("an unknown top-level field", lambda ls: [*ls[:1], ls[1].replace(b'{"data"', b'{"comment":1,"data"'),
                                               *ls[2:]], 2, "record"),
    ("a character written as an escape", lambda ls: [*ls[:1], ls[1].replace("二".encode(), b"\\u4e8c"), *ls[2:]],
     2, "canonical"),
    ("an escape in capitals", lambda ls: [ls[0].replace(b'"one"', b'"one\\u001F"'), *ls[1:]], 1, "canonical"),
]


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv(DB_ENV, raising=False)
    return CliRunner()


def refused_everywhere(lines: list[bytes], line: int, rule: str, tmp_path: Path, runner: CliRunner) -> None:
    """The export's verification and ``import`` refuse ``lines`` at ``line`` naming ``rule``."""
    assert rule in RULES
    report = verify_export(io.BytesIO(b"".join(lines)))
    assert (report.ok, report.rule, report.failed_position) == (False, rule, line), report.line()
    assert f"line {line}:" in (report.reason or "") and f"rule {rule}" in (report.reason or "")
    source, target = tmp_path / "mutated.jsonl", tmp_path / "imported.db"
    source.write_bytes(b"".join(lines))
    result = runner.invoke(main, ["import", str(source), "--db", str(target)])
    assert result.exit_code == 1, result.output
    assert f"line {line}:" in result.output and f"rule {rule}" in result.output
    assert f"第 {line} 行" in result.output
    assert "Traceback" not in result.output
    assert not list(tmp_path.glob("imported.db*"))  # no file left behind


@pytest.mark.parametrize(("what", "mutate", "line", "rule"), EVENT_MUTATIONS, ids=[m[0] for m in EVENT_MUTATIONS])
def test_a_rechained_export_that_breaks_a_rule_is_refused_at_its_line(
    export: list[Record],
    what: str,
    mutate: Callable[[list[Record]], int],
    line: int,
    rule: str,
    tmp_path: Path,
    runner: CliRunner,
) -> None:
    original = rechain(json.loads(json.dumps(export)), 0)
    assert b"".join(original) == b"".join(export_lines_of(export))  # the recomputation is the export's
    records = json.loads(json.dumps(export))
    lines = rechain(records, mutate(records))
    refused_everywhere(lines, line, rule, tmp_path, runner)
    # the database's verify checks the same rules: the same rows written into a registry file by
    # someone who drops its triggers and its unique indexes
    db = tmp_path / "tampered.db"
    runner.invoke(main, ["init", "--db", str(db)])
    conn = raw_connection(db)
    drop_triggers(conn)
    conn.execute("DROP TABLE events")
    conn.execute(
        "CREATE TABLE events (position INTEGER PRIMARY KEY, stream_id TEXT, version INTEGER, type TEXT,"
        " schema_version INTEGER, event_id TEXT, data TEXT, metadata TEXT, recorded_at TEXT, prev_hash TEXT, hash TEXT)"
    )
    conn.executemany(
        "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            (r["position"], r["stream_id"], r["version"], r["type"], r["schema_version"], r["event_id"],
             dumps(r["data"]), dumps(r["metadata"]), r["recorded_at"], r["prev_hash"], r["hash"])
            for r in records
        ],
    )
    conn.close()
    store = open_sqlite(db, create=False)
    try:
        report = store.verify()
    finally:
        store.close()
    assert (report.ok, report.rule, report.failed_position) == (False, rule, line), report.line()


@pytest.mark.parametrize(("what", "mutate", "line", "rule"), FILE_MUTATIONS, ids=[m[0] for m in FILE_MUTATIONS])
def test_an_export_file_that_breaks_its_framing_is_refused_at_its_line(
    export: list[Record],
    what: str,
    mutate: Callable[[list[bytes]], list[bytes]],
    line: int,
    rule: str,
    tmp_path: Path,
    runner: CliRunner,
) -> None:
    lines = mutate(rechain(json.loads(json.dumps(export)), 0))
    refused_everywhere(lines, line, rule, tmp_path, runner)


def test_the_unmutated_export_is_accepted_everywhere(export: list[Record], tmp_path: Path, runner: CliRunner) -> None:
    lines = rechain(json.loads(json.dumps(export)), 0)
    assert verify_export(io.BytesIO(b"".join(lines))).ok
    source = write_file(tmp_path / "x.jsonl", lines)
    result = runner.invoke(main, ["import", str(source), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 0, result.output
    assert runner.invoke(main, ["verify", "--db", str(tmp_path / "x.db")]).exit_code == 0


def export_lines_of(records: list[Record]) -> list[bytes]:
    return [dumps(r).encode() + b"\n" for r in records]


def write_file(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(lines))
    return path
