"""The admission checklist: each admission condition of a program, met, unmet or waived, with its evidence."""

from __future__ import annotations

import datetime as dt
from typing import get_args

import msgspec

from projections.project import ProjectState
from projections.rules.declared import applies, declared_value, filled, holders_of
from projections.rules.facts import FACTS_READ, open_facts
from projections.rules.outcome import (
    MISPLACED,
    Outcome,
    ReferenceView,
    RuleStatus,
    admission_check,
    met,
    status_of,
    unmet,
)
from schemas import programs as p
from schemas.dates import months_later, parse_date
from schemas.labels import field_label, fields_listed, listed, value_label
from schemas.reference import CalendarNotCovered
from schemas.tables import every_kind
from schemas.words import plural


def _reference_day(state: ProjectState, today: dt.date) -> dt.date:
    return state.submitted_on or today


def _check_admission(params: p.Params, state: ProjectState, ref: ReferenceView, today: dt.date) -> Outcome:
    check = ADMISSION_CHECKS.get(type(params))
    if check is None:
        return MISPLACED["admission"]
    return check(params, state, ref, today)


def _admission_documents(params: p.Documents, state: ProjectState, ref: ReferenceView, today: dt.date) -> Outcome:
    if not applies(state, params.when_field, params.when_value):
        return met(not_applicable="yes")
    evidence: list[int] = []
    missing: list[tuple[str, str]] = []
    orgs = holders_of(state, params.holders)
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
                zh, en = value_label(kind)
                missing.append((zh, en) if org in ("*", state.organisation) else (f"{zh}（{org}）", f"{en} ({org})"))
    if missing:
        text_zh, text_en = listed(missing)
        return unmet(f"缺少文件：{text_zh}", f"missing documents: {text_en}", *evidence)
    return met(*evidence)


def _admission_attestation(params: p.Attestation, state: ProjectState, ref: ReferenceView, today: dt.date) -> Outcome:
    evidence = []
    missing = []
    for org in holders_of(state, params.holders):
        found = [a for a in state.attestations if a.statement == params.statement and a.organisation == org]
        if found:
            evidence.append(found[-1].position)
        else:
            missing.append(org)
    if missing:
        text = ", ".join(missing)
        statement_zh, statement_en = value_label(params.statement)
        return unmet(
            f"以下机构未声明“{statement_zh}”：{text}",
            f"not attested ({statement_en}) by: {text}",
            *evidence,
        )
    return met(*evidence)


def _admission_fields(params: p.Fields, state: ProjectState, ref: ReferenceView, today: dt.date) -> Outcome:
    if not applies(state, params.when_field, params.when_value):
        return met(not_applicable="yes")
    section = state.section(params.section)
    absent = [f for f in params.required if not filled(section.get(f))]
    bad = [
        _field_is(f, section.get(f))
        for f, values in params.forbidden.items()
        if section.get(f) in values or (isinstance(section.get(f), list) and set(section.get(f) or []) & set(values))  # type: ignore[arg-type]
    ]
    if params.app_types and state.app_type not in params.app_types:
        zh, en = _field_is("app_type", state.app_type)
        bad.append((f"{zh}（应为{'或'.join(params.app_types)}）", f"{en} (one of {' / '.join(params.app_types)})"))
    if absent or bad:
        absent_zh, absent_en = fields_listed(absent)
        bad_zh, bad_en = listed(bad)
        zh = "；".join(x for x in (absent and f"未填写：{absent_zh}", bad and f"不允许：{bad_zh}") if x)
        en = "; ".join(x for x in (absent and f"not declared: {absent_en}", bad and f"not allowed: {bad_en}") if x)
        return unmet(zh, en)
    return met()


def _field_is(field: str, value: object) -> tuple[str, str]:
    """A declared field and its value, each by its name (``数据分级：国家核心数据`` / ``grade: national core data``)."""
    name_zh, name_en = field_label(field)
    values = value if isinstance(value, list) else [value]
    value_zh, value_en = listed([value_label(str(v)) for v in values])
    return f"{name_zh}：{value_zh}", f"{name_en}: {value_en}"


def _not_declared(field: str) -> tuple[str, str]:
    """A field the rule needs that is not declared, by its name."""
    zh, en = field_label(field)
    return f"{zh}（未申报）", f"{en} (not declared)"


def _beyond(field: str, value: int, sign: str, limit: int) -> tuple[str, str]:
    """A declared figure beyond its limit, by the field's name (``最大用户数 20000 > 10000``)."""
    zh, en = field_label(field)
    return f"{zh} {value} {sign} {limit}", f"{en} {value} {sign} {limit}"


