"""The pure deciders of the catalog's commands: publishing a program version and replacing a
reference dataset. Each takes what the log holds (the program's published versions, or the
reference data in force and the dataset's version), the command and its actor, and returns the
event that records it, or raises a refusal. Nothing here reads the store or the clock.

A command decided against a version that is no longer the stream's is refused with
:class:`Stale`: it carries the refusal the caller gets, unless the command id was recorded before
(a retry whose first answer was lost), which only the service can look up.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from projections.catalog import DATASETS, EMPTY_REFERENCE
from projections.gates import APPLICANTS_OWN
from schemas import commands as c
from schemas import events as ev
from schemas.commands import Actor
from schemas.errors import DomainError
from schemas.lifecycle import Role
from schemas.programs import SECTION_KINDS, Params, PeriodMax, ProgramDefinition
from schemas.reference import RECORDS, Dataset, HolidayCalendar, ReferenceData, with_records
from schemas.validation import MAX_ERRORS, Violation, explain, invalid, leaves, violation

#: Who may change the catalog.
PUBLISHERS = frozenset({Role.APPROVER, Role.SYSTEM})

#: The least each clock of a program may be: a notice, a test (the test period's ``max_months``)
#: and a reporting cadence last at least a day or a month; every other number of a program (a
#: clock, a rule's months, days, counts and thresholds) may be none, never fewer. (Checked when
#: a version is published, not when one is read: a stored version replays as it was.)
DURATION_MINIMUMS = {"notice_days": 1, "max_months": 1, "report_cadence_days": 1}


class PreconditionFailed(Exception):
    """The client's expected version (``If-Match``) is not the stream's current version (a
    project's, or a reference dataset's)."""

    def __init__(self, expected: int, actual: int) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(f"expected version {expected}, current version {actual}")


class Stale(Exception):
    """A catalog command decided against a version the stream has moved past: ``refusal`` is
    the caller's answer, unless its command id was recorded before (then that first result is)."""

    def __init__(self, refusal: Exception) -> None:
        self.refusal = refusal
        super().__init__(str(refusal))


def publish_program(
    command: c.PublishProgramVersion, published: Sequence[ProgramDefinition], actor: Actor
) -> ev.ProgramVersionPublished:
    """The next version of a program, given its ``published`` versions (oldest first). Its
    version number must be the next one, so that a version published meanwhile is never
    overwritten; the event records what changed from the last one (or the command's own list)."""
    definition = command.definition
    _refuse_unless_publisher(actor, "publish_program_version")
    for check in PROGRAM_CHECKS:
        wrong = check(definition)
        if wrong:
            raise invalid(wrong)
    expected_version = published[-1].version + 1 if published else 1
    if definition.version != expected_version:
        raise Stale(
            DomainError(
                "invalid_value",
                field="definition.version",
                rule_zh=f"新版本号必须为 {expected_version}",
                rule_en=f"the next version must be {expected_version}",
            )
        )
    changes = list(command.changes) or describe_changes(published[-1] if published else None, definition)
    return ev.ProgramVersionPublished(definition=definition, changes=changes)


def update_reference(
    command: c.UpdateReferenceData,
    current: ReferenceData,
    version: int,
    actor: Actor,
    expected_version: int | None = None,
) -> ev.ReferenceDataUpdated:
    """A reference dataset replaced whole, given the reference data in force and the dataset's
    stream ``version``. A caller that read the set names the version it read
    (``expected_version``): a change made meanwhile is refused, never overwritten."""
    dataset, records = command.dataset, command.records
    _refuse_unless_publisher(actor, "update_reference_data")
    if dataset not in DATASETS:
        raise DomainError("reference_unknown", dataset=dataset, item="")
    _check_records(dataset, records)
    if dataset == "holidays":
        keep_published_years(current.holidays, records)
    if expected_version is not None and expected_version != version:
        raise Stale(PreconditionFailed(expected_version, version))
    return ev.ReferenceDataUpdated(dataset=dataset, records=records, changes=list(command.changes))


def _refuse_unless_publisher(actor: Actor, action: str) -> None:
    if actor.role not in PUBLISHERS:
        raise DomainError("wrong_role", role=actor.role, action=action)


def _check_records(dataset: Dataset, records: list[dict[str, Any]]) -> None:
    """Refuse records that do not validate, naming every bad one (or the set's own rule)."""
    try:
        with_records(EMPTY_REFERENCE, dataset, records)
    except (msgspec.ValidationError, ValueError) as e:
        wrong = explain(RECORDS[dataset], records, strict=True, field="records") or [violation("records", str(e))]
        raise DomainError(
            "invalid_value",
            details=[msgspec.to_builtins(v) for v in wrong[:MAX_ERRORS]],
            field=wrong[0].field,
            rule_zh=wrong[0].rule_zh + (f"（另有 {len(wrong) - 1} 处）" if len(wrong) > 1 else ""),
            rule_en=wrong[0].rule + (f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""),
        ) from e


