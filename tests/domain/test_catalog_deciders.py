"""Given/when/then over the catalog's pure deciders, with no store: given what the log holds (a
program's published versions, the reference data and a dataset's version), when a program
version is published or a reference dataset replaced, then the event that records it, or the
refusal."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest

from projections.gates import APPLICANTS_OWN
from sandbox.deciders import catalog
from schemas import commands as c
from schemas import programs as p
from schemas.bundled import load_programs, load_reference
from schemas.commands import Actor
from schemas.errors import DomainError
from schemas.programs import ProgramDefinition

APPROVER = Actor(id="ann", role="approver")
OFFICER = Actor(id="carol", role="case_officer")
V1 = next(d for d in load_programs() if d.key == "fintech-sandbox")
REF = load_reference()


def next_version(**changes: object) -> ProgramDefinition:
    return msgspec.structs.replace(V1, version=2, **changes)


def refused(call: Callable[..., object], *args: object) -> DomainError:
    with pytest.raises(DomainError) as e:
        call(*args)
    return e.value


def test_a_first_version_is_described_as_such_and_the_next_one_rule_by_rule() -> None:
    first = catalog.publish_program(c.PublishProgramVersion(definition=V1), [], APPROVER)
    assert (first.definition, first.changes) == (V1, ["first version"])

    cap = next(r for r in V1.admission if r.id == "fs.adm.user_cap")
    assert isinstance(cap.params, p.Caps)
    lowered = msgspec.structs.replace(cap, params=msgspec.structs.replace(cap.params, maximum={"max_users": 5000}))
    v2 = next_version(
        admission=tuple(lowered if r.id == cap.id else r for r in V1.admission),
        exit=V1.exit[1:],
        approvals_required=V1.approvals_required + 1,
    )
    second = catalog.publish_program(c.PublishProgramVersion(definition=v2), [V1], APPROVER)
    assert second.changes == sorted([
        "admission rule changed: fs.adm.user_cap",
        f"exit rule removed: {V1.exit[0].id}",
        f"approvals required: {V1.approvals_required} -> {V1.approvals_required + 1}",
    ])
    said = catalog.publish_program(c.PublishProgramVersion(definition=v2, changes=["cap lowered"]), [V1], APPROVER)
    assert said.changes == ["cap lowered"]  # the publisher's own words win
    assert catalog.describe_changes(V1, next_version()) == ["no rule changes"]


def test_a_version_that_is_not_the_next_one_is_stale_and_says_which_one_is() -> None:
    for published in ([], [V1, next_version()]):
        with pytest.raises(catalog.Stale) as stale:
            catalog.publish_program(c.PublishProgramVersion(definition=next_version()), published, APPROVER)
        refusal = stale.value.refusal
        assert isinstance(refusal, DomainError) and refusal.code == "invalid_value"
        expected = len(published) + 1
        assert refusal.params["field"] == "definition.version"
        assert refusal.params["rule_en"] == f"the next version must be {expected}"


def test_only_an_approver_publishes_and_clocks_that_run_backwards_are_named() -> None:
    command = c.PublishProgramVersion(definition=next_version())
    assert refused(catalog.publish_program, command, [V1], OFFICER).code == "wrong_role"

    backwards = msgspec.structs.replace(V1.durations, notice_days=0, breach_review_days=-1)
    e = refused(catalog.publish_program, c.PublishProgramVersion(definition=next_version(durations=backwards)),
                [V1], APPROVER)
    assert [(d["field"], d["rule"]) for d in e.details] == [
        ("definition.durations.notice_days", "must be a whole number from 1"),
        ("definition.durations.breach_review_days", "must be a whole number from 0"),
    ]
    period = next(i for i, r in enumerate(V1.exit) if isinstance(r.params, p.TestPeriod))

    def with_period(**values: int) -> c.PublishProgramVersion:
        rule = msgspec.structs.replace(V1.exit[period], params=p.TestPeriod(**values))
        return c.PublishProgramVersion(definition=next_version(exit=(*V1.exit[:period], rule, *V1.exit[period + 1:])))

    e = refused(catalog.publish_program, with_period(max_months=0), [V1], APPROVER)
    assert [(d["field"], d["rule"]) for d in e.details] == [
        (f"definition.exit[{period}].params.max_months", "must be a whole number from 1")
    ]
    catalog.publish_program(with_period(max_months=12, max_extensions=0, extension_months=0), [V1], APPROVER)


def test_a_regulators_check_cannot_gate_a_submission() -> None:
    i, rule = next((i, r) for i, r in enumerate(V1.admission) if type(r.params) not in APPLICANTS_OWN)
    gated = next_version(admission=tuple(
        msgspec.structs.replace(r, stage="submission") if r is rule else r for r in V1.admission))
    e = refused(catalog.publish_program, c.PublishProgramVersion(definition=gated), [V1], APPROVER)
    assert [d["field"] for d in e.details] == [f"definition.admission[{i}].stage"]
    assert e.details[0]["rule_zh"].endswith("阶段须为 admission")


def test_a_rule_placed_in_the_other_section_is_refused_naming_it() -> None:
    """A ``period_max`` (an admission condition) among the exit criteria would never be
    evaluated, and a ``test_period`` (an exit criterion) among the admission conditions has no
    admission check: publishing refuses both, naming each place and the rule."""
    period = next(r for r in V1.admission if isinstance(r.params, p.PeriodMax))
    ends = next(r for r in V1.exit if isinstance(r.params, p.TestPeriod))
    misplaced = next_version(exit=(*V1.exit, period), admission=(ends, *V1.admission))
    e = refused(catalog.publish_program, c.PublishProgramVersion(definition=misplaced), [V1], APPROVER)
    assert e.code == "invalid_value"
    assert [(d["field"], d["rule"], d["rule_zh"]) for d in e.details] == [
        ("definition.admission[0].params.check", "a test_period rule is an exit criterion, not an admission condition",
         "test_period 类规则属于退出标准，不能作为准入条件"),
        (f"definition.exit[{len(V1.exit)}].params.check",
         "a period_max rule is an admission condition, not an exit criterion",
         "period_max 类规则属于准入条件，不能作为退出标准"),
    ]


def test_the_declared_period_s_limit_is_the_test_period_s_length() -> None:
    """The admission's ``period_max.months`` and the test period's ``max_months`` state one
    value: a version whose two differ is refused, naming the admission's; changed together, it
    is published."""
    i, rule = next((i, r) for i, r in enumerate(V1.admission) if isinstance(r.params, p.PeriodMax))
    assert isinstance(rule.params, p.PeriodMax) and rule.params.months == V1.test_period().max_months == 12

    def with_periods(declared: int, test: int) -> c.PublishProgramVersion:
        period = msgspec.structs.replace(rule, params=msgspec.structs.replace(rule.params, months=declared))
        ends = tuple(
            msgspec.structs.replace(r, params=msgspec.structs.replace(r.params, max_months=test))
            if isinstance(r.params, p.TestPeriod) else r
            for r in V1.exit
        )
        admission = (*V1.admission[:i], period, *V1.admission[i + 1:])
        return c.PublishProgramVersion(definition=next_version(admission=admission, exit=ends))

    for declared, test in ((18, 12), (6, 12), (12, 18)):
        e = refused(catalog.publish_program, with_periods(declared, test), [V1], APPROVER)
        assert [(d["field"], d["rule"]) for d in e.details] == [
            (f"definition.admission[{i}].params.months", f"must be the test period's max_months ({test})")
        ]
        assert e.details[0]["rule_zh"] == f"须与测试期最长月数（test_period.max_months = {test}）一致"
    published = catalog.publish_program(with_periods(18, 18), [V1], APPROVER)
    assert published.definition.test_period().max_months == 18


def test_a_reference_dataset_is_replaced_whole_by_valid_records_only() -> None:
    records = REF.records("pilot_areas")
    event = catalog.update_reference(
        c.UpdateReferenceData(dataset="pilot_areas", records=records, changes=["reviewed"]), REF, 1, APPROVER
    )
    assert (event.dataset, event.records, event.changes) == ("pilot_areas", records, ["reviewed"])

    bad = [{**records[0], "code": 7}, *records[1:], {"nonsense": True}]
    e = refused(catalog.update_reference, c.UpdateReferenceData(dataset="pilot_areas", records=bad), REF, 1, APPROVER)
    assert e.code == "invalid_value" and e.details[0]["field"] == "records[0].code"
    assert f"records[{len(records)}]." in {d["field"][: len(f"records[{len(records)}].")] for d in e.details}
    assert e.params["rule_en"].endswith(f"(and {len(e.details) - 1} more)")
    same = c.UpdateReferenceData(dataset="pilot_areas", records=records)
    assert refused(catalog.update_reference, same, REF, 1, OFFICER).code == "wrong_role"


def test_a_holiday_year_once_published_cannot_be_dropped() -> None:
    years = REF.records("holidays")
    assert len(years) >= 2
    e = refused(catalog.update_reference, c.UpdateReferenceData(dataset="holidays", records=years[1:]), REF, 1,
                APPROVER)
    assert e.params["field"] == "records" and str(years[0]["year"]) in e.params["rule_en"]
    catalog.update_reference(c.UpdateReferenceData(dataset="holidays", records=years), REF, 1, APPROVER)


def test_a_dataset_changed_since_its_caller_read_it_is_stale() -> None:
    command = c.UpdateReferenceData(dataset="operators", records=REF.records("operators"))
    with pytest.raises(catalog.Stale) as stale:
        catalog.update_reference(command, REF, 3, APPROVER, expected_version=2)
    refusal = stale.value.refusal
    assert isinstance(refusal, catalog.PreconditionFailed) and (refusal.expected, refusal.actual) == (2, 3)
    assert catalog.update_reference(command, REF, 3, APPROVER, expected_version=3).dataset == "operators"
