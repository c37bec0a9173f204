"""``sandbox-registry upgrade``: a registry file initialised with an earlier release's
programs gains the bundled definitions as new versions; a day already past is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sandbox import catalog_service, service
from sandbox.cli import main
from sandbox.config import DB_ENV
from sandbox.registry import init_registry, open_store
from schemas.bundled import load_programs
from tests.fixtures.programs import as_first_released


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(autouse=True)
def no_env_db(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DB_ENV, raising=False)


def test_an_old_registry_file_is_upgraded_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "old.db"
    store = open_store(db, create=True)
    try:
        init_registry(store)
        with monkeypatch.context() as patch:
            first_released = tuple(as_first_released(p) for p in load_programs())
            patch.setattr(catalog_service, "load_programs", lambda: first_released)
            service.Registry(store).install_bundled()
    finally:
        store.close()

    first = run("upgrade", "--db", db, "--effective-from", "2099-01-01")
    assert first.exit_code == 0, first.output
    assert [line.split(":")[0] for line in first.output.splitlines()] == [f"{p.key}@2" for p in load_programs()]
    assert "in force from 2099-01-01" in first.output and "起生效" in first.output
    listed = json.loads(run("programs", "--db", db, "--json").output)
    assert [(p["key"], p["version"]) for p in listed if p["version"] == 2] == [(p.key, 2) for p in load_programs()]
    again = run("upgrade", "--db", db)
    assert again.exit_code == 0 and "up to date" in again.output


def test_a_day_already_past_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    assert run("init", "--db", db).exit_code == 0
    refused = run("upgrade", "--db", db, "--effective-from", "2000-01-01")
    assert refused.exit_code != 0
    assert "effective_from" in refused.output and "生效日期不得早于今天" in refused.output
    malformed = run("upgrade", "--db", db, "--effective-from", "next week")
    assert malformed.exit_code == 2 and "--effective-from" in malformed.output
