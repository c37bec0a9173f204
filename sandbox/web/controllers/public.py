"""The public register (公示与名录): search, one entry, and the forms to comment and object."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from projections.project import local_date
from projections.public import RegisterEntry
from projections.read_models import ReadModels
from sandbox.api.dependencies import PageServices
from sandbox.api.limits import Limits
from sandbox.service import Registry
from sandbox.web.commands import COMMANDS, send
from sandbox.web.forms import command_from_form, inputs_of, refusal
from sandbox.web.pages import FormInvalid, page, refused
from sandbox.web.published import Part, public_parts
from schemas.commands import Actor
from schemas.lifecycle import STATE_LABELS, State
from schemas.reference import CalendarNotCovered

PAGE_SIZE = 25
#: The states a project on the register can be in (it reached public notice).
REGISTER_STATES = tuple(
    s.value
    for s in State
    if s not in (State.NONE, State.DRAFT, State.SUBMITTED, State.RETURNED_FOR_INFO, State.UNDER_REVIEW)
)
PUBLIC_FORMS = ("comment", "object")
Text = Annotated[str | None, QueryParameter(max_length=200)]


def search_register(
    models: ReadModels, q: str, program: str, state: str, region: str, offset: int
) -> tuple[int, list[RegisterEntry]]:
    """One page of the register entries that match the search and the filters: the read models'
    own search (``GET /api/v1/register?q=`` answers from the same query)."""
    total, rows = models.register(
        q=q or None,
        program=program or None,
        state=state or None,
        region=region or None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    return total, [msgspec.convert(r, RegisterEntry) for r in rows]


def notice_left(registry: Registry, entry: RegisterEntry) -> int | None:
    """Working (or calendar) days left in the notice period, None outside it (or in a year the
    holiday calendar does not cover yet: nothing rather than a guess)."""
    if entry.status != State.PUBLIC_NOTICE or entry.notice_ends is None:
        return None
    today = local_date(registry.clock())
    if entry.notice_unit != "working":
        return max((entry.notice_ends - today).days, 0)
    try:
        left: int = registry.reference().working_days_between(today, entry.notice_ends)
    except CalendarNotCovered:
        return None
    return max(left, 0)


def published_parts(registry: Registry, entry: RegisterEntry) -> list[list[Part]]:
    """Each published statement's public parts, labelled (the latest statement last, as the
    entry lists them)."""
    declared = registry.program(entry.program_key, entry.program_version).public_fields
    reference = registry.reference()
    return [public_parts(s.public, declared, reference) for s in entry.statements]


class RegisterController(Controller):
    """Readable by anyone, signed in or not."""

    @get("/", sync_to_thread=True)
    def index(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        q: Text = None,
        program: Text = None,
        lifecycle_state: Annotated[str | None, QueryParameter(name="state", max_length=200)] = None,
        region: Text = None,
        offset: Annotated[int, QueryParameter(ge=0, le=10_000_000)] = 0,
    ) -> Response[str]:
        """The register, searched and filtered; with htmx only the results are swapped."""
        query = {
            "q": (q or "").strip(),
            "program": program or "",
            "state": lifecycle_state or "",
            "region": region or "",
        }
        fragment = request.headers.get("hx-request") == "true" and request.headers.get("hx-target") == "results"
        registry, read_models = services.registry, services.read_models

        def build() -> dict[str, Any]:
            total, entries = search_register(read_models, offset=offset, **query)
            return {
                "entries": entries,
                "total": total,
                "offset": offset,
                "page_size": PAGE_SIZE,
                "query": query,
                "programs": [(k, registry.program_versions(k)[-1]) for k in registry.program_keys()],
                "states": [(s, STATE_LABELS[State(s)]) for s in REGISTER_STATES],
            }

        # the same page while the read models stand at the same position
        key = (tuple(query.values()), offset)
        return page(
            request,
            services,
            "results.html" if fragment else "register.html",
            cache=(key, read_models.position),
            build=build,
        )

    @get("/register/{project_id:str}", sync_to_thread=True)
    def entry(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        project_id: FromPath[str],
    ) -> Response[str]:
        return self._entry_page(request, services, project_id)

    def _entry_page(
        self,
        request: Request[Any, Any, Any],
        services: PageServices,
        project_id: str,
        *,
        failed: str | None = None,
        problem: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> Response[str]:
        registry = services.registry
        found = services.read_models.register_entry(project_id)
        if found is None:
            raise NotFoundException(f"project {project_id} is not on the public register")
        entry = msgspec.convert(found, RegisterEntry)
        forms = {a: inputs_of(COMMANDS[a]) for a in PUBLIC_FORMS}
        return page(
            request,
            services,
            "entry.html",
            status=problem["status"] if problem else 200,
            entry=entry,
            left=notice_left(registry, entry),
            parts=published_parts(registry, entry),
            forms=forms,
            failed=failed,
            **refusal(problem, form),
            sent=request.query_params.get("sent"),
        )

    @post("/register/{project_id:str}/{action:str}", status_code=303)
    async def act(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        limits: NamedDependency[Limits],
        actor: NamedDependency[Actor],
        credential: NamedDependency[str | None],
        project_id: FromPath[str],
        action: FromPath[str],
    ) -> Any:
        """A comment or an objection, sent as the signed-in person or as the anonymous public."""
        if action not in PUBLIC_FORMS:
            raise NotFoundException(f"no form {action}")
        posted = await request.form()
        form = {k: str(v) for k, v in posted.items() if not k.startswith("_")}
        key = str(posted.get("_key") or "") or None
        command = command_from_form(COMMANDS[action], form)
        try:
            if isinstance(command, list):
                raise FormInvalid(command)
            if credential is None:  # (the API's limits on anonymous writes, for the form too)
                limits.anonymous_write(request.client.host if request.client else "unknown", project_id)
            await send(services.registry, services.read_models, actor, project_id, command, key, credential)
        except Exception as e:  # the API's refusal, shown beside the form
            problem = refused(request, e, passing=(404,))
            return self._entry_page(
                request,
                services,
                project_id,
                failed=action,
                problem=problem,
                form=form,
            )
        return Redirect(path=f"/register/{project_id}?sent={action}", status_code=303)
