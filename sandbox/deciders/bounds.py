"""The bounds of every date a command carries, and the kinds of value a draft may declare."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from typing import Any

from projections.project import ProjectState, local_date
from projections.rules import CADENCE_FIELD
from sandbox.deciders.context import Context, checks
from schemas import commands as c
from schemas import events as ev
from schemas.dates import months_later, parse_date
from schemas.errors import DomainError
from schemas.programs import (
    CapBreach,
    Caps,
    Params,
    PeriodMax,
    ProgramDefinition,
    WalletTiers,
)
from schemas.validation import Violation, invalid, key_path

#: Dates a draft declares (start_date, campaign_end_date, ...) may lie at most this many years
#: ahead of today.
DECLARED_YEARS_AHEAD = 3
#: A public notice or an information request's due date may be set at most this far ahead.
SCHEDULE_DAYS_AHEAD = 366
#: No document predates this day (a licence of the 1990s is fine, year 1 is a typo).
EARLIEST_DOCUMENT = dt.date(1900, 1, 1)


# -- date bounds -------------------------------------------------------------------------------
#
# Every date a command carries is bounded relative to ``now`` and to the project's own dates, so
# a typo (year 9999, year 1) is refused with ``date_out_of_range`` naming the field and the rule
# instead of being recorded and making every later evaluation of the project overflow.


def _within(field: str, value: dt.date, earliest: dt.date, latest: dt.date, rule_zh: str, rule_en: str) -> None:
    if not earliest <= value <= latest:
        raise DomainError(
            "date_out_of_range",
            field=field,
            value=value.isoformat(),
            earliest=earliest.isoformat(),
            latest=latest.isoformat(),
            rule_zh=rule_zh,
            rule_en=rule_en,
        )


def _longest_test_months(program: ProgramDefinition) -> int:
    """The longest a test of ``program`` can run: its maximum period plus every extension."""
    period = program.test_period()
    return period.max_months + period.max_extensions * period.extension_months


#: A date as declared (``date.fromisoformat`` would also take ``20260301`` and ``2026-W09-7``).
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_date(value: object) -> bool:
    """``YYYY-MM-DD``, and a day that exists."""
    return isinstance(value, str) and _ISO_DATE.match(value) is not None and parse_date(value) is not None


#: The kinds of declared value the rules compute with: (Chinese rule, English rule, test).
_KINDS: dict[str, tuple[str, str, Callable[[object], bool]]] = {
    "date": ("须为日期（YYYY-MM-DD）", "must be a date (YYYY-MM-DD)", _is_date),
    "integer": (
        f"须为 0 至 {c.LARGEST} 之间的整数",
        f"must be a whole number from 0 to {c.LARGEST}",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= c.LARGEST,
    ),
    "days": (  # (a cadence: a report every 0 days is none)
        f"须为 1 至 {c.LARGEST} 之间的整数（天数）",
        f"must be a whole number of days from 1 to {c.LARGEST}",
        lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= c.LARGEST,
    ),
}


def declared_kind(name: str, program: ProgramDefinition) -> str | None:
    """The kind of value a declared field must hold, if the program's rules compute with it: the
    dates a test period is checked with (and every ``*_date``), and the amounts caps, cap
    breaches and wallet tiers are checked with (and every ``*_yuan``: amounts are whole yuan), and
    the reporting cadence (whole days, at least one)."""
    if name.endswith("_date"):
        return "date"
    if name == CADENCE_FIELD:
        return "days"
    if name.endswith("_yuan"):
        return "integer"
    for rule in (*program.admission, *program.exit):
        computed = _COMPUTED.get(type(rule.params))
        if computed is not None and name in computed[1](rule.params):
            return computed[0]
    return None


#: The declared fields each kind of rule computes with and the kind of value they must hold
#: (the other kinds compute with none).
_COMPUTED: dict[type[Params], tuple[str, Callable[[Any], Iterable[str]]]] = {
    PeriodMax: ("date", lambda rule: (rule.start_field, rule.end_field)),
    Caps: ("integer", lambda rule: (*rule.maximum, *rule.minimum)),
    CapBreach: ("integer", lambda rule: rule.caps.values()),
    WalletTiers: ("integer", lambda rule: (rule.tier_field,)),
}


def _check_declared_kinds(fields: dict[str, ev.Value], program: ProgramDefinition) -> None:
    """Refuse a declared value the rules could not compute with (``start_date: "next spring"``),
    which the checklist would otherwise show as not declared at all. ``None`` clears a field."""
    wrong = []
    for name, value in fields.items():
        kind = declared_kind(name, program)
        if kind is None or value is None:
            continue
        zh, en, fits = _KINDS[kind]
        if not fits(value):
            wrong.append(Violation(field=key_path("fields", name), rule=en, rule_zh=zh))
    if wrong:
        raise invalid(wrong)


def _admitted(s: ProjectState, ctx: Context) -> dt.date:
    """The earliest day a thing of the test can have happened: the admission (or what stands for
    it in an older history)."""
    return s.admitted_on or s.test_started_on or s.submitted_on or ctx.program.effective_from


def edit_draft(command: c.EditDraft, s: ProjectState, ctx: Context) -> None:
    _check_declared_kinds(command.fields, ctx.program)
    today = ctx.today
    effective = ctx.program.effective_from
    latest = months_later(today, 12 * DECLARED_YEARS_AHEAD)
    for name, value in command.fields.items():
        dated = name.endswith(("_date", "_on")) or (isinstance(value, str) and len(value) == 10)
        day = parse_date(value) if dated else None
        if day is not None:
            _within(
                key_path("fields", name),
                day,
                effective,
                latest,
                f"申报日期不得早于项目类型生效日，也不得晚于今天起 {DECLARED_YEARS_AHEAD} 年",
                f"a declared date lies between the program's effective date and"
                f" {DECLARED_YEARS_AHEAD} years from today",
            )


def attach_document(command: c.AttachDocument, s: ProjectState, ctx: Context) -> None:
    today = ctx.today
    if command.issued_on is not None:
        _within(
            "issued_on",
            command.issued_on,
            EARLIEST_DOCUMENT,
            today,
            "文件出具日期不得晚于今天",
            "a document cannot be issued after today",
        )


def _scheduled(field: str, value: dt.date, today: dt.date, what_zh: str, what_en: str) -> None:
    """A day the regulator schedules (``what`` happens on ``value``) lies from today to
    :data:`SCHEDULE_DAYS_AHEAD` days ahead."""
    _within(
        field,
        value,
        today,
        today + dt.timedelta(days=SCHEDULE_DAYS_AHEAD),
        f"{what_zh}须在今天至 {SCHEDULE_DAYS_AHEAD} 天之内",
        f"{what_en} between today and {SCHEDULE_DAYS_AHEAD} days ahead",
    )


def request_information(command: c.RequestInformation, s: ProjectState, ctx: Context) -> None:
    if command.due_on is not None:
        _scheduled("due_on", command.due_on, ctx.today, "补充材料期限", "the answer is due")


def open_public_notice(command: c.OpenPublicNotice, s: ProjectState, ctx: Context) -> None:
    if command.starts_on is not None and command.starts_on >= ctx.today:
        # (a start in the past keeps its own refusal below)
        _scheduled("starts_on", command.starts_on, ctx.today, "公示开始日期", "the notice starts")


def start_test(command: c.StartTest, s: ProjectState, ctx: Context) -> None:
    today = ctx.today
    admitted = _admitted(s, ctx)
    if command.started_on is not None:
        _within(
            "started_on",
            command.started_on,
            admitted,
            today,
            "测试开始日期不得早于准入日期，也不得晚于今天",
            "a test starts on or after its admission and no later than today",
        )


def report_metrics(command: c.ReportMetrics, s: ProjectState, ctx: Context) -> None:
    today = ctx.today
    admitted = _admitted(s, ctx)
    started = s.test_started_on or admitted
    _within(
        "period_start",
        command.period_start,
        started,
        today,
        "报告期不得早于测试开始日期，也不得晚于今天",
        "a report period starts on or after the test started and no later than today",
    )
    _within(
        "period_end",
        command.period_end,
        started,
        today,
        "报告期须在测试开始之后结束，且不得晚于今天（只能报告已结束的期间）",
        "a report period ends on or after the test started and no later than today (only a"
        " period that has ended can be reported)",
    )
    if command.occurred_at is not None and command.occurred_at <= ctx.now:  # (the future: below)
        _within(
            "occurred_at",
            local_date(command.occurred_at),
            command.period_end,
            today,
            "报告的业务日期不得早于报告期结束日，也不得晚于今天",
            "a report is dated on or after its period ends and no later than now",
        )


def _since_admission(field: str, value: dt.date, s: ProjectState, ctx: Context, what_zh: str, what_en: str) -> None:
    """A fact of the test (``what`` happened on ``value``) is dated from the admission to today."""
    _within(
        field,
        value,
        _admitted(s, ctx),
        ctx.today,
        f"{what_zh}不得早于准入日期，也不得晚于今天",
        f"{what_en} on or after the admission and no later than today",
    )


def report_incident(command: c.ReportIncident, s: ProjectState, ctx: Context) -> None:
    _since_admission("occurred_on", command.occurred_on, s, ctx, "事件发生日期", "an incident occurs")


def log_complaint(command: c.LogComplaint, s: ProjectState, ctx: Context) -> None:
    _since_admission("received_on", command.received_on, s, ctx, "投诉收到日期", "a complaint is received")


def initiate_exit(command: c.InitiateExit, s: ProjectState, ctx: Context) -> None:
    today = ctx.today
    effective = ctx.program.effective_from
    horizon = months_later(ctx.today, _longest_test_months(ctx.program))
    notified = command.users_notified_on
    if notified is not None:
        _within(  # (a fact, not a plan: the notice period is counted from it)
            "users_notified_on",
            notified,
            effective,
            today,
            "告知用户日期不得早于项目类型生效日，也不得晚于今天（须已告知）",
            "users are told between the program's effective date and today (they have been told)",
        )
    if command.planned_exit_on is not None:
        _within(
            "planned_exit_on",
            command.planned_exit_on,
            notified or effective,
            horizon,
            "计划退出日期不得早于告知用户日期，也不得晚于最长测试期（含延期）",
            "the planned exit is on or after users are told and within the longest test period"
            " (with extensions) from today",
        )


def record_external_fact(command: c.RecordExternalFact, s: ProjectState, ctx: Context) -> None:
    today = ctx.today
    effective = ctx.program.effective_from
    _within(
        "on",
        command.on,
        effective,
        today,
        "外部事实的日期不得早于项目类型生效日，也不得晚于今天",
        "an outside fact is dated between the program's effective date and today",
    )


def pledge(command: c.RegisterPledge | c.ReleasePledge | c.RealisePledge, s: ProjectState, ctx: Context) -> None:
    what_en = "a pledge is registered, released or realised"
    _since_admission("on", command.on, s, ctx, "质押的登记、解除或实现日期", what_en)


def register_change(command: c.RegisterChange, s: ProjectState, ctx: Context) -> None:
    _within(
        "effective_on",
        command.effective_on,
        _admitted(s, ctx),
        months_later(ctx.today, _longest_test_months(ctx.program)),
        "变更生效日期不得早于准入日期，也不得晚于最长测试期（含延期）",
        "a change takes effect on or after the admission and within the longest test period (with"
        " extensions) from today",
    )


#: The bounds of each command kind's dates (a command kind not named carries none to bound), each
#: refusing a date outside the window in which the thing it dates can have happened (or be
#: planned): see each rule's text.
CHECKS = dict(
    [
        checks(c.EditDraft, edit_draft),
        checks(c.AttachDocument, attach_document),
        checks(c.RequestInformation, request_information),
        checks(c.OpenPublicNotice, open_public_notice),
        checks(c.StartTest, start_test),
        checks(c.ReportMetrics, report_metrics),
        checks(c.ReportIncident, report_incident),
        checks(c.LogComplaint, log_complaint),
        checks(c.InitiateExit, initiate_exit),
        checks(c.RecordExternalFact, record_external_fact),
        checks(c.RegisterPledge, pledge),
        checks(c.ReleasePledge, pledge),
        checks(c.RealisePledge, pledge),
        checks(c.RegisterChange, register_change),
    ]
)