def _admission_caps(params: p.Caps, state: ProjectState, ref: ReferenceView, today: dt.date) -> Outcome:
    problems: list[tuple[str, str]] = []
    for field, cap in params.maximum.items():
        value = declared_value(state, field)
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(_not_declared(field))
        elif value > cap:
            problems.append(_beyond(field, value, ">", cap))
    for field, floor in params.minimum.items():
        value = declared_value(state, field)
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(_not_declared(field))
        elif value < floor:
            problems.append(_beyond(field, value, "<", floor))
    if problems:
        text_zh, text_en = listed(list(dict.fromkeys(problems)))
        return unmet(f"边界不符：{text_zh}", f"boundaries not within limits: {text_en}")
    return met()


def _admission_licensed_lead(
    params: p.LicensedLead, state: ProjectState, ref: ReferenceView, today: dt.date
) -> Outcome:
    docs = [d for d in state.documents if d.kind == params.document_kind and d.holder == state.organisation]
    if state.lead_kind not in ("licensed_institution", "operator") or not state.lead_licence_no:
        return unmet(
            "牵头申请机构须持有金融牌照；科技公司只能与持牌机构联合申请",
            "the lead applicant must hold a financial licence; a technology company may only"
            " co-apply with a licensed institution",
        )
    if not docs:
        zh, en = value_label(params.document_kind)
        return unmet(f"缺少牵头机构的金融牌照文件（{zh}）", f"missing the lead's licence document ({en})")
    return met(docs[-1].position)


def _admission_notice(params: p.Notice, state: ProjectState, ref: ReferenceView, today: dt.date) -> Outcome:
    if not applies(state, params.when_field, params.when_value):
        return met(not_applicable="yes")
    if state.notice_starts is None or state.notice_ends is None:
        return unmet("尚未公示", "no public notice held yet")
    evidence = [state.notice_position or 0]
    if state.notice_closed_on is None:
        return unmet("公示期尚未结束", "the public notice has not closed", *evidence)
    try:
        held = _notice_length(state, ref, params.unit)
    except CalendarNotCovered as e:
        return unmet(e.message_zh, e.message_en, *evidence)
    if held < params.days:
        return unmet(
            f"公示期不足 {params.days} 天（实际 {held} 天）",
            f"notice held {plural(held, params.unit + ' day')}, {params.days} required",
            *evidence,
        )
    open_ids = [o.objection_id for o in state.open_objections]
    evidence += [o.position for o in state.objections] + [
        o.disposed_position for o in state.objections if o.disposed_position
    ]
    if open_ids:
        text = ", ".join(open_ids)
        return unmet(f"异议未处理：{text}", f"objections not disposed: {text}", *evidence)
    return met(*evidence, days_held=held)


def _admission_period_max(params: p.PeriodMax, state: ProjectState, ref: ReferenceView, today: dt.date) -> Outcome:
    start = parse_date(declared_value(state, params.start_field))
    end = parse_date(declared_value(state, params.end_field))
    if start is None or end is None:
        zh, en = fields_listed([params.start_field, params.end_field])
        return unmet(f"未声明起止日期：{zh}", f"not declared: {en}")
    if end <= start or end > months_later(start, params.months):
        return unmet(
            f"起止日期须在 {params.months} 个月以内且结束晚于开始",
            f"start and end must be at most {plural(params.months, 'month')} apart, end after start",
        )
    return met(start=start.isoformat(), end=end.isoformat(), max_months=params.months)


def _admission_pilot_area(params: p.PilotArea, state: ProjectState, ref: ReferenceView, today: dt.date) -> Outcome:
    code = declared_value(state, params.field)
    on = _reference_day(state, today)
    if not isinstance(code, str):
        zh, en = field_label(params.field)
        return unmet(f"未申报：{zh}", f"not declared: {en}")
    if not ref.is_pilot_area(code, on):
        area = ref.pilot_area(code)  # (named as the reference data names it; a code it lacks, as declared)
        zh, en = (area.name_zh, area.name_en) if area is not None else (code, code)
        return unmet(f"{zh}在 {on} 不是数字人民币试点地区", f"{en} is not an approved e-CNY pilot area on {on}")
    return met()


def _admission_operator(params: p.Operator, state: ProjectState, ref: ReferenceView, today: dt.date) -> Outcome:
    on = _reference_day(state, today)
    named = declared_value(state, params.field)
    candidates = [state.organisation] + ([named] if isinstance(named, str) else [])
    if not any(ref.is_operator(c, on) for c in candidates):
        return unmet(
            "牵头机构不是指定运营机构，也未指明所接入的运营机构",
            "the lead is not a designated operator and names no designated operator it connects through",
        )
    return met()


