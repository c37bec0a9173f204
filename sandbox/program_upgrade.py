"""Bringing a registry's programs up to the bundled definitions.

``init`` publishes each bundled program once, as version 1; after that the log, not the files,
is the source of truth. A registry created by an earlier release therefore keeps the version 1
of that release (without stage gates, KPI kinds, required assessment topics, pledge rules or
public fields) until it is upgraded: each bundled definition whose rules differ from its
program's latest published version is published as that program's next version, in force from
a given day. Nothing else changes: a project submitted before stays bound to the version it
bound to; a draft, and every project submitted from that day on, takes the new one.
"""

from __future__ import annotations

import datetime as dt

import msgspec

from sandbox.deciders.catalog import describe_changes
from sandbox.metadata import SYSTEM
from sandbox.service import Registry
from schemas.bundled import load_programs
from schemas.errors import DomainError
from schemas.programs import ProgramDefinition


def same_rules(published: ProgramDefinition, bundled: ProgramDefinition) -> bool:
    """Whether a published version says what the bundled definition says (its number and its
    effective day aside)."""
    return msgspec.structs.replace(published, version=bundled.version, effective_from=bundled.effective_from) == bundled


def next_version(
    published: list[ProgramDefinition], bundled: ProgramDefinition, effective_from: dt.date, today: dt.date
) -> ProgramDefinition | None:
    """The bundled definition as the program's next version, in force from ``effective_from``
    (today or later: the rules of a day already past are not rewritten, and never before the
    latest version's own day); None when the latest version says what it says, or when the
    registry holds no version yet (``init`` publishes the first). Pure."""
    if effective_from < today:
        raise DomainError(
            "invalid_value",
            field="effective_from",
            rule_zh=f"生效日期不得早于今天（{today}）",
            rule_en=f"a new version takes effect today ({today}) or later, not on a day already past",
        )
    if not published or same_rules(published[-1], bundled):
        return None
    latest = published[-1]
    day = max(effective_from, latest.effective_from)
    return msgspec.structs.replace(bundled, version=latest.version + 1, effective_from=day)


def upgrade_bundled(registry: Registry, effective_from: dt.date, today: dt.date) -> list[ProgramDefinition]:
    """Publish each bundled definition that differs from its program's latest version as the
    next version (see :func:`next_version`); the versions published, none when every program is
    up to date. Running it again publishes nothing more."""
    published: list[ProgramDefinition] = []
    for bundled in load_programs():
        versions = registry.program_versions(bundled.key)
        definition = next_version(versions, bundled, effective_from, today)
        if definition is None:
            continue
        changes = ["bundled definition", *describe_changes(versions[-1], definition)]
        registry.publish_program(definition, SYSTEM, command_id=f"bundled:{definition.ref}", changes=changes)
        published.append(definition)
    return published
