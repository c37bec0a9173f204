"""The import direction of the four packages: schemas ← events ← projections ← sandbox.

An AST walk over every module of the four packages (imports inside functions and under
``TYPE_CHECKING`` count too): schemas imports nothing of the project, events only schemas,
projections schemas and events, sandbox anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = {"schemas", "events", "projections", "sandbox", "tests", "bench"}
ALLOWED = {
    "schemas": {"schemas"},
    "events": {"schemas", "events"},
    "projections": {"schemas", "events", "projections"},
    "sandbox": {"schemas", "events", "projections", "sandbox"},
}


def imported_packages(source: str, module: str) -> set[str]:
    """Top-level project packages a module's source imports (relative imports resolved)."""
    found: set[str] = set()
    package = module.split(".")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                found.add(package[0])  # relative: stays inside its own package
            elif node.module:
                found.add(node.module.split(".")[0])
    return found & PROJECT


def violations(package: str) -> list[str]:
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        bad = imported_packages(path.read_text(encoding="utf-8"), module) - ALLOWED[package]
        if bad:
            out.append(f"{module} imports {sorted(bad)}")
    return out


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_point_down_the_layers(package: str) -> None:
    assert (ROOT / package / "__init__.py").exists()
    assert violations(package) == []


def test_the_checker_sees_every_kind_of_import() -> None:
    source = """
from __future__ import annotations
import json, sandbox.cli
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from projections.fold import fold
def f():
    import events.store as s
from . import sibling
"""
    assert imported_packages(source, "schemas.example") == {"sandbox", "projections", "events", "schemas"}
    assert imported_packages("import msgspec\nfrom datetime import UTC\n", "schemas.x") == set()