def _admission_allowed_values(
    params: p.AllowedValues, state: ProjectState, ref: ReferenceView, today: dt.date
) -> Outcome:
    value = state.section(params.section).get(params.field)
    values = value if isinstance(value, list) else [value] if filled(value) else []
    wrong = [str(v) for v in values if v not in params.allowed]
    zh, en = field_label(params.field)
    if not values:
        return unmet(f"未填写：{zh}", f"not declared: {en}")
    if wrong:
        text = ", ".join(wrong)
        return unmet(f"{zh}不在允许范围：{text}", f"{en} not in the allowed list: {text}")
    return met()


def _admission_wallet_tiers(params: p.WalletTiers, state: ProjectState, ref: ReferenceView, today: dt.date) -> Outcome:
    tier = declared_value(state, params.tier_field)
    limits = ref.tier_limits(tier) if isinstance(tier, int) else None
    if limits is None:
        zh, en = field_label(params.tier_field)
        return unmet(f"未声明有效的{zh}", f"no valid {en} declared")
    over = []
    for field, limit in limits.items():
        declared = declared_value(state, field)
        if not isinstance(declared, int):
            over.append(_not_declared(field))
        elif declared > limit:
            over.append(_beyond(field, declared, ">", limit))
    if over:
        text_zh, text = listed(over)
        return unmet(
            f"钱包限额未申报或超出等级上限：{text_zh}",
            f"wallet caps not declared or above the tier limits: {text}",
        )
    return met()


def _admission_effective_from(
    params: p.EffectiveFrom, state: ProjectState, ref: ReferenceView, today: dt.date
) -> Outcome:
    if not applies(state, params.when_field, params.when_value):
        return met(not_applicable="yes")
    on = _reference_day(state, today)
    if on < params.date:
        return unmet(f"{params.date} 起方可适用", f"applies only from {params.date}")
    return met()


def _admission_no_open_objection(
    params: p.NoOpenObjection, state: ProjectState, ref: ReferenceView, today: dt.date
) -> Outcome:
    open_ids = [o.objection_id for o in state.objections if o.status in ("open", "upheld")]
    disputes = open_facts(state, *FACTS_READ[p.NoOpenObjection])
    if open_ids or disputes:
        text_zh, text_en = listed([(i, i) for i in open_ids] + [value_label("ownership_dispute")] * bool(disputes))
        return unmet(f"存在未解决的异议或权属争议：{text_zh}", f"open objection or ownership dispute: {text_en}")
    return met()


#: The check of each kind of admission condition, by the type of its parameters: one for every
#: kind (a new kind without its check stops the import).
ADMISSION_CHECKS = dict(
    [
        admission_check(p.Documents, _admission_documents),
        admission_check(p.Attestation, _admission_attestation),
        admission_check(p.Fields, _admission_fields),
        admission_check(p.Caps, _admission_caps),
        admission_check(p.LicensedLead, _admission_licensed_lead),
        admission_check(p.Notice, _admission_notice),
        admission_check(p.PeriodMax, _admission_period_max),
        admission_check(p.PilotArea, _admission_pilot_area),
        admission_check(p.Operator, _admission_operator),
        admission_check(p.AllowedValues, _admission_allowed_values),
        admission_check(p.WalletTiers, _admission_wallet_tiers),
        admission_check(p.EffectiveFrom, _admission_effective_from),
        admission_check(p.NoOpenObjection, _admission_no_open_objection),
    ]
)
every_kind(ADMISSION_CHECKS, get_args(p.AdmissionParams), "admission check")


def _notice_length(state: ProjectState, ref: ReferenceView, unit: str) -> int:
    assert state.notice_starts is not None
    end = min(state.notice_ends or state.notice_starts, state.notice_closed_on or state.notice_starts)
    if unit == "working":
        return ref.working_days_between(state.notice_starts, end)
    return (end - state.notice_starts).days


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
            evidence = (*outcome.evidence, waiver.position)
            waived = {"waived_by": waiver.by, "waiver_reason": waiver.reason}
            out.append(status_of(rule, outcome, status="waived", evidence=evidence, progress={}, **waived))
        else:
            out.append(status_of(rule, outcome))
    return out


def unmet_conditions(checklist: list[RuleStatus]) -> list[RuleStatus]:
    return [c for c in checklist if c.status == "unmet"]
