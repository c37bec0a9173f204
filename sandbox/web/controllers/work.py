"""Signed-in pages: an applicant's projects and new application, the case page with its forms,
and the regulators' work queue.

Every read goes through the API's own visibility checks (``visible_state``: 404 for a project an
applicant's organisation has no part in) and every form through :func:`sandbox.web.commands.send`.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from projections.project import ProjectState, local_date
from projections.views import ProjectView
from sandbox.api.auth import READERS
from sandbox.api.common import visible_state
from sandbox.api.controllers.projects import PROJECT_READERS, SHORT_IN_THREAD
from sandbox.api.controllers.queue import QUEUE_ROLES
from sandbox.deciders import RULES
from sandbox.documents import MAX_BYTES, read_document
from sandbox.web.commands import COMMANDS, attach_file, create, send
from sandbox.web.drafts import editable
from sandbox.web.forms import command_from_form, inputs_of, refusal
from sandbox.web.pages import FormInvalid, Services, page, problem_of, reader, session_token, signed_in
from schemas import commands as c
from schemas.commands import Actor

#: Forms that have a place of their own: on the case page (the upload), in the step-by-step
#: application (the draft's sections, attestations and submission), on the register (the
#: public's comment and objection).
NOT_IN_PANEL = frozenset({"edit_draft", "attest", "submit", "comment", "object", "attach_document"})
APPLICANTS = frozenset({"applicant"})


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


def _form(raw: Any) -> tuple[dict[str, str], str | None]:
    """A posted form's fields (the CSRF field and the form key apart) and its key."""
    fields = {k: str(v) for k, v in raw.items() if not k.startswith("_")}
    key = str(raw.get("_key") or "") or None
    return fields, key


class WorkController(Controller):
    @get("/my", sync_to_thread=True)
    def my(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Response[str]:
        """The projects of the applicant's organisation, and a new application."""
        actor = reader(request, APPLICANTS)
        return self._my(request, services, actor)

    def _my(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        actor: Actor,
        status: int = 200,
        **failed: Any,
    ) -> Response[str]:
        _, rows = services.read_models.projects(
            applicant=actor.organisation, sort="last_position", descending=True, limit=500
        )
        registry = services.registry
        programs = [(k, registry.program_versions(k)[-1]) for k in registry.program_keys()]
        return page(
            request,
            "my.html",
            status=status,
            projects=rows,
            programs=programs,
            new_inputs=inputs_of(c.CreateDraft),
            **failed,
        )

    @post("/projects/new", status_code=303)
    async def new(self, request: Request[Any, Any, Any], services: NamedDependency[Services]) -> Any:
        actor = reader(request, APPLICANTS)
        form, key = _form(await request.form())
        command = command_from_form(c.CreateDraft, form)
        try:
            if isinstance(command, list):
                raise FormInvalid(command)
            assert isinstance(command, c.CreateDraft)
            result = create(services.registry, actor, command, key, _credential(request))
        except Exception as e:
            problem = msgspec.to_builtins(problem_of(request, e))
            return self._my(
                request,
                services,
                actor,
                problem["status"],
                **refusal(problem, form),
            )
        return Redirect(path=f"/projects/{result.project_id}/draft", status_code=303)

    @get("/projects/{project_id:str}", sync_to_thread=SHORT_IN_THREAD)
    def project(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        project_id: FromPath[str],
    ) -> Response[str]:
        """The case page (regulators, auditor) or the project page (its applicants). Run on the
        event loop, as the API's read of one project is (``SHORT_IN_THREAD``): a page read again
        is a lookup in the page cache."""
        return self._project(request, services, reader(request, PROJECT_READERS), project_id)

    def _project(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        actor: Actor,
        project_id: str,
        *,
        status: int = 200,
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
            return page(request, "project.html", cache=((project_id,), view), build=build)
        return page(
            request,
            "project.html",
            status=status,
            build=build,
            failed=failed,
            **refusal(problem, form),
            done=request.query_params.get("done"),
        )

    @post("/projects/{project_id:str}/act/{action:str}", status_code=303)
    async def act(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        project_id: FromPath[str],
        action: FromPath[str],
    ) -> Any:
        """One command from the case page's panel."""
        actor = signed_in(request)
        if action not in COMMANDS or action in NOT_IN_PANEL:
            raise NotFoundException(f"no form {action}")
        form, key = _form(await request.form())
        command = command_from_form(COMMANDS[action], form)
        return await self._send(request, services, actor, project_id, command, key, action, form)

    async def _send(
        self,
        request: Request[Any, Any, Any],
        services: Services,
        actor: Actor,
        project_id: str,
        command: msgspec.Struct | list[Any],
        key: str | None,
        failed: str,
        form: dict[str, str],
    ) -> Any:
        try:
            if isinstance(command, list):
                raise FormInvalid(command)
            await send(services.registry, services.read_models, actor, project_id, command, key, _credential(request))
        except Exception as e:  # the API's refusal, beside the form that caused it
            found = problem_of(request, e)
            if found.status in (403, 404):
                raise
            problem = msgspec.to_builtins(found)
            return self._project(
                request, services, actor, project_id, status=found.status, failed=failed, problem=problem, form=form
            )
        return Redirect(path=f"/projects/{project_id}?done={failed}#{failed}", status_code=303)

    @post("/projects/{project_id:str}/documents", status_code=303, request_max_body_size=MAX_BYTES + 1024 * 1024)
    async def upload(
        self, request: Request[Any, Any, Any], services: NamedDependency[Services], project_id: FromPath[str]
    ) -> Any:
        """Upload a document (multipart), as ``POST /api/v1/projects/{id}/documents`` does."""
        actor = signed_in(request)
        posted = await request.form()
        upload = posted.get("file")
        form = {k: str(v) for k, v in posted.items() if not k.startswith("_") and k != "file"}
        key = str(posted.get("_key") or "") or None
        try:
            content = await upload.read() if isinstance(upload, UploadFile) else b""
            await attach_file(
                services.registry, services.documents, actor, project_id, content, form, key, _credential(request)
            )
        except Exception as e:  # the API's refusal, beside the upload form
            found = problem_of(request, e)
            if found.status in (403, 404):
                raise
            problem = msgspec.to_builtins(found)
            return self._project(
                request, services, actor, project_id, status=found.status, failed="upload", problem=problem, form=form
            )
        return Redirect(path=f"/projects/{project_id}?done=attach_document#documents", status_code=303)

    @get("/projects/{project_id:str}/documents/{sha256:str}", sync_to_thread=True)
    def download(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        project_id: FromPath[str],
        sha256: FromPath[str],
    ) -> Response[bytes]:
        """A document of the project, re-checked against its hash (as the API's download)."""
        actor = reader(request, PROJECT_READERS)
        state = visible_state(services.read_models, services.registry, actor, project_id)
        content, media_type = read_document(state, services.documents, sha256)
        return Response(
            content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{sha256}"'}
        )

    @get("/queue", sync_to_thread=True)
    def queue(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[Services],
        role: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[str]:
        """What waits for whom, oldest first, overdue in red (regulators, auditor)."""
        actor = reader(request, READERS)
        chosen = role if role in QUEUE_ROLES else None
        rows = services.read_models.queue(role=chosen, today=local_date(services.registry.clock()), person=actor.id)
        return page(request, "queue.html", rows=rows, roles=QUEUE_ROLES, chosen=chosen or "", me=actor)


def _credential(request: Request[Any, Any, Any]) -> str | None:
    """The id of the session's token: what the command ids of its forms are scoped by."""
    token = session_token(request)
    return token.id if token else None
