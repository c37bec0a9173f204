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


# -- the HTTP layer: services injected by name, the framework kept out of the domain -------------

#: Where handlers, guards and page helpers live: each asks for its services by name
#: (``sandbox.api.dependencies``), never through the app's state.
HANDLER_PACKAGES = ("sandbox/api/controllers", "sandbox/web")
#: The HTTP layer: the only code that may import the web framework.
HTTP_PACKAGES = ("sandbox/api", "sandbox/web")


def state_reads(source: str) -> list[int]:
    """The lines where a module's source reaches into an app's state: ``….app.state``,
    ``app.state``, ``getattr(….app, "state")`` or the ASGI scope's app (``scope["app"]``)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "state":
            owner = node.value
            if (isinstance(owner, ast.Attribute) and owner.attr == "app") or (
                isinstance(owner, ast.Name) and owner.id == "app"
            ):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
            args = node.args
            if len(args) >= 2 and isinstance(args[1], ast.Constant) and args[1].value == "state":
                lines.append(node.lineno)
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "app":
            lines.append(node.lineno)
    return sorted(lines)


def test_no_handler_or_page_helper_reaches_into_the_app_state() -> None:
    """A service is a named dependency (``Provide``, one place: ``sandbox.api.dependencies``):
    a handler that fetches one from ``request.app.state`` hides what it needs and ties itself to
    how the app keeps it. (Only the authentication middleware, which runs before any dependency
    is injected, and the app's own lifespan read the state; neither lives here.)"""
    bad = [
        f"{path.relative_to(ROOT)}:{line}"
        for package in HANDLER_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for line in state_reads(path.read_text(encoding="utf-8"))
    ]
    assert bad == []


def test_the_state_checker_sees_each_way_of_reaching_the_state() -> None:
    source = """
tokens = request.app.state.tokens
settings: object = connection.app.state.settings
limits = app.state.limits
found = getattr(request.app, "state")
app_ = scope["app"]
state = request.scope.setdefault("state", {})
other = thing.state
"""
    assert state_reads(source) == [2, 3, 4, 5, 6]


def framework_imports(source: str) -> set[str]:
    """The modules of litestar (the web framework) that a module's source imports."""
    return {name for name in imported_modules(source) if name.split(".")[0] == "litestar"}


def test_the_framework_stays_in_the_http_layer() -> None:
    """No module outside ``sandbox/api`` and ``sandbox/web`` imports litestar, so no HTTP
    exception (``NotFoundException``, ``HTTPException`` and kin) is raised in, or passed into, the
    service, the deciders, the projections, the store or the schemas: they raise their own errors
    (``DomainError``, ``StoreError``, …), which the HTTP layer maps to problems in one place
    (``sandbox.api.problems``)."""
    http = [ROOT / package for package in HTTP_PACKAGES]
    bad = [
        f"{path.relative_to(ROOT)} imports {sorted(names)}"
        for package in ALLOWED
        for path in sorted((ROOT / package).rglob("*.py"))
        if not any(path.is_relative_to(p) for p in http)
        and (names := framework_imports(path.read_text(encoding="utf-8")))
    ]
    assert bad == []
    assert framework_imports("from litestar.exceptions import NotFoundException\nimport litestar\n") == {
        "litestar", "litestar.exceptions", "litestar.exceptions.NotFoundException"
    }
