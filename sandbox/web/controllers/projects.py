"""A project's pages: the case page (regulators, auditor) or project page (its applicants) with
the forms of the commands the reader may send, its documents, its reported metrics and its
timeline with time travel (the project as ``GET /api/v1/projects/{id}?position=`` returns it).

One controller, guarded as the API's project routes are: the project's readers only
(``PROJECT_READERS``). Every read goes through the API's own visibility check (``visible_state``:
404 for a project an applicant's organisation has no part in) and every form through
:func:`sandbox.web.commands.send`, which refuses a role the command is not for as the API does.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from projections.project import ProjectState, local_date
from projections.views import ProjectView, project_view
from sandbox.api.common import MAX_INT, event_out, visible_state
from sandbox.api.controllers.projects import PROJECT_READERS, SHORT_IN_THREAD
from sandbox.api.dependencies import PageServices
from sandbox.deciders import RULES
from sandbox.documents import MAX_BYTES, read_document
from sandbox.web import charts
from sandbox.web.commands import COMMANDS, attach_file, send
from sandbox.web.controllers.work import form_of
from sandbox.web.dashboard import metric_series
from sandbox.web.drafts import editable
from sandbox.web.forms import command_from_form, inputs_of, refusal
from sandbox.web.pages import FormInvalid, lang_of, page, page_for, refused
from schemas.commands import Actor
from schemas.dates import end_of_day
from schemas.streams import project_stream

#: Forms that have a place of their own: on the case page (the upload), in the step-by-step
#: application (the draft's sections, attestations and submission), on the register (the
#: public's comment and objection).
NOT_IN_PANEL = frozenset({"edit_draft", "attest", "submit", "comment", "object", "attach_document"})
Position = Annotated[int | None, QueryParameter(ge=0, le=MAX_INT)]


def recommended_by(actor: Actor, state: ProjectState) -> bool:
    """Whether this person made the recommendation waiting for approval."""
    return state.pending is not None and state.pending.recommender == actor.id


def actions_for(actor: Actor, state: ProjectState) -> list[str]:
    """The commands this actor's role may send in the project's state, in the commands' order;
    and approve for whoever made the pending recommendation, shown disabled with the four-eyes
    reason (:func:`approve_blocked`) so that the recommender sees why it is not theirs to give."""
    return [
        action
        for action in COMMANDS
        if action not in NOT_IN_PANEL
        and (
            (actor.role in RULES[action][0] and state.state in RULES[action][1])
            or (action == "approve" and recommended_by(actor, state))
        )
    ]


def approve_blocked(actor: Actor, state: ProjectState) -> tuple[str, str] | None:
    """Why this person may not approve the pending recommendation (four eyes), or None."""
    pending = state.pending
    if pending is None:
        return ("没有待批准的推荐意见", "there is no recommendation waiting for approval")
    if recommended_by(actor, state):
        return (
            "推荐人不能批准自己的推荐（四眼原则）",
            "the recommender may not approve their own recommendation (four eyes)",
        )
    if actor.id in pending.approvers:
        return ("同一人不能批准两次", "the same person may not approve twice")
    return None


class ProjectPageController(Controller):
    """One project, for its readers: regulators, the auditor and its applicants."""

    path = "/projects/{project_id:str}"
    guards = [page_for(PROJECT_READERS)]

    @get("/", sync_to_thread=SHORT_IN_THREAD)
    def project(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        actor: NamedDependency[Actor],
        project_id: FromPath[str],
    ) -> Response[str]:
        """The case page (regulators, auditor) or the project page (its applicants). Run on the
        event loop, as the API's read of one project is (``SHORT_IN_THREAD``): a page read again
        is a lookup in the page cache."""
        return self._project(request, services, actor, project_id)

    def _project(
        self,
        request: Request[Any, Any, Any],
        services: PageServices,
        actor: Actor,
        project_id: str,
        *,
        failed: str | None = None,
        problem: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> Response[str]:
        state = visible_state(services.read_models, services.registry, actor, project_id)
        registry = services.registry
        today = local_date(services.registry.clock())
        view: ProjectView = services.views.body(state, registry.catalog, today, actor)[0]

        def build() -> dict[str, Any]:
            actions = actions_for(actor, state)
            return {
                "view": view,
                "state": state,
                "editable": editable(actor, state),
                "actions": [(a, inputs_of(COMMANDS[a])) for a in actions],
                "approve_blocked": approve_blocked(actor, state) if "approve" in actions else None,
                "may_upload": actor.role in RULES["attach_document"][0] and state.state in RULES["attach_document"][1],
            }

        if problem is None and not request.query_params.get("done"):
            # the same page while the view is the same (the API's cache of views says when)
            return page(request, services, "project.html", cache=((project_id,), view), build=build)
        return page(
            request,
            services,
            "project.html",
            status=problem["status"] if problem else 200,
            build=build,
            failed=failed,
            **refusal(problem, form),
            done=request.query_params.get("done"),
        )

    @post("/act/{action:str}", status_code=303)
    async def act(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        actor: NamedDependency[Actor],
        credential: NamedDependency[str | None],
        project_id: FromPath[str],
        action: FromPath[str],
    ) -> Any:
        """One command from the case page's panel (refused, as the API refuses it, for a role the
        command is not for)."""
        if action not in COMMANDS or action in NOT_IN_PANEL:
            raise NotFoundException(f"no form {action}")
        form, key = form_of(await request.form())
        command = command_from_form(COMMANDS[action], form)
        return await self._send(request, services, actor, credential, project_id, command, key, action, form)

    async def _send(
        self,
        request: Request[Any, Any, Any],
        services: PageServices,
        actor: Actor,
        credential: str | None,
        project_id: str,
        command: msgspec.Struct | list[Any],
        key: str | None,
        failed: str,
        form: dict[str, str],
    ) -> Any:
        try:
            if isinstance(command, list):
                raise FormInvalid(command)
            await send(services.registry, services.read_models, actor, project_id, command, key, credential)
        except Exception as e:  # the API's refusal, beside the form that caused it
            problem = refused(request, e)
            return self._project(
                request, services, actor, project_id, failed=failed, problem=problem, form=form
            )
        return Redirect(path=f"/projects/{project_id}?done={failed}#{failed}", status_code=303)

    @post("/documents", status_code=303, request_max_body_size=MAX_BYTES + 1024 * 1024)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        actor: NamedDependency[Actor],
        credential: NamedDependency[str | None],
        project_id: FromPath[str],
    ) -> Any:
        """Upload a document (multipart), as ``POST /api/v1/projects/{id}/documents`` does."""
        posted = await request.form()
        upload = posted.get("file")
        form = {k: str(v) for k, v in posted.items() if not k.startswith("_") and k != "file"}
        key = str(posted.get("_key") or "") or None
        try:
            content = await upload.read() if isinstance(upload, UploadFile) else b""
            await attach_file(services.registry, services.documents, actor, project_id, content, form, key, credential)
        except Exception as e:  # the API's refusal, beside the upload form
            problem = refused(request, e)
            return self._project(
                request, services, actor, project_id, failed="upload", problem=problem, form=form
            )
        return Redirect(path=f"/projects/{project_id}?done=attach_document#documents", status_code=303)

    @get("/documents/{sha256:str}", sync_to_thread=True)
    def download(
        self,
        services: NamedDependency[PageServices],
        actor: NamedDependency[Actor],
        project_id: FromPath[str],
        sha256: FromPath[str],
    ) -> Response[bytes]:
        """A document of the project, re-checked against its hash (as the API's download)."""
        state = visible_state(services.read_models, services.registry, actor, project_id)
        content, media_type = read_document(state, services.documents, sha256)
        return Response(
            content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{sha256}"'}
        )

    @get("/metrics", sync_to_thread=True)
    def metrics(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        actor: NamedDependency[Actor],
        project_id: FromPath[str],
    ) -> Response[str]:
        """A pilot's reported metrics over time against its program's thresholds."""
        state = visible_state(services.read_models, services.registry, actor, project_id)
        program = services.registry.bound_program(state, local_date(services.registry.clock()))
        series = metric_series(state, program)
        en = lang_of(request) == "en"
        drawn = [
            (label_en if en else zh, charts.line_chart(f"metric-{i}", label_en if en else zh, points, limit, unit))
            for i, (_, zh, label_en, points, limit, unit) in enumerate(series)
        ]
        return page(request, services, "metrics.html", state=state, charts=drawn)

    @get("/timeline", sync_to_thread=True)
    def timeline(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        actor: NamedDependency[Actor],
        project_id: FromPath[str],
        position: Position = None,
        on: Annotated[dt.date | None, QueryParameter()] = None,
    ) -> Response[str]:
        """The project's events, and the project as it stood at a position or at the end of a day."""
        visible_state(services.read_models, services.registry, actor, project_id)
        store = services.store
        events = [event_out(e, actor) for e in store.read_stream(project_stream(project_id))]
        positions = [e.position for e in events]
        at = None
        if on is not None and position is None:
            at = end_of_day(on).astimezone(dt.UTC)
        found = project_view(
            store, services.registry.catalog, project_id, position=position, at=at, now=services.registry.clock()
        )
        cut = found.as_of_position if found is not None else (position or 0)
        # the project's latest event at the cut, and its neighbours: one step is one event
        shown = [p for p in positions if p <= cut]
        current = shown[-1] if shown else None
        earlier = shown[:-1]
        later = [p for p in positions if p > cut]
        return page(
            request,
            services,
            "timeline.html",
            project_id=project_id,
            view=found,
            events=events,
            cut=cut,
            current=current,
            previous=earlier[-1] if earlier else None,
            next=later[0] if later else None,
            first=positions[0] if positions else None,
            on=on,
        )
