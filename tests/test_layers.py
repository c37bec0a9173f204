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


def imported_modules(source: str) -> set[str]:
    """The dotted names a module's source imports: each module, and each name taken from one (a
    ``from tests.api import conftest`` imports ``tests.api.conftest``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def of_the_suite(names: set[str]) -> set[str]:
    """Those of ``names`` that are modules of the test suite outside ``tests.fixtures``: its test
    modules, conftest files and anything else kept beside them."""
    return {name for name in names if name.startswith("tests.") and not name.startswith("tests.fixtures")}


def test_no_test_module_imports_another_test_module() -> None:
    """What tests share lives in one package, ``tests/fixtures``: a test module importing another
    one runs that one's tests' imports and ties the two together, and a helper kept beside some
    tests is one more place a newcomer must look."""
    bad = [
        f"{path.relative_to(ROOT)} imports {sorted(names)}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if (names := of_the_suite(imported_modules(path.read_text(encoding="utf-8"))))
    ]
    assert bad == []


def test_the_test_module_checker_sees_each_way_of_importing_one() -> None:
    source = """
from tests.domain.test_exit_routes import fintech_in_test
from tests.api import conftest
def f():
    import tests.web.conftest
from tests.fixtures.pure import when
from tests.fixtures.api import Api
"""
    assert of_the_suite(imported_modules(source)) == {
        "tests.domain.test_exit_routes",
        "tests.domain.test_exit_routes.fintech_in_test",
        "tests.api",
        "tests.api.conftest",
        "tests.web.conftest",
    }



def imports_backend(source: str, backend: str = "events.sqlite") -> bool:
    """Whether a module's source imports the backend module ``backend`` or a name from it."""
    return any(name == backend or name.startswith(backend + ".") for name in imported_modules(source))


def test_projections_reach_the_log_through_its_ports_only() -> None:
    """The read models keep their tables beside the log through :class:`events.store.ProjectionHost`:
    no module of ``projections`` names a backend, so that another backend can host them."""
    bad = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "projections").rglob("*.py"))
        if imports_backend(path.read_text(encoding="utf-8"))
    ]
    assert bad == []


def test_the_backend_checker_sees_each_way_of_importing_it() -> None:
    assert imports_backend("from events.sqlite import SQLiteEventStore\n")
    assert imports_backend("import events.sqlite as s\n")
    assert imports_backend("def f():\n    from events import sqlite\n")
    assert not imports_backend("from events.store import EventReader\nimport events.sqlite_notes\n")
