"""``/api/v1/projects``: create, list and read projects, their history, and one route per command.

This module deliberately has no ``from __future__ import annotations``: the command routes are
built in a loop, one per command type, and litestar reads their annotations at definition time.
"""

import datetime as dt
from typing import Annotated, Literal, get_args

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from events.store import EventReader
from projections.project import local_date
from projections.read_models import SORTABLE, ReadModels
from projections.views import ProjectView, project_view
from sandbox.api import problems as p
from sandbox.api.auth import PUBLIC_SECURITY, READERS, SECURITY, role_in, token_if_given
from sandbox.api.common import (
    AsOf,
    IdempotencyKey,
    IfMatch,
    LifecycleState,
    Limit,
    Offset,
    OptionalPosition,
    ViewCache,
    check_bounds,
    command_id,
    event_out,
    expected_version,
    for_reader,
    one_moment,
    one_of,
    request_digest,
    visible_state,
)
from sandbox.api.dependencies import NamedPort
from sandbox.api.intake import ANONYMOUS_WRITE
from sandbox.api.models import CommandAccepted, EventOut, ProjectPage, ProjectSummary
from sandbox.deciders import RULES
from sandbox.service import CommandResult, Registry
from schemas import commands as c
from schemas.commands import Actor
from schemas.lifecycle import State
from schemas.streams import project_stream

Sort = Literal[
    "id", "title", "state", "program_key", "applicant", "region", "submitted_on", "admitted_on", "last_position"
]
assert set(get_args(Sort)) == set(SORTABLE), "the sortable columns of the read model changed"

#: Commands the public may send (during the public notice), with or without a token.
PUBLIC_ACTIONS = frozenset({"comment", "object"})
#: Who reads projects: the regulators, the auditor, and applicants (their own organisation's).
PROJECT_READERS = READERS | {"applicant"}
#: Short handlers run on the event loop, not in worker threads: the commands and the read of one
#: project. Their work is Python that holds the interpreter lock from start to end (loading the
#: project, deciding, writing the read models, building the view); a worker thread runs none of
#: it in parallel with the loop and only adds hand-offs and lock contention. A command is a
#: coroutine: it decides, then waits for a commit it shares with the commands decided meanwhile
#: (one sync to disk for all of them, ``sandbox.commits.LoopGroupCommit``). The longest of
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


