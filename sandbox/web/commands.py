"""A command sent from a page: the same checks and the same service call as the API's route.

The API's command route lets the roles of the action through (its guard), checks the bounds,
hides projects from the public that are not on the register, and runs
``Registry.execute_async`` for the reader; :func:`send` does exactly that for a form, with the
form's one-time key as the Idempotency-Key (a form sent twice is one command).
"""

from __future__ import annotations

import msgspec
from litestar.exceptions import NotFoundException, PermissionDeniedException

from projections.read_models import ReadModels
from sandbox.api.common import check_bounds, command_id, request_digest
from sandbox.api.controllers.projects import PUBLIC_ACTIONS
from sandbox.deciders import RULES
from sandbox.documents import DocumentStore, attach_upload, upload_command
from sandbox.service import CommandResult, Registry
from schemas import commands as c
from schemas.commands import Actor

#: action -> command type, for every command a page may send about a project.
COMMANDS: dict[str, type[c.Command]] = {t.action: t for t in c.PROJECT_COMMANDS if t is not c.CreateDraft}


def may(actor: Actor, action: str) -> None:
    """403 for a role the action is not for (the API's route guard, ``role_in``)."""
    if actor.role not in RULES[action][0]:
        raise PermissionDeniedException(f"role '{actor.role}' may not use this resource")


async def send(
    registry: Registry,
    read_models: ReadModels,
    actor: Actor,
    project_id: str,
    command: msgspec.Struct,
    key: str | None,
    credential: str | None = None,
) -> CommandResult:
    """Decide and record ``command`` for ``project_id`` as ``actor`` (raises the API's refusals);
    ``credential`` is the id of the session's token (None for the anonymous public), which scopes
    the command id as the API's ``credential`` does."""
    assert isinstance(command, c.Command)
    action = command.action
    public = action in PUBLIC_ACTIONS
    if not public:
        may(actor, action)
    check_bounds(command)
    if public and read_models.register_entry(project_id) is None:
        raise NotFoundException(f"project {project_id} is not on the public register")
    result: CommandResult = await registry.execute_async(
        project_id,
        command,
        actor,
        command_id=command_id(credential, key, command, actor=actor, store=registry.store),
        reader=None if public else actor,
        request=request_digest(action, project_id, command) if key else None,
    )
    return result


def create(
    registry: Registry, actor: Actor, command: c.CreateDraft, key: str | None, credential: str | None = None
) -> CommandResult:
    """A new draft, as ``POST /api/v1/projects`` creates it."""
    may(actor, "create_draft")
    result: CommandResult = registry.create_project(
        command,
        actor,
        command_id=command_id(credential, key, actor=actor, store=registry.store),
        request=request_digest("create_draft", "", command) if key else None,
    )
    return result


async def attach_file(
    registry: Registry,
    documents: DocumentStore,
    actor: Actor,
    project_id: str,
    content: bytes,
    form: dict[str, str],
    key: str | None,
    credential: str | None = None,
) -> CommandResult:
    """Store an uploaded file and attach it (``kind``, ``title`` and ``holder`` from the form), as
    ``POST /api/v1/projects/{id}/documents`` does."""
    may(actor, "attach_document")
    command = upload_command(content, kind=form.get("kind", ""), title=form.get("title", ""), holder=form.get("holder"))
    check_bounds(command)
    cid = command_id(credential, key, actor=actor, store=registry.store)
    return await attach_upload(registry, documents, actor, project_id, content, command, command_id=cid)
