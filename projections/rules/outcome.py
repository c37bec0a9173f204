"""What a rule evaluation gives: the status of a condition or criterion, and what the rules need of reference data."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import msgspec

Progress = dict[str, int | str | None]


class ReferenceView(Protocol):
    """What the rules need of reference data (pilot areas, operators, tiers, the calendar)."""

    def add_working_days(self, start: dt.date, days: int) -> dt.date: ...

    def working_days_between(self, start: dt.date, end: dt.date) -> int: ...

    def is_pilot_area(self, code: str, on: dt.date) -> bool: ...

    def is_operator(self, code: str, on: dt.date) -> bool: ...

    def tier_limits(self, tier: int) -> dict[str, int] | None: ...


class RuleStatus(msgspec.Struct, frozen=True, kw_only=True):
    """The status of one admission condition or exit criterion.

    Admission: ``met`` / ``unmet`` / ``waived``. Exit: ``ok`` / ``warning`` / ``breached`` /
    ``reached`` (a goal such as the end of the test period) / ``not_applicable``.
    """

    id: str
    label_zh: str
    label_en: str
    kind: str
    status: str
    evidence: tuple[int, ...] = ()
    progress: Progress = {}
    missing_zh: str = ""
    missing_en: str = ""
    action: str = "none"
    waived_by: str | None = None
    waiver_reason: str | None = None


class _Outcome(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    evidence: tuple[int, ...] = ()
    progress: Progress = {}
    missing_zh: str = ""
    missing_en: str = ""
    action: str = "none"


def _met(*evidence: int, **progress: int | str | None) -> _Outcome:
    return _Outcome(status="met", evidence=tuple(sorted(set(evidence))), progress=progress)


def _unmet(zh: str, en: str, *evidence: int) -> _Outcome:
    return _Outcome(status="unmet", evidence=tuple(sorted(set(evidence))), missing_zh=zh, missing_en=en)


def _ok(*evidence: int, **progress: int | str | None) -> _Outcome:
    return _Outcome(status="ok", evidence=tuple(sorted(set(evidence))), progress=progress)


def _breach(action: str, *evidence: int, **progress: int | str | None) -> _Outcome:
    return _Outcome(status="breached", action=action, evidence=tuple(sorted(set(evidence))), progress=progress)
