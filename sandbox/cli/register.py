"""The register read: the programs, the projects (filtered and searched), one project now or in
the past, and a project's history.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import msgspec
from rich.text import Text

from events.sqlite import utc_now
from projections.views import past_refusal, project_view
from sandbox.cli.failures import Failure, no_project, opened, registry_at
from sandbox.cli.group import db_option, main
from sandbox.cli.output import Shown, emit_json, out
from sandbox.cli.usage import BadValue
from schemas.dates import CHINA, NotAMoment, moment_asked
from schemas.lifecycle import State
from schemas.streams import project_stream
from schemas.text import visible
from schemas.words import plural


@main.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of programs) instead of tables.")
def programs(db: Path | None, as_json: bool) -> None:
    """The programs and their versions, with every admission condition and exit criterion.

    Example: sandbox-registry programs --json
    """
    with registry_at(db) as registry:
        definitions = [d for key in registry.program_keys() for d in registry.program_versions(key)]
    if as_json:
        emit_json(
            [
                {
                    "key": d.key,
                    "version": d.version,
                    "kind": d.kind,
                    "name_zh": d.name_zh,
                    "name_en": d.name_en,
                    "effective_from": d.effective_from,
                    "approvals_required": d.approvals_required,
                    "admission": [{**_rule(r), "stage": r.stage} for r in d.admission],
                    "exit": [_rule(r) for r in d.exit],
                    "incident_severity": msgspec.to_builtins(d.incident_severity),
                    "assessment_topics": msgspec.to_builtins(d.assessment_topics),
                    "public_fields": msgspec.to_builtins(d.public_fields),
                }
                for d in definitions
            ]
        )
        return
    console = out()
    for d in definitions:
        title = f"{d.name_zh} / {d.name_en} — {d.ref} (from {d.effective_from})"
        table = Shown(title, "", "id", "中文", "English", "kind")
        for label, rules in (("admission", d.admission), ("exit", d.exit)):
            for r in rules:
                table.add_row(label, r.id, r.label_zh, r.label_en, r.kind)
        console.print(table)


def _rule(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.id,
        "label_zh": rule.label_zh,
        "label_en": rule.label_en,
        "kind": rule.kind,
        "params": msgspec.to_builtins(rule.params),
    }


@main.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
@click.option("--program", default=None, help="Only this program key.")
@click.option(
    "--state",
    default=None,
    type=click.Choice([s.value for s in State if s is not State.NONE], case_sensitive=False),
    help="Only this lifecycle state (e.g. TESTING).",
)
@click.option("--applicant", default=None, help="Only projects of this organisation, as lead or partner.")
@click.option("--region", default=None, help="Only this region.")
@click.option(
    "--search",
    default=None,
    help="Only projects with every word of TEXT in their title or applicants (any part, Chinese or Latin).",
    metavar="TEXT",
)
@click.option("--limit", default=200, show_default=True, type=click.IntRange(1, 100000))
def projects(
    db: Path | None,
    as_json: bool,
    program: str | None,
    state: str | None,
    applicant: str | None,
    region: str | None,
    search: str | None,
    limit: int,
) -> None:
    """The projects, filtered: id, title, program, state, applicant.

    Example: sandbox-registry projects --search '福州 银行' --state TESTING --json
    """
    state = state.upper() if state else None
    with registry_at(db) as registry:
        assert registry.read_models is not None
        if program is not None and program not in registry.program_keys():
            keys = ", ".join(registry.program_keys())
            raise Failure(f"no program {program!r}; the programs are {keys}", f"没有项目类别 {program!r}；现有：{keys}")
        _, rows = registry.read_models.projects(
            program=program, state=state, applicant=applicant, region=region, search=search, limit=limit
        )
    items = [
        {
            "id": r["id"],
            "title": r["title"],
            "program": r["program_key"],
            "program_version": r["program_version"],
            "state": r["state"],
            "state_zh": r["state_zh"],
            "state_en": r["state_en"],
            "applicant": r["applicant"],
            "region": r["region"],
            "submitted_on": r["submitted_on"],
            **({} if applicant is None else {"applicant_role": "lead" if r["applicant"] == applicant else "partner"}),
        }
        for r in rows
    ]
    if as_json:
        emit_json(items)
        return
    table = Shown(plural(len(items), "project"), "id", "title", "program", "state", "applicant", "region")
    for i in items:
        lead = i["applicant"]
        if i.get("applicant_role") == "partner":  # the organisation asked for is not the lead here
            lead = f"{lead} ({applicant}: partner / 合作机构)"
        table.add_row(i["id"], i["title"], i["program"], f"{i['state_zh']} {i['state']}", lead, i["region"])
    out().print(table)


@main.command()
@db_option
@click.argument("project")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="As it stood at this recorded time (ISO 8601; without an offset, China time), or at the end of this date"
    " in China (YYYY-MM-DD).",
)
@click.option(
    "--position",
    type=click.IntRange(0),
    default=None,
    help="As it stood at this global position (at most the head; not with --as-of).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def show(db: Path | None, project: str, as_of: str | None, position: int | None, as_json: bool) -> None:
    """One project: state, admission checklist and exit criteria, now or as of a time or position.

    Example: sandbox-registry show 3f2a9c1b7d4e --position 120 --json
    """
    # read as the API reads ?as_of= (``schemas.dates.moment_asked``)
    try:
        at = moment_asked(as_of) if as_of is not None else None
    except NotAMoment as e:
        raise BadValue("--as-of", f"{as_of!r} {e}", f"{as_of!r} {e.rule_zh}") from None
    with registry_at(db) as registry:
        head = registry.store.head().position if position is not None else 0
        refused = past_refusal(at is not None, position, head, ("--as-of", "--position"))
        if refused is not None:
            raise BadValue(refused.field, refused.rule_en, refused.rule_zh)
        view = project_view(registry.store, registry.catalog, project, position=position, at=at, now=utc_now())
    if view is None:
        raise no_project(project, then=at is not None or position is not None)
    if as_json:
        value = msgspec.to_builtins(view)
        emit_json(value)
        return
    console = out()
    console.print(Text.assemble((visible(view.title, one_line=True), "bold"), f"  {view.id}  {view.program_ref}"))
    line = f"{view.state_zh} / {view.state_en}   applicant {view.applicant}   as of position {view.as_of_position}"
    console.print(Text(visible(line, one_line=True)))
    for title, statuses in (("admission 准入条件", view.admission), ("exit 退出标准", view.exit)):
        table = Shown(title, "id", "status", "中文", "English", "progress / missing", "evidence")
        for s in statuses:
            note = s.missing_en or ", ".join(f"{k}={v}" for k, v in s.progress.items() if not isinstance(v, list))
            table.add_row(s.id, s.status, s.label_zh, s.label_en, note, " ".join(map(str, s.evidence)))
        console.print(table)


@main.command()
@db_option
@click.argument("project")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of events.")
def history(db: Path | None, project: str, as_json: bool) -> None:
    """The timeline of a project's events with actors, roles and reasons.

    Example: sandbox-registry history 3f2a9c1b7d4e
    """
    with opened(db) as store:
        events = store.read_stream(project_stream(project))
    if not events:
        raise no_project(project)
    rows = [
        {
            "position": e.position,
            "version": e.version,
            "type": e.type,
            "occurred_at": e.metadata.occurred_at,
            "recorded_at": e.recorded_at,
            "actor": e.metadata.actor,
            "role": e.metadata.role,
            "organisation": e.metadata.organisation,
            "reason": e.metadata.reason,
            "rule_version": e.metadata.rule_version,
            "data": msgspec.to_builtins(e.payload),
        }
        for e in events
    ]
    if as_json:
        emit_json(rows)
        return
    columns = ("pos", "occurred", "recorded", "event", "actor (role)", "reason")
    table = Shown(f"project {project}: {plural(len(rows), 'event')}", *columns)
    for r in rows:
        table.add_row(
            str(r["position"]),
            r["occurred_at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
            r["recorded_at"].astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
            r["type"],
            f"{r['actor']} ({r['role']})",
            r["reason"] or "",
        )
    out().print(table)
