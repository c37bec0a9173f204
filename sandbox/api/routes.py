"""Route handlers under ``/api/v1``. Thin: authenticate, check the role, call the service.

This module deliberately has no ``from __future__ import annotations``: the command routes are
built in a loop, one per command type, and litestar reads their annotations at definition time.
Every handler declares its security and the problems it can answer, so the OpenAPI document tells
the truth; ``tests/api`` holds it to that.
"""

import contextlib
import datetime as dt
from typing import Annotated, Any, Literal, get_args

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from projections.catalog import REFERENCE_PREFIX
from projections.project import local_date
from projections.public import RegisterEntry
from projections.read_models import SORTABLE
from projections.views import ProjectView, project_view, register_as_of, register_entry_as_of
from sandbox.api import problems as p
from sandbox.api.audit import AUDIT_ROUTES
from sandbox.api.auth import PUBLIC_SECURITY, READERS, SECURITY, need
from sandbox.api.common import (
    ACTOR,
    OPTIONAL_ACTOR,
    AsOf,
    IdempotencyKey,
    IfMatch,
    Limit,
    Offset,
    OptionalPosition,
    check_bounds,
    command_id,
    event_out,
    expected_version,
    for_reader,
    now_of,
    one_of,
    query_refused,
    read_models_of,
    registry_of,
    request_digest,
    store_of,
    utc,
    views_of,
    visible_state,
    visible_to,
)
from sandbox.api.models import (
    CommandAccepted,
    EventOut,
    Health,
    ProgramOut,
    ProgramPublished,
    ProjectPage,
    ProjectSummary,
    QueueEntry,
    ReferenceOut,
    ReferenceUpdate,
    RegisterPage,
)
from sandbox.deciders import RULES
from sandbox.service import CommandResult, Registry
from schemas import commands as c
from schemas.commands import Actor
from schemas.errors import DomainError
from schemas.lifecycle import Role, State
from schemas.reference import RECORDS, Dataset

Sort = Literal[
    "id", "title", "state", "program_key", "applicant", "region", "submitted_on", "admitted_on", "last_position"
]
assert set(get_args(Sort)) == set(SORTABLE), "the sortable columns of the read model changed"

#: Commands the public may send (during the public notice), with or without a token.
PUBLIC_ACTIONS = frozenset({"comment", "object"})
#: Short handlers run on the event loop, not in worker threads: the commands and the read of one
#: project. Their work is Python that holds the interpreter lock from start to end (loading the
#: project, deciding, writing the read models, building the view); a worker thread runs none of
#: it in parallel with the loop and only adds hand-offs and lock contention. A command is a
#: coroutine: it decides, then waits for a commit it shares with the commands decided meanwhile
#: (one sync to disk for all of them, ``service.LoopGroupCommit``). The longest of
#: the reads, a project as of a past moment, replays that one project. Reads whose size the
#: caller chooses (pages, exports, as-of replays of the register, event streams) stay in threads,
#: where the interpreter shares its time among them.
SHORT_IN_THREAD = False


def _accepted(result: CommandResult, status: int) -> Response[CommandAccepted]:
    body = CommandAccepted(
        project_id=result.project_id, version=result.version, positions=result.positions, events=result.event_types
    )
    headers = {"ETag": f'"{result.version}"'}
    if result.duplicate:
        headers["Idempotent-Replayed"] = "true"
    return Response(body, status_code=status, headers=headers)


def _roles_text(roles: frozenset[str] | set[str]) -> str:
    return ", ".join(sorted(roles))


# -- health, programs -----------------------------------------------------------------------