def backward_numbers(definition: ProgramDefinition) -> list[Violation]:
    """The clocks and rules of a program version that run backwards (``notice_days: -5`` closed
    every notice at the next tick)."""
    found: list[tuple[str, int, int]] = [
        (f"definition.durations.{name}", value, DURATION_MINIMUMS.get(name, 0))
        for name, value in msgspec.structs.asdict(definition.durations).items()
        if isinstance(value, int)
    ]
    for part in ("admission", "exit"):
        for i, rule in enumerate(getattr(definition, part)):
            at = f"definition.{part}[{i}].params"
            found += [
                (path, value, DURATION_MINIMUMS.get(path.removeprefix(f"{at}."), 0))
                for path, value in leaves(rule.params, at)
                if isinstance(value, int) and not isinstance(value, bool)
            ]
    return [
        Violation(field=path, rule=f"must be a whole number from {least}", rule_zh=f"须为不小于 {least} 的整数")
        for path, value, least in found
        if value < least
    ]


def misplaced_rules(definition: ProgramDefinition) -> list[Violation]:
    """The rules of a program version placed in the section that has no check for their kind
    (a ``period_max`` among the exit criteria would never be evaluated)."""
    return [
        Violation(
            field=f"definition.{section}[{i}].params.check",
            rule=f"a {_tag(rule.params)} rule is {_SECTION_EN[other]}, not {_SECTION_EN[section]}",
            rule_zh=f"{_tag(rule.params)} 类规则属于{_SECTION_ZH[other]}，不能作为{_SECTION_ZH[section]}",
        )
        for section, other in (("admission", "exit"), ("exit", "admission"))
        for i, rule in enumerate(getattr(definition, section))
        if not isinstance(rule.params, SECTION_KINDS[section])
    ]


_SECTION_EN = {"admission": "an admission condition", "exit": "an exit criterion"}
_SECTION_ZH = {"admission": "准入条件", "exit": "退出标准"}


def _tag(params: Params) -> str:
    return str(type(params).__struct_config__.tag)


def disagreeing_periods(definition: ProgramDefinition) -> list[Violation]:
    """The admission conditions of a program version that limit the declared test period
    (``period_max.months``) to another length than its test period may run
    (``test_period.max_months``, which the deciders and the timers read): the two state one
    value, the longest test, and a version where they differ admits plans its tests cannot run
    or caps tests at a length no plan may declare."""
    longest = definition.test_period().max_months
    return [
        Violation(
            field=f"definition.admission[{i}].params.months",
            rule=f"must be the test period's max_months ({longest})",
            rule_zh=f"须与测试期最长月数（test_period.max_months = {longest}）一致",
        )
        for i, rule in enumerate(definition.admission)
        if isinstance(rule.params, PeriodMax) and rule.params.months != longest
    ]


def regulators_checks_at_submission(definition: ProgramDefinition) -> list[Violation]:
    """The admission conditions of a program version that would gate a submission on what the
    applicants cannot satisfy alone (the notice, an objection, reference data): no application
    could be submitted."""
    return [
        Violation(
            field=f"definition.admission[{i}].stage",
            rule=f"a {_tag(rule.params)} check is the regulator's: its stage is admission",
            rule_zh=f"{_tag(rule.params)} 类条件由监管部门判断：阶段须为 admission",
        )
        for i, rule in enumerate(definition.admission)
        if rule.stage == "submission" and type(rule.params) not in APPLICANTS_OWN
    ]


#: What a program version must not be, in the order its refusal names them: the first check
#: that finds something refuses the version, naming everything it found.
PROGRAM_CHECKS: tuple[Callable[[ProgramDefinition], list[Violation]], ...] = (
    misplaced_rules,
    backward_numbers,
    disagreeing_periods,
    regulators_checks_at_submission,
)


def describe_changes(old: ProgramDefinition | None, new: ProgramDefinition) -> list[str]:
    """What differs between two program versions, rule by rule."""
    if old is None:
        return ["first version"]
    out: list[str] = []
    for attr in ("admission", "exit"):
        before = {r.id: r for r in getattr(old, attr)}
        after = {r.id: r for r in getattr(new, attr)}
        out += [f"{attr} rule added: {i}" for i in after.keys() - before.keys()]
        out += [f"{attr} rule removed: {i}" for i in before.keys() - after.keys()]
        out += [f"{attr} rule changed: {i}" for i in after.keys() & before.keys() if after[i] != before[i]]
    for attr in ("durations", "incident_severity", "assessment_topics", "public_fields"):
        if getattr(old, attr) != getattr(new, attr):
            out.append(f"{attr.replace('_', ' ')} changed")
    if old.approvals_required != new.approvals_required:
        out.append(f"approvals required: {old.approvals_required} -> {new.approvals_required}")
    return sorted(out) or ["no rule changes"]


def keep_published_years(calendar: HolidayCalendar, records: list[dict[str, Any]]) -> None:
    """A holiday calendar may add a year or correct one, never drop one: the working days of
    every notice already held were counted with it."""
    offered = {r.get("year") for r in records}
    dropped = [str(y.year) for y in calendar.years if y.year not in offered]
    if dropped:
        text = ", ".join(dropped)
        raise DomainError(
            "invalid_value",
            field="records",
            rule_zh=f"已发布的年份不能删除：{text}",
            rule_en=f"a published year cannot be removed: {text}",
        )
