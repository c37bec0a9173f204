"""Words: a missing value is named as missing (never Python's ``None``), and counts take their
noun in the right number."""

from __future__ import annotations

import json

from schemas.errors import DomainError
from schemas.words import plural
from tests.fixtures.api import Api


def test_a_missing_declared_field_is_named_as_missing_not_none(api: Api) -> None:
    """An e-CNY draft with nothing declared: the checklist names the missing pilot area, wallet
    caps and scenario, in both languages, and never shows ``None``."""
    pid = api.create("ecny-pilot")
    view = api.view(pid, "alice")
    rules = {rule["id"]: rule for rule in view["admission"]}
    area = rules["ec.adm.pilot_area"]
    assert area["status"] == "unmet"
    assert (area["missing_zh"], area["missing_en"]) == ("未申报：试点地区", "not declared: pilot area")
    text = json.dumps(view["admission"], ensure_ascii=False)
    assert "None" not in text and "(none)" not in text


def test_counts_take_their_noun_in_the_right_number() -> None:
    assert plural(1, "project") == "1 project" and plural(0, "project") == "0 projects"
    assert plural(2, "working day") == "2 working days" and plural(3, "entry") == "3 entries"
    one = DomainError("exit_notice_too_short", days=1)
    assert one.message_en == "a voluntary exit needs users told at least 1 day ahead"
    assert DomainError("exit_notice_too_short", days=30).message_en.endswith("at least 30 days ahead")


def test_a_notice_too_short_counts_its_days_in_the_right_number() -> None:
    one = DomainError("notice_too_short", required=1, unit="working", unit_zh="工作日", actual=0)
    assert "1 working day required" in one.message_en
    ten = DomainError("notice_too_short", required=10, unit="calendar", unit_zh="日", actual=9)
    assert "10 calendar days required, 9 held" in ten.message_en


def test_an_outage_of_one_minute_reads_in_the_singular() -> None:
    from sandbox.deciders.incidents import _basis
    from schemas.programs import SeverityRule

    rule = SeverityRule(severity=1, outage_minutes_over=0)
    assert _basis(rule, "outage", 0, 1) == "outage of 1 minute, over 0"
    assert _basis(rule, "outage", 0, 241) == "outage of 241 minutes, over 0"
