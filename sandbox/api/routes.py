"""Route handlers under ``/api/v1``. Thin: authenticate, check the role, call the service.

This module deliberately has no ``from __future__ import annotations``: the command routes are
built in a loop, one per command type, and litestar reads their annotations at definition time.
"""

import asyncio
import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncGenerator, Iterator
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage, Stream

from events.export import export_lines
from events.model import RecordedEvent
from events.sqlite import SQLiteEventStore
from projections.project import ProjectState
from projections.public import RegisterEntry
from projections.read_models import SORTABLE, ReadModels
from projections.views import Explanation, ProjectView, explain, project_view, register_as_of
from sandbox.api.auth import PUBLIC_SECURITY, READERS, SECURITY, need, provide_actor, provide_optional_actor
from sandbox.api.models import (
    AuditEntry,
    CommandAccepted,
    EventOut,
    EventPage,
    Health,
    ProgramOut,
    ProjectPage,
    ProjectSummary,
    QueueEntry,
    RegisterPage,
    VerifyOut,
)
from sandbox.api.problems import COMMAND_ERRORS, READ_ERRORS, Problem
from sandbox.deciders import RULES
from sandbox.service import CommandResult, Registry
from schemas import commands as c
from schemas.base import Event
from schemas.commands import Actor
from schemas.errors import DomainError
from schemas.lifecycle import State

ACTOR = {"actor": Provide(provide_actor, sync_to_thread=False)}
OPTIONAL_ACTOR = {"actor": Provide(provide_optional_actor, sync_to_thread=False)}
COMMON_ERRORS = {401: "unauthenticated", 403: "forbidden"}

IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", description="the project version the command expects")]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(name="Idempotency-Key", max_length=200, description="retries with the same key append once"),
]
Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size")]
Offset = Annotated[int, QueryParameter(ge=0, description="rows to skip")]


def _registry(request: Request[Any, Any, Any]) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def _read_models(request: Request[Any, Any, Any]) -> ReadModels:
    models: ReadModels = request.app.state.read_models
    return models


def _store(request: Request[Any, Any, Any]) -> SQLiteEventStore:
    store: SQLiteEventStore = request.app.state.store
    return store


def _now(request: Request[Any, Any, Any]) -> dt.datetime:
    return _registry(request).clock()


def _visible_state(request: Request[Any, Any, Any], actor: Actor, project_id: str) -> ProjectState:
    """The project's state if this actor may see it; 404 for another organisation's project."""
    state = _read_models(request).state(project_id) or _registry(request).load(project_id)
    if state.state == State.NONE:
        raise NotFoundException(f"project {project_id} does not exist")
    if actor.role == "applicant" and actor.organisation not in state.applicants():
        raise NotFoundException(f"project {project_id} does not exist")
    if actor.role not in READERS and actor.role != "applicant":
        raise PermissionDeniedException(f"role '{actor.role}' may not read projects")
    return state


def _accepted(result: CommandResult, status: int) -> Response[CommandAccepted]:
    body = CommandAccepted(
        project_id=result.project_id, version=result.version, positions=result.positions, events=result.event_types
    )
    headers = {"ETag": f'"{result.version}"'}
    if result.duplicate:
        headers["Idempotent-Replayed"] = "true"
    return Response(body, status_code=status, headers=headers)


def _command_id(actor: Actor, key: str | None) -> str:
    return f"http:{actor.id}:{key}" if key else f"http:{uuid.uuid4()}"


def _expected(if_match: str | None) -> int | None:
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    try:
        return int(text)
    except ValueError:
        raise DomainError(
            "invalid_value", field="If-Match", rule_zh="必须为项目版本号", rule_en="must be a project version number"
        ) from None


# -- health, programs -----------------------------------------------------------------------


@get("/health", sync_to_thread=True, security=PUBLIC_SECURITY, tags=["system"])
def health(request: Request[Any, Any, Any]) -> Health:
    """Liveness: the head of the log and how far the read models have caught up."""
    return Health(
        status="ok", head_position=_store(request).head().position, read_models_position=_read_models(request).position
    )


def _program_out(registry: Registry, key: str) -> ProgramOut:
    versions = registry.program_versions(key)
    if not versions:
        raise NotFoundException(f"no program {key}")
    latest = versions[-1]
    return ProgramOut(
        key=key,
        kind=latest.kind,
        name_zh=latest.name_zh,
        name_en=latest.name_en,
        latest_version=latest.version,
        versions=versions,
    )


