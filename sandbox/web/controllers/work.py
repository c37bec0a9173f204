"""Signed-in work lists: an applicant's projects and new application, and the regulators' work
queue. Each controller lets its roles through with a class-level guard; every form goes through
:func:`sandbox.web.commands.create` or :func:`sandbox.web.commands.send`, the API's own checks.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Redirect

from projections.project import local_date
from sandbox.api.auth import READERS
from sandbox.api.controllers.queue import QUEUE_ROLES
from sandbox.api.dependencies import PageServices
from sandbox.web.commands import create
from sandbox.web.forms import command_from_form, inputs_of, refusal
from sandbox.web.pages import FormInvalid, page, page_for, refused
from schemas import commands as c
from schemas.commands import Actor

APPLICANTS = frozenset({"applicant"})


def form_of(raw: Any) -> tuple[dict[str, str], str | None]:
    """A posted form's fields (the CSRF field and the form key apart) and its key."""
    fields = {k: str(v) for k, v in raw.items() if not k.startswith("_")}
    key = str(raw.get("_key") or "") or None
    return fields, key


class MyProjectsController(Controller):
    """The projects of an applicant's organisation, and a new application: applicants only."""

    guards = [page_for(APPLICANTS)]

    @get("/my", sync_to_thread=True)
    def my(
        self, request: Request[Any, Any, Any], services: NamedDependency[PageServices], actor: NamedDependency[Actor]
    ) -> Response[str]:
        """The projects of the applicant's organisation, and a new application."""
        return self._my(request, services, actor)

    def _my(
        self,
        request: Request[Any, Any, Any],
        services: PageServices,
        actor: Actor,
        **failed: Any,
    ) -> Response[str]:
        _, rows = services.read_models.projects(
            applicant=actor.organisation, sort="last_position", descending=True, limit=500
        )
        registry = services.registry
        programs = [(k, registry.program_versions(k)[-1]) for k in registry.program_keys()]
        return page(
            request,
            services,
            "my.html",
            status=failed["problem"]["status"] if failed.get("problem") else 200,
            projects=rows,
            programs=programs,
            new_inputs=inputs_of(c.CreateDraft),
            **failed,
        )

    @post("/projects/new", status_code=303)
    async def new(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        actor: NamedDependency[Actor],
        credential: NamedDependency[str | None],
    ) -> Any:
        form, key = form_of(await request.form())
        command = command_from_form(c.CreateDraft, form)
        try:
            if isinstance(command, list):
                raise FormInvalid(command)
            assert isinstance(command, c.CreateDraft)
            result = create(services.registry, actor, command, key, credential)
        except Exception as e:
            problem = refused(request, e, passing=())
            return self._my(request, services, actor, **refusal(problem, form))
        return Redirect(path=f"/projects/{result.project_id}/draft", status_code=303)


class QueuePageController(Controller):
    """The regulators' work queue: regulators and the auditor."""

    path = "/queue"
    guards = [page_for(READERS)]

    @get("/", sync_to_thread=True)
    def queue(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        actor: NamedDependency[Actor],
        role: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[str]:
        """What waits for whom, oldest first, overdue in red (regulators, auditor)."""
        chosen = role if role in QUEUE_ROLES else None
        rows = services.read_models.queue(role=chosen, today=local_date(services.registry.clock()), person=actor.id)
        return page(request, services, "queue.html", rows=rows, roles=QUEUE_ROLES, chosen=chosen or "", me=actor)
