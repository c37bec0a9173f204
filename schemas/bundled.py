"""The program definitions and reference data shipped inside the package.

``schemas/programs/*.json`` hold version 1 of each program and
``schemas/reference/*.json`` the first version of each reference-data set. ``init`` publishes
them into the log; after that the log, not these files, is the source of truth.

Decoding is strict (unknown fields are refused, no type coercion), so a bad file fails loudly
with :class:`BundledDataError` naming the file and the path of the bad field, e.g.
``schemas/programs/fintech_sandbox.json: Expected `int`, got `str` - at `$.admission[13].params.days```.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib import resources
from typing import TypeVar

import msgspec

from schemas.programs import ProgramDefinition
from schemas.reference import HolidayCalendar, OperatorSet, PilotAreaSet, ReferenceData, WalletTierSet

#: The bundled program files, in the order ``init`` publishes them.
PROGRAM_FILES = ("fintech_sandbox.json", "ecny_pilot.json", "data_asset.json")
#: The bundled reference-data files by dataset name.
REFERENCE_FILES = {
    "pilot_areas": "pilot_areas.json",
    "operators": "operators.json",
    "wallet_tiers": "wallet_tiers.json",
    "holidays": "holidays.json",
}

T = TypeVar("T")

_PROGRAM_DECODER = msgspec.json.Decoder(ProgramDefinition)


class BundledDataError(ValueError):
    """A bundled data file is missing, malformed or inconsistent."""


def _read(folder: str, name: str) -> bytes:
    source = f"schemas/{folder}/{name}"
    try:
        return (resources.files("schemas") / folder / name).read_bytes()
    except OSError as e:
        raise BundledDataError(f"{source}: cannot read the bundled file ({e})") from e


def _decode(data: bytes, kind: type[T], source: str) -> T:
    try:
        return msgspec.json.decode(data, type=kind, strict=True)
    except msgspec.DecodeError as e:  # ValidationError is a DecodeError
        raise BundledDataError(f"{source}: {e}") from e


def decode_program(data: bytes, source: str = "<program>") -> ProgramDefinition:
    """Decode and check one program definition: strict types, and every rule id unique within
    the program. ``source`` names the file in the error."""
    try:
        program = _PROGRAM_DECODER.decode(data)
    except msgspec.DecodeError as e:
        raise BundledDataError(f"{source}: {e}") from e
    seen: set[str] = set()
    for part, rules in (("admission", program.admission), ("exit", program.exit)):
        for index, rule in enumerate(rules):
            if rule.id in seen:
                raise BundledDataError(f"{source}: duplicate rule id {rule.id!r} - at `$.{part}[{index}].id`")
            seen.add(rule.id)
    return program


@functools.cache
def load_programs() -> tuple[ProgramDefinition, ...]:
    """Every bundled program definition, in :data:`PROGRAM_FILES` order."""
    programs = tuple(decode_program(_read("programs", name), f"schemas/programs/{name}") for name in PROGRAM_FILES)
    keys = [p.key for p in programs]
    if len(set(keys)) != len(keys):
        raise BundledDataError(f"schemas/programs: duplicate program key in {keys}")
    return programs


def load_program(key: str) -> ProgramDefinition:
    """The bundled definition of one program by key (e.g. ``"fintech-sandbox"``)."""
    for program in load_programs():
        if program.key == key:
            return program
    raise KeyError(key)


def _unique(source: str, what: str, values: Sequence[str | int]) -> None:
    seen: set[str | int] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise BundledDataError(f"{source}: duplicate {what} {value!r} (entry {index})")
        seen.add(value)


@functools.cache
def load_reference() -> ReferenceData:
    """Every bundled reference-data set: pilot areas, operators, wallet tiers, holidays."""
    sources = {name: f"schemas/reference/{file}" for name, file in REFERENCE_FILES.items()}
    areas = _decode(_read("reference", REFERENCE_FILES["pilot_areas"]), PilotAreaSet, sources["pilot_areas"])
    operators = _decode(_read("reference", REFERENCE_FILES["operators"]), OperatorSet, sources["operators"])
    tiers = _decode(_read("reference", REFERENCE_FILES["wallet_tiers"]), WalletTierSet, sources["wallet_tiers"])
    holidays = _decode(_read("reference", REFERENCE_FILES["holidays"]), HolidayCalendar, sources["holidays"])
    _unique(sources["pilot_areas"], "pilot area code", [a.code for a in areas.areas])
    _unique(sources["operators"], "operator code", [o.code for o in operators.operators])
    _unique(sources["wallet_tiers"], "wallet tier", [t.tier for t in tiers.tiers])
    return ReferenceData(
        pilot_areas=areas.areas,
        operators=operators.operators,
        wallet_tiers=tiers.tiers,
        holidays=holidays,
    )
