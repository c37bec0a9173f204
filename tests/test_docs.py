"""The README tells the truth: every CLI command and API route it names exists and every one that
exists is named, its walkthrough runs as written against a live server, its recipe for a
command's first event id gives the ids the store writes, and its independent verifier accepts an
export and refuses one with a line rewritten."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from events.export import export_lines
from events.memory import InMemoryEventStore
from sandbox.cli import main
from sandbox.demo import build_demo
from sandbox.registry import open_store
from sandbox.service import Registry
from schemas.commands import Actor
from tests.fixtures.servers import server
from tests.fixtures.stores import make_codec, notes, open_sqlite, write

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def cli_commands(group: click.Group = main, prefix: str = "") -> set[str]:
    names: set[str] = set()
    for name, command in group.commands.items():
        names.add(prefix + name)
        if isinstance(command, click.Group):
            names |= cli_commands(command, f"{prefix}{name} ")
    return names


def test_every_cli_command_is_documented_and_every_documented_one_exists() -> None:
    commands = cli_commands()
    for name in commands:
        assert re.search(rf"sandbox-registry {name}\b|`{name.split()[-1]} ", README), name
    mentioned = set(re.findall(r"sandbox-registry ([a-z][a-z-]*)", README))
    assert mentioned <= {c.split()[0] for c in commands}, mentioned - commands


def test_every_route_is_documented_and_every_documented_one_exists(tmp_path: Path) -> None:
    from sandbox.api import create_app

    app = create_app(tmp_path / "r.db")
    paths = set(app.openapi_schema.to_schema()["paths"])
    commands = {p for p in paths if p.startswith("/api/v1/projects/{project_id}/") and p.count("/") == 5}
    for path in sorted(paths - commands):
        shape = re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
        shape = re.sub(r"{[a-z_]+}", "{[a-z_]+}", shape)
        assert re.search(shape + r"[`,? ]", README), path
    for path in commands:
        assert f"`{path.rsplit('/', 1)[-1]}`" in README, path
    documented = set(re.findall(r"`(?:GET|POST) (/[^`?]*)`", README))
    normalised = {re.sub(r"{[a-z_]+}", "{}", p) for p in paths} | {"/api/v1/projects/{}/{}"}
    for path in documented:
        assert re.sub(r"{[a-z_]+}", "{}", path) in normalised, path


def walkthrough() -> str:
    block = README.split("<!-- walkthrough:start -->")[1].split("<!-- walkthrough:end -->")[0]
    return "\n".join(re.findall(r"```sh\n(.*?)```", block, flags=re.DOTALL))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    build_demo(db, today=dt.date(2025, 2, 1))
    extend_calendar_past_today(db)
    script = walkthrough()
    assert script.startswith(". .venv/bin/activate\n")
    with server(db) as (_, base):
        script = script.removeprefix(". .venv/bin/activate\n")
        script = script.replace("http://127.0.0.1:8000", base).replace("DB=registry.db", f"DB={db}")
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, env=env, timeout=300
        )
        assert done.returncode == 0, done.stderr + done.stdout
        # run again on the same registry (its own token names, its own draft): as the first time
        again = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, env=env, timeout=300
        )
    assert again.returncode == 0, again.stderr + again.stdout
    assert "ADMITTED" in again.stdout or "TESTING" in again.stdout
    out = done.stdout
    assert '"code":"notice_not_closed"' in out  # the early admission is refused, with its rule
    assert "ADMITTED" in out or "TESTING" in out
    assert "\nPUBLIC_NOTICE\n" in out  # the auditor's view as of the notice
    assert '"ok":true' in out
    assert "ProjectAdmitted" in out and "approver-zhang" in out


def extend_calendar_past_today(db: Path) -> None:
    """The walkthrough counts working days from today; the bundled calendar covers 2025-2026.
    Past that, the test publishes later years with weekends only (no holidays), as an approver
    would publish the real schedule."""
    store = open_store(db)
    try:
        registry = Registry(store)
        records = registry.reference().records("holidays")
        covered = {r["year"] for r in records}
        needed = set(range(2025, dt.date.today().year + 2)) - covered
        if needed:
            records += [{"year": y, "holidays": [], "adjusted_working_days": []} for y in sorted(needed)]
            registry.update_reference(
                "holidays", records, Actor(id="approver-test", role="approver"), command_id="test:calendar"
            )
    finally:
        store.close()


def readme_function(name: str) -> Any:
    """The Python block of the README that defines ``name``, run on its own."""
    blocks = re.findall(r"```python\n(.*?)```", README, flags=re.S)
    [block] = [b for b in blocks if f"def {name}(" in b]
    namespace: dict[str, Any] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    return namespace[name]


@given(command_id=st.text(min_size=1))
def test_the_readme_derives_a_commands_first_event_id_as_the_store_does(command_id: str) -> None:
    store = InMemoryEventStore(make_codec())
    store.append([write("s", *notes("first", "second"))], command_id=command_id)
    first, second = store.read_after(0)
    assert readme_function("command_event_id")(command_id) == first.event_id != second.event_id


def test_the_readmes_verifier_accepts_an_export_and_finds_a_rewritten_line(tmp_path: Path) -> None:
    store = open_sqlite(tmp_path / "log.db")
    store.append([write("s", *notes("一", "two")), write("t", *notes("three"))], command_id="c1")
    store.append([write("s", *notes("four"))], command_id="c2")
    lines = list(export_lines(store.iter_stored()))
    report = store.verify()
    store.close()
    verify = readme_function("verify")
    path = tmp_path / "export.jsonl"
    path.write_bytes(b"".join(lines))
    assert verify(path) == (report.head_position, report.head_hash)
    # the same values, other bytes: white space after a colon, in the third line
    path.write_bytes(b"".join([*lines[:2], lines[2].replace(b'":', b'": ', 1), *lines[3:]]))
    with pytest.raises(AssertionError, match="not canonical at 3"):
        verify(path)
