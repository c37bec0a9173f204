"""Response bodies of the HTTP API (request bodies are the command types of ``schemas.commands``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import msgspec

from projections.public import RegisterEntry
from schemas.base import EventMetadata
from schemas.commands import Text
from schemas.programs import ProgramDefinition
from schemas.reference import Dataset


class CommandAccepted(msgspec.Struct, kw_only=True):
    """What a command appended: the project, its new version, the positions and event types."""

    project_id: str
    version: int
    positions: list[int]
    events: list[str]


class ProjectSummary(msgspec.Struct, kw_only=True):
    id: str
    program_key: str
    program_version: int
    title: str
    app_type: str
    state: str
    state_zh: str
    state_en: str
    applicant: str
    lead_name: str
    partners: list[str]
    region: str
    created_on: str | None
    submitted_on: str | None
    notice_starts: str | None
    notice_ends: str | None
    admitted_on: str | None
    test_started_on: str | None
    planned_end: str | None
    case_officer: str | None
    version: int
    last_position: int
    latest_metrics: dict[str, int]


class ProjectPage(msgspec.Struct, kw_only=True):
    total: int
    limit: int
    offset: int
    items: list[ProjectSummary]


class RegisterPage(msgspec.Struct, kw_only=True):
    total: int
    limit: int
    offset: int
    items: list[RegisterEntry]


class QueueEntry(msgspec.Struct, kw_only=True):
    project_id: str
    item: str
    role: str
    label_zh: str
    label_en: str
    due_on: str | None
    since_position: int
    overdue: bool
    #: the persons who may not take the item (four eyes: the recommender, earlier approvers)
    excluded: list[str] = []


class AuditEntry(msgspec.Struct, kw_only=True):
    position: int
    project_id: str
    type: str
    actor: str
    role: str
    organisation: str | None
    occurred_at: str
    recorded_at: str
    rule_version: str | None
    reason: str | None
    detail: dict[str, Any]


class EventOut(msgspec.Struct, kw_only=True):
    """One stored event, decoded. ``redacted`` names the metadata fields withheld from this
    reader (an applicant does not learn who commented or objected) and the payload fields, as
    ``data.<name>`` (shown as null: an assessment's summary, an objector's name and contact):
    ``hash`` covers the stored values, so such an event does not re-hash from what is shown here;
    the auditor's export does."""

    position: int
    stream_id: str
    version: int
    type: str
    event_id: str
    data: dict[str, Any]
    metadata: EventMetadata
    recorded_at: dt.datetime
    hash: str
    redacted: list[str] = []


class EventPage(msgspec.Struct, kw_only=True):
    items: list[EventOut]
    next_after: int
    head: int


class VerifyOut(msgspec.Struct, kw_only=True):
    ok: bool
    count: int
    head_position: int
    head_hash: str
    failed_position: int | None
    reason: str | None
    reason_zh: str | None
    #: The code of the rule broken (``chain`` or one the README lists under "The rules of the log").
    rule: str | None = None


class ProgramPublished(msgspec.Struct, kw_only=True):
    """A program version was published at this global position."""

    key: str
    version: int
    position: int


class ProgramOut(msgspec.Struct, kw_only=True):
    key: str
    kind: str
    name_zh: str
    name_en: str
    latest_version: int
    versions: list[ProgramDefinition]


class Health(msgspec.Struct, kw_only=True):
    """``ok``, or ``degraded`` while the read models hold failures: events they could not fold or
    projects whose rows they could not derive (``sandbox-registry rebuild`` lists them)."""

    status: Literal["ok", "degraded"]
    head_position: int
    read_models_position: int
    read_model_failures: int


class ReferenceUpdate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The whole new set of one reference dataset (it replaces the set), and what changed."""

    records: list[dict[str, Any]]
    changes: list[Text] = []


class ReferenceOut(msgspec.Struct, kw_only=True):
    """One reference dataset in force, as records, with the log position it was read at and the
    dataset's version (also its ``ETag``: send it as ``If-Match`` with a replacement)."""

    dataset: Dataset
    records: list[dict[str, Any]]
    position: int
    version: int
