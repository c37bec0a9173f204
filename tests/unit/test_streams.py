"""The log's stream names are spelled in one place, ``schemas/streams.py``: every other module
(the product's and the benchmarks') names a stream through it, so a prefix cannot drift between
a writer and a reader."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from schemas import streams

ROOT = Path(__file__).resolve().parents[2]
PREFIXES = [value for name, value in vars(streams).items() if name.endswith("_PREFIX")]


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of a module, its classes and functions (which may say
    ``program-<key>`` to explain a stream)."""
    owners = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
    return {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, owners) and node.body and isinstance(node.body[0], ast.Expr)
    }


def spelled_prefixes(root: Path) -> list[str]:
    """Each string in code (not a docstring) outside ``schemas/streams.py`` that spells a stream
    prefix, as ``path:line``."""
    spelled = re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(p) for p in PREFIXES) + ")")
    found = []
    for package in ("schemas", "events", "projections", "sandbox", "bench"):
        for path in sorted((root / package).rglob("*.py")):
            if path == root / "schemas" / "streams.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skip = docstrings(tree)
            lines = {
                node.lineno
                for node in ast.walk(tree)
                if isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in skip
                and spelled.search(node.value)
            }
            found += [f"{path.relative_to(root)}:{line}" for line in sorted(lines)]
    return found


def test_the_stream_prefixes_are_the_project_program_and_reference_ones() -> None:
    assert sorted(PREFIXES) == ["program-", "project-", "reference-"]
    assert streams.project_stream("p-1") == "project-p-1"


def test_no_module_but_the_streams_module_spells_a_stream_prefix(tmp_path: Path) -> None:
    assert spelled_prefixes(ROOT) == []
    # (the check finds one: an f-string, and a prefix in SQL)
    (tmp_path / "projections").mkdir()
    (tmp_path / "projections" / "x.py").write_text(
        '"""A module about ``project-<id>``."""\n'
        'def f(i):\n    return f"project-{i}"\n'
        'SQL = "SELECT 1 FROM events WHERE stream_id LIKE \'reference-%\'"\n',
        encoding="utf-8",
    )
    assert spelled_prefixes(tmp_path) == ["projections/x.py:3", "projections/x.py:4"]
