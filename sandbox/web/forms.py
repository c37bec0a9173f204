"""HTML forms for the registry's commands, built from the command types themselves.

A command's form is derived from its msgspec Struct: each field becomes an input of its kind (a
date, a number, a choice of the literal values, lines for a list, ``name=value`` lines for a
map, a box for a yes/no), so a field added to a command appears on its page with nothing else to
change. A posted form becomes the same command the JSON API decodes: :func:`command_from_form`
converts it with the same types and names every invalid field, with the same bilingual rules
(``schemas.validation.explain``) that the API's problem documents carry.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import msgspec
from msgspec import inspect as mi

from schemas.validation import Violation, explain

#: field name -> (Chinese, English)
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "reason": ("理由（可选）", "Reason (optional)"),
    "program_key": ("项目类型", "Program"),
    "title": ("应用名称", "Title"),
    "app_type": ("应用类型", "Type"),
    "lead_name": ("牵头机构名称", "Lead institution"),
    "lead_kind": ("牵头机构类别", "Kind of lead"),
    "region": ("地区", "Region"),
    "lead_licence_no": ("许可证号", "Licence number"),
    "organisation": ("机构代码", "Organisation"),
    "name": ("名称", "Name"),
    "role": ("角色", "Role"),
    "licence_no": ("许可证号", "Licence number"),
    "kind": ("类别", "Kind"),
    "sha256": ("SHA-256", "SHA-256"),
    "holder": ("持有机构", "Holder"),
    "issued_on": ("签发日期", "Issued on"),
    "statement": ("声明事项", "Statement"),
    "text": ("内容", "Text"),
    "summary": ("摘要", "Summary"),
    "items": ("需补充的材料（每行一项）", "Items asked for (one a line)"),
    "due_on": ("截止日期", "Due on"),
    "officer": ("经办人", "Case officer"),
    "topic": ("评估事项", "Topic"),
    "outcome": ("结论", "Outcome"),
    "channel": ("公示渠道", "Channel"),
    "starts_on": ("开始日期", "Starts on"),
    "grounds": ("异议理由", "Grounds"),
    "objector_name": ("姓名", "Name"),
    "objector_contact": ("联系方式（仅监管部门可见）", "Contact (seen by regulators only)"),
    "contact": ("联系方式（仅监管部门可见）", "Contact (seen by regulators only)"),
    "objection_id": ("异议编号", "Objection"),
    "decision": ("决定", "Decision"),
    "exit_mode": ("退出方式", "Exit mode"),
    "category": ("类别", "Category"),
    "condition_id": ("准入条件", "Condition"),
    "started_on": ("开始日期", "Started on"),
    "period_start": ("报告期起", "Period start"),
    "period_end": ("报告期止", "Period end"),
    "metrics": ("指标（每行 名称=数值）", "Metrics (one name=value a line)"),
    "kpis_met": ("已达成的 KPI（每行一项）", "KPIs met (one a line)"),
    "occurred_at": ("发生时间", "Occurred at"),
    "incident_id": ("事件编号", "Incident"),
    "severity": ("严重程度", "Severity"),
    "occurred_on": ("发生日期", "Occurred on"),
    "consumer_loss_yuan": ("消费者损失（元）", "Consumer loss (yuan)"),
    "description": ("描述", "Description"),
    "compensated": ("已赔付", "Compensated"),
    "complaint_id": ("投诉编号", "Complaint"),
    "received_on": ("收到日期", "Received on"),
    "months": ("月数", "Months"),
    "mode": ("方式", "Mode"),
    "users_notified_on": ("告知用户日期", "Users notified on"),
    "planned_exit_on": ("计划退出日期", "Planned exit on"),
    "trigger": ("触发事项", "Trigger"),
    "on": ("日期", "On"),
    "detail": ("说明", "Detail"),
    "breach_position": ("违规事件位置", "Breach (event position)"),
    "effective_on": ("生效日期", "Effective on"),
    "fields": ("申报字段", "Declared fields"),
    "section": ("申请部分", "Section"),
    "media_type": ("文件类型", "Media type"),
    "size": ("大小（字节）", "Size (bytes)"),
    "outage_minutes": ("中断时长（分钟）", "Outage (minutes)"),
    "pledgee": ("质权人", "Pledgee"),
    "registration_no": ("登记编号", "Registration no."),
    "valuation_sha256": ("评估报告 SHA-256", "Valuation report SHA-256"),
    "waive_kpis": ("豁免的 KPI（每行一项）", "KPIs waived (one a line)"),
}


@dataclass(frozen=True, slots=True)
class Input:
    """One input of a form: its name, widget and labels, whether it is required, its choices."""

    name: str
    widget: str  # text, textarea, number, date, datetime, checkbox, select, lines, pairs
    label_zh: str
    label_en: str
    required: bool
    choices: tuple[str, ...] = ()


def _widget(kind: mi.Type) -> tuple[str, tuple[str, ...]]:
    if isinstance(kind, mi.UnionType):
        inner = [t for t in kind.types if not isinstance(t, mi.NoneType)]
        return _widget(inner[0]) if len(inner) == 1 else ("text", ())
    if isinstance(kind, mi.LiteralType):
        return "select", tuple(str(v) for v in kind.values)
    if isinstance(kind, mi.BoolType):
        return "checkbox", ()
    if isinstance(kind, mi.IntType):
        return "number", ()
    if isinstance(kind, mi.DateType):
        return "date", ()
    if isinstance(kind, mi.DateTimeType):
        return "datetime", ()
    if isinstance(kind, mi.ListType | mi.TupleType | mi.VarTupleType | mi.SetType):
        return "lines", ()
    if isinstance(kind, mi.DictType):
        return "pairs", ()
    if isinstance(kind, mi.StrType) and (kind.max_length is None or kind.max_length > 400) and kind.pattern is None:
        return "textarea", ()
    return "text", ()


@functools.cache
def inputs_of(command_type: type[msgspec.Struct], *, skip: frozenset[str] = frozenset()) -> tuple[Input, ...]:
    """The inputs of a command's form, in its fields' order, the optional reason last (worked out
    once per command type)."""
    info = mi.type_info(command_type)
    assert isinstance(info, mi.StructType)
    found = []
    for f in info.fields:
        if f.name in skip:
            continue
        widget, choices = _widget(f.type)
        zh, en = FIELD_LABELS.get(f.name, (f.name, f.name.replace("_", " ")))
        found.append(Input(f.name, widget, zh, en, f.required, choices))
    return tuple(sorted(found, key=lambda i: i.name == "reason"))


def _value(widget: str, raw: str) -> Any:
    if widget == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if widget == "pairs":
        pairs: dict[str, Any] = {}
        for line in raw.splitlines():
            name, sep, value = line.partition("=")
            if sep and name.strip():
                text = value.strip()
                pairs[name.strip()] = int(text) if text.lstrip("-").isdigit() else text
        return pairs
    if widget == "number":
        text = raw.strip()
        return int(text) if text.lstrip("-").isdigit() else text
    return raw


def form_body(
    command_type: type[msgspec.Struct], form: dict[str, str], *, skip: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The JSON body a form stands for: empty inputs are left out (their default applies), a box
    is ticked or not."""
    body: dict[str, Any] = {}
    for i in inputs_of(command_type, skip=skip):
        if i.widget == "checkbox":
            if f"{i.name}__shown" in form or i.name in form:
                body[i.name] = form.get(i.name) in ("on", "true", "1")
            continue
        raw = form.get(i.name, "")
        if raw.strip() == "":
            continue
        body[i.name] = _value(i.widget, raw)
    return body


