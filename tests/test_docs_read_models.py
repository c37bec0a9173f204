"""The README's commands for inspecting the read models with the ``sqlite-utils`` command line
run as written against a registry, and its search finds what the README says it finds."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.fixtures.read_models import sqlite_world

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def inspection_commands() -> list[str]:
    section = README.split("## Inspecting the read models")[1]
    block = section.split("```sh\n")[1].split("```")[0]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def test_the_readmes_sqlite_utils_commands_run_against_a_registry(tmp_path: Path) -> None:
    db = tmp_path / "registry.db"
    w = sqlite_world(db)
    pid = w.create("ecny-pilot", title="福州数字人民币高速公路通行费支付试点")
    w.store.close()
    sqlite_utils = Path(sys.executable).parent / "sqlite-utils"
    commands = inspection_commands()
    assert len(commands) >= 5 and all(c.startswith("sqlite-utils ") for c in commands)
    outputs = []
    for command in commands:
        args = [str(db) if a == "registry.db" else a for a in shlex.split(command)[1:]]
        done = subprocess.run([str(sqlite_utils), *args], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, (command, done.stderr)
        outputs.append(done.stdout)
    searched = next(out for command, out in zip(commands, outputs, strict=True) if " search " in command)
    assert pid in searched and re.search("数字人民币", searched)
