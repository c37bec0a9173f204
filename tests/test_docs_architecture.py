"""The README's path of a command names the code as it is: every module, class, function and
table it names exists under that name."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
#: Short names the section declares before using them.
ALIASES = {"Registry": "sandbox.service.Registry"}
NAME = re.compile(r"`((?:schemas|events|projections|sandbox|Registry)(?:\.\w+)*)`")


def path_of_a_command() -> str:
    return README.split("The path of a command, downward and back")[1].split("Imports go one way")[0]


def resolves(name: str) -> bool:
    """Whether ``name`` is a module, or an attribute (of an attribute...) of the longest module
    prefix that imports."""
    head, _, rest = name.partition(".")
    parts = (ALIASES.get(head, head) + ("." + rest if rest else "")).split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: ModuleType | object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_every_name_on_the_path_of_a_command_is_the_codes() -> None:
    names = set(NAME.findall(path_of_a_command()))
    assert len(names) >= 40  # (the section names the code it passes through)
    assert [name for name in sorted(names) if not resolves(name)] == []


def test_a_name_that_is_not_the_codes_is_found_out() -> None:
    assert resolves("sandbox.service.Registry.execute_async") and resolves("Registry._prepare")
    assert not resolves("sandbox.service.Registry.publish") and not resolves("sandbox.services")


def folder_map() -> str:
    start = README.index("schemas/        types and pure helpers only")
    return README[start : README.index("```", start)]


#: The folders whose every module the map names (the API's and the pages' are named as packages).
MAPPED = ("schemas", "events", "projections", "projections/rules", "sandbox", "sandbox/deciders", "sandbox/cli")


def test_the_folder_map_names_every_module() -> None:
    """A newcomer finds each module from the map: one the map leaves out fails here."""
    root = Path(__file__).resolve().parents[1]
    words = set(re.findall(r"\w+", folder_map()))
    modules = {
        f"{folder}/{path.stem}"
        for folder in MAPPED
        for path in (root / folder).glob("*.py")
        if path.stem not in {"__init__", "__main__"}
    }
    assert len(modules) > 60
    assert sorted(module for module in modules if module.rsplit("/", 1)[1] not in words) == []