@get("/programs", sync_to_thread=True, security=PUBLIC_SECURITY, tags=["programs"])
def list_programs(request: Request[Any, Any, Any]) -> list[ProgramOut]:
    """Every program with all its published versions (rules as data, with Chinese and English labels)."""
    registry = _registry(request)
    return [_program_out(registry, key) for key in registry.program_keys()]


@get(
    "/programs/{key:str}",
    sync_to_thread=True,
    security=PUBLIC_SECURITY,
    tags=["programs"],
    raises=[*READ_ERRORS, NotFoundException],
)
def get_program(request: Request[Any, Any, Any], key: FromPath[str]) -> ProgramOut:
    """One program and its versions."""
    return _program_out(_registry(request), key)


@post(
    "/programs/{key:str}/versions",
    sync_to_thread=True,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["programs"],
    status_code=201,
    raises=COMMAND_ERRORS,
)
def publish_program(
    request: Request[Any, Any, Any],
    key: FromPath[str],
    data: JSONBody[c.PublishProgramVersion],
    actor: NamedDependency[Actor],
    idempotency_key: IdempotencyKey = None,
) -> dict[str, int]:
    """Publish a new version of a program (approver). Projects already submitted keep theirs."""
    need(actor, {"approver"})
    if data.definition.key != key:
        raise DomainError(
            "invalid_value", field="definition.key", rule_zh="须与路径一致", rule_en="must match the path"
        )
    position = _registry(request).publish_program(
        data.definition, actor, command_id=_command_id(actor, idempotency_key), changes=data.changes
    )
    return {"position": position}


# -- projects -------------------------------------------------------------------------------


@post(
    "/projects",
    sync_to_thread=True,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["projects"],
    status_code=201,
    raises=COMMAND_ERRORS,
)
def create_project(
    request: Request[Any, Any, Any],
    data: JSONBody[c.CreateDraft],
    actor: NamedDependency[Actor],
    idempotency_key: IdempotencyKey = None,
) -> Response[CommandAccepted]:
    """Create a draft application (applicant). Returns the new project's id and version."""
    need(actor, RULES["create_draft"][0])
    result = _registry(request).create_project(data, actor, command_id=_command_id(actor, idempotency_key))
    return _accepted(result, 201)


@get("/projects", sync_to_thread=True, security=SECURITY, dependencies=ACTOR, tags=["projects"])
def list_projects(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    program: FromQuery[str | None] = None,
    lifecycle_state: Annotated[str | None, QueryParameter(name="state", description="lifecycle state")] = None,
    applicant: FromQuery[str | None] = None,
    region: FromQuery[str | None] = None,
    submitted_from: FromQuery[dt.date | None] = None,
    submitted_to: FromQuery[dt.date | None] = None,
    sort: Annotated[str, QueryParameter(enum=list(SORTABLE))] = "id",
    order: Annotated[str, QueryParameter(enum=["asc", "desc"])] = "asc",
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProjectPage:
    """Projects, filtered, sorted and paged. An applicant sees only its own organisation's."""
    if actor.role == "applicant":
        applicant = actor.organisation
    else:
        need(actor, READERS)
    total, rows = _read_models(request).projects(
        program=program,
        state=lifecycle_state,
        applicant=applicant,
        region=region,
        submitted_from=submitted_from,
        submitted_to=submitted_to,
        sort=sort,
        descending=order == "desc",
        limit=limit,
        offset=offset,
    )
    return ProjectPage(
        total=total, limit=limit, offset=offset, items=[msgspec.convert(r, ProjectSummary) for r in rows]
    )


@get(
    "/projects/{project_id:str}",
    sync_to_thread=True,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["projects"],
    raises=[*READ_ERRORS, NotFoundException],
)
def get_project(
    request: Request[Any, Any, Any],
    project_id: FromPath[str],
    actor: NamedDependency[Actor],
    as_of: Annotated[dt.datetime | None, QueryParameter(description="recorded time (RFC 3339)")] = None,
    position: Annotated[int | None, QueryParameter(ge=0, description="global position")] = None,
) -> Response[ProjectView]:
    """A project's state, admission checklist and exit criteria, now or as of a time or position."""
    _visible_state(request, actor, project_id)
    if as_of is not None and as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=dt.UTC)
    registry = _registry(request)
    view = project_view(_store(request), registry.catalog, project_id, position=position, at=as_of, now=_now(request))
    if view is None:
        raise NotFoundException(f"project {project_id} did not exist then")
    return Response(view, headers={"ETag": f'"{view.version}"'})


