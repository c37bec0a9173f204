"""The applicant's step-by-step application: one page per step, the checklist beside it.

``GET /projects/{id}/draft`` opens the first step with something missing; each step's form posts
to its own path and is saved on its own through the same service call as the API's route (a
section is ``edit_draft``, a document the upload, an attestation ``attest``, the last step
``submit``). Without JavaScript a saved step leads to the next one (303); with htmx
(``HX-Request``) only the step is swapped, and the step list and the checklist come with it as
out-of-band swaps, so the conditions turn green as the sections are saved. A refused step comes
back with its errors beside their inputs, in both languages, with the API's status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect

from projections.project import ProjectState, local_date
from sandbox.api.common import visible_state
from sandbox.api.dependencies import PageServices
from sandbox.deciders import RULES
from sandbox.documents import MAX_BYTES
from sandbox.web.commands import attach_file, send
from sandbox.web.controllers.work import APPLICANTS, form_of
from sandbox.web.drafts import STAGE_LABELS, SUBMIT, Draft, Step, StepKind, draft_of, editable
from sandbox.web.forms import command_from_form, refusal
from sandbox.web.pages import FormInvalid, page, page_for, refused
from sandbox.web.sections import section_values, shown
from schemas import commands as c
from schemas.commands import Actor


@dataclass(frozen=True, slots=True)
class Posted:
    """A step's posted form: its fields, its one-time key, and the file of an upload."""

    fields: dict[str, str]
    key: str | None
    content: bytes


@dataclass(frozen=True, slots=True)
class Saving:
    """What saving a step needs: who, which project, the services and the session's credential."""

    services: PageServices
    actor: Actor
    project_id: str
    credential: str | None


async def _save_section(s: Saving, step: Step, posted: Posted) -> None:
    command = c.EditDraft(section=step.name, fields=section_values(list(step.inputs), posted.fields))  # type: ignore[arg-type]
    await send(s.services.registry, s.services.read_models, s.actor, s.project_id, command, posted.key, s.credential)


async def _save_document(s: Saving, step: Step, posted: Posted) -> None:
    services = s.services
    await attach_file(
        services.registry,
        services.documents,
        s.actor,
        s.project_id,
        posted.content,
        posted.fields,
        posted.key,
        s.credential,
    )


async def _attest(s: Saving, step: Step, posted: Posted) -> None:
    command = command_from_form(c.Attest, posted.fields)
    if isinstance(command, list):
        raise FormInvalid(command)
    await send(s.services.registry, s.services.read_models, s.actor, s.project_id, command, posted.key, s.credential)


async def _submit(s: Saving, step: Step, posted: Posted) -> None:
    await send(s.services.registry, s.services.read_models, s.actor, s.project_id, c.Submit(), posted.key, s.credential)


#: step kind -> how its form is saved (each the same service call as the API's route).
SAVERS: dict[StepKind, Callable[[Saving, Step, Posted], Awaitable[None]]] = {
    "section": _save_section,
    "documents": _save_document,
    "attestations": _attest,
    "submit": _submit,
}


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


class DraftController(Controller):
    """An application being written: its applicants only."""

    path = "/projects/{project_id:str}/draft"
    guards = [page_for(APPLICANTS)]

    def _draft(self, services: PageServices, actor: Actor, project_id: str) -> tuple[ProjectState, Draft]:
        """The project (404 unless the actor's organisation is in it) and its editor."""
        state = visible_state(services.read_models, services.registry, actor, project_id)
        registry = services.registry
        today = local_date(registry.clock())
        return state, draft_of(state, registry.bound_program(state, today), registry.reference(), today)

    @get("/", sync_to_thread=True)
    def start(
        self, services: NamedDependency[PageServices], actor: NamedDependency[Actor], project_id: FromPath[str]
    ) -> Redirect:
        """The first step with something missing (the submission when nothing is)."""
        _, draft = self._draft(services, actor, project_id)
        return Redirect(path=f"/projects/{project_id}/draft/{draft.first_open()}", status_code=303)

    @get("/{step:str}", sync_to_thread=True)
    def show(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        actor: NamedDependency[Actor],
        project_id: FromPath[str],
        step: FromPath[str],
    ) -> Response[Any]:
        """One step, the step list and the checklist (the project page once the draft is sent)."""
        state, draft = self._draft(services, actor, project_id)
        if not editable(actor, state):
            return Redirect(path=f"/projects/{project_id}", status_code=303)
        return self._page(request, services, state, draft, step, saved=request.query_params.get("saved"))

    @post("/{step:str}", status_code=303, request_max_body_size=MAX_BYTES + 1024 * 1024)
    async def save(
        self,
        request: Request[Any, Any, Any],
        services: NamedDependency[PageServices],
        actor: NamedDependency[Actor],
        credential: NamedDependency[str | None],
        project_id: FromPath[str],
        step: FromPath[str],
    ) -> Any:
        """Save one step as the API's route would; then the next step (or, with htmx, this step
        again with the checklist as it now stands)."""
        state, draft = self._draft(services, actor, project_id)
        found = draft.step(step)
        if found is None:
            raise NotFoundException(f"the application has no step {step}")
        raw = await request.form()
        fields, key = form_of(raw)
        upload = raw.get("file")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        fields.pop("file", None)
        try:
            await SAVERS[found.kind](
                Saving(services, actor, project_id, credential), found, Posted(fields, key, content)
            )
        except Exception as e:  # the API's refusal, beside the inputs that caused it
            problem = refused(request, e)
            state, draft = self._draft(services, actor, project_id)
            return self._page(request, services, state, draft, step, **refusal(problem, fields))
        if found.kind == "submit":
            return Redirect(path=f"/projects/{project_id}?done=submit", status_code=303)
        if is_htmx(request):
            state, draft = self._draft(services, actor, project_id)
            return self._page(request, services, state, draft, step, saved=step)
        after = step if found.kind in ("documents", "attestations") else draft.after(step)
        return Redirect(path=f"/projects/{project_id}/draft/{after}?saved={step}", status_code=303)

    def _page(
        self,
        request: Request[Any, Any, Any],
        services: PageServices,
        state: ProjectState,
        draft: Draft,
        step: str,
        *,
        saved: str | None = None,
        problem: dict[str, Any] | None = None,
        errors: dict[str, Any] | None = None,
        form: dict[str, Any] | None = None,
    ) -> Response[str]:
        """The step's page, or with htmx its fragment (the step, and out of band the step list
        and the checklist)."""
        current = draft.step(step)
        if current is None:
            raise NotFoundException(f"the application has no step {step}")
        values = form if problem is not None and form is not None else _values(state, current)
        refused = (
            draft.refused_by_step(problem["errors"]) if problem and problem["code"] == "application_incomplete" else {}
        )
        return page(
            request,
            services,
            "drafts/fragment.html" if is_htmx(request) else "drafts/step.html",
            status=problem["status"] if problem else 200,
            project=state,
            draft=draft,
            step=current,
            values=values,
            saved=draft.step(saved) if saved else None,
            problem=problem,
            errors=errors or {},
            refused=refused,
            may_submit=state.state in RULES["submit"][1],
            submit=SUBMIT,
            stage_labels=STAGE_LABELS,
        )


def _values(state: ProjectState, step: Step) -> dict[str, str]:
    """What a section's inputs show: the values the draft holds."""
    if step.kind != "section":
        return {}
    return {k: shown(v) for k, v in state.section(step.name).items()}
