"""Upgrades of stored payloads whose shape changed, as plain data.

Each upcaster takes the decoded data of one schema version of an event type and returns the
data of the next version; the codec (``events/codec.py``) chains them when it reads an old
event, so a log written by older code replays with the meaning it had. The functions are pure
and take no project module but the schemas, so a program definition can be upgraded wherever
one is read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemas.words import plural

Data = dict[str, Any]
Upcaster = Callable[[Data], Data]

#: The test-period values that schema version 1 of a program definition also kept in its
#: durations, and their names in the ``test_period`` criterion.
_MOVED_TO_TEST_PERIOD = {
    "max_test_months": "max_months",
    "max_extensions": "max_extensions",
    "extension_months": "extension_months",
    "extension_request_days_before_end": "request_days_before_end",
}
#: What version 1 durations meant when they left a value out.
_V1_TEST_PERIOD = {"max_months": 12, "max_extensions": 1, "extension_months": 6, "request_days_before_end": 30}


def _test_period_rule(period: Data) -> Data:
    """The ``test_period`` exit criterion stating ``period``, in both languages."""
    months, extensions = period["max_months"], period["max_extensions"]
    each, before = period["extension_months"], period["request_days_before_end"]
    return {
        "id": "exit.test_period",
        "label_zh": f"测试期届满（最长{months}个月；可延期{extensions}次，每次最长{each}个月，"
        f"须在到期前至少{before}日申请）：进入最终评估",
        "label_en": f"Test period reached (at most {plural(months, 'month')}; at most"
        f" {plural(extensions, 'extension')} of up to {plural(each, 'month')}, requested at least"
        f" {plural(before, 'day')} before the end): final evaluation",
        "kind": "duration",
        "params": {"check": "test_period", **period},
    }


#: The severity definition the code held (DESIGN §2.1) before programs stated theirs: what a
#: version 1 definition without ``incident_severity`` was read with.
_V1_SEVERITY: Data = {
    "rules": [
        {"severity": 1, "kinds": ["fund_loss", "data_breach"], "consumer_loss": True, "outage_minutes_over": 240},
        {"severity": 2, "kinds": ["outage", "security_incident", "service_degradation"]},
    ],
    "default_severity": 3,
}


def definition_v1_to_v2(definition: Data) -> Data:
    """A version 1 program definition kept the test period in two places: its durations and
    its ``test_period`` criterion, which every reader already preferred. Version 2 keeps the
    criterion alone: the durations' copies are dropped, and a definition without the criterion
    gains one stating what its durations said (so its tests keep the length they had). Version
    2 states its incident severity definition: one without gains the definition it was read
    with (a version 1 definition written since the field existed always holds it)."""
    durations = dict(definition.get("durations", {}))
    moved = {new: durations.pop(old) for old, new in _MOVED_TO_TEST_PERIOD.items() if old in durations}
    exit_rules = list(definition.get("exit", []))
    if not any(rule.get("params", {}).get("check") == "test_period" for rule in exit_rules):
        exit_rules.append(_test_period_rule(_V1_TEST_PERIOD | moved))
    severity = definition.get("incident_severity", _V1_SEVERITY)
    return {**definition, "durations": durations, "exit": exit_rules, "incident_severity": severity}


#: What version 2 durations kept of how late a report may be, which the ``report_timeliness``
#: criterion states (``warning_days``, ``suspension_days``) and every reader took from it.
_REPORT_LATENESS_COPIES = ("report_warning_days", "report_suspension_days")


def definition_v2_to_v3(definition: Data) -> Data:
    """A version 2 program definition kept in its durations a copy of the days a report may be
    late before a warning and a suspension, which nothing read (the ``report_timeliness``
    criterion decides): version 3 drops the copy."""
    durations = {k: v for k, v in definition.get("durations", {}).items() if k not in _REPORT_LATENESS_COPIES}
    return {**definition, "durations": durations}


def _program_published_v1(data: Data) -> Data:
    return {**data, "definition": definition_v1_to_v2(data["definition"])}


def _program_published_v2(data: Data) -> Data:
    return {**data, "definition": definition_v2_to_v3(data["definition"])}


#: Every upcaster of the product's events, by (event type, the schema version it reads).
UPCASTERS: dict[tuple[str, int], Upcaster] = {
    ("ProgramVersionPublished", 1): _program_published_v1,
    ("ProgramVersionPublished", 2): _program_published_v2,
}