@get("/health", sync_to_thread=True, security=PUBLIC_SECURITY, tags=["system"])
def health(request: Request[Any, Any, Any]) -> Health:
    """Liveness: the head of the log, how far the read models have caught up, and how many
    failures they hold (status ``degraded`` while there are any)."""
    head = store_of(request).head().position
    models = read_models_of(request)
    failures = models.failure_count()
    return Health(
        status="degraded" if failures else "ok",
        head_position=head,
        read_models_position=models.position,
        read_model_failures=failures,
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
    registry = registry_of(request)
    return [_program_out(registry, key) for key in registry.program_keys()]


@get(
    "/programs/{key:str}",
    sync_to_thread=True,
    security=PUBLIC_SECURITY,
    tags=["programs"],
    responses=p.responses(400, 404),
)
def get_program(request: Request[Any, Any, Any], key: FromPath[str]) -> ProgramOut:
    """One program and its versions."""
    return _program_out(registry_of(request), key)


@post(
    "/programs/{key:str}/versions",
    sync_to_thread=True,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["programs"],
    status_code=201,
    responses=p.responses(*p.CREATE),
)
def publish_program(
    request: Request[Any, Any, Any],
    key: FromPath[str],
    data: JSONBody[c.PublishProgramVersion],
    actor: NamedDependency[Actor],
    idempotency_key: IdempotencyKey = None,
) -> ProgramPublished:
    """Publish a new version of a program (roles: approver). Projects already submitted keep theirs."""
    need(actor, {"approver"})
    check_bounds(data)
    if data.definition.key != key:
        raise DomainError(
            "invalid_value", field="definition.key", rule_zh="须与路径一致", rule_en="must match the path"
        )
    position = registry_of(request).publish_program(
        data.definition,
        actor,
        command_id=command_id(actor, idempotency_key),
        changes=data.changes,
        request=request_digest("publish_program", key, data) if idempotency_key else None,
    )
    return ProgramPublished(key=key, version=data.definition.version, position=position)


# -- reference data -------------------------------------------------------------------------


@get(
    "/reference/{dataset:str}",
    sync_to_thread=True,
    security=PUBLIC_SECURITY,
    tags=["reference"],
    responses=p.responses(400),
)
def get_reference(request: Request[Any, Any, Any], dataset: FromPath[Dataset]) -> Response[ReferenceOut]:
    """One reference dataset in force: e-CNY pilot areas, designated operators, wallet tiers or
    the public-holiday calendar that working days are counted with. ``ETag`` is its version."""
    return _reference_out(request, dataset, 200)


def _reference_out(request: Request[Any, Any, Any], dataset: Dataset, status: int) -> Response[ReferenceOut]:
    """A dataset as it stands, with its version as the ``ETag``. The version is read before the
    records: an update landing between the two makes the ETag older than the records (a later
    If-Match is refused, safe), never newer (which would let a change the client did not see be
    overwritten)."""
    store = store_of(request)
    version = store.stream_version(REFERENCE_PREFIX + dataset)
    position = store.head().position
    records = registry_of(request).reference(as_of_position=position).records(dataset)
    body = ReferenceOut(dataset=dataset, records=records, position=position, version=version)
    return Response(body, status_code=status, headers={"ETag": f'"{version}"'})


@post(
    "/reference/{dataset:str}",
    sync_to_thread=True,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["reference"],
    status_code=201,
    responses=p.responses(*p.CREATE, 412),
)
def update_reference(
    request: Request[Any, Any, Any],
    dataset: FromPath[Dataset],
    data: JSONBody[ReferenceUpdate],
    actor: NamedDependency[Actor],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[ReferenceOut]:
    """Replace one reference dataset (roles: approver), e.g. publish next year's holiday calendar.
    The records are validated like the bundled files; the event records what changed. The
    records replace the whole set: send the ``ETag`` read with them as ``If-Match``, and a change
    made meanwhile is refused (412) instead of overwritten."""
    need(actor, {"approver"})
    # the typed dates and numbers of the records (a pilot area that joined in year 1 would be one
    # for ever, a cap of 10^30 yuan no cap at all);
    # records that do not convert are left to the registry, which names every bad one
    with contextlib.suppress(msgspec.ValidationError, ValueError):
        check_bounds(msgspec.convert(data.records, RECORDS[dataset]), path="records", text=False)
    registry_of(request).update_reference(
        dataset,
        data.records,
        actor,
        command_id=command_id(actor, idempotency_key),
        changes=data.changes,
        expected_version=expected_version(if_match),
        request=request_digest("update_reference", dataset, data) if idempotency_key else None,
    )
    return _reference_out(request, dataset, 201)


# -- projects -------------------------------------------------------------------------------


@post(
    "/projects",
    sync_to_thread=SHORT_IN_THREAD,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["projects"],
    status_code=201,
    responses=p.responses(*p.CREATE),
)
def create_project(
    request: Request[Any, Any, Any],
    data: JSONBody[c.CreateDraft],
    actor: NamedDependency[Actor],
    idempotency_key: IdempotencyKey = None,
) -> Response[CommandAccepted]:
    """Create a draft application (roles: applicant). Returns the new project's id and version."""
    need(actor, RULES["create_draft"][0])
    asked = request_digest("create_draft", "", data) if idempotency_key else None
    result = registry_of(request).create_project(
        data, actor, command_id=command_id(actor, idempotency_key), request=asked
    )
    return _accepted(result, 201)


@get(
    "/projects",
    sync_to_thread=True,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["projects"],
    responses=p.responses(*p.READ, 422),
)
def list_projects(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    program: FromQuery[str | None] = None,
    lifecycle_state: Annotated[
        str | None, QueryParameter(name="state", description=f"lifecycle state: {', '.join(s.value for s in State)}")
    ] = None,
    applicant: FromQuery[str | None] = None,
    region: FromQuery[str | None] = None,
    submitted_from: FromQuery[dt.date | None] = None,
    submitted_to: FromQuery[dt.date | None] = None,
    sort: Annotated[Sort, QueryParameter(description="the column to sort by")] = "id",
    order: Annotated[Literal["asc", "desc"], QueryParameter(description="ascending or descending")] = "asc",
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProjectPage:
    """Projects, filtered, sorted and paged (roles: regulators, auditor; an applicant sees only its
    own organisation's)."""
    if actor.role != "applicant":
        need(actor, READERS)
    state = one_of("state", lifecycle_state, (s.value for s in State))
    if actor.role == "applicant":
        if applicant is not None and applicant != actor.organisation:  # nothing of another's to see
            return ProjectPage(total=0, limit=limit, offset=offset, items=[])
        applicant = actor.organisation
    total, rows = read_models_of(request).projects(
        program=program,
        state=state,
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
    sync_to_thread=SHORT_IN_THREAD,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["projects"],
    responses=p.responses(*p.READ_ONE, 409, 422),
)
def get_project(
    request: Request[Any, Any, Any],
    project_id: FromPath[str],
    actor: NamedDependency[Actor],
    as_of: AsOf = None,
    position: OptionalPosition = None,
) -> Response[ProjectView]:
    """A project's state, admission checklist and exit criteria, now or as of a recorded time or a
    global position (roles: regulators, auditor, the project's applicants). ``ETag`` is its version."""
    state = visible_state(request, actor, project_id)
    at = _one_moment(as_of, position)
    catalog, now = registry_of(request).catalog, now_of(request)
    if at is None and position is None:  # now: the read models' state, no replay, JSON kept
        view, body = views_of(request).body(state, catalog, local_date(now), actor)
        # (the bytes are the view's JSON: the document still shows the view's schema)
        return Response(body, headers={"ETag": f'"{view.version}"'})  # type: ignore[arg-type]
    found = project_view(store_of(request), catalog, project_id, position=position, at=at, now=now)
    if found is None:
        raise NotFoundException(f"project {project_id} did not exist then")
    return Response(for_reader(found, actor), headers={"ETag": f'"{found.version}"'})


def _one_moment(as_of: dt.datetime | None, position: int | None) -> dt.datetime | None:
    """The recorded time asked for, in UTC: a time or a position may be asked for, not both."""
    if as_of is not None and position is not None:
        raise query_refused("position", "as_of 与 position 只能给出一个", "give as_of or position, not both")
    return utc(as_of)


@get(
    "/projects/{project_id:str}/events",
    sync_to_thread=True,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["projects"],
    responses=p.responses(*p.READ_ONE),
)
def project_events(
    request: Request[Any, Any, Any], project_id: FromPath[str], actor: NamedDependency[Actor]
) -> list[EventOut]:
    """The project's history: every event with who, when, why and under which rule version."""
    visible_state(request, actor, project_id)
    return [event_out(e, actor) for e in store_of(request).read_stream("project-" + project_id)]


def _command_route(command_type: type[c.Command]) -> HTTPRouteHandler:
    action = command_type.action
    roles, _ = RULES[action]
    public = action in PUBLIC_ACTIONS

    async def handler(
        request: Request[Any, Any, Any],
        project_id: FromPath[str],
        data: JSONBody[command_type],  # type: ignore[valid-type]
        actor: NamedDependency[Actor],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CommandAccepted]:
        need(actor, roles)
        check_bounds(data)
        # the public sees only the register: a project that never reached notice "does not exist"
        if public and read_models_of(request).register_entry(project_id) is None:
            raise NotFoundException(f"project {project_id} is not on the public register")
        # a reader's check, made on the state the command is decided on (no second load)
        guard = None if public else visible_to(actor, project_id)
        asked = request_digest(action, project_id, data) if idempotency_key else None
        result = await registry_of(request).execute_async(
            project_id,
            data,
            actor,
            command_id=command_id(actor, idempotency_key, data),
            expected_version=expected_version(if_match),
            guard=guard,
            request=asked,
        )
        return _accepted(result, 200)

    summary = (command_type.__doc__ or action.replace("_", " ")).strip().splitlines()[0]
    handler.__name__ = action
    handler.__doc__ = f"{summary} (roles: {_roles_text(roles)})."
    return post(
        f"/projects/{{project_id:str}}/{action}",
        security=PUBLIC_SECURITY + SECURITY if public else SECURITY,
        dependencies=OPTIONAL_ACTOR if public else ACTOR,
        tags=["register" if public else "commands"],
        status_code=200,
        responses=p.responses(*p.COMMAND),
        operation_id=f"command_{action}",
    )(handler)


COMMAND_ROUTES = [_command_route(t) for t in c.PROJECT_COMMANDS if t is not c.CreateDraft]


# -- register, queue ------------------------------------------------------------------------


@get("/register", sync_to_thread=True, security=PUBLIC_SECURITY, tags=["register"], responses=p.responses(400, 422))
def register(
    request: Request[Any, Any, Any],
    program: FromQuery[str | None] = None,
    as_of: AsOf = None,
    position: OptionalPosition = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RegisterPage:
    """The public register (公示/公开): public fields only, no authentication; ``as_of`` (a
    recorded time) or ``position`` (a global position) replays it as it stood then."""
    at = _one_moment(as_of, position)
    if at is not None or position is not None:
        entries = [
            e
            for e in register_as_of(store_of(request), position=position, at=at, now=now_of(request))
            if not program or e.program_key == program
        ]
        return RegisterPage(total=len(entries), limit=limit, offset=offset, items=entries[offset : offset + limit])
    total, items = read_models_of(request).register(program=program, limit=limit, offset=offset)
    return RegisterPage(
        total=total, limit=limit, offset=offset, items=[msgspec.convert(i, RegisterEntry) for i in items]
    )


@get(
    "/register/{project_id:str}",
    sync_to_thread=True,
    security=PUBLIC_SECURITY,
    tags=["register"],
    responses=p.responses(400, 404, 422),
)
def register_entry(
    request: Request[Any, Any, Any],
    project_id: FromPath[str],
    as_of: AsOf = None,
    position: OptionalPosition = None,
) -> RegisterEntry:
    """One project's public entry (only projects that reached public notice are public); ``as_of``
    (a recorded time) or ``position`` (a global position) replays it as it stood then."""
    at = _one_moment(as_of, position)
    if at is not None or position is not None:
        found = register_entry_as_of(store_of(request), project_id, position=position, at=at, now=now_of(request))
        if found is None:
            raise NotFoundException(f"project {project_id} was not on the public register then")
        return found
    entry = read_models_of(request).register_entry(project_id)
    if entry is None:
        raise NotFoundException(f"project {project_id} is not on the public register")
    return msgspec.convert(entry, RegisterEntry)


#: The roles a work-queue item may wait for.
QUEUE_ROLES = tuple(r.value for r in Role if r not in (Role.AUDITOR, Role.PUBLIC))


@get(
    "/queue",
    sync_to_thread=True,
    security=SECURITY,
    dependencies=ACTOR,
    tags=["queue"],
    responses=p.responses(*p.READ, 422),
)
def queue(
    request: Request[Any, Any, Any],
    actor: NamedDependency[Actor],
    role: Annotated[
        str | None, QueryParameter(description=f"only items waiting for this role: {', '.join(QUEUE_ROLES)}")
    ] = None,
) -> list[QueueEntry]:
    """The regulator's work queue: what waits for whom, due dates and overdue items (roles:
    regulators, auditor)."""
    need(actor, READERS)
    today = local_date(now_of(request))
    rows = read_models_of(request).queue(role=one_of("role", role, QUEUE_ROLES), today=today)
    return [msgspec.convert(r, QueueEntry) for r in rows]


ROUTES = [
    health,
    list_programs,
    get_program,
    publish_program,
    get_reference,
    update_reference,
    create_project,
    list_projects,
    get_project,
    project_events,
    *COMMAND_ROUTES,
    register,
    register_entry,
    queue,
    *AUDIT_ROUTES,
]