def _event_out(event: RecordedEvent[Event]) -> EventOut:
    return EventOut(
        position=event.position,
        stream_id=event.stream_id,
        version=event.version,
        type=event.type,
        event_id=event.event_id,
        data=msgspec.to_builtins(event.payload),
        metadata=event.metadata,
        recorded_at=event.recorded_at,
        hash=event.hash,
    )


@get(
    "/projects/{project_id:str}/events",
    sync_to_thread=True,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["projects"],
    raises=[*READ_ERRORS, NotFoundException],
)
def project_events(
    request: Request[Any, Any, Any], project_id: FromPath[str], actor: NamedDependency[Actor]
) -> list[EventOut]:
    """The project's history: every event with who, when, why and under which rule version."""
    _visible_state(request, actor, project_id)
    return [_event_out(e) for e in _store(request).read_stream("project-" + project_id)]


def _command_route(command_type: type[c.Command]) -> HTTPRouteHandler:
    action = command_type.action
    roles, _ = RULES[action]
    public = action in ("comment", "object")

    def handler(
        request: Request[Any, Any, Any],
        project_id: FromPath[str],
        data: JSONBody[command_type],  # type: ignore[valid-type]
        actor: NamedDependency[Actor],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CommandAccepted]:
        need(actor, roles)
        if not public:
            _visible_state(request, actor, project_id)
        result = _registry(request).execute(
            project_id,
            data,
            actor,
            command_id=_command_id(actor, idempotency_key),
            expected_version=_expected(if_match),
        )
        return _accepted(result, 200)

    handler.__name__ = action
    handler.__doc__ = (command_type.__doc__ or action.replace("_", " ")).strip().splitlines()[0]
    return post(
        f"/projects/{{project_id:str}}/{action}",
        sync_to_thread=True,
        security=PUBLIC_SECURITY + SECURITY if public else SECURITY,
        dependencies=OPTIONAL_ACTOR if public else ACTOR,
        tags=["register" if public else "commands"],
        status_code=200,
        raises=COMMAND_ERRORS,
        operation_id=f"command_{action}",
    )(handler)


COMMAND_ROUTES = [_command_route(t) for t in c.PROJECT_COMMANDS if t is not c.CreateDraft]


# -- register, queue ------------------------------------------------------------------------