def command_from_form(
    command_type: type[msgspec.Struct], form: dict[str, str], *, extra: dict[str, Any] | None = None
) -> msgspec.Struct | list[Violation]:
    """The command a posted form stands for, or every invalid field of it."""
    body = {**form_body(command_type, form, skip=frozenset(extra or ())), **(extra or {})}
    try:
        return msgspec.convert(body, command_type, strict=False)
    except msgspec.ValidationError:
        found = explain(command_type, body)
        return found or [Violation(field="", rule="is not valid", rule_zh="无效")]


def by_field(errors: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """A problem's errors keyed by the input they belong to (``fields.start_date`` belongs to
    ``start_date``; an error naming no input goes under ``""``, shown at the top of the form)."""
    keyed: dict[str, list[dict[str, Any]]] = {}
    for e in errors:
        field = str(e.get("field") or "")
        name = field.split("[", 1)[0]
        name = name.removeprefix("fields.")
        keyed.setdefault(name if name != "body" else "", []).append(e)
    return keyed


def refusal(problem: dict[str, Any] | None, form: dict[str, Any] | None) -> dict[str, Any]:
    """What a page shows of a refused form: the problem, its errors beside their inputs, and the
    values sent, so the form comes back as it was filled."""
    return {"problem": problem, "errors": by_field(problem["errors"]) if problem else {}, "form": form or {}}
