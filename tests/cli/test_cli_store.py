"""The store commands of ``sandbox-registry``: init, verify, export."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from events.export import verify_export
from sandbox.cli import main
from sandbox.config import DB_ENV, TICK_ENV
from tests.fixtures.stores import drop_triggers, raw_connection

EXPORT_FIELDS = {
    "position",
    "stream_id",
    "version",
    "type",
    "schema_version",
    "event_id",
    "data",
    "metadata",
    "recorded_at",
    "prev_hash",
    "hash",
}


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.delenv(DB_ENV, raising=False)
    return CliRunner()


def run(runner: CliRunner, *args: str | Path) -> Result:
    return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def db_state(path: Path) -> tuple[int, str]:
    """(event count, head hash) read straight from the file."""
    conn = raw_connection(path)
    [(count,)] = conn.execute("SELECT count(*) FROM events").fetchall()
    [(head,)] = conn.execute("SELECT hash FROM events ORDER BY position DESC LIMIT 1").fetchall()
    conn.close()
    return count, head


def test_init_records_the_genesis_once(runner: CliRunner, db_path: Path) -> None:
    first = run(runner, "init", "--db", db_path)
    assert first.exit_code == 0, first.output
    count, head = db_state(db_path)
    assert f"initialised; {count} events, head hash {head}" in first.output
    again = run(runner, "init", "--db", db_path)
    assert again.exit_code == 0
    assert f"already initialised; {count} events, head hash {head}" in again.output
    assert db_state(db_path) == (count, head)
    conn = raw_connection(db_path)
    genesis = conn.execute("SELECT type, stream_id, data FROM events WHERE position = 1").fetchone()
    [(registry_events,)] = conn.execute("SELECT count(*) FROM events WHERE type = 'RegistryCreated'").fetchall()
    conn.close()
    assert genesis[:2] == ("RegistryCreated", "registry") and registry_events == 1
    data = json.loads(genesis[2])
    assert set(data) == {"registry_id", "name", "created_at", "hash_format"}
    assert data["hash_format"] == "sha256-canonical-json-v1"


def test_verify_prints_the_count_and_head_hash(runner: CliRunner, db_path: Path) -> None:
    run(runner, "init", "--db", db_path)
    count, head = db_state(db_path)
    result = run(runner, "verify", "--db", db_path)
    assert result.exit_code == 0
    assert lines(result.output) == [f"ok: {count} events verified, head position {count}, head hash {head}"]


def test_verify_fails_naming_the_position_after_tampering(runner: CliRunner, db_path: Path) -> None:
    run(runner, "init", "--db", db_path)
    conn = raw_connection(db_path)
    drop_triggers(conn)
    conn.execute("UPDATE events SET data = replace(data, 'Sandbox', 'Sandbax') WHERE position = 1")
    conn.close()
    result = run(runner, "verify", "--db", db_path)
    assert result.exit_code == 1
    assert lines(result.output) == [
        "Error: FAILED at position 1: rule chain: content does not match its hash (a stored byte was"
        " changed) / 校验失败于位置 1：规则 chain：内容与其哈希不符（存储的字节被改动）"
    ]


def test_export_writes_the_documented_fields_and_verifies(runner: CliRunner, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    run(runner, "init", "--db", db)
    count, head = db_state(db)
    out = tmp_path / "export.jsonl"
    result = run(runner, "export", "--db", db, "--out", out)
    assert result.exit_code == 0
    assert f"exported {count} events to {out}" in result.output
    raw = out.read_bytes()
    assert raw.endswith(b"\n")
    records = [json.loads(line) for line in raw.splitlines()]
    assert [r["position"] for r in records] == list(range(1, count + 1))
    for line, record in zip(raw.splitlines(), records, strict=True):
        assert set(record) == EXPORT_FIELDS
        assert line == json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    report = verify_export(raw.splitlines(keepends=True))
    assert report.ok and (report.count, report.head_hash) == (count, head)
    assert not (tmp_path / "export.jsonl.partial").exists()
    # to standard output, the same bytes
    to_stdout = runner.invoke(main, ["export", "--db", str(db)], catch_exceptions=False)
    assert to_stdout.exit_code == 0
    assert to_stdout.stdout_bytes == raw


@pytest.mark.parametrize("command", ["verify", "export"])
def test_a_missing_database_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path, command: str) -> None:
    missing = tmp_path / "missing.db"
    result = runner.invoke(main, [command, "--db", str(missing)])
    assert result.exit_code == 2
    assert len(lines(result.output)) == 1
    assert "missing.db" in result.output and "Traceback" not in result.output
    assert "cannot open the registry database" in result.output and "无法打开登记库数据库" in result.output
    assert not missing.exists()


def test_a_file_that_is_not_a_database_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database " * 500)
    result = runner.invoke(main, ["verify", "--db", str(junk)])
    assert result.exit_code == 2
    assert len(lines(result.output)) == 1


def test_the_installed_script_prints_no_traceback(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("sandbox-registry")
    proc = subprocess.run(
        [str(script), "verify", "--db", str(tmp_path / "missing.db")], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(lines(proc.stderr)) == 1 and "Traceback" not in proc.stderr


def test_the_environment_variable_names_the_default_database(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "from-env.db"
    monkeypatch.setenv(DB_ENV, str(db))
    monkeypatch.chdir(tmp_path)
    assert run(runner, "init").exit_code == 0
    assert db.exists() and not (tmp_path / "registry.db").exists()
    assert run(runner, "verify").exit_code == 0


def test_without_the_variable_the_default_is_registry_db_here(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(runner, "init").exit_code == 0
    assert (tmp_path / "registry.db").exists()


def test_refusals_of_the_service_layer_are_one_line_in_both_languages(
    runner: CliRunner, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run(runner, "init", "--db", db_path)
    token = runner.invoke(main, ["token", "create", "--db", str(db_path), "--role", "applicant", "--name", "x"])
    assert token.exit_code == 1 and lines(token.output) == [
        "Error: an applicant token needs --org (the organisation it acts for) / 申请人令牌须给出 --org（其代表的机构）"
    ]
    monkeypatch.setenv(TICK_ENV, "soon")
    serve = runner.invoke(main, ["serve", "--db", str(db_path)])
    assert serve.exit_code == 2 and len(lines(serve.output)) == 1
    assert "must be a number of seconds" in serve.output and "须为秒数" in serve.output


def test_users_and_their_tokens_from_the_command_line(runner: CliRunner, db_path: Path) -> None:
    run(runner, "init", "--db", db_path)
    added = run(runner, "user", "add", "li.wei", "--db", db_path, "--name", "李伟", "--role", "case_officer",
                "--role", "approver")
    assert added.exit_code == 0 and "li.wei" in added.output
    token = run(runner, "token", "create", "--db", db_path, "--user", "li.wei", "--role", "approver")
    assert token.exit_code == 0 and token.output.startswith("sbr_")
    refused = runner.invoke(main, ["token", "create", "--db", str(db_path), "--user", "li.wei", "--role", "auditor"])
    assert refused.exit_code == 1 and "has not been granted the role 'auditor'" in refused.output
    assert "未被授予角色" in refused.output
    listed = run(runner, "user", "list", "--db", db_path).output
    assert "li.wei" in listed and "case_officer, approver" in listed
    assert "li.wei.approver" in run(runner, "token", "list", "--db", db_path).output


def test_tokens_issued_before_users_existed_keep_working_as_users_of_their_own(db_path: Path) -> None:
    import sqlite3

    import sqlite_utils

    from sandbox.tokens import Tokens, _hash

    with sqlite3.connect(db_path) as conn:  # the token table as it was
        conn.execute(
            "CREATE TABLE api_tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, organisation TEXT,"
            " token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, expires_at TEXT, revoked_at TEXT) STRICT"
        )
        conn.execute("INSERT INTO api_tokens VALUES ('t1', 'carol', 'case_officer', NULL, ?, '2025-01-01T00:00:00Z',"
                     " NULL, NULL)", (_hash("sbr_old"),))
    tokens = Tokens(sqlite_utils.Database(sqlite3.connect(db_path, isolation_level=None)))
    info = tokens.authenticate("sbr_old")
    assert info is not None and info.user_id is None and info.actor.id == "carol"
