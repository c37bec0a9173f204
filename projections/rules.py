"""Rule evaluation: the admission checklist and the exit criteria of a project.

One implementation serves everyone: the deciders refuse an admission with it, the policies
detect breaches with it, and the read models and as-of views show it. Every function is pure:
state, program, reference data and today's date in, statuses out.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import msgspec

from projections.project import ProjectState, Report
from schemas import programs as p
from schemas.events import Value
from schemas.lifecycle import IN_TEST, State
from schemas.reference import CalendarNotCovered

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


def _filled(value: Value) -> bool:
    return value is not None and value != "" and value != []


def _declared(state: ProjectState, field: str) -> Value:
    """A declared field from any section (boundaries first)."""
    for name in ("boundaries", "statement", "test_plan", "product"):
        section = state.section(name)
        if field in section:
            return section[field]
    return None


def declared_period(state: ProjectState, program: p.ProgramDefinition) -> tuple[dt.date | None, dt.date | None]:
    """The test period a project declared (the fields of its program's ``period_max`` rule): its
    start and end, each None when undeclared or not a date, or both None when the program has no
    declared period or the declared end is not after the start."""
    for rule in program.admission:
        if isinstance(rule.params, p.PeriodMax):
            params = rule.params
            start = parse_date(_declared(state, params.start_field))
            end = parse_date(_declared(state, params.end_field))
            if start is not None and end is not None and end <= start:
                return None, None  # (a period that ends before it begins declares none: a waiver admits it)
            return start, end
    return None, None


def applies(state: ProjectState, when_field: str | None, when_value: str | bool | None) -> bool:
    """Whether a conditional rule applies: the declared field holds (or lists) the value."""
    if when_field is None:
        return True
    value = _declared(state, when_field)
    if isinstance(value, list):
        return when_value in value
    return value == when_value


def _holders(state: ProjectState, holders: p.Holders) -> list[str]:
    return [state.organisation] if holders == "lead" else state.applicants()


def months_later(day: dt.date, months: int) -> dt.date:
    """``day`` plus ``months`` calendar months, never past ``date.max`` (the deciders bound the
    dates a command may carry; this keeps a replay of older history from overflowing)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    if year > dt.MAXYEAR:
        return dt.date.max
    for candidate_day in range(day.day, 0, -1):
        try:
            return dt.date(year, month, candidate_day)
        except ValueError:
            continue
    raise ValueError("unreachable")


def parse_date(value: Value) -> dt.date | None:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _reference_day(state: ProjectState, today: dt.date) -> dt.date:
    return state.submitted_on or today


# -- admission -------------------------------------------------------------------------------


def _check_admission(params: p.Params, state: ProjectState, ref: ReferenceView, today: dt.date) -> _Outcome:
    match params:
        case p.Documents():
            if not applies(state, params.when_field, params.when_value):
                return _met(not_applicable="yes")
            evidence: list[int] = []
            missing: list[str] = []
            orgs = _holders(state, params.holders)
            for kind in params.kinds:
                for org in orgs if params.holders != "any_applicant" else ["*"]:
                    docs = [
                        d
                        for d in state.documents
                        if d.kind == kind
                        and (org == "*" or d.holder == org)
                        and (
                            params.max_age_months is None
                            or (d.issued_on is not None and months_later(d.issued_on, params.max_age_months) >= today)
                        )
                    ]
                    if docs:
                        evidence.append(docs[-1].position)
                    else:
                        missing.append(kind if org in ("*", state.organisation) else f"{kind} ({org})")
            if missing:
                text = ", ".join(missing)
                return _unmet(f"缺少文件：{text}", f"missing documents: {text}", *evidence)
            return _met(*evidence)
        case p.Attestation():
            evidence = []
            missing = []
            for org in _holders(state, params.holders):
                found = [a for a in state.attestations if a.statement == params.statement and a.organisation == org]
                if found:
                    evidence.append(found[-1].position)
                else:
                    missing.append(org)
            if missing:
                text = ", ".join(missing)
                return _unmet(
                    f"以下机构未声明“{params.statement}”：{text}",
                    f"not attested ({params.statement}) by: {text}",
                    *evidence,
                )
            return _met(*evidence)
        case p.Fields():
            if not applies(state, params.when_field, params.when_value):
                return _met(not_applicable="yes")
            section = state.section(params.section)
            absent = [f for f in params.required if not _filled(section.get(f))]
            bad = [
                f"{f}={section.get(f)}"
                for f, values in params.forbidden.items()
                if section.get(f) in values
                or (isinstance(section.get(f), list) and set(section.get(f) or []) & set(values))  # type: ignore[arg-type]
            ]
            if params.app_types and state.app_type not in params.app_types:
                bad.append(f"app_type={state.app_type} ({' / '.join(params.app_types)})")
            if absent or bad:
                zh = "；".join(
                    x for x in (absent and f"未填写：{', '.join(absent)}", bad and f"不允许：{', '.join(bad)}") if x
                )
                en = "; ".join(
                    x
                    for x in (
                        absent and f"not declared: {', '.join(absent)}",
                        bad and f"not allowed: {', '.join(bad)}",
                    )
                    if x
                )
                return _unmet(zh, en)
            return _met()
        case p.Caps():
            problems: list[str] = []
            for field, cap in params.maximum.items():
                value = _declared(state, field)
                if not isinstance(value, int) or isinstance(value, bool):
                    problems.append(f"{field} (undeclared)")
                elif value > cap:
                    problems.append(f"{field} {value} > {cap}")
            for field, floor in params.minimum.items():
                value = _declared(state, field)
                if not isinstance(value, int) or isinstance(value, bool):
                    problems.append(f"{field} (undeclared)")
                elif value < floor:
                    problems.append(f"{field} {value} < {floor}")
            if problems:
                text = ", ".join(problems)
                return _unmet(f"边界不符：{text}", f"boundaries not within limits: {text}")
            return _met()
        case p.LicensedLead():
            docs = [d for d in state.documents if d.kind == params.document_kind and d.holder == state.organisation]
            if state.lead_kind not in ("licensed_institution", "operator") or not state.lead_licence_no:
                return _unmet(
                    "牵头申请机构须持有金融牌照；科技公司只能与持牌机构联合申请",
                    "the lead applicant must hold a financial licence; a technology company may only"
                    " co-apply with a licensed institution",
                )
            if not docs:
                return _unmet("缺少金融牌照文件", f"missing the lead's licence document ({params.document_kind})")
            return _met(docs[-1].position)
        case p.Notice():
            if not applies(state, params.when_field, params.when_value):
                return _met(not_applicable="yes")
            if state.notice_starts is None or state.notice_ends is None:
                return _unmet("尚未公示", "no public notice held yet")
            evidence = [state.notice_position or 0]
            if state.notice_closed_on is None:
                return _unmet("公示期尚未结束", "the public notice has not closed", *evidence)
            try:
                held = _notice_length(state, ref, params.unit)
            except CalendarNotCovered as e:
                return _unmet(e.message_zh, e.message_en, *evidence)
            if held < params.days:
                return _unmet(
                    f"公示期不足 {params.days} 天（实际 {held} 天）",
                    f"notice held {held} {params.unit} days, {params.days} required",
                    *evidence,
                )
            open_ids = [o.objection_id for o in state.open_objections]
            evidence += [o.position for o in state.objections] + [
                o.disposed_position for o in state.objections if o.disposed_position
            ]
            if open_ids:
                text = ", ".join(open_ids)
                return _unmet(f"异议未处理：{text}", f"objections not disposed: {text}", *evidence)
            return _met(*evidence, days_held=held)
        case p.PeriodMax():
            start = parse_date(_declared(state, params.start_field))
            end = parse_date(_declared(state, params.end_field))
            if start is None or end is None:
                return _unmet("未声明起止日期", f"{params.start_field} and {params.end_field} not declared")
            if end <= start or end > months_later(start, params.months):
                return _unmet(
                    f"起止日期须在 {params.months} 个月以内且结束晚于开始",
                    f"start and end must be at most {params.months} months apart, end after start",
                )
            return _met(start=start.isoformat(), end=end.isoformat(), max_months=params.months)
        case p.PilotArea():
            code = _declared(state, params.field)
            on = _reference_day(state, today)
            if not isinstance(code, str) or not ref.is_pilot_area(code, on):
                return _unmet(
                    f"{code} 在 {on} 不是数字人民币试点地区",
                    f"{code} is not an approved e-CNY pilot area on {on}",
                )
            return _met()
        case p.Operator():
            on = _reference_day(state, today)
            named = _declared(state, params.field)
            candidates = [state.organisation] + ([named] if isinstance(named, str) else [])
            if not any(ref.is_operator(c, on) for c in candidates):
                return _unmet(
                    "牵头机构不是指定运营机构，也未指明所接入的运营机构",
                    "the lead is not a designated operator and names no designated operator it connects through",
                )
            return _met()
        case p.AllowedValues():
            value = state.section(params.section).get(params.field)
            values = value if isinstance(value, list) else [value] if _filled(value) else []
            wrong = [str(v) for v in values if v not in params.allowed]
            if not values or wrong:
                text = ", ".join(wrong) or "(none)"
                return _unmet(f"{params.field} 不在允许范围：{text}", f"{params.field} not in the allowed list: {text}")
            return _met()
        case p.WalletTiers():
            tier = _declared(state, params.tier_field)
            limits = ref.tier_limits(tier) if isinstance(tier, int) else None
            if limits is None:
                return _unmet("未声明有效的钱包等级", f"no valid wallet tier declared ({params.tier_field})")
            over = []
            for field, limit in limits.items():
                declared = _declared(state, field)
                if not isinstance(declared, int) or declared > limit:
                    over.append(f"{field} {declared} > {limit}")
            if over:
                text = ", ".join(over)
                return _unmet(f"钱包限额超出等级上限：{text}", f"wallet caps above the tier limits: {text}")
            return _met()
        case p.EffectiveFrom():
            if not applies(state, params.when_field, params.when_value):
                return _met(not_applicable="yes")
            on = _reference_day(state, today)
            if on < params.date:
                return _unmet(f"{params.date} 起方可适用", f"applies only from {params.date}")
            return _met()
        case p.NoOpenObjection():
            open_ids = [o.objection_id for o in state.objections if o.status in ("open", "upheld")]
            disputes = _open_facts(state, *FACTS_READ[p.NoOpenObjection])
            if open_ids or disputes:
                text = ", ".join(open_ids + ["ownership_dispute"] * bool(disputes))
                return _unmet(f"存在未解决的异议或权属争议：{text}", f"open objection or ownership dispute: {text}")
            return _met()
        case _:
            return _unmet("规则不适用于准入", f"{type(params).__name__} is not an admission check")


def _notice_length(state: ProjectState, ref: ReferenceView, unit: str) -> int:
    assert state.notice_starts is not None
    end = min(state.notice_ends or state.notice_starts, state.notice_closed_on or state.notice_starts)
    if unit == "working":
        return ref.working_days_between(state.notice_starts, end)
    return (end - state.notice_starts).days


def _open_facts(state: ProjectState, trigger: str, resolving: str) -> list[int]:
    opened = [f for f in state.facts if f.trigger == trigger]
    resolved = [f for f in state.facts if f.trigger == resolving]
    return [f.position for f in opened] if len(opened) > len(resolved) else []


#: The external facts a kind of rule reads, besides the triggers an ``external_event`` rule lists
#: (the rules below read them from here: an opened fact, then the one that resolves it).
FACTS_READ: dict[type[p.Params], tuple[str, ...]] = {
    p.NoOpenObjection: ("ownership_dispute", "ownership_dispute_resolved"),
    p.Dormancy: ("trade_made",),
    p.ValuationAge: ("pledge_registered", "pledge_released"),
}


def known_facts(program: p.ProgramDefinition) -> tuple[str, ...]:
    """The external facts the program's rules read, in the order its rules name them: a fact
    of another name would be recorded and change nothing (a misspelt ``pilot_area_withdrawn``
    would leave a forced exit undone)."""
    names: list[str] = []
    for rule in (*program.admission, *program.exit):
        if isinstance(rule.params, p.ExternalEvent):
            names.extend(rule.params.triggers)
        names.extend(FACTS_READ.get(type(rule.params), ()))
    return tuple(dict.fromkeys(names))


def designations_withdrawn(
    state: ProjectState, program: p.ProgramDefinition, ref: ReferenceView, today: dt.date
) -> list[tuple[str, str]]:
    """The designations the project was admitted on (its pilot area, its designated operator:
    the ``pilot_area`` and ``operator`` conditions it met, not waived) that the reference data
    does not hold ``today``: (the fact that records it, what was withdrawn). A record withdrawn,
    withdrawn with an earlier date (a correction) or removed is withdrawn alike; a condition
    waived was never a designation to lose."""
    waived = {w.condition_id for w in state.waivers}
    out: list[tuple[str, str]] = []
    for rule in program.admission:
        if rule.id in waived:
            continue
        match rule.params:
            case p.PilotArea(field=field):
                code = _declared(state, field)
                if isinstance(code, str) and not ref.is_pilot_area(code, today):
                    out.append(("pilot_area_withdrawn", code))
            case p.Operator(field=field):
                named = _declared(state, field)
                candidates = [state.organisation, *([named] if isinstance(named, str) else [])]
                if not any(ref.is_operator(code, today) for code in candidates):
                    out.append(("operator_withdrawn", ", ".join(candidates)))
    return out


def pledge_outstanding(state: ProjectState) -> bool:
    """Whether a pledge registered has not been released, or the product was declared pledged."""
    return bool(_open_facts(state, *FACTS_READ[p.ValuationAge])) or _declared(state, "pledged") is True


def _fields_by_name(state: ProjectState) -> dict[str, list[tuple[str, int]]]:
    """The positions of the edits that last set each declared field, by the field's name: its
    sections and positions (the keys of ``field_positions`` are ``section.field``)."""
    by_name: dict[str, list[tuple[str, int]]] = {}
    for key, position in state.field_positions.items():
        section, _, name = key.partition(".")
        by_name.setdefault(name, []).append((section, position))
    return by_name


#: The field names each rule's parameters name, by the parameters' id (an entry holds its
#: parameters, so the id stays theirs); programs are few and their rules immutable.
_NAMED: dict[int, tuple[p.Params, frozenset[str]]] = {}


def _named_fields(params: p.Params) -> frozenset[str]:
    """Every name the parameters give: a field, a list of fields, or the keys of a mapping of
    limits (the strings among their values, that is; the names of no field match nothing)."""
    found = _NAMED.get(id(params))
    if found is not None and found[0] is params:
        return found[1]
    names: set[str] = set()
    for value in msgspec.structs.asdict(params).values():
        if isinstance(value, str):
            names.add(value)
        elif isinstance(value, list | tuple):
            names.update(v for v in value if isinstance(v, str))
        elif isinstance(value, dict):
            names.update(k for k in value if isinstance(k, str))
    if len(_NAMED) >= 4096:
        _NAMED.clear()
    named = frozenset(names)
    _NAMED[id(params)] = (params, named)
    return named


def _field_evidence(fields: dict[str, list[tuple[str, int]]], params: p.Params) -> tuple[int, ...]:
    """The positions of the edits that set the declared fields a rule reads (``fields``, from
    :func:`_fields_by_name`): every field its parameters name, in the rule's own section when it
    names one."""
    only = getattr(params, "section", None)
    return tuple(
        position
        for name in _named_fields(params)
        for section, position in fields.get(name, ())
        if only is None or section == only
    )


def admission_checklist(
    state: ProjectState, program: p.ProgramDefinition, ref: ReferenceView, today: dt.date
) -> list[RuleStatus]:
    """Each admission condition of the program: met, unmet, or waived (with who and why)."""
    waivers = {w.condition_id: w for w in state.waivers}
    fields = _fields_by_name(state)
    out = []
    for rule in program.admission:
        outcome = _check_admission(rule.params, state, ref, today)
        declared = _field_evidence(fields, rule.params)
        if declared:
            evidence = tuple(sorted({*outcome.evidence, *declared}))
            outcome = msgspec.structs.replace(outcome, evidence=evidence)
        waiver = waivers.get(rule.id)
        if outcome.status != "met" and waiver is not None:
            out.append(
                RuleStatus(
                    id=rule.id,
                    label_zh=rule.label_zh,
                    label_en=rule.label_en,
                    kind=rule.kind,
                    status="waived",
                    evidence=(*outcome.evidence, waiver.position),
                    missing_zh=outcome.missing_zh,
                    missing_en=outcome.missing_en,
                    waived_by=waiver.by,
                    waiver_reason=waiver.reason,
                )
            )
            continue
        out.append(
            RuleStatus(
                id=rule.id,
                label_zh=rule.label_zh,
                label_en=rule.label_en,
                kind=rule.kind,
                status=outcome.status,
                evidence=outcome.evidence,
                progress=outcome.progress,
                missing_zh=outcome.missing_zh,
                missing_en=outcome.missing_en,
            )
        )
    return out


# -- exit ------------------------------------------------------------------------------------


def _window(today: dt.date, days: int) -> dt.date:
    return today - dt.timedelta(days=days - 1)


def _ok(*evidence: int, **progress: int | str | None) -> _Outcome:
    return _Outcome(status="ok", evidence=tuple(sorted(set(evidence))), progress=progress)


def _breach(action: str, *evidence: int, **progress: int | str | None) -> _Outcome:
    return _Outcome(status="breached", action=action, evidence=tuple(sorted(set(evidence))), progress=progress)


#: The declared field that names how often the applicant reports (``test_plan``), in days.
CADENCE_FIELD = "reporting_cadence_days"


def report_cadence(state: ProjectState, program: p.ProgramDefinition) -> int:
    """How often, in days, the project reports: the cadence its admitted test plan declares, if
    it is shorter than the program's (a plan may promise more frequent reports, never fewer);
    else the program's."""
    longest = program.durations.report_cadence_days
    declared = _declared(state, CADENCE_FIELD)
    if isinstance(declared, int) and not isinstance(declared, bool) and 1 <= declared < longest:
        return declared
    return longest


def next_report_due(state: ProjectState, cadence_days: int) -> dt.date | None:
    """The day the next periodic report is due (None before the test starts)."""
    if state.test_started_on is None:
        return None
    last = max((r.period_end for r in state.reports), default=state.test_started_on)
    if last > dt.date.max - dt.timedelta(days=cadence_days):
        return dt.date.max
    return last + dt.timedelta(days=cadence_days)


def _check_exit(params: p.Params, state: ProjectState, program: p.ProgramDefinition, today: dt.date) -> _Outcome:
    if state.test_started_on is None and not isinstance(params, p.ExternalEvent):
        return _Outcome(status="not_applicable")
    match params:
        case p.TestPeriod():
            assert state.test_started_on is not None
            end = state.planned_end or state.test_started_on
            elapsed = (min(today, end) - state.test_started_on).days
            total = (end - state.test_started_on).days
            progress: Progress = {
                "days_elapsed": elapsed,
                "days_total": total,
                "planned_end": end.isoformat(),
                "extensions_granted": state.extensions_granted,
                "max_extensions": params.max_extensions,
            }
            if today >= end:
                return _Outcome(status="reached", action="final_evaluation", progress=progress)
            return _Outcome(status="ok", progress=progress)
        case p.Graduation():
            kpis = _declared(state, "kpis")
            required = [str(k) for k in kpis] if isinstance(kpis, list) else []
            achieved = set(state.final_report_kpis).union(*(set(r.kpis_met) for r in state.reports))
            missing = [k for k in required if k not in achieved]
            progress = {"kpis_required": len(required), "kpis_met": len(required) - len(missing)}
            evidence = [r.position for r in state.reports if r.kpis_met]
            if state.final_report_position:
                evidence.append(state.final_report_position)
            if not missing and state.final_report_accepted:
                return _Outcome(status="reached", progress=progress, evidence=tuple(evidence))
            return _Outcome(
                status="ok",
                progress=progress,
                evidence=tuple(evidence),
                missing_zh=f"未达成指标：{', '.join(missing)}" if missing else "最终报告尚未通过",
                missing_en=f"KPIs not met: {', '.join(missing)}" if missing else "final report not accepted",
            )
        case p.Incidents():
            matching = [
                i
                for i in state.incidents
                if i.severity == params.severity and (not params.kinds or i.kind in params.kinds)
            ]
            evidence_list = [i.position for i in matching]
            overdue = [
                i
                for i in matching
                if params.remediation_days is not None
                and i.remediated_on is None
                and (today - i.occurred_on).days > params.remediation_days
            ]
            progress = {
                "incidents": len(matching),
                "suspend_at": params.suspend_at,
                "exit_at": params.exit_at,
                "unremediated_over_limit": len(overdue),
            }
            if (params.exit_at is not None and len(matching) >= params.exit_at) or overdue:
                return _breach("forced_exit", *evidence_list, **progress)
            if params.suspend_at is not None and len(matching) >= params.suspend_at:
                return _breach("suspension", *evidence_list, **progress)
            return _ok(*evidence_list, **progress)
        case p.ComplaintRate():
            since = _window(today, params.window_days)
            in_window, evidence = complaint_count(state, since, today)
            total, _ = complaint_count(state, dt.date.min, dt.date.max)
            users = _latest_metric(state, "active_users")
            rate = in_window * 1000 // users if users else 0
            progress = {
                "complaints_in_window": in_window,
                "active_users": users,
                "per_mille": rate,
                "limit_per_mille": params.per_mille,
                "total": total,
                "max_total": params.max_total,
            }
            over_rate = users > 0 and in_window * 1000 > params.per_mille * users
            over_total = params.max_total is not None and total > params.max_total
            if over_rate or over_total:
                return _breach(params.action, *evidence, **progress)
            return _ok(*evidence, **progress)
        case p.CapBreach():
            over = []
            evidence = []
            progress = {}
            latest = state.reports[-1] if state.reports else None
            for metric, boundary in params.caps.items():
                cap = _declared(state, boundary)
                value = latest.metrics.get(metric) if latest else None
                progress[metric] = value
                progress[boundary] = cap if isinstance(cap, int) else None
                if latest and isinstance(cap, int) and value is not None and value > cap:
                    over.append(metric)
                    evidence.append(latest.position)
            if over:
                return _breach(params.action, *evidence, **progress)
            return _ok(**progress)
        case p.MetricLimit():
            since = _window(today, params.window_days)
            reports = [r for r in reported(state, params.metric) if since <= r.period_end <= today]
            amount = sum(r.metrics[params.metric] for r in reports)
            evidence = [r.position for r in reports if r.metrics[params.metric]]
            if params.ratio_of:
                base = sum(
                    r.metrics[params.ratio_of]
                    for r in reported(state, params.ratio_of)
                    if since <= r.period_end <= today
                )
                value = amount * params.scale // base if base else 0
                exceeded = base > 0 and amount * params.scale > params.limit * base
            else:
                value, exceeded = amount, amount > params.limit
            progress = {"value": value, "limit": params.limit, "window_days": params.window_days}
            if exceeded:
                return _breach(params.action, *evidence, **progress)
            return _ok(*evidence, **progress)
        case p.Compensation():
            uncompensated = [
                i
                for i in state.incidents
                if i.consumer_loss_yuan > 0
                and not (i.compensated and i.remediated_on and (i.remediated_on - i.occurred_on).days <= params.days)
                and (today - i.occurred_on).days > params.days
            ]
            pending = [i for i in state.incidents if i.consumer_loss_yuan > 0 and not i.compensated]
            progress = {"losses_pending": len(pending), "late": len(uncompensated), "days": params.days}
            if uncompensated:
                return _breach(params.action, *(i.position for i in uncompensated), **progress)
            return _ok(*(i.position for i in pending), **progress)
        case p.ReportTimeliness():
            due = next_report_due(state, report_cadence(state, program))
            assert due is not None
            days_late = (today - due).days
            progress = {"next_due": due.isoformat(), "days_late": max(days_late, 0)}
            # The evidence is the event the due date counts from (the last report, or the start
            # of the test): each missed due date is its own breach, warned about once.
            basis = _report_basis(state)
            if state.state not in IN_TEST:
                return _Outcome(status="ok", progress=progress)
            if days_late > params.suspension_days:
                return _breach("suspension", basis, **progress)
            if days_late > params.warning_days:
                return _Outcome(status="warning", action="warning", evidence=(basis,), progress=progress)
            return _ok(basis, **progress)
        case p.Dormancy():
            if state.state not in IN_TEST:  # only a running test can be dormant
                return _Outcome(status="not_applicable")
            active = [r for r in state.reports if r.metrics.get("transactions", 0) or r.metrics.get("trades", 0)]
            trade_facts = [f for f in state.facts if f.trigger in FACTS_READ[p.Dormancy]]
            assert state.test_started_on is not None
            last = max([r.period_end for r in active] + [f.on for f in trade_facts] + [state.test_started_on])
            idle = (today - last).days
            progress = {"last_activity": last.isoformat(), "idle_days": idle, "limit_days": params.days}
            if idle > params.days:
                return _breach(params.action, **progress)
            return _ok(**progress)
        case p.ValuationAge():
            pledged = pledge_outstanding(state)
            valuations = [d for d in state.documents if d.kind == "valuation_report" and d.issued_on]
            latest_val = max(valuations, key=lambda d: d.issued_on or dt.date.min, default=None)
            progress = {
                "pledged": "yes" if pledged else "no",
                "valuation_on": latest_val.issued_on.isoformat() if latest_val and latest_val.issued_on else None,
            }
            if pledged and (
                latest_val is None
                or latest_val.issued_on is None
                or months_later(latest_val.issued_on, params.months) < today
            ):
                return _breach(params.action, *([latest_val.position] if latest_val else []), **progress)
            return _ok(*([latest_val.position] if latest_val else []), **progress)
        case p.ExternalEvent():
            evidence = [f.position for f in state.facts if f.trigger in params.triggers]
            if evidence:
                return _breach(params.action, *evidence, triggers=len(evidence))
            return _ok(triggers=0)
        case p.VoluntaryExit():
            if state.exit_mode == "voluntary":
                notified = state.exit_users_notified_on
                return _Outcome(
                    status="reached",
                    progress={"users_notified_on": notified.isoformat() if notified else None},
                )
            return _Outcome(status="not_applicable")
        case _:
            return _Outcome(status="not_applicable")


def complaint_count(state: ProjectState, since: dt.date, until: dt.date) -> tuple[int, list[int]]:
    """How many complaints a threshold counts between ``since`` and ``until``, and the positions
    of the events they rest on. Every complaint is counted once.

    Complaints reach the registry two ways: one by one (``LogComplaint``, dated ``received_on``)
    and as the ``complaints`` figure of a periodic metrics report, which is the applicant's count
    for its whole period and so already includes the complaints logged one by one in that period.
    Adding the two would count a logged complaint twice. So:

    - a report counts when its period ends within the window, for the larger of its reported
      figure and the complaints logged within its period (a report that under-counts the
      complaints the registry holds individually cannot lower the count);
    - a logged complaint outside the period of every report with a ``complaints`` figure counts
      on its own, when it was received within the window.

    Several reports for the very same period are corrections of one another: the latest counts.
    """
    periods = reported(state, "complaints")
    count, evidence = 0, []
    for report in periods:
        if not since <= report.period_end <= until:
            continue
        logged = [c for c in state.complaints if report.period_start <= c.received_on <= report.period_end]
        count += max(report.metrics["complaints"], len(logged))
        evidence += [report.position, *(c.position for c in logged)]
    for complaint in state.complaints:
        covered = any(r.period_start <= complaint.received_on <= r.period_end for r in periods)
        if not covered and since <= complaint.received_on <= until:
            count += 1
            evidence.append(complaint.position)
    return count, evidence


def reported(state: ProjectState, metric: str) -> list[Report]:
    """The reports that give ``metric``, one per period: several reports for the very same
    period are corrections of one another, and the latest of them counts (a correction never
    adds to the figure it corrects)."""
    latest = {(r.period_start, r.period_end): r for r in state.reports if metric in r.metrics}
    return list(latest.values())


def _report_basis(state: ProjectState) -> int:
    """The position of the report whose period the next report is due after, or of the test's
    start when nothing has been reported yet (0 while that report is not stored yet)."""
    if state.reports:
        return max(state.reports, key=lambda r: (r.period_end, r.position)).position
    return next((h.position for h in state.history if h.state == State.TESTING), 0)


def _latest_metric(state: ProjectState, metric: str) -> int:
    for report in reversed(state.reports):
        if metric in report.metrics:
            return report.metrics[metric]
    return 0


#: The kinds of exit criterion that are goals: they are reached (or do not apply), never breached
#: or warned about, so a command's consequences need not evaluate them.
GOALS: tuple[type[p.Params], ...] = (p.TestPeriod, p.Graduation, p.VoluntaryExit)


def exit_criteria(
    state: ProjectState,
    program: p.ProgramDefinition,
    today: dt.date,
    *,
    skip: tuple[type[p.Params], ...] = (),
) -> list[RuleStatus]:
    """Each exit criterion of the program with its status, progress and evidence positions
    (except those whose kind is in ``skip``)."""
    out = []
    for rule in program.exit:
        if skip and isinstance(rule.params, skip):
            continue
        outcome = _check_exit(rule.params, state, program, today)
        out.append(
            RuleStatus(
                id=rule.id,
                label_zh=rule.label_zh,
                label_en=rule.label_en,
                kind=rule.kind,
                status=outcome.status,
                evidence=outcome.evidence,
                progress=outcome.progress,
                missing_zh=outcome.missing_zh,
                missing_en=outcome.missing_en,
                action=outcome.action,
            )
        )
    return out


def unmet_conditions(checklist: list[RuleStatus]) -> list[RuleStatus]:
    return [c for c in checklist if c.status == "unmet"]


__all__ = [
    "GOALS",
    "ReferenceView",
    "RuleStatus",
    "State",
    "admission_checklist",
    "declared_period",
    "exit_criteria",
    "months_later",
    "next_report_due",
    "parse_date",
    "unmet_conditions",
]