class ProjectController(Controller):
    """Projects as the regulators, the auditor and their applicants see them."""

    path = "/projects"
    tags = ["projects"]
    security = SECURITY
    guards = [role_in(PROJECT_READERS)]

    @post(
        "/",
        sync_to_thread=SHORT_IN_THREAD,
        guards=[role_in(RULES["create_draft"][0])],
        status_code=201,
        responses=p.responses(*p.CREATE),
    )
    def create_project(
        self,
        registry: NamedDependency[Registry],
        data: JSONBody[c.CreateDraft],
        actor: NamedDependency[Actor],
        credential: NamedDependency[str | None],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CommandAccepted]:
        """Create a draft application (roles: applicant). Returns the new project's id and version."""
        asked = request_digest("create_draft", "", data) if idempotency_key else None
        cid = command_id(credential, idempotency_key, actor=actor, store=registry.store)
        result = registry.create_project(data, actor, command_id=cid, request=asked)
        return _accepted(result, 201)

    @get("/", sync_to_thread=True, responses=p.responses(*p.READ, 422))
    def list_projects(
        self,
        read_models: NamedDependency[ReadModels],
        actor: NamedDependency[Actor],
        program: FromQuery[str | None] = None,
        lifecycle_state: LifecycleState = None,
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
        state = one_of("state", lifecycle_state, (s.value for s in State))
        if actor.role == "applicant":
            if applicant is not None and applicant != actor.organisation:  # nothing of another's to see
                return ProjectPage(total=0, limit=limit, offset=offset, items=[])
            applicant = actor.organisation
        total, rows = read_models.projects(
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
        "/{project_id:str}",
        sync_to_thread=SHORT_IN_THREAD,
        responses=p.responses(*p.READ_ONE, 409, 422),
    )
    def get_project(
        self,
        registry: NamedDependency[Registry],
        store: NamedPort[EventReader],
        read_models: NamedDependency[ReadModels],
        views: NamedDependency[ViewCache],
        project_id: FromPath[str],
        actor: NamedDependency[Actor],
        as_of: AsOf = None,
        position: OptionalPosition = None,
    ) -> Response[ProjectView]:
        """A project's state, admission checklist and exit criteria, now or as of a recorded time or a
        global position (roles: regulators, auditor, the project's applicants). ``ETag`` is its version."""
        state = visible_state(read_models, registry, actor, project_id)
        at = one_moment(store, as_of, position)
        catalog, now = registry.catalog, registry.clock()
        if at is None and position is None:  # now: the read models' state, no replay, JSON kept
            view, body = views.body(state, catalog, local_date(now), actor)
            # (the bytes are the view's JSON: the document still shows the view's schema)
            return Response(body, headers={"ETag": f'"{view.version}"'})  # type: ignore[arg-type]
        found = project_view(store, catalog, project_id, position=position, at=at, now=now)
        if found is None:
            raise NotFoundException(f"project {project_id} did not exist then")
        return Response(for_reader(found, actor), headers={"ETag": f'"{found.version}"'})

    @get(
        "/{project_id:str}/events",
        sync_to_thread=True,
        responses=p.responses(*p.READ_ONE),
    )
    def project_events(
        self,
        registry: NamedDependency[Registry],
        store: NamedPort[EventReader],
        read_models: NamedDependency[ReadModels],
        project_id: FromPath[str],
        actor: NamedDependency[Actor],
    ) -> list[EventOut]:
        """The project's history: every event with who, when, why and under which rule version."""
        visible_state(read_models, registry, actor, project_id)
        return [event_out(e, actor) for e in store.read_stream(project_stream(project_id))]


def _command_route(command_type: type[c.Command]) -> HTTPRouteHandler:
    """``POST /projects/{id}/{action}`` for one command type: the roles of its action may send
    it (anyone, for the public's commands), on a project they may see."""
    action = command_type.action
    roles, _ = RULES[action]
    public = action in PUBLIC_ACTIONS

    async def handler(
        self: Controller,
        registry: NamedDependency[Registry],
        read_models: NamedDependency[ReadModels],
        project_id: FromPath[str],
        data: JSONBody[command_type],  # type: ignore[valid-type]
        actor: NamedDependency[Actor],
        credential: NamedDependency[str | None],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CommandAccepted]:
        check_bounds(data)
        # the public sees only the register: a project that never reached notice "does not exist"
        if public and read_models.register_entry(project_id) is None:
            raise NotFoundException(f"project {project_id} is not on the public register")
        asked = request_digest(action, project_id, data) if idempotency_key else None
        result = await registry.execute_async(
            project_id,
            data,
            actor,
            command_id=command_id(credential, idempotency_key, data, actor=actor, store=registry.store),
            expected_version=expected_version(if_match),
            # a reader's check, made on the state the command is decided on (no second load)
            reader=None if public else actor,
            request=asked,
        )
        return _accepted(result, 200)

    summary = (command_type.__doc__ or action.replace("_", " ")).strip().splitlines()[0]
    handler.__name__ = action
    handler.__doc__ = f"{summary} (roles: {_roles_text(roles)})."
    return post(
        f"/{{project_id:str}}/{action}",
        security=PUBLIC_SECURITY + SECURITY if public else SECURITY,
        guards=[token_if_given] if public else [role_in(roles)],
        tags=["register" if public else "commands"],
        status_code=200,
        responses=p.responses(*p.COMMAND, 429) if public else p.responses(*p.COMMAND),
        operation_id=f"command_{action}",
        opt={ANONYMOUS_WRITE: True} if public else {},
    )(handler)


#: One route per project command (a draft is created by ``POST /projects``).
COMMAND_ROUTES = {t.action: _command_route(t) for t in c.PROJECT_COMMANDS if t is not c.CreateDraft}

#: The commands on a project, one route each.
CommandController: type[Controller] = type(
    "CommandController",
    (Controller,),
    {"__doc__": "Every command on a project, one route each.", "path": "/projects", **COMMAND_ROUTES},
)
