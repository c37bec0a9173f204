"""``/api/v1/projects/{id}/documents``: upload a document (multipart) and download it again.

No ``from __future__ import annotations`` (see ``projects.py``): litestar reads the annotations.
"""

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, PathParameter

from projections.read_models import ReadModels
from sandbox.api import problems as p
from sandbox.api.auth import SECURITY, role_in
from sandbox.api.common import IdempotencyKey, IfMatch, check_bounds, command_id, expected_version, visible_state
from sandbox.api.controllers.projects import PROJECT_READERS, SHORT_IN_THREAD
from sandbox.api.models import CommandAccepted
from sandbox.deciders import RULES
from sandbox.documents import MAX_BYTES, DocumentStore, attach_upload, read_document, upload_command
from sandbox.service import Registry
from schemas.commands import Actor

Sha256Path = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{64}$", description="the document's SHA-256")]


@dataclass
class Upload:
    """A document to attach: the file (a PDF or an image, at most 10 MiB), its kind and title, and
    whose document it is (an applicant's own organisation by default)."""

    file: UploadFile
    kind: str
    title: str
    holder: str | None = None


class DocumentController(Controller):
    """Documents of a project, stored by content hash."""

    path = "/projects/{project_id:str}/documents"
    tags = ["projects"]
    security = SECURITY
    guards = [role_in(PROJECT_READERS)]

    @post(
        "/",
        guards=[role_in(RULES["attach_document"][0])],
        status_code=201,
        request_max_body_size=MAX_BYTES + 1024 * 1024,
        opt={"media_types": ("multipart/form-data",)},  # the one write of the API that is not JSON
        responses=p.responses(*p.COMMAND, 413),
    )
    async def upload(
        self,
        registry: NamedDependency[Registry],
        documents: NamedDependency[DocumentStore],
        actor: NamedDependency[Actor],
        credential: NamedDependency[str | None],
        project_id: FromPath[str],
        data: Annotated[Upload, Body(media_type=RequestEncodingType.MULTI_PART)],
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CommandAccepted]:
        """Store a document (multipart: ``file``, ``kind``, ``title``, optional ``holder``) under its
        SHA-256 and attach it (``attach_document`` records hash, size and media type; roles:
        applicant, case officer). ``Location`` is where to download it."""
        content = await data.file.read()
        command = upload_command(content, kind=data.kind, title=data.title, holder=data.holder)
        check_bounds(command)
        result = await attach_upload(
            registry,
            documents,
            actor,
            project_id,
            content,
            command,
            command_id=command_id(credential, idempotency_key, actor=actor, store=registry.store),
            expected_version=expected_version(if_match),
        )
        body = CommandAccepted(
            project_id=result.project_id, version=result.version, positions=result.positions, events=result.event_types
        )
        location = f"/api/v1/projects/{project_id}/documents/{command.sha256}"
        return Response(body, status_code=201, headers={"Location": location, "ETag": f'"{result.version}"'})

    @get(
        "/{sha256:str}",
        sync_to_thread=SHORT_IN_THREAD,
        media_type="application/octet-stream",
        responses=p.responses(*p.READ_ONE, 409),
    )
    def download(
        self,
        registry: NamedDependency[Registry],
        read_models: NamedDependency[ReadModels],
        documents: NamedDependency[DocumentStore],
        actor: NamedDependency[Actor],
        project_id: FromPath[str],
        sha256: Sha256Path,
    ) -> Response[bytes]:
        """A document of the project, its bytes hashed again before they are sent (409
        ``document_altered`` if the stored file changed; roles: regulators, auditor, the project's
        applicants)."""
        state = visible_state(read_models, registry, actor, project_id)
        content, media_type = read_document(state, documents, sha256)
        return Response(
            content,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{sha256}"', "ETag": f'"{sha256}"'},
        )