@get("/register", sync_to_thread=True, security=PUBLIC_SECURITY, tags=["register"])
def register(
    request: Request[Any, Any, Any],
    program: FromQuery[str | None] = None,
    as_of: Annotated[dt.datetime | None, QueryParameter(description="the register as it stood then")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RegisterPage:
    """The public register (公示/公开): public fields only, no authentication."""
    if as_of is not None:
        if as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=dt.UTC)
        entries = [
            e
            for e in register_as_of(_store(request), at=as_of, now=_now(request))
            if not program or e.program_key == program
        ]
        return RegisterPage(total=len(entries), limit=limit, offset=offset, items=entries[offset : offset + limit])
    total, items = _read_models(request).register(program=program, limit=limit, offset=offset)
    return RegisterPage(
        total=total, limit=limit, offset=offset, items=[msgspec.convert(i, RegisterEntry) for i in items]
    )


@get(
    "/register/{project_id:str}",
    sync_to_thread=True,
    security=PUBLIC_SECURITY,
    tags=["register"],
    raises=[NotFoundException],
)
def register_entry(request: Request[Any, Any, Any], project_id: FromPath[str]) -> RegisterEntry:
    """One project's public entry (only projects that reached public notice are public)."""
    entry = _read_models(request).register_entry(project_id)
    if entry is None:
        raise NotFoundException(f"project {project_id} is not on the public register")
    return msgspec.convert(entry, RegisterEntry)


@get("/queue", sync_to_thread=True, security=SECURITY, dependencies=ACTOR, tags=["queue"])
def queue(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    role: Annotated[str | None, QueryParameter(description="only items waiting for this role")] = None,
) -> list[QueueEntry]:
    """The regulator's work queue: what waits for whom, due dates and overdue items."""
    need(actor, READERS)
    today = _now(request).date()
    return [msgspec.convert(r, QueueEntry) for r in _read_models(request).queue(role=role, today=today)]


# -- audit and the event feed ---------------------------------------------------------------


@get("/audit/verify", sync_to_thread=True, security=SECURITY, dependencies=ACTOR, tags=["audit"])
def audit_verify(request: Request[Any, Any, Any], actor: NamedDependency[Actor]) -> VerifyOut:
    """Re-hash the whole log and check every link; the first bad position and why."""
    need(actor, READERS)
    report = _store(request).verify()
    return VerifyOut(
        ok=report.ok,
        count=report.count,
        head_position=report.head_position,
        head_hash=report.head_hash,
        failed_position=report.failed_position,
        reason=report.reason,
    )


@get("/audit/export", sync_to_thread=True, security=SECURITY, dependencies=ACTOR, tags=["audit"])
def audit_export(request: Request[Any, Any, Any], actor: NamedDependency[Actor]) -> Stream:
    """The whole log as JSON Lines (the same format as ``sandbox-registry export``)."""
    need(actor, READERS)
    store = _store(request)

    def lines() -> Iterator[bytes]:
        yield from export_lines(store.iter_stored(batch=2000))

    return Stream(lines(), media_type="application/jsonl")


@get("/audit/decisions", sync_to_thread=True, security=SECURITY, dependencies=ACTOR, tags=["audit"])
def audit_trail(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    project: FromQuery[str | None] = None,
    after: Annotated[int, QueryParameter(ge=0)] = 0,
    limit: Limit = 200,
) -> list[AuditEntry]:
    """Every decision: who, in which role, when, under which rule version, why, with the recommender and approvers."""
    need(actor, READERS)
    return [msgspec.convert(r, AuditEntry) for r in _read_models(request).audit(project, after=after, limit=limit)]


@get(
    "/audit/decisions/{position:int}",
    sync_to_thread=True,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["audit"],
    raises=[*READ_ERRORS, NotFoundException],
)
def audit_explain(
    request: Request[Any, Any, Any], actor: NamedDependency[Actor], position: FromPath[int]
) -> Explanation:
    """Explain one decision: the rule version, the checklist and criteria then, and the chain of actors."""
    need(actor, READERS)
    found = explain(_store(request), _registry(request).catalog, position)
    if found is None:
        raise NotFoundException(f"no project event at position {position}")
    return found


@get("/events", sync_to_thread=True, security=SECURITY, dependencies=ACTOR, tags=["audit"])
def events_after(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    after: Annotated[int, QueryParameter(ge=0)] = 0,
    limit: Limit = 200,
) -> EventPage:
    """Events after a global position, in order (tail the log with ``next_after``)."""
    need(actor, READERS)
    store = _store(request)
    items = [_event_out(e) for e in store.read_after(after, limit=limit)]
    return EventPage(items=items, next_after=items[-1].position if items else after, head=store.head().position)


@get("/events/stream", security=SECURITY, dependencies=ACTOR, tags=["audit"])
async def events_stream(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    after: Annotated[int | None, QueryParameter(ge=0)] = None,
    last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
    max_events: Annotated[int | None, QueryParameter(ge=1, le=100000)] = None,
) -> ServerSentEvent:
    """Server-Sent Events of every new event; resumes after ``Last-Event-ID`` (a position)."""
    need(actor, READERS)
    store = _store(request)
    start = after if after is not None else 0
    if last_event_id and last_event_id.isdigit():
        start = int(last_event_id)
    elif after is None:
        start = store.head().position
    notifier: asyncio.Condition = request.app.state.appended

    async def feed() -> AsyncGenerator[ServerSentEventMessage, None]:
        position, sent = start, 0
        while max_events is None or sent < max_events:
            batch = await asyncio.to_thread(store.read_after, position, limit=200)
            for event in batch:
                yield ServerSentEventMessage(
                    data=msgspec.json.encode(_event_out(event)).decode(), event=event.type, id=str(event.position)
                )
                position, sent = event.position, sent + 1
                if max_events is not None and sent >= max_events:
                    return
            if not batch:
                async with notifier:
                    # wake on an append here, or poll again: another process may have appended
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(notifier.wait(), timeout=1.0)

    return ServerSentEvent(feed())


ROUTES = [
    health,
    list_programs,
    get_program,
    publish_program,
    create_project,
    list_projects,
    get_project,
    project_events,
    *COMMAND_ROUTES,
    register,
    register_entry,
    queue,
    audit_verify,
    audit_export,
    audit_trail,
    audit_explain,
    events_after,
    events_stream,
]

_ = Problem
