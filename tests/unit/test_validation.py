"""Every invalid field of a value is found, at its own path, with a rule in English and Chinese
(``schemas.validation``, behind the API's 400s and the service's refusals of reference data)."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas import commands as c
from schemas.commands import ACTIONS
from schemas.errors import MESSAGES, DomainError, action_zh
from schemas.programs import ProgramDefinition
from schemas.reference import HolidayYear, Operator, PilotArea, WalletTier
from schemas.validation import explain, known, rule_zh

TYPES: list[Any] = [*c.PROJECT_COMMANDS, c.PublishProgramVersion, c.UpdateReferenceData, ProgramDefinition,
                    PilotArea, Operator, WalletTier, HolidayYear]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.integers(), st.floats(allow_nan=False),
    st.sampled_from(["", "x", "2026-01-31", "2026-01-31T09:00:00", "2026-01-31T09:00:00+08:00", "a" * 90,
                     "statement", "admit", "abc!", "0" * 64]),
)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["a", "type", "x"]), inner, max_size=2), max_leaves=6)


def fields_of(kind: type[msgspec.Struct]) -> list[str]:
    return [f.encode_name for f in msgspec.structs.fields(kind)]


@st.composite
def near_bodies(draw: st.DrawFn, kind: type[msgspec.Struct]) -> dict[str, Any]:
    """A body with some of the type's fields (each a random JSON value) and perhaps a stranger."""
    names = draw(st.lists(st.sampled_from([*fields_of(kind), "stranger"]), unique=True, max_size=6))
    return {name: draw(json_values) for name in names}


@pytest.mark.parametrize("kind", TYPES, ids=lambda k: k.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_explain_finds_a_violation_exactly_when_msgspec_refuses(kind: Any, data: st.DataObject) -> None:
    body = data.draw(near_bodies(kind) if fields_of(kind) else json_values)
    try:
        msgspec.convert(body, kind, strict=False)
        refused = False
    except (msgspec.ValidationError, ValueError):  # (msgspec's ValueError: a timestamp past 9999)
        refused = True
    found = explain(kind, body)
    assert bool(found) == refused, (body, found)
    for v in found:
        assert known(v.rule), v  # every rule these types can break has Chinese of its own
        assert not re.search(r"Expected|Invalid|Object|got|length|matching", v.rule_zh), v
        top = v.field.split(".")[0].split("[")[0]
        assert top == "" or top in body or top in fields_of(kind), (v, body)  # a real path


def test_each_violation_is_named_at_its_own_path() -> None:
    body = {"section": "nope", "fields": {"start_date": 1.5, "ok": "x", "list": ["a", 2], "no key": 1}, "reason": 3}
    assert [(v.field, v.rule) for v in explain(c.EditDraft, body)] == [
        ("reason", "Expected `str | null`, got `int`"),
        ("section", "Invalid enum value 'nope'; must be one of: statement, boundaries, test_plan, product"),
        ("fields.start_date", "Expected `bool | int | str | array | null`, got `float`"),
        ("fields.list[1]", "Expected `str`, got `int`"),  # (the one member of the union that is a list)
        ('fields["no key"]', "Expected `str` matching regex '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}$'"),  # the name
    ]


def test_a_key_that_is_not_a_plain_name_is_named_in_brackets_and_a_bad_key_with_a_bad_value_gives_both() -> None:
    body = {"section": "statement", "fields": {"a.b": 1.5, "a": {"b": 1}, "2nd": 2.5, "ok": "x"}}
    assert [v.field for v in explain(c.EditDraft, body)] == [
        'fields["a.b"]',  # not "fields.a.b", which would be b inside a
        "fields.a",
        'fields["2nd"]',
    ]
    both = explain(c.EditDraft, {"section": "statement", "fields": {"数据 项": 1.5}})
    assert [(v.field, v.rule.split(",")[0]) for v in both] == [
        ('fields["数据 项"]', "Expected `str` matching regex '^[A-Za-z0-9][A-Za-z0-9_.:-]{0"),  # the key
        ('fields["数据 项"]', "Expected `bool | int | str | array | null`"),  # and its value
    ]


def test_a_missing_and_an_unknown_field_are_both_named() -> None:
    found = explain(c.LogComplaint, {"complaint_id": "c1", "category": "x", "channel": "phone"})
    assert [(v.field, v.rule_zh) for v in found] == [
        ("received_on", "缺少必填字段“received_on”"),
        ("channel", "含有未知字段“channel”"),
    ]


def test_a_tagged_rule_is_explained_inside_its_own_variant() -> None:
    rule = {"id": "r.one", "label_zh": "条件", "label_en": "condition", "kind": "condition",
            "params": {"check": "period_max", "months": "x"}}
    found = explain(ProgramDefinition, {"key": "k", "version": 1, "admission": [rule]})
    paths = {v.field: v.rule for v in found}
    assert paths["admission[0].params.months"] == "Expected `int`, got `str`", found
    assert paths["exit"] == "Object missing required field `exit`"


@pytest.mark.parametrize(
    ("rule", "zh"),
    [
        ("Expected `int` >= 1", "须为不小于 1 的整数"),
        ("Expected `array` of length <= 3", "数组长度须不超过 3"),
        ("Invalid enum value 'x'; must be one of: a, b", "取值 'x' 无效；须为以下之一：a、b"),
        ("Expected `datetime` with a timezone component", "日期时间须带时区"),
        ("2026: 2026-10-10 is both a holiday and an adjusted working day",
         "2026 年：2026-10-10 既是节假日又是调休工作日"),
    ],
)
def test_rules_have_chinese(rule: str, zh: str) -> None:
    assert rule_zh(rule) == zh


def test_an_unknown_rule_keeps_its_english_marked_as_such() -> None:
    assert not known("the moon is full")
    assert rule_zh("the moon is full") == "不符合规则（原文：the moon is full）"


#: Refusal parameters whose values are English identifiers (an action, a decision, a role, a state,
#: a dataset) or English text (an exception's): a Chinese message uses their ``*_zh`` labels.
ENGLISH_VALUED = {"action", "decision", "pending", "role", "state", "dataset", "error", "unit"}


def test_no_chinese_refusal_message_carries_an_english_value() -> None:
    for code, (zh, _) in MESSAGES.items():
        used = set(re.findall(r"\{(\w+)\}", zh))
        assert not used & ENGLISH_VALUED, (code, used & ENGLISH_VALUED)


def test_refusals_name_actions_decisions_roles_and_datasets_in_chinese() -> None:
    assert DomainError("recommendation_mismatch", pending="admit", decision="reject").message_zh == (
        "待批准的推荐决定是“准入”，不是“不予准入”")
    assert DomainError("wrong_role", role="applicant", action="initiate_exit (forced)").message_zh == (
        "角色“申请机构”无权执行“启动退出（强制）”")
    assert "“钱包等级”" in DomainError("reference_unknown", dataset="wallet_tiers", item="9").message_zh
    assert not [a for a in ACTIONS if action_zh(a) == a]  # every project command has its label
